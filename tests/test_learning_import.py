"""Importing a community's history: .csv in UTF-8 / GB18030 / mixed, .xlsx, label maps, new
categories, idempotency, and hostile files (wrong columns, empty, huge, formulas, HTML and
SQL in labels) that must give a clear message and never a traceback or an injected card."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import openpyxl
import pytest

import bot
from learning.history import open_history
from learning.tables import MAX_ROWS, TableError, decode_lines, read_table

ROWS = [
    ("3号楼化粪池冒了 满地污水", "排水"),
    ("小区里有人群租 一套房住了二十个人", "群租房"),
    ("垃圾分类督导员今天没来 桶边堆满了", "垃圾分类督导"),
]


def write_csv(path: Path, rows: list[tuple[str, str]], encoding: str = "utf-8",
              header: tuple[str, str] = ("内容", "类别")) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = bot.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_csv_in_utf8_gb18030_and_mixed_lines(tmp_path: Path) -> None:
    for enc in ("utf-8", "utf-8-sig", "gb18030"):
        table = read_table(write_csv(tmp_path / f"{enc}.csv", ROWS, enc))
        assert table.header == ["内容", "类别"]
        assert [tuple(r) for r in table.rows] == ROWS
    mixed = (tmp_path / "mixed.csv")
    mixed.write_bytes("内容,类别\n".encode() + "楼道灯坏了,设施\n".encode("gb18030")
                      + "电梯停了,电梯\n".encode())
    table = read_table(mixed)
    assert [tuple(r) for r in table.rows] == [("楼道灯坏了", "设施"), ("电梯停了", "电梯")]
    assert any("混合编码" in n for n in table.notes)
    lines, notes = decode_lines(b"\xff\xfe\x00garbage\n")
    assert lines and notes  # undecodable bytes are replaced, never raised


def test_xlsx_read_only_with_formulas_kept_as_text(tmp_path: Path) -> None:
    path = tmp_path / "h.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["标题", "内容", "类别"])
    sheet.append(["漏水", "=HYPERLINK(\"http://evil\",\"点我\")", "=1+1"])
    sheet.append(["停电", "整栋楼停电了", "供电"])
    sheet.append([None, None, None])
    book.save(path)
    hist = open_history(path, text="内容", category="类别", title="标题")
    rows = list(hist.rows())
    # formulas are never evaluated: without a cached value the cell is empty text
    assert [(r.text, r.label) for r in rows] == [("停电 整栋楼停电了", "供电")]
    assert hist.all_skipped()["分类为空"] == 1


def test_bad_files_give_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "g.db")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.csv"
    blank.write_text("\n\n,,\n", "utf-8")
    fake_xlsx = tmp_path / "fake.xlsx"
    fake_xlsx.write_bytes(b"PK\x03\x04 not really a zip")
    utf16 = tmp_path / "u16.csv"
    utf16.write_bytes("内容,类别\n漏水,排水\n".encode("utf-16"))
    good = write_csv(tmp_path / "good.csv", ROWS)
    cases = [
        ([str(tmp_path / "missing.csv")], "找不到文件"),
        ([str(empty)], "空的"),
        ([str(blank)], "没有任何数据行"),
        ([str(fake_xlsx)], "无法打开 Excel"),
        ([str(utf16)], "UTF-16"),
        ([str(tmp_path / "x.xls")], "找不到文件"),
    ]
    for args, expected in cases:
        code, _, err = run(["import-history", *args, "--text", "内容", "--category", "类别",
                            "--db", db], capsys)
        assert code == 2 and expected in err and "Traceback" not in err, (args, err)
    code, _, err = run(["import-history", str(good), "--text", "正文", "--category", "类别",
                        "--db", db], capsys)
    assert code == 2 and "找不到文本列「正文」" in err and "内容、类别" in err
    old_xls = tmp_path / "old.xls"
    old_xls.write_bytes(b"\xd0\xcf\x11\xe0")
    code, _, err = run(["import-history", str(old_xls), "--text", "内容", "--category", "类别",
                        "--db", db], capsys)
    assert code == 2 and ".xlsx" in err


def test_import_maps_creates_skips_and_is_idempotent(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "g.db")
    src = write_csv(tmp_path / "h.csv", [*ROWS, ("", "排水"), ("电梯又坏了", "")])
    mapping = tmp_path / "map.toml"
    mapping.write_text('[map]\n"排水" = "drainage"\n'
                       '"群租房" = { slug = "group_rental", name = "群租房" }\n', "utf-8")
    argv = ["import-history", str(src), "--text", "内容", "--category", "类别",
            "--map", str(mapping), "--db", db]
    code, out, _ = run(argv, capsys)
    assert code == 0
    assert "新增样本 2 条" in out and "「垃圾分类督导」1 行" in out and "文本为空 1 行" in out
    code, out, _ = run([*argv, "--new-categories"], capsys)
    assert "新增样本 1 条" in out and "已导入过 2 条" in out and "垃圾分类督导(c_" in out
    code, out, _ = run([*argv, "--new-categories"], capsys)
    assert "新增样本 0 条" in out and "已导入过 3 条" in out
    with sqlite3.connect(db) as conn:
        cats = dict(conn.execute("SELECT slug, name FROM learning_categories"))
        labels = sorted(r[0] for r in conn.execute("SELECT category FROM learning_examples"))
    assert cats["group_rental"] == "群租房" and "垃圾分类督导" in cats.values()
    assert labels[0] == "c_" + labels[0][2:] and "drainage" in labels
    bad_map = tmp_path / "bad.toml"
    bad_map.write_text('[map]\n"排水" = "no_such_category"\n', "utf-8")
    code, _, err = run([*argv[:-4], "--map", str(bad_map), "--db", db], capsys)
    assert code == 2 and "社区没有这个分类" in err


def test_hostile_labels_cannot_inject_html_or_sql(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "g.db")
    hostile = [
        ("楼道灯坏了", "<b>设施</b><a href='http://x'>点</a>"),
        ("电梯坏了", "'); DROP TABLE tickets; --"),
        ("停水了", "=cmd|' /C calc'!A0"),
        ("漏水", "\u202e反转\u0000控制"),
        ("太长", "类" * 60),
    ]
    src = write_csv(tmp_path / "h.csv", hostile)
    code, out, _ = run(["import-history", str(src), "--text", "内容", "--category", "类别",
                        "--new-categories", "--db", db], capsys)
    assert code == 0 and "分类名超过 40 个字 1 行" in out
    with sqlite3.connect(db) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM learning_categories")]
        assert conn.execute("SELECT count(*) FROM tickets").fetchone() == (0,)  # still there
    assert "'); DROP TABLE tickets; --" in names  # stored as data, nothing executed
    assert all("\u202e" not in n and "\x00" not in n for n in names)
    # the card shows an imported category's name escaped
    import dataclasses
    from datetime import UTC, datetime

    from community.model import CategoryConfig
    from tests.support.tickets import CONFIG
    from tickets.model import Ticket
    from ui.cards import CardRenderer

    html_name = next(n for n in names if n.startswith("<b>"))
    config = dataclasses.replace(CONFIG, categories=(CategoryConfig("c_evil", html_name),))
    ticket = Ticket(source_chat_id=-1001, source_message_id=1, reporter_id=1,
                    reporter_name="居民", text="楼道灯坏了", category="c_evil", urgency="normal",
                    created_at=datetime(2026, 9, 1, tzinfo=UTC), id=1, number="2609-0001")
    card = CardRenderer(config).card(ticket)
    assert "&lt;b&gt;设施&lt;/b&gt;" in card and "<a href" not in card


def test_rows_beyond_the_limit_are_counted_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["内容", "类别"])
        for i in range(MAX_ROWS + 25):
            w.writerow([f"第{i}号楼漏水", "漏水"])
    hist = open_history(path, text="内容", category="类别")
    assert sum(1 for _ in hist.rows()) == MAX_ROWS
    assert hist.all_skipped()[f"超过行数上限 {MAX_ROWS}"] == 25


def test_column_by_number_and_missing_title(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "h.csv", ROWS)
    hist = open_history(src, text="1", category="2")
    assert len(list(hist.rows())) == 3
    with pytest.raises(TableError, match="标题列"):
        open_history(src, text="1", category="2", title="标题")
