"""Durability for the bot's runtime: inbox of raw updates, idempotency keys, admin
schedules, fired job occurrences, pending "is this a report?" prompts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from storage.base import Repository
from storage.timefmt import from_db, req, to_db


@dataclass(frozen=True, slots=True)
class InboxUpdate:
    update_id: int
    payload: str  # the raw Update JSON
    received_at: datetime
    processed_at: datetime | None


class InboxRepository(Repository):
    async def add_batch(self, updates: list[tuple[int, str]], now: datetime | None = None) -> int:
        """Persist a getUpdates batch (update_id, payload JSON) before confirming it to
        Telegram. Already-stored ids are ignored. Returns how many were new."""
        before = self._conn.total_changes
        at = to_db(self._now(now))
        await self._many(
            "INSERT OR IGNORE INTO inbox (update_id, payload, received_at) VALUES (?, ?, ?)",
            [(uid, payload, at) for uid, payload in updates])
        return self._conn.total_changes - before

    async def mark_processed(self, update_id: int, now: datetime | None = None) -> None:
        """Call in the same transaction as the update's effects."""
        await self._exec(
            "UPDATE inbox SET processed_at = ? WHERE update_id = ? AND processed_at IS NULL",
            (to_db(self._now(now)), update_id))

    async def is_processed(self, update_id: int) -> bool:
        """True when the update's handling already committed (skip a redelivery)."""
        return bool(await self._scalar(
            "SELECT processed_at IS NOT NULL FROM inbox WHERE update_id = ?", (update_id,)))

    async def mark_failed(self, update_id: int, error: str) -> None:
        """Handling failed: keep it pending for a replay, and count the attempt."""
        await self._exec(
            "UPDATE inbox SET attempts = attempts + 1, last_error = ? WHERE update_id = ?",
            (error[:500], update_id))

    async def failed_attempts(self) -> int:
        """Handling attempts that failed and wait for a replay (monitoring, tests)."""
        return int(await self._scalar(
            "SELECT coalesce(sum(attempts), 0) FROM inbox WHERE processed_at IS NULL") or 0)

    async def pending(self, limit: int = 1000, max_attempts: int = 5) -> list[InboxUpdate]:
        """Stored but unprocessed updates, in update order (replay these at start).
        Updates whose handling already failed ``max_attempts`` times are left alone."""
        rows = await self._all(
            "SELECT update_id, payload, received_at, processed_at FROM inbox "
            "WHERE processed_at IS NULL AND attempts < ? ORDER BY update_id LIMIT ?",
            (max_attempts, limit))
        return [InboxUpdate(r[0], r[1], req(r[2]), from_db(r[3])) for r in rows]

    async def max_update_id(self) -> int | None:
        """The highest stored update id (the next getUpdates offset is this + 1)."""
        return await self._scalar("SELECT max(update_id) FROM inbox")

    async def prune(self, processed_before: datetime) -> int:
        """Drop processed updates older than ``processed_before`` (keeps the max id row)."""
        return await self._exec(
            "DELETE FROM inbox WHERE processed_at IS NOT NULL AND processed_at < ? "
            "AND update_id < (SELECT max(update_id) FROM inbox)", (to_db(processed_before),))


class IdempotencyRepository(Repository):
    async def claim(self, key: str, now: datetime | None = None) -> bool:
        """True the first time ``key`` is claimed, False ever after. Claim inside the
        transaction doing the work, so a rolled-back attempt does not burn the key."""
        rid = await self._insert(
            "INSERT OR IGNORE INTO idempotency (key, claimed_at) VALUES (?, ?)",
            (key, to_db(self._now(now))))
        return rid is not None

    async def prune(self, before: datetime) -> int:
        return await self._exec("DELETE FROM idempotency WHERE claimed_at < ?", (to_db(before),))


@dataclass(frozen=True, slots=True)
class Schedule:
    id: int
    expression: str
    text: str
    grids: tuple[str, ...]
    created_by: int | None
    created_at: datetime
    active: bool


class ScheduleRepository(Repository):
    async def add(self, expression: str, text: str, grids: tuple[str, ...] = (),
                  created_by: int | None = None, now: datetime | None = None) -> int:
        """An admin-added broadcast; returns its id."""
        rid = await self._insert(
            "INSERT INTO schedules (expression, text, grids, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (expression, text, json.dumps(list(grids), ensure_ascii=False), created_by,
             to_db(self._now(now))))
        assert rid is not None
        return rid

    async def deactivate(self, schedule_id: int) -> bool:
        return await self._exec(
            "UPDATE schedules SET active = 0 WHERE id = ? AND active = 1", (schedule_id,)) == 1

    async def active(self) -> list[Schedule]:
        rows = await self._all(
            "SELECT id, expression, text, grids, created_by, created_at, active FROM schedules "
            "WHERE active = 1 ORDER BY id")
        return [Schedule(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], req(r[5]), bool(r[6]))
                for r in rows]


class JobRunRepository(Repository):
    async def claim(self, job_key: str, due_at: datetime, now: datetime | None = None) -> bool:
        """Record that the occurrence (job_key, due_at) fired. False when it already did
        (a restart must not repeat it)."""
        rid = await self._insert(
            "INSERT OR IGNORE INTO job_runs (job_key, due_at, fired_at) VALUES (?, ?, ?)",
            (job_key, to_db(due_at), to_db(self._now(now))))
        return rid is not None

    async def last_due(self, job_key: str) -> datetime | None:
        """The latest fired occurrence of a job (to find missed ones after downtime)."""
        return from_db(await self._scalar(
            "SELECT max(due_at) FROM job_runs WHERE job_key = ?", (job_key,)))


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


_PROMPT_COLS = (
    "id, chat_id, message_id, author_id, text, parse_json, created_at, expires_at, "
    "answered_at, answer"
)


def _prompt(r: object) -> Prompt:
    return Prompt(r[0], r[1], r[2], r[3], r[4], r[5], req(r[6]), req(r[7]),  # type: ignore[index]
                  from_db(r[8]), r[9])  # type: ignore[index]


class PromptRepository(Repository):
    async def add(self, *, chat_id: int, message_id: int, author_id: int, text: str,
                  parse_json: str, expires_at: datetime, now: datetime | None = None
                  ) -> int | None:
        """Ask "is this a report?" once per message; None when already asked."""
        return await self._insert(
            "INSERT OR IGNORE INTO prompts (chat_id, message_id, author_id, text, parse_json, "
            "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (chat_id, message_id, author_id, text, parse_json, to_db(self._now(now)),
             to_db(expires_at)))

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
