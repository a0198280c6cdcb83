"""Shared builders for the scheduler tests: a real SQLite database, a FakeClock, the real
presenter and services, a stub dispatcher, and outbox reads. (No tests here.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from community.model import CommunityConfig
from handlers.context import Services
from runtime.lexicon import lexicon_from_config
from scheduler import GridScheduler
from storage import OutboxRow, open_database
from tests.support.tickets import CHAT_A, report
from tickets.clock import FakeClock
from tickets.model import Ticket
from ui.presenter import ChatPresenter

SHANGHAI = ZoneInfo("Asia/Shanghai")
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time as an aware datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@dataclass
class StubDispatcher:
    """Stands in for the outbox dispatcher: counts wake-ups, sends nothing."""

    wakes: int = 0

    def wake(self) -> None:
        self.wakes += 1


@dataclass
class Harness:
    services: Services
    clock: FakeClock
    dispatcher: StubDispatcher
    scheduler: GridScheduler
    _msg: list[int] = field(default_factory=lambda: [100])

    @property
    def db(self) -> Any:
        return self.services.db

    def at(self, when: datetime) -> None:
        self.clock.set(when)

    async def tick(self, when: datetime | None = None) -> Any:
        if when is not None:
            self.clock.set(when)
        return await self.scheduler.tick()

    def restart(self) -> GridScheduler:
        """A new scheduler on the same database (nothing carried over in memory)."""
        self.scheduler = GridScheduler(self.services, tick_seconds=60)
        return self.scheduler

    async def new_ticket(self, *, chat_id: int = CHAT_A, reporter: int = 5001,
                         **kw: Any) -> Ticket:
        self._msg[0] += 1
        result = await self.services.tickets.report_received(
            source_chat_id=chat_id, source_message_id=self._msg[0], reporter_id=reporter,
            reporter_name="张阿姨", report=report(**kw))
        return result.ticket

    async def rows(self, kind: str | None = None) -> list[OutboxRow]:
        """Every pending outbox row (nothing is ever sent in these tests), oldest first."""
        async with self.db.transaction() as uow:
            rows = await uow.outbox.due(100_000, now=FAR_FUTURE)
        return [r for r in rows if kind is None or r.message.kind.startswith(kind)]

    async def ticket(self, ticket_id: int) -> Ticket:
        async with self.db.read() as r:
            t = await r.tickets.get(ticket_id)
        assert t is not None
        return t


@asynccontextmanager
async def harness(target: str, config: CommunityConfig,
                  start: datetime) -> AsyncIterator[Harness]:
    """The scheduler over the database at ``target`` (the ``db_target`` fixture: a SQLite
    path or a PostgreSQL URL)."""
    clock = FakeClock(start)
    db = await open_database(target, clock=clock, timezone=config.timezone)
    dispatcher = StubDispatcher()
    services = Services(config=config, db=db, clock=clock,
                        lexicon=lexicon_from_config(config),
                        presenter=ChatPresenter(config),
                        dispatcher=dispatcher)  # type: ignore[arg-type]
    sched = GridScheduler(services, tick_seconds=60)
    try:
        yield Harness(services, clock, dispatcher, sched)
    finally:
        await db.close()


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
