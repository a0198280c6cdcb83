"""Shared plumbing for repositories: one connection, a few one-hop helpers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from tickets.clock import Clock


class Repository:
    """A repository runs its SQL on the unit of work's connection (never commits)."""

    def __init__(self, conn: aiosqlite.Connection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock

    def _now(self, now: datetime | None) -> datetime:
        return now if now is not None else self._clock.now()

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        # execute_fetchall is a single round trip to the connection thread.
        return list(await self._conn.execute_fetchall(sql, params))

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = await self._conn.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self._one(sql, params)
        return None if row is None else row[0]

    async def _exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; return the number of rows changed."""
        cur = await self._conn.execute(sql, params)
        return cur.rowcount

    async def _insert(self, sql: str, params: Sequence[Any] = ()) -> int | None:
        """Run an INSERT; return the new rowid (None when OR IGNORE/ON CONFLICT skipped it)."""
        before = self._conn.total_changes
        row = await self._conn.execute_insert(sql, params)
        if self._conn.total_changes == before or row is None:
            return None
        return int(row[0])

    async def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, list(rows))
