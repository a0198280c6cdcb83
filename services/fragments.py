"""Use cases of split reports: a resident's place said (or pinned) on its own waits as a
fragment for their report; a report takes the fragments that fit it.

What fits is decided by ``tickets.followups``; each function here is one read or one
transaction. Fragments live in the database, so a restart in the middle of a split
report loses nothing.
"""

from __future__ import annotations

from datetime import datetime

from storage import Database
from storage.conversations_repo import Fragment
from tickets.model import Ticket


async def fragments_and_recent_tickets(
    db: Database, chat_id: int, user_id: int, *, since: datetime,
    recent_since: datetime | None,
) -> tuple[list[Fragment], list[Ticket]]:
    """In one read: the person's waiting fragments in this chat since ``since``, and —
    unless ``recent_since`` is None — their open tickets from this chat filed since
    ``recent_since``."""
    recent: list[Ticket] = []
    async with db.read() as uow:
        waiting = await uow.conversations.pending_fragments(chat_id, user_id, since)
        if recent_since is not None:
            for ticket_id in await uow.conversations.recent_open_tickets(
                    chat_id, user_id, recent_since):
                found = await uow.tickets.get(ticket_id)
                if found is not None:
                    recent.append(found)
    return waiting, recent


async def use_fragments(db: Database, fragment_ids: list[int], ticket_id: int) -> None:
    """The fragments became part of ``ticket_id``'s report (each is used once)."""
    async with db.transaction() as uow:
        await uow.conversations.use_fragments(fragment_ids, ticket_id)


async def keep_fragment(db: Database, *, chat_id: int, user_id: int, message_id: int,
                        text: str, location: dict[str, str | None], now: datetime,
                        kind: str = "text", forget_before: datetime) -> None:
    """Keep a place for the person's next report, forgetting fragments older than
    ``forget_before`` (they can no longer join one) in the same transaction."""
    async with db.transaction() as uow:
        await uow.conversations.prune_fragments(forget_before)
        await uow.conversations.add_fragment(
            chat_id=chat_id, user_id=user_id, message_id=message_id, text=text,
            location=location, now=now, kind=kind)
