"""Pending "is this a report?" questions, asked once per message and answered once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.base import Repository
from storage.timefmt import from_db, req, to_db


@dataclass(frozen=True, slots=True)
class Prompt:
    id: int
    chat_id: int
    message_id: int
    author_id: int
    text: str
    parse_json: str
    created_at: datetime
    expires_at: datetime
    answered_at: datetime | None
    answer: str | None
    thread_id: int | None = None  # the forum topic the message was written in


_PROMPT_COLS = (
    "id, chat_id, message_id, author_id, text, parse_json, created_at, expires_at, "
    "answered_at, answer, thread_id"
)


def _prompt(r: object) -> Prompt:
    return Prompt(r[0], r[1], r[2], r[3], r[4], r[5], req(r[6]), req(r[7]),  # type: ignore[index]
                  from_db(r[8]), r[9], r[10])  # type: ignore[index]


class PromptRepository(Repository):
    async def add(self, *, chat_id: int, message_id: int, author_id: int, text: str,
                  parse_json: str, expires_at: datetime, now: datetime | None = None,
                  thread_id: int | None = None) -> int | None:
        """Ask "is this a report?" once per message; None when already asked."""
        return await self._insert(
            "INSERT INTO prompts (chat_id, message_id, author_id, text, parse_json, "
            "created_at, expires_at, thread_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (chat_id, message_id, author_id, text, parse_json, to_db(self._now(now)),
             to_db(expires_at), thread_id))

    async def get(self, prompt_id: int) -> Prompt | None:
        row = await self._one(f"SELECT {_PROMPT_COLS} FROM prompts WHERE id = ?", (prompt_id,))
        return _prompt(row) if row else None

    async def answer(self, prompt_id: int, answer: str, now: datetime | None = None) -> bool:
        """Record the answer; False when already answered or expired."""
        at = to_db(self._now(now))
        return await self._exec(
            "UPDATE prompts SET answered_at = ?, answer = ? WHERE id = ? "
            "AND answered_at IS NULL AND expires_at > ?", (at, answer, prompt_id, at)) == 1

    async def expired(self, now: datetime | None = None) -> list[Prompt]:
        """Unanswered prompts past their expiry (to clean up the question messages)."""
        rows = await self._all(
            f"SELECT {_PROMPT_COLS} FROM prompts WHERE answered_at IS NULL AND expires_at <= ? "
            "ORDER BY expires_at", (to_db(self._now(now)),))
        return [_prompt(r) for r in rows]
