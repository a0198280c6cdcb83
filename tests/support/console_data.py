"""Helpers of the console data tests: tickets written through the real repositories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from storage import Database
from tickets.events import Reopened
from tickets.model import Ticket, TicketState

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


@dataclass(frozen=True)
class FakeViewer:
    """The fields storage.console_repo.Scope.of_viewer reads."""

    person_key: str
    telegram_id: int
    is_supervisor: bool = False
    grids: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()


_next_message = [0]


def make_ticket(**fields: Any) -> Ticket:
    _next_message[0] += 1
    base: dict[str, Any] = {
        "source_chat_id": -100, "source_message_id": _next_message[0],
        "reporter_id": 5000 + _next_message[0], "reporter_name": "居民",
        "text": "楼道灯坏了", "category": "lighting", "urgency": "normal", "created_at": T0,
        "state": TicketState.ASSIGNED, "grid": "一网格", "assignee": "王芳",
    }
    base.update(fields)
    return Ticket(**base)


async def add_tickets(db: Database, *tickets: Ticket) -> list[Ticket]:
    async with db.transaction() as uow:
        for t in tickets:
            await uow.tickets.add(t)
    return list(tickets)


async def add_rating(db: Database, ticket: Ticket, score: int, at: datetime) -> None:
    assert ticket.id is not None
    async with db.transaction() as uow:
        await uow.ratings.add(ticket.id, ticket.reporter_id, score, now=at)


async def add_reopen(db: Database, ticket: Ticket, at: datetime) -> None:
    assert ticket.id is not None
    event = Reopened(at=at, actor_id=ticket.reporter_id, actor_key=None,
                     from_state=TicketState.RESOLVED, to_state=TicketState.ASSIGNED,
                     reason="reporter", accept_due=None, resolve_due=None)
    async with db.transaction() as uow:
        await uow.events.append(ticket.id, event)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
