"""Voice messages (and video notes, audio files) waiting for a worker to listen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.base import Repository
from storage.connection import Row
from storage.timefmt import from_db, req, to_db


@dataclass(frozen=True, slots=True)
class Voice:
    id: int
    chat_id: int
    message_id: int
    thread_id: int | None
    user_id: int
    user_name: str
    kind: str
    duration: int | None
    grid: str | None
    at: datetime
    state: str
    sent_to: str | None
    sent_at: datetime | None
    category: str | None
    place_by: int | None
    ticket_id: int | None


_COLS = ("id, chat_id, message_id, thread_id, user_id, user_name, kind, duration, grid, at, "
         "state, sent_to, sent_at, category, place_by, ticket_id")


def _voice(r: Row) -> Voice:
    return Voice(r["id"], r["chat_id"], r["message_id"], r["thread_id"], r["user_id"],
                 r["user_name"], r["kind"], r["duration"], r["grid"], req(r["at"]), r["state"],
                 r["sent_to"], from_db(r["sent_at"]), r["category"], r["place_by"],
                 r["ticket_id"])


class VoiceRepository(Repository):
    async def add(self, *, chat_id: int, message_id: int, thread_id: int | None, user_id: int,
                  user_name: str, kind: str, duration: int | None, grid: str | None,
                  now: datetime | None = None) -> bool:
        """Keep a voice for the grid's next batch; False when already kept (a replay)."""
        rid = await self._insert(
            "INSERT INTO voices (chat_id, message_id, thread_id, user_id, user_name, "
            "kind, duration, grid, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (chat_id, message_id, thread_id, user_id, user_name, kind, duration, grid,
             to_db(self._now(now))))
        return rid is not None

    async def get(self, voice_id: int) -> Voice | None:
        row = await self._one(f"SELECT {_COLS} FROM voices WHERE id = ?", (voice_id,))
        return _voice(row) if row else None

    async def grids_due(self, waited_since: datetime) -> list[str | None]:
        """Grids whose oldest waiting voice arrived at or before ``waited_since``."""
        rows = await self._all(
            "SELECT grid FROM voices WHERE state = 'waiting' GROUP BY grid "
            "HAVING min(at) <= ?", (to_db(waited_since),))
        return [r[0] for r in rows]

    async def waiting_in(self, grid: str | None) -> list[Voice]:
        rows = await self._all(
            f"SELECT {_COLS} FROM voices WHERE state = 'waiting' AND grid IS NOT DISTINCT FROM ? ORDER BY id",
            (grid,))
        return [_voice(r) for r in rows]

    async def skip_followed_by_text(self, grid: str | None) -> int:
        """Waiting voices whose sender filed a report (or joined one) in the same chat
        after the voice: they said it in writing, nobody needs to listen."""
        return await self._exec(
            "UPDATE voices SET state = 'skipped' WHERE state = 'waiting' AND grid IS NOT DISTINCT FROM ? "
            "AND ("
            "EXISTS (SELECT 1 FROM tickets t WHERE t.reporter_id = voices.user_id "
            "AND t.source_chat_id = voices.chat_id AND t.created_at >= voices.at) OR "
            "EXISTS (SELECT 1 FROM supporters s WHERE s.user_id = voices.user_id "
            "AND s.source_chat_id = voices.chat_id AND s.joined_at >= voices.at))", (grid,))

    async def mark_sent(self, voice_id: int, to: str, now: datetime | None = None) -> bool:
        return await self._exec(
            "UPDATE voices SET state = 'sent', sent_to = ?, sent_at = ? "
            "WHERE id = ? AND state = 'waiting'", (to, to_db(self._now(now)), voice_id)) == 1

    async def dismiss(self, voice_id: int) -> bool:
        return await self._exec(
            "UPDATE voices SET state = 'dismissed' WHERE id = ? AND state IN ('sent', "
            "'awaiting_place')", (voice_id,)) == 1

    async def ask_place(self, voice_id: int, category: str, worker_id: int) -> bool:
        """The worker picked the category; their next private text is the place."""
        return await self._exec(
            "UPDATE voices SET state = 'awaiting_place', category = ?, place_by = ? "
            "WHERE id = ? AND state IN ('sent', 'awaiting_place')",
            (category, worker_id, voice_id)) == 1

    async def awaiting_place_of(self, worker_id: int) -> Voice | None:
        row = await self._one(
            f"SELECT {_COLS} FROM voices WHERE state = 'awaiting_place' AND place_by = ? "
            "ORDER BY id DESC LIMIT 1", (worker_id,))
        return _voice(row) if row else None

    async def registered(self, voice_id: int, ticket_id: int) -> None:
        await self._exec(
            "UPDATE voices SET state = 'registered', ticket_id = ?, place_by = NULL "
            "WHERE id = ?", (ticket_id, voice_id))
