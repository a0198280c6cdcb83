"""A community on PostgreSQL: an asyncpg pool whose connections live in its schema.

Writes keep SQLite's model: ``transaction()`` takes ``pg_advisory_xact_lock`` on a key
derived from the community's schema right after BEGIN, so a community's write
transactions run one at a time across every process (the ticket rules were written for
``BEGIN IMMEDIATE``); within a process an ``asyncio.Lock`` queues them before they take a
pool connection. Reads are REPEATABLE READ READ ONLY snapshots on any free connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from storage import pg_schema, search_index
from storage.connection import PostgresConnection
from storage.database import Database, UnitOfWork
from storage.schema import DatabaseUnavailable
from storage.schema import printable as masked
from tickets.clock import Clock

DEFAULT_SCHEMA = "gridbot"
POOL_MIN, POOL_MAX = 1, 10
CONNECT_TIMEOUT = 10.0  # seconds to reach the server before DatabaseUnavailable


def _numeric(text: str) -> int | float:
    """numeric (sum()/avg() of integers) as SQLite returns it: int when integral-typed,
    float when it has a fraction part."""
    return float(text) if ("." in text or "e" in text.lower() or "N" in text) else int(text)


async def _init_connection(conn: Any) -> None:
    await conn.set_type_codec("numeric", schema="pg_catalog", encoder=str, decoder=_numeric,
                              format="text")


class PostgresDatabase(Database):
    backend = "postgres"

    def __init__(self, url: str, pool: Any, schema: str, clock: Clock, tz: ZoneInfo,
                 version: int) -> None:
        super().__init__(masked(url), clock, tz, version, schema)
        self._pool = pool
        self._begin = f"BEGIN; SELECT pg_advisory_xact_lock({pg_schema.lock_key(schema)})"
        self._write_lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """BEGIN + the community's advisory lock; COMMIT on a clean exit, ROLLBACK on any
        exception (which propagates). A cancelled caller leaves no open transaction: the
        pool resets (or discards) the connection it gets back."""
        async with self._write_lock, self._pool.acquire() as conn:
            await conn.execute(self._begin)  # one round trip: BEGIN and the lock
            try:
                yield UnitOfWork(PostgresConnection(conn), self.clock, self.timezone)
            except BaseException:
                with contextlib.suppress(Exception):
                    await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[UnitOfWork]:
        """A REPEATABLE READ READ ONLY snapshot on a pooled connection."""
        async with self._pool.acquire() as conn:
            tx = conn.transaction(isolation="repeatable_read", readonly=True)
            await tx.start()
            try:
                yield UnitOfWork(PostgresConnection(conn), self.clock, self.timezone)
            finally:
                with contextlib.suppress(Exception):
                    await tx.rollback()

    async def checkpoint(self) -> None:
        """Refresh the planner statistics of the community's tables (the server owns its
        WAL; after a bulk load fresh statistics are what matters)."""
        async with self._write_lock, self._pool.acquire() as conn:
            tables = await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = $1", self.schema)
            for row in tables:
                await conn.execute(f'ANALYZE "{self.schema}"."{row[0]}"')

    async def close(self) -> None:
        """Wait for the running write, then close the pool."""
        async with self._write_lock:
            await self._pool.close()


async def open_postgres(url: str, *, clock: Clock, timezone: str = "Asia/Shanghai",
                        target_version: int | None = None,
                        schema: str | None = None) -> PostgresDatabase:
    """Connect, create the community's schema if missing, migrate it, index pending texts."""
    schema = pg_schema.check_schema_name(schema or DEFAULT_SCHEMA)
    where = f"{masked(url)} (schema {schema})"
    try:
        pool = await asyncpg.create_pool(
            url, min_size=POOL_MIN, max_size=POOL_MAX, init=_init_connection,
            server_settings={"search_path": schema}, timeout=CONNECT_TIMEOUT)
    except (TimeoutError, OSError, socket.gaierror, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DatabaseUnavailable(masked(url), f"{type(exc).__name__}: {exc}") from exc
    try:
        async with pool.acquire() as conn:
            version = await pg_schema.migrate(conn, schema, where, target_version)
        db = PostgresDatabase(url, pool, schema, clock, ZoneInfo(timezone), version)
        while True:  # texts not indexed yet (rows written by a tool that bypassed us)
            async with db.transaction() as uow:
                if not await search_index.flush(uow._conn, limit=5000):
                    break
    except BaseException:
        await pool.close()
        raise
    return db
