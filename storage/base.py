"""Shared plumbing for repositories: one connection, a few one-hop helpers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from storage.connection import Connection, Params, Row
from tickets.clock import Clock


class Repository:
    """A repository runs its SQL on the unit of work's connection (never commits).

    ``self._sql`` is the connection's dialect: the few expressions SQLite and PostgreSQL
    spell differently (storage/dialect.py)."""

    def __init__(self, conn: Connection, clock: Clock) -> None:
        self._conn = conn
        self._sql = conn.dialect
        self._clock = clock

    def _now(self, now: datetime | None) -> datetime:
        return now if now is not None else self._clock.now()

    async def _all(self, sql: str, params: Params = ()) -> list[Row]:
        # One round trip on both backends (aiosqlite's execute_fetchall, asyncpg's fetch).
        return await self._conn.fetch(sql, params)

    async def _one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self._conn.fetch(sql, params)
        return rows[0] if rows else None

    async def _scalar(self, sql: str, params: Params = ()) -> Any:
        row = await self._one(sql, params)
        return None if row is None else row[0]

    async def _exec(self, sql: str, params: Params = ()) -> int:
        """Run a statement; return the number of rows changed."""
        return await self._conn.execute(sql, params)

    async def _insert(self, sql: str, params: Params = (), returning: str = "id") -> Any:
        """Run an INSERT (``… ON CONFLICT DO NOTHING`` allowed) with ``RETURNING
        <returning>`` appended; return that value, or None when nothing was inserted.
        Tables without an ``id`` column pass ``returning="1"`` (inserted or not)."""
        row = await self._one(f"{sql} RETURNING {returning}", params)
        return None if row is None else row[0]

    async def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)
