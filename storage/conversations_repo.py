"""Conversations: which ticket a message belongs to, split-report fragments, throttled
progress answers and links between a ticket and its follow-up."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from storage.base import Repository
from storage.timefmt import req, to_db

_TICKET_KEY = re.compile(r"^t(\d+):")


@dataclass(frozen=True, slots=True)
class Fragment:
    """Part of a report waiting for the rest: a place said on its own, or a pin."""

    id: int
    chat_id: int
    user_id: int
    message_id: int
    text: str
    location: dict[str, str | None]
    at: datetime
    kind: str = "text"  # "text" (a place said on its own) or "pin" (a location pin)


class ConversationRepository(Repository):
    async def ticket_for_message(self, chat_id: int, message_id: int) -> int | None:
        """The ticket a message is about: the ticket's card, any other bot message about
        it (附议 confirmation, rating request…), its reported message, or a supporter's
        message. None when the message belongs to no ticket."""
        row = await self._one(
            "SELECT id FROM tickets WHERE card_chat_id = ?1 AND card_message_id = ?2 "
            "UNION ALL SELECT id FROM tickets WHERE source_chat_id = ?1 "
            "AND source_message_id = ?2 "
            "UNION ALL SELECT ticket_id FROM supporters WHERE source_chat_id = ?1 "
            "AND source_message_id = ?2 LIMIT 1", (chat_id, message_id))
        if row is not None:
            return int(row[0])
        key = await self._scalar(
            "SELECT coalesce(dedupe_key, '') || '|' || coalesce(CAST(card_ticket_id AS TEXT), '') "
            "FROM outbox "
            "WHERE chat_id = ? AND telegram_message_id = ? ORDER BY id DESC LIMIT 1",
            (chat_id, message_id))
        if not key:
            return None
        dedupe, _, card = str(key).partition("|")
        if card:
            return int(card)
        match = _TICKET_KEY.match(dedupe)
        return int(match.group(1)) if match else None

    async def recent_open_tickets(self, chat_id: int, user_id: int, since: datetime
                                  ) -> list[int]:
        """Ids of the person's open tickets from this chat created since ``since``, newest
        first (a split report's first part)."""
        rows = await self._all(
            "SELECT id FROM tickets WHERE reporter_id = ? AND created_at >= ? "
            "AND source_chat_id = ? AND state IN ('new', 'assigned', 'accepted', 'in_progress') "
            "ORDER BY created_at DESC, id DESC LIMIT 3", (user_id, to_db(since), chat_id))
        return [int(r[0]) for r in rows]

    # -- fragments -------------------------------------------------------------------------

    async def add_fragment(self, *, chat_id: int, user_id: int, message_id: int, text: str,
                           location: dict[str, str | None], now: datetime | None = None,
                           kind: str = "text") -> bool:
        """Keep a fragment; False when this message was already kept (a replay)."""
        rid = await self._insert(
            "INSERT INTO fragments (chat_id, user_id, message_id, text, location, at, "
            "kind) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (chat_id, user_id, message_id, text, json.dumps(location, ensure_ascii=False),
             to_db(self._now(now)), kind))
        return rid is not None

    async def pending_fragments(self, chat_id: int, user_id: int, since: datetime
                                ) -> list[Fragment]:
        """The person's unused fragments in this chat since ``since``, oldest first."""
        rows = await self._all(
            "SELECT id, chat_id, user_id, message_id, text, location, at, kind FROM fragments "
            "WHERE chat_id = ? AND user_id = ? AND at >= ? AND used_by IS NULL ORDER BY id",
            (chat_id, user_id, to_db(since)))
        return [Fragment(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), req(r[6]), r[7])
                for r in rows]

    async def use_fragments(self, fragment_ids: list[int], ticket_id: int) -> None:
        if fragment_ids:
            marks = ", ".join("?" * len(fragment_ids))
            await self._exec(
                f"UPDATE fragments SET used_by = ? WHERE id IN ({marks}) AND used_by IS NULL",
                (ticket_id, *fragment_ids))

    async def prune_fragments(self, before: datetime) -> int:
        """Forget fragments older than ``before`` (they can no longer join a report)."""
        return await self._exec("DELETE FROM fragments WHERE at < ?", (to_db(before),))

    # -- progress answers ------------------------------------------------------------------

    async def claim_progress_answer(self, ticket_id: int, chat_id: int, *, not_since: datetime,
                                    now: datetime | None = None) -> bool:
        """True (and recorded) when no progress answer about the ticket went to the chat
        after ``not_since``; False when one did (stay quiet)."""
        at = to_db(self._now(now))
        changed = await self._exec(
            "INSERT INTO progress_answers (ticket_id, chat_id, answered_at) VALUES (?, ?, ?) "
            "ON CONFLICT (ticket_id, chat_id) DO UPDATE SET answered_at = excluded.answered_at "
            "WHERE progress_answers.answered_at < ?", (ticket_id, chat_id, at, to_db(not_since)))
        return changed > 0

    # -- links -----------------------------------------------------------------------------

    async def link(self, ticket_id: int, earlier_id: int, now: datetime | None = None) -> None:
        await self._exec(
            "INSERT INTO ticket_links (ticket_id, earlier_id, at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (ticket_id, earlier_id, to_db(self._now(now))))

    async def earlier_of(self, ticket_id: int) -> int | None:
        return await self._scalar(
            "SELECT earlier_id FROM ticket_links WHERE ticket_id = ? LIMIT 1", (ticket_id,))
