"""xlsx exports read back with openpyxl: rows = the list's rows (all pages), masking,
and the monthly workbook's sheets and figures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from services.dashboard import build_monthly_report, month_period
from storage import Database, open_database
from storage.console_repo import SORTS, Scope, TicketFilter
from tests.support.console_data import T0, add_rating, add_tickets, hours, make_ticket
from tests.support.e2e import example_community
from tickets.clock import FakeClock
from tickets.model import TicketState
from ui.workbooks import TICKET_HEADERS, export_tickets, write_monthly_report

NOW = T0 + timedelta(days=2)
CONFIG = example_community()


@pytest.fixture
async def db(db_target: str) -> AsyncIterator[Database]:
    database = await open_database(db_target, clock=FakeClock(NOW))
    yield database
    await database.close()


def read_rows(path: Path) -> list[tuple[object, ...]]:
    book = openpyxl.load_workbook(path, read_only=True)
    rows = [tuple(r) for r in book.active.iter_rows(values_only=True)]
    book.close()
    return rows


async def test_export_holds_exactly_the_filtered_rows_of_every_page(
        db: Database, tmp_path: Path) -> None:
    tickets = [make_ticket(created_at=T0 + hours(i % 7), grid=("第一网格", "第二网格")[i % 3 == 0],
                           text=f"第{i}件 漏水" if i % 2 else f"第{i}件 路灯")
               for i in range(4500)]
    await add_tickets(db, *tickets)
    flt = TicketFilter(grid="第一网格", text="漏水")
    scope = Scope.everyone()
    expected: list[str] = []
    cursor = None
    while True:  # what the list shows, page by page
        async with db.read() as r:
            page = await r.console.page(flt, scope, SORTS["new"], cursor, 50)
        expected += [t.number or "" for t in page.tickets]
        cursor = page.next_cursor
        if cursor is None:
            break
    path = tmp_path / "t.xlsx"
    n = await export_tickets(db, path, flt, scope, SORTS["new"], lambda t: True, CONFIG, NOW)
    rows = read_rows(path)
    assert rows[0] == TICKET_HEADERS
    assert [r[0] for r in rows[1:]] == expected and n == len(expected) == 1500
    assert all("漏水" in str(r[10]) and r[5] == "第一网格" for r in rows[1:])


async def test_export_masks_phones_and_rooms_unless_personal(db: Database,
                                                             tmp_path: Path) -> None:
    mine = make_ticket(grid="第一网格", text="3号楼502漏水，电话13812345678", room="502",
                       building="3", state=TicketState.ASSIGNED, resolve_due=NOW - hours(1))
    other = make_ticket(grid="第二网格", text="电话13912345678", room="1201")
    await add_tickets(db, mine, other)
    path = tmp_path / "m.xlsx"
    await export_tickets(db, path, TicketFilter(now=NOW), Scope.everyone(), SORTS["old"],
                         lambda t: t.grid == "第一网格", CONFIG, NOW)
    head, first, second = read_rows(path)
    col = {h: i for i, h in enumerate(head)}
    assert first[col["报事内容"]] == "3号楼502漏水，电话13812345678" and first[col["房号"]] == "502"
    assert first[col["逾期"]] == "是"
    assert first[col["登记时间"]] == (T0.astimezone(ZoneInfo("Asia/Shanghai"))
                                      .replace(tzinfo=None))
    assert second[col["报事内容"]] == "电话139****5678" and second[col["房号"]] == "**"


async def test_export_respects_the_scope(db: Database, tmp_path: Path) -> None:
    await add_tickets(db, make_ticket(grid="第一网格", assignee="王芳"),
                      make_ticket(grid="第二网格", assignee="李强"))
    path = tmp_path / "s.xlsx"
    scope = Scope(False, frozenset({"第二网格"}), frozenset(), "李强", 1002)
    n = await export_tickets(db, path, TicketFilter(), scope, SORTS["new"], lambda t: True,
                             CONFIG, NOW)
    rows = read_rows(path)
    assert n == 1 and [r[5] for r in rows[1:]] == ["第二网格"]


async def test_monthly_workbook_has_summary_and_tables(db: Database, tmp_path: Path) -> None:
    a = make_ticket(grid="第一网格", assignee="王芳", category="water_leak", created_at=T0,
                    state=TicketState.CLOSED, resolved_at=T0 + hours(3),
                    resolve_due=T0 + hours(5), closed_at=T0 + hours(4), supporters_count=4,
                    text="顶楼漏水 13812345678")
    b = make_ticket(grid="第二网格", assignee="李强", category="noise",
                    created_at=T0 + hours(1))
    await add_tickets(db, a, b)
    await add_rating(db, a, 1, T0 + hours(4))
    tz = ZoneInfo("Asia/Shanghai")
    report = await build_monthly_report(db, month_period(2026, 11, tz), NOW, Scope.everyone())
    path = tmp_path / "month.xlsx"
    write_monthly_report(path, report, CONFIG, NOW)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["概要", "按类别", "按网格", "按人员", "热点问题"]
    summary = {row[0]: row[1:4] for row in book["概要"].iter_rows(min_row=5, values_only=True)
               if row[0]}
    assert summary["新增工单"][:2] == (2, 0)
    assert summary["满意率"][0] == 1.0 and summary["按时办结率"][0] == 1.0
    grids = {r[0]: r for r in book["按网格"].iter_rows(min_row=2, values_only=True)}
    assert grids["第一网格"][1] == 1 and grids["第二网格"][2] == 1
    hot = list(book["热点问题"].iter_rows(min_row=2, values_only=True))
    assert hot[0][0] == a.number and "13812345678" not in hot[0][4]


def test_streaming_sheet_escapes_and_types(tmp_path: Path) -> None:
    from datetime import datetime

    from services.xlsx_stream import StreamingSheet

    path = tmp_path / "s.xlsx"
    odd = 'a<b>&"c" \x01\x0b 🙂 =1+1 \t换行\n第二行'
    with StreamingSheet(path, "表<1>", ("文本", "数", "时间", "空"), (10, 5, 16, 4)) as sheet:
        sheet.add([(odd, 42, datetime(2026, 11, 2, 9, 30), None),
                   ("0012", 3.5, None, "")])
    book = openpyxl.load_workbook(path)
    ws = book.active
    assert ws.title == "表<1>"
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("文本", "数", "时间", "空")
    assert rows[1][0] == 'a<b>&"c"  🙂 =1+1 \t换行\n第二行'  # control characters dropped
    assert rows[1][1] == 42 and rows[1][2] == datetime(2026, 11, 2, 9, 30)
    assert rows[2][0] == "0012" and rows[2][1] == 3.5  # text stays text, no formula
    assert ws["A1"].font.b
