"""The inbox of raw updates (stored before Telegram is told they arrived) and the
idempotency keys that make handling an update twice harmless."""

from __future__ import annotations

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
        at = to_db(self._now(now))
        added = 0
        for start in range(0, len(updates), 500):  # one statement per 500 updates
            part = updates[start:start + 500]
            rows = await self._all(
                "INSERT INTO inbox (update_id, payload, received_at) VALUES "
                + ", ".join("(?, ?, ?)" for _ in part)
                + " ON CONFLICT DO NOTHING RETURNING update_id",
                [v for uid, payload in part for v in (uid, payload, at)])
            added += len(rows)
        return added

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
            "INSERT INTO idempotency (key, claimed_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (key, to_db(self._now(now))), returning="1")
        return rid is not None

    async def prune(self, before: datetime) -> int:
        return await self._exec("DELETE FROM idempotency WHERE claimed_at < ?", (to_db(before),))
