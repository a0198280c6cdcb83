"""Supporters (附议), ratings and corrections: rows hanging off a ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.base import Repository
from storage.timefmt import req, to_db


@dataclass(frozen=True, slots=True)
class Supporter:
    id: int
    ticket_id: int
    user_id: int
    user_name: str
    source_chat_id: int
    source_message_id: int
    text: str
    parse_json: str
    joined_at: datetime
    via_ticket_id: int | None


_SUP_COLS = (
    "id, ticket_id, user_id, user_name, source_chat_id, source_message_id, text, parse_json, "
    "joined_at, via_ticket_id"
)


def _sup(r: object) -> Supporter:
    return Supporter(r["id"], r["ticket_id"], r["user_id"], r["user_name"],  # type: ignore[index]
                     r["source_chat_id"], r["source_message_id"], r["text"],  # type: ignore[index]
                     r["parse_json"], req(r["joined_at"]), r["via_ticket_id"])  # type: ignore[index]


# Moving supporters to another ticket skips a user who already supports it (one vote
# per user and ticket): the UNIQUE (ticket_id, user_id) row stays where it was.
_NOT_THERE = (" AND NOT EXISTS (SELECT 1 FROM supporters AS s2 WHERE s2.ticket_id = ? "
              "AND s2.user_id = supporters.user_id)")


class SupporterRepository(Repository):
    async def add(
        self, ticket_id: int, *, user_id: int, user_name: str, source_chat_id: int,
        source_message_id: int, text: str = "", parse_json: str = "{}",
        now: datetime | None = None, via_ticket_id: int | None = None,
    ) -> bool:
        """Record a supporter; False (nothing written) when this user already supports the
        ticket or this source message was already counted."""
        rid = await self._insert(
            "INSERT INTO supporters (ticket_id, user_id, user_name, source_chat_id, "
            "source_message_id, text, parse_json, joined_at, via_ticket_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (ticket_id, user_id, user_name, source_chat_id, source_message_id, text, parse_json,
             to_db(self._now(now)), via_ticket_id),
        )
        return rid is not None

    async def count(self, ticket_id: int) -> int:
        return int(await self._scalar(
            "SELECT count(*) FROM supporters WHERE ticket_id = ?", (ticket_id,)))

    async def for_ticket(self, ticket_id: int) -> list[Supporter]:
        """Supporters of a ticket in joining order."""
        rows = await self._all(
            f"SELECT {_SUP_COLS} FROM supporters WHERE ticket_id = ? ORDER BY id", (ticket_id,))
        return [_sup(r) for r in rows]

    async def by_source(self, chat_id: int, message_id: int) -> Supporter | None:
        """The supporter row created from this message (idempotent intake)."""
        row = await self._one(
            f"SELECT {_SUP_COLS} FROM supporters WHERE source_chat_id = ? "
            "AND source_message_id = ?", (chat_id, message_id))
        return _sup(row) if row else None

    async def get(self, ticket_id: int, user_id: int) -> Supporter | None:
        row = await self._one(
            f"SELECT {_SUP_COLS} FROM supporters WHERE ticket_id = ? AND user_id = ?",
            (ticket_id, user_id))
        return _sup(row) if row else None

    async def move(self, from_ticket: int, to_ticket: int) -> int:
        """Merge: move supporters to the master, remembering where they came from. A user
        already supporting the master stays on the duplicate (one vote per user)."""
        return await self._exec(
            "UPDATE supporters SET ticket_id = ?, via_ticket_id = ? WHERE ticket_id = ?" + _NOT_THERE,
            (to_ticket, from_ticket, from_ticket, to_ticket))

    async def move_back(self, master: int, ticket: int) -> int:
        """Split: supporters that came from ``ticket`` by merge go back to it; the row that
        stood for the ticket's own reporter is removed."""
        await self._exec(
            "DELETE FROM supporters WHERE ticket_id = ? AND via_ticket_id = ? AND "
            "(source_chat_id, source_message_id) = (SELECT source_chat_id, source_message_id "
            "FROM tickets WHERE id = ?)", (master, ticket, ticket))
        return await self._exec(
            "UPDATE supporters SET ticket_id = ?, via_ticket_id = NULL "
            "WHERE ticket_id = ? AND via_ticket_id = ?" + _NOT_THERE, (ticket, master, ticket, ticket))

    async def remove(self, supporter_id: int) -> None:
        await self._exec("DELETE FROM supporters WHERE id = ?", (supporter_id,))

    async def purge_names(self, closed_before: datetime) -> int:
        """Retention: mask supporters' names and texts on purged-age tickets."""
        return await self._exec(
            "UPDATE supporters SET user_name = substr(user_name, 1, 1) || '＊', "
            "text = '', parse_json = '{}' WHERE text != '' AND ticket_id IN (SELECT id FROM "
            "tickets WHERE state IN ('closed', 'cancelled', 'merged') AND closed_at < ?)",
            (to_db(closed_before),))


class RatingRepository(Repository):
    async def add(self, ticket_id: int, user_id: int, score: int, comment: str | None = None,
                  now: datetime | None = None) -> int:
        """Store one rating (a ticket may collect several across reopenings)."""
        rid = await self._insert(
            "INSERT INTO ratings (ticket_id, user_id, score, comment, at) VALUES (?, ?, ?, ?, ?)",
            (ticket_id, user_id, score, comment, to_db(self._now(now))))
        assert rid is not None
        return rid

    async def for_ticket(self, ticket_id: int) -> list[tuple[int, str | None, datetime]]:
        rows = await self._all(
            "SELECT score, comment, at FROM ratings WHERE ticket_id = ? ORDER BY id",
            (ticket_id,))
        return [(r[0], r[1], req(r[2])) for r in rows]


@dataclass(frozen=True, slots=True)
class Correction:
    id: int
    ticket_id: int | None
    text: str
    predicted_category: str
    parse_json: str
    note: str | None
    by_key: str | None
    at: datetime


class CorrectionRepository(Repository):
    async def add(self, *, ticket_id: int | None, text: str, predicted_category: str,
                  parse_json: str, note: str | None, by_key: str | None,
                  now: datetime | None = None) -> int:
        """A worker's "not a report" judgement, for the NLP team's training data."""
        rid = await self._insert(
            "INSERT INTO corrections (ticket_id, text, predicted_category, parse_json, note, "
            "by_key, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (ticket_id, text, predicted_category, parse_json, note, by_key,
             to_db(self._now(now))))
        assert rid is not None
        return rid

    async def since(self, when: datetime) -> list[Correction]:
        rows = await self._all(
            "SELECT id, ticket_id, text, predicted_category, parse_json, note, by_key, at "
            "FROM corrections WHERE at >= ? ORDER BY id", (to_db(when),))
        return [Correction(r[0], r[1], r[2], r[3], r[4], r[5], r[6], req(r[7])) for r in rows]
