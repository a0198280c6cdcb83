"""The street ticket list as a spreadsheet: the community export's 20 columns with 社区
in front, rows in the street list's merged order (``services.street_list``), streamed
into the file like the community export (rows mapped and written in a worker thread)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from services.street_list import Source, street_rows
from services.xlsx_stream import StreamingSheet
from storage.connection import Row
from storage.console_repo import Sort
from storage.tickets_repo import row_to_ticket
from ui.workbooks import TICKET_HEADERS, TICKET_WIDTHS, PersonalRule, ticket_row

STREET_HEADERS = ("社区", *TICKET_HEADERS)
_STREET_WIDTHS = (14, *TICKET_WIDTHS)


def _mapped(batch: Sequence[tuple[Source, Row]], personal: PersonalRule,
            now: datetime) -> list[list[Any]]:
    zones: dict[str, ZoneInfo] = {}
    out = []
    for source, row in batch:
        tz = zones.setdefault(source.key, ZoneInfo(source.config.timezone))
        ticket = row_to_ticket(row)
        out.append([source.name,
                    *ticket_row(ticket, personal(ticket), source.config, tz, now)])
    return out


async def export_street_tickets(sources: Sequence[Source], path: str | Path, sort: Sort,
                                personal: PersonalRule, now: datetime,
                                title: str = "街道工单导出") -> int:
    """Write every ticket of ``sources`` (their filters, the merged order) to ``path``;
    returns the row count."""
    sheet = await asyncio.to_thread(StreamingSheet, path, "工单", STREET_HEADERS,
                                    _STREET_WIDTHS, title)

    def write(batch: list[tuple[Source, Row]]) -> None:
        sheet.add(_mapped(batch, personal, now))

    try:
        async for batch in street_rows(sources, sort):
            await asyncio.to_thread(write, batch)
    finally:
        await asyncio.to_thread(sheet.close)
    return sheet.rows - 1  # the header is not a ticket
