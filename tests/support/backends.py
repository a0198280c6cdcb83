"""The two storage backends the storage, services and end-to-end tests run against.

A test that asks for the ``backend`` fixture (directly or through ``db_target``,
``db_path`` or a ``db`` fixture) is collected twice, ``[sqlite]`` and ``[postgres]``
(``tests/conftest.py``'s ``pytest_generate_tests``). A test about SQLite alone (file
corruption, WAL, PRAGMAs, a foreign file) says so with ``@sqlite_only("why")`` and is
collected once, ``[sqlite]``. The databases come from ``tests/conftest.py``'s ``db_target``
(SQLite file) or the run's own PostgreSQL (``tests/support/pg.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from storage import Database
from storage.connection import to_dollar
from storage.database import is_postgres_url
from storage.pg_database import DEFAULT_SCHEMA

SQLITE, POSTGRES = "sqlite", "postgres"
BACKENDS = (SQLITE, POSTGRES)
SQLITE_ONLY = "sqlite_only"

F = TypeVar("F", bound=Callable[..., Any])


def sqlite_only(reason: str) -> Callable[[F], F]:
    """Mark a test that is about SQLite itself: it runs on the SQLite backend only."""
    if not reason:
        raise ValueError("say why the test is about SQLite only")
    mark: Callable[[F], F] = getattr(pytest.mark, SQLITE_ONLY)(reason=reason)
    return mark


def backends_for(marks: list[pytest.Mark]) -> list[str]:
    """The backends a test with these marks runs on."""
    return [SQLITE] if any(m.name == SQLITE_ONLY for m in marks) else list(BACKENDS)


async def rows(db: Database, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """A test's look at the stored rows, on either backend (``?`` placeholders)."""
    async with db.read() as uow:
        return [tuple(r) for r in await uow.tickets._all(sql, params)]


async def execute(db: Database, sql: str, *params: object) -> int:
    """Run one statement in its own write transaction (for tests of what is refused)."""
    async with db.transaction() as uow:
        return await uow.tickets._exec(sql, params)


def query(target: str, sql: str, *params: object,
          schema: str = DEFAULT_SCHEMA) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` (``?`` placeholders) read from the database at ``target`` by a second,
    read-only client, synchronously: for the predicates of ``server.wait_for`` and other
    checks from outside the bot while it runs."""
    if not is_postgres_url(target):
        with contextlib.closing(sqlite3.connect(f"file:{target}?mode=ro", uri=True)) as conn:
            return [tuple(r) for r in conn.execute(sql, params)]
    text, _names = to_dollar(sql)
    with ThreadPoolExecutor(1) as pool:  # its own event loop: the caller's may be running
        return pool.submit(asyncio.run, _pg_query(target, schema, text, params)).result()


async def _pg_query(url: str, schema: str, sql: str,
                    params: tuple[object, ...]) -> list[tuple[Any, ...]]:
    import asyncpg

    conn = await asyncpg.connect(url, server_settings={"search_path": schema})
    try:
        return [tuple(r) for r in await conn.fetch(sql, *params)]
    finally:
        await conn.close()
