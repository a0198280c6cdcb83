"""Intake throughput: parsed report → ticket + event + outbox row durably committed.

Compares, on the same disk and in the same run:
  * a bare aiosqlite ``INSERT`` + ``COMMIT`` loop (same pragmas: WAL, synchronous=NORMAL),
  * ``report_received`` one transaction per report,
  * ``report_received_many`` group commit (``--batch`` reports per transaction).

Usage: python -m bench.intake [--n 3000] [--batch 32] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite

from community.model import Area, CommunityConfig, Grid, Person, Role
from services import IncomingReport, RenderContext, report_received, report_received_many
from storage import open_database
from tickets.clock import FakeClock
from tickets.events import TicketEvent
from tickets.model import Location, ReportInput, Ticket
from tickets.outgoing import Button, OutgoingMessage

CATEGORIES = ("water_leak", "noise", "rubbish", "street_light", "parking", "pests")
CONFIG = CommunityConfig(
    name="bench",
    grids=tuple(
        Grid(f"网格{g}", areas=(Area(f"小区{g}"),), chats=(-1000 - g,), workers=(f"员{g}",))
        for g in range(7)
    ),
    people=(
        *(Person(f"员{g}", telegram_id=100 + g, roles=frozenset({Role.WORKER}),
                 grids=(f"网格{g}",)) for g in range(7)),
        Person("书记", telegram_id=900, roles=frozenset({Role.SUPERVISOR})),
    ),
)


class CardPresenter:
    """Like the real presenter's common case: one group card per event."""

    def render(self, event: TicketEvent, ticket: Ticket,
               ctx: RenderContext) -> Sequence[OutgoingMessage]:
        return (OutgoingMessage(
            chat_id=ticket.source_chat_id, text=f"工单 {ticket.number} {event.action}",
            card_ticket_id=ticket.id, buttons=((Button("接单", f"a:{ticket.id}"),),)),)


def make_report(i: int) -> tuple[int, ReportInput]:
    """Distinct reports (different buildings) spread over 7 compounds/chats."""
    g = i % 7
    building = str(i // 7 % 5000)
    cat = CATEGORIES[i % len(CATEGORIES)]
    loc = Location(compound=f"小区{g}", building=building, unit="1")
    return -1000 - g, ReportInput(
        text=f"{building}号楼1单元 问题 {i}", category=cat, urgency="normal", location=loc,
        keywords=("问题",), duplicate_key=f"{cat}|小区{g}|{building}|1||问题",
        parse_json='{"is_report": true, "confidence": 0.9}')


async def bare_loop(path: Path, n: int) -> float:
    async with aiosqlite.connect(path) as conn:
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
        await conn.commit()
        start = time.perf_counter()
        for i in range(n):
            await conn.execute("INSERT INTO t (payload) VALUES (?)", (f"payload {i}",))
            await conn.commit()
        return n / (time.perf_counter() - start)


async def intake_single(path: Path, n: int) -> float:
    clock = FakeClock(datetime(2026, 9, 1, 2, 0, tzinfo=UTC))
    db = await open_database(path, clock=clock)
    presenter = CardPresenter()
    try:
        start = time.perf_counter()
        for i in range(n):
            chat, rep = make_report(i)
            await report_received(db, CONFIG, clock, presenter, source_chat_id=chat,
                                  source_message_id=i, reporter_id=10_000 + i,
                                  reporter_name="居民", report=rep)
            clock.advance(timedelta(seconds=1))
        rate = n / (time.perf_counter() - start)
        await check(db, n)
        return rate
    finally:
        await db.close()


async def intake_batched(path: Path, n: int, batch: int) -> float:
    clock = FakeClock(datetime(2026, 9, 1, 2, 0, tzinfo=UTC))
    db = await open_database(path, clock=clock)
    presenter = CardPresenter()
    try:
        start = time.perf_counter()
        for first in range(0, n, batch):
            items = []
            for i in range(first, min(n, first + batch)):
                chat, rep = make_report(i)
                items.append(IncomingReport(chat, i, 10_000 + i, "居民", rep))
            await report_received_many(db, CONFIG, clock, presenter, items)
            clock.advance(timedelta(seconds=1))
        rate = n / (time.perf_counter() - start)
        await check(db, n)
        return rate
    finally:
        await db.close()


async def check(db: object, n: int) -> None:
    """The bench only counts if every report became ticket + event + outbox row."""
    path = db.path  # type: ignore[attr-defined]
    with sqlite3.connect(path) as conn:
        counts = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("tickets", "ticket_events", "outbox")]
    assert counts == [n, n, n], counts


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--dir", default=None, help="directory on the disk to test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        base = Path(tmp)
        bare = await bare_loop(base / "bare.db", args.n)
        single = await intake_single(base / "single.db", args.n)
        batched = await intake_batched(base / "batched.db", args.n, args.batch)
    print(f"disk: {args.dir or tempfile.gettempdir()}  n={args.n}")
    print(f"bare aiosqlite INSERT+COMMIT loop : {bare:9.0f} rows/s")
    print(f"intake, 1 report per transaction  : {single:9.0f} msg/s  ratio {single / bare:.2f}")
    print(f"intake, group commit of {args.batch:<3}       : {batched:9.0f} msg/s  "
          f"ratio {batched / bare:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
