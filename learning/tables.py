"""Reading a community's history tables: .xlsx (openpyxl, read-only) or .csv (UTF-8 or GB18030).

Everything that can go wrong with a file a deployer exported from Excel is an expected
failure: `TableError` carries one Chinese sentence; rows that cannot be used are counted with
a reason instead of stopping the import. Cell values are plain text (formulas are read as
their cached value, never evaluated), capped in length, with control characters removed.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

MAX_ROWS = 100_000  # rows beyond this are skipped (and counted), the import still runs
MAX_CELL = 5_000  # characters kept of one cell
MAX_FILE_BYTES = 200 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


class TableError(Exception):
    """A file that cannot be read at all; the message is for the user (Chinese)."""


@dataclass(slots=True)
class Table:
    header: list[str]
    rows: Iterator[list[str]]
    notes: list[str] = field(default_factory=list)  # e.g. "混合编码: 3 行按 GB18030 读取"
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> rows


def clean_cell(value: object) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text.strip()[:MAX_CELL]


def read_table(path: str | Path, *, max_rows: int = MAX_ROWS) -> Table:
    """Open a .xlsx or .csv file; the first non-empty row is the header."""
    p = Path(path)
    if not p.is_file():
        raise TableError(f"找不到文件:{p}")
    size = p.stat().st_size
    if size == 0:
        raise TableError(f"文件是空的:{p.name}")
    if size > MAX_FILE_BYTES:
        raise TableError(f"文件太大({size // (1024 * 1024)} MB),上限 200 MB,请拆分后再导入")
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _limited(_read_xlsx(p), max_rows)
    if suffix in (".csv", ".txt", ".tsv"):
        return _limited(_read_csv(p), max_rows)
    if suffix == ".xls":
        raise TableError("不支持旧版 .xls 文件,请在 Excel 中另存为 .xlsx 或 .csv")
    raise TableError(f"不认识的文件类型 {p.suffix or '(无扩展名)'}:请用 .xlsx 或 .csv")


def _limited(table: Table, max_rows: int) -> Table:
    inner = table.rows

    def rows() -> Iterator[list[str]]:
        for n, row in enumerate(inner):
            if n >= max_rows:
                table.skipped[f"超过行数上限 {max_rows}"] += 1
                continue
            yield row
    table.rows = rows()
    return table


def _read_xlsx(path: Path) -> Table:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise TableError("读取 .xlsx 需要 openpyxl:pip install openpyxl") from exc
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise TableError(f"无法打开 Excel 文件 {path.name}:文件损坏或不是 .xlsx") from exc
    except Exception as exc:  # openpyxl raises many kinds on malformed XML
        raise TableError(f"无法打开 Excel 文件 {path.name}:{type(exc).__name__}") from exc
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        book.close()
        raise TableError(f"Excel 文件 {path.name} 里没有工作表")
    values = sheet.iter_rows(values_only=True)
    header: list[str] | None = None
    try:
        for raw in values:
            cells = [clean_cell(v) for v in raw]
            if any(cells):
                header = cells
                break
    except Exception as exc:
        book.close()
        raise TableError(f"读取 Excel 文件 {path.name} 出错:{type(exc).__name__}") from exc
    if header is None:
        book.close()
        raise TableError(f"文件 {path.name} 没有任何数据行")
    table = Table(header, iter(()))

    def rows() -> Iterator[list[str]]:
        try:
            for raw in values:
                cells = [clean_cell(v) for v in raw]
                if any(cells):
                    yield cells
        except Exception as exc:  # a broken sheet part midway: keep what was read
            table.notes.append(f"读到中途出错,其余行未读取:{type(exc).__name__}")
        finally:
            book.close()
    table.rows = rows()
    return table


def decode_lines(data: bytes) -> tuple[list[str], list[str]]:
    """Decode a CSV's bytes as UTF-8 or GB18030, line by line when the file mixes them.
    Returns the lines and notes about the encoding."""
    try:
        return data.decode("utf-8-sig").splitlines(keepends=True), []
    except UnicodeDecodeError:
        pass
    lines = data.splitlines(keepends=True)
    utf8_rich = 0
    for line in lines:
        try:
            if any(b >= 0x80 for b in line):
                line.decode("utf-8")
                utf8_rich += 1
        except UnicodeDecodeError:
            continue
    if utf8_rich == 0:
        try:
            return data.decode("gb18030").splitlines(keepends=True), []
        except UnicodeDecodeError:
            pass
    out: list[str] = []
    counts: Counter[str] = Counter()
    for line in lines:
        for enc in ("utf-8", "gb18030"):
            try:
                out.append(line.decode(enc))
                counts[enc] += 1
                break
            except UnicodeDecodeError:
                continue
        else:
            out.append(line.decode("gb18030", errors="replace"))
            counts["bad"] += 1
    notes = [f"混合编码:{counts['utf-8']} 行按 UTF-8、{counts['gb18030']} 行按 GB18030 读取"]
    if counts["bad"]:
        notes.append(f"{counts['bad']} 行含无法识别的字节,已替换为 �")
    if out and out[0].startswith("\ufeff"):
        out[0] = out[0][1:]
    return out, notes


def _read_csv(path: Path) -> Table:
    data = path.read_bytes()
    head = data[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head.count(b"\x00") > len(head) // 10:
        raise TableError(f"文件 {path.name} 不是文本 CSV(可能是 UTF-16 或二进制文件),"
                         "请在 Excel 中另存为「CSV UTF-8」")
    lines, notes = decode_lines(data.replace(b"\x00", b""))
    sample = "".join(lines[:20])
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    csv.field_size_limit(10 * 1024 * 1024)
    reader = csv.reader(io.StringIO("".join(lines)), delimiter=delimiter)
    header: list[str] | None = None
    table = Table([], iter(()), notes)

    def cells_of(row: Sequence[str]) -> list[str]:
        return [clean_cell(v) for v in row]

    try:
        for raw in reader:
            cells = cells_of(raw)
            if any(cells):
                header = cells
                break
    except csv.Error as exc:
        raise TableError(f"CSV 文件 {path.name} 格式错误:{exc}") from exc
    if header is None:
        raise TableError(f"文件 {path.name} 没有任何数据行")
    table.header = header

    def rows() -> Iterator[list[str]]:
        while True:
            try:
                raw = next(reader)
            except StopIteration:
                return
            except csv.Error:
                table.skipped["CSV 格式错误的行"] += 1
                continue
            cells = cells_of(raw)
            if any(cells):
                yield cells
    table.rows = rows()
    return table


def column_index(header: Sequence[str], name: str, what: str) -> int:
    """The index of column `name` (exact, then case/space-insensitive, or a 1-based number)."""
    if name in header:
        return list(header).index(name)
    folded = [h.strip().lower() for h in header]
    if name.strip().lower() in folded:
        return folded.index(name.strip().lower())
    if name.isdigit() and 1 <= int(name) <= len(header):
        return int(name) - 1
    shown = "、".join(h or "(空)" for h in header[:20])
    raise TableError(f"找不到{what}列「{name}」。文件的列有:{shown}")
