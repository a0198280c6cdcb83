"""xlsx exports: the ticket list exactly as filtered (streamed, constant memory, written
in a worker thread) and the monthly report workbook (月报) for the street office.

The workbook code is synchronous and pure file writing (the list through
``services.xlsx_stream``, the small monthly workbook through XlsxWriter); the async
functions read the rows in chunks (one short read snapshot each, so the bot's reads
never wait behind an export) and hand each chunk to a thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter

from community.model import CommunityConfig
from services.dashboard import MonthlyReport, SliceRow
from services.xlsx_stream import StreamingSheet
from storage import Database
from storage.console_repo import Scope, Sort, TicketFilter
from storage.tickets_repo import row_to_ticket
from tickets.model import RATING_LABELS, Ticket
from tickets.priority import ticket_overdue
from ui.cards import category_label
from ui.mask import mask_for_group

CHUNK = 2000
STATE_NAMES = {
    "new": "待派单", "assigned": "待接单", "accepted": "已接单", "in_progress": "处理中",
    "resolved": "已办结", "closed": "已关闭", "cancelled": "已撤销", "merged": "已合并",
}
URGENCY_NAMES = {"emergency": "紧急", "urgent": "加急", "normal": "一般"}
TICKET_HEADERS = (
    "编号", "登记时间", "状态", "类别", "紧急程度", "网格", "小区", "楼栋", "单元", "房号",
    "报事内容", "报事人", "负责人", "接单时间", "办结时间", "办结期限", "逾期", "附议人数",
    "评价", "重开次数",
)
TICKET_WIDTHS = (11, 16, 8, 12, 8, 10, 12, 6, 6, 8, 50, 10, 10, 16, 16, 16, 6, 8, 8, 8)

#: Decides per ticket whether phones and rooms may be shown (the viewer's rule).
PersonalRule = Callable[[Ticket], bool]


def _local(when: datetime | None, tz: ZoneInfo) -> datetime | None:
    return when.astimezone(tz).replace(tzinfo=None) if when is not None else None



def ticket_row(ticket: Ticket, personal: bool, config: CommunityConfig, tz: ZoneInfo,
               now: datetime) -> list[Any]:
    """One export row (same order as :data:`TICKET_HEADERS`); phones and rooms masked
    unless ``personal``."""
    text = ticket.text if personal else mask_for_group(ticket.text)
    room = (ticket.room if personal else "**") if ticket.room else ""
    return [
        ticket.number, _local(ticket.created_at, tz), STATE_NAMES.get(str(ticket.state), ""),
        category_label(ticket.category, config), URGENCY_NAMES.get(ticket.urgency, ""),
        ticket.grid or "", ticket.compound or "", ticket.building or "", ticket.unit or "",
        room, text, ticket.reporter_name, ticket.assignee or "",
        _local(ticket.accepted_at, tz), _local(ticket.resolved_at, tz),
        _local(ticket.resolve_due, tz), "是" if ticket_overdue(ticket, now) else "",
        ticket.supporters_count, RATING_LABELS.get(ticket.rating or 0, ""), ticket.reopen_count,
    ]


class TicketWorkbook:
    """A one-sheet ticket list written row by row and streamed into the file
    (:mod:`services.xlsx_stream`): memory does not grow with the rows."""

    def __init__(self, path: str | Path, title: str) -> None:
        self._sheet = StreamingSheet(path, "工单", TICKET_HEADERS, TICKET_WIDTHS, title)

    @property
    def rows(self) -> int:
        return self._sheet.rows - 1  # the header is not a ticket

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        self._sheet.add(rows)

    def close(self) -> None:
        self._sheet.close()


async def export_tickets(db: Database, path: str | Path, flt: TicketFilter, scope: Scope,
                         sort: Sort, personal: PersonalRule, config: CommunityConfig,
                         now: datetime, title: str = "工单导出") -> int:
    """Write every ticket the filter shows (all pages, the list's order) to ``path``;
    returns the row count. Reads a chunk at a time (the next chunk is read while the
    previous one is written); rows are mapped and written in a worker thread, so the
    event loop only waits."""
    tz = ZoneInfo(config.timezone)
    book = await asyncio.to_thread(TicketWorkbook, path, title)

    async def read(after: list[Any] | None) -> tuple[list[Any], list[Any] | None]:
        async with db.read() as r:
            return await r.console.chunk(flt, scope, sort, after, CHUNK)

    def write(rows: list[Any]) -> None:
        tickets = [row_to_ticket(r) for r in rows]
        book.add([ticket_row(t, personal(t), config, tz, now) for t in tickets])

    try:
        rows, after = await read(None)
        while True:
            writing = asyncio.create_task(asyncio.to_thread(write, rows))
            try:
                if after is not None:
                    rows, after = await read(after)
                    await writing
                    continue
                await writing
            except BaseException:
                writing.cancel()
                raise
            break
    finally:
        await asyncio.to_thread(book.close)
    return book.rows


# -- 月报 -------------------------------------------------------------------------------

_SLICE_HEADERS = ("{name}", "新增", "月末在办", "月末逾期", "办结", "按时办结率", "已评价",
                  "满意率", "重复投诉")


def _slice_values(row: SliceRow, label: str) -> list[Any]:
    return [label, row.new, row.open, row.overdue, row.resolved,
            row.on_time_rate if row.on_time_rate is not None else "—", row.rated,
            row.satisfaction_rate if row.satisfaction_rate is not None else "—", row.repeat]


def write_monthly_report(path: str | Path, report: MonthlyReport, config: CommunityConfig,
                         generated_at: datetime) -> None:
    """The street office's workbook: 概要 (the dashboard's figures with 环比), then
    按类别 / 按网格 / 按人员 tables and 热点问题."""
    tz = ZoneInfo(config.timezone)
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False,
                                           "strings_to_formulas": False,
                                           "strings_to_urls": False})
    bold = book.add_format({"bold": True, "bg_color": "#F2F4F7", "border": 1})
    title = book.add_format({"bold": True, "font_size": 14})
    pct = book.add_format({"num_format": "0.0%", "border": 1})
    cell = book.add_format({"border": 1})
    summary = book.add_worksheet("概要")
    summary.set_column(0, 0, 16)
    summary.set_column(1, 3, 14)
    summary.set_column(4, 4, 36)
    summary.write(0, 0, f"{config.name} {report.period.label} 工单月报", title)
    summary.write(1, 0, f"生成时间 {generated_at.astimezone(tz):%Y-%m-%d %H:%M}；"
                        f"环比对比 {report.period.previous().label}")
    summary.write_row(3, 0, ("指标", "本月", "上月", "环比", "说明"), bold)
    for i, f in enumerate(report.figures, start=4):
        summary.write_string(i, 0, f.label, cell)
        for col, value in ((1, f.value), (2, f.previous)):
            if value is None:
                summary.write_string(i, col, "—", cell)
            elif f.unit == "%":
                summary.write_number(i, col, value, pct)
            elif f.unit == "h":
                summary.write_number(i, col, round(value, 1), cell)
            else:
                summary.write_number(i, col, value, cell)
        summary.write_string(i, 3, f.change_text, cell)
        unit_note = "单位：小时" if f.unit == "h" else ""
        summary.write_string(i, 4, "；".join(x for x in (f.detail, unit_note) if x), cell)
    row = 5 + len(report.figures)
    summary.write_row(row, 0, ("评价", "件数"), bold)
    for score, label in RATING_LABELS.items():
        row += 1
        summary.write_string(row, 0, label, cell)
        summary.write_number(row, 1, report.ratings.get(score, 0), cell)

    def table(name: str, heading: str, rows: list[SliceRow],
              label: Callable[[str], str]) -> None:
        sheet = book.add_worksheet(name)
        sheet.set_column(0, 0, 16)
        sheet.set_column(1, 8, 11)
        sheet.write_row(0, 0, [h.format(name=heading) for h in _SLICE_HEADERS], bold)
        for i, r in enumerate(rows, start=1):
            for col, value in enumerate(_slice_values(r, label(r.key))):
                if isinstance(value, float):
                    sheet.write_number(i, col, value, pct)
                elif isinstance(value, int):
                    sheet.write_number(i, col, value, cell)
                else:
                    sheet.write_string(i, col, str(value), cell)
        sheet.freeze_panes(1, 1)

    table("按类别", "类别", report.by_category, lambda k: category_label(k, config))
    table("按网格", "网格", report.by_grid, lambda k: k or "未划入网格")
    table("按人员", "负责人", report.by_worker, lambda k: k)
    hot = book.add_worksheet("热点问题")
    hot.set_column(0, 0, 11)
    hot.set_column(1, 3, 14)
    hot.set_column(4, 4, 50)
    hot.write_row(0, 0, ("编号", "类别", "网格", "附议人数", "报事内容（已隐去电话和房号）"),
                  bold)
    for i, t in enumerate(report.hottest, start=1):
        hot.write_row(i, 0, (t.number, category_label(t.category, config), t.grid or "",
                             t.supporters_count, mask_for_group(t.text)), cell)
    book.close()

