"""The append-only ticket event log."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.base import Repository
from storage.timefmt import req, to_db
from tickets.events import TicketEvent

_INSERT = (
    "INSERT INTO ticket_events (ticket_id, at, actor_id, actor_key, action, from_state, "
    "to_state, note, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One stored event (a timeline entry)."""

    id: int
    ticket_id: int
    at: datetime
    actor_id: int | None
    actor_key: str | None
    action: str
    from_state: str | None
    to_state: str
    note: str | None
    data: dict[str, Any]


def _params(ticket_id: int, e: TicketEvent) -> tuple[object, ...]:
    return (
        ticket_id, to_db(e.at), e.actor_id, e.actor_key, e.action,
        str(e.from_state) if e.from_state is not None else None, str(e.to_state), e.note,
        json.dumps(e.data(), ensure_ascii=False),
    )


class EventRepository(Repository):
    async def append(self, ticket_id: int, event: TicketEvent) -> int:
        """Append one event; returns its id."""
        new_id = await self._insert(_INSERT, _params(ticket_id, event))
        assert new_id is not None
        return new_id

    async def append_many(self, items: Iterable[tuple[int, TicketEvent]]) -> None:
        """Append several (ticket_id, event) pairs in one round trip."""
        await self._many(_INSERT, [_params(tid, e) for tid, e in items])

    async def for_ticket(self, ticket_id: int) -> list[EventRecord]:
        """The ticket's timeline, oldest first."""
        rows = await self._all(
            "SELECT id, ticket_id, at, actor_id, actor_key, action, from_state, to_state, note, "
            "data FROM ticket_events WHERE ticket_id = ? ORDER BY id",
            (ticket_id,),
        )
        return [
            EventRecord(r["id"], r["ticket_id"], req(r["at"]), r["actor_id"], r["actor_key"],
                        r["action"], r["from_state"], r["to_state"], r["note"],
                        json.loads(r["data"]))
            for r in rows
        ]
