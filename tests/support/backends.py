"""The two storage backends the storage, services and end-to-end tests run against.

A test that asks for the ``backend`` fixture (directly or through ``db_target``,
``db_path`` or a ``db`` fixture) is collected twice, ``[sqlite]`` and ``[postgres]``
(``tests/conftest.py``'s ``pytest_generate_tests``). A test about SQLite alone (file
corruption, WAL, PRAGMAs, a foreign file) says so with ``@sqlite_only("why")`` and is
collected once, ``[sqlite]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sqlite3
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest

if TYPE_CHECKING:
    from storage import Database

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


def is_postgres(target: str) -> bool:
    """Whether a database target is a PostgreSQL URL (else a SQLite file path)."""
    return target.startswith(("postgresql://", "postgres://"))


async def sql(db: Database, query: str, *params: object) -> list[tuple[Any, ...]]:
    """Run one raw statement on ``db``'s database outside GridBot's connections (a second
    client, as an administrator or an attacker would) and return its rows. ``?`` marks
    parameters on both backends."""
    if db.backend == SQLITE:
        with contextlib.closing(sqlite3.connect(db.target)) as conn, conn:
            return [tuple(row) for row in conn.execute(query, params)]
    import asyncpg

    numbered = iter(range(1, query.count("?") + 1))
    text = re.sub(r"\?", lambda _m: f"${next(numbered)}", query)
    conn = await asyncpg.connect(db.target, server_settings={"search_path": db.schema or "public"})
    try:
        return [tuple(row) for row in await conn.fetch(text, *params)]
    finally:
        await conn.close()


# --- A database for one test outside the backend fixture (pg-storage's hook): a SQLite file in
# tmp_path, or with GRIDBOT_TEST_DB=postgresql://… a fresh database on that server.

_made: dict[tuple[str, str], str] = {}


def postgres_server() -> str | None:
    """The PostgreSQL server URL the tests run against, or None for SQLite."""
    url = os.environ.get("GRIDBOT_TEST_DB", "").strip()
    return url if url.startswith(("postgresql://", "postgres://")) else None


def database_target(tmp_path: Path, name: str = "gridbot.db") -> str:
    """The target to pass to ``open_database`` for this test (same arguments, same
    database: a test that reopens its database gets it back)."""
    server = postgres_server()
    if server is None:
        return str(tmp_path / name)
    key = (str(tmp_path), name)
    if key not in _made:
        prefix = os.environ.get("GRIDBOT_TEST_DB_PREFIX", "gridbot_test")
        dbname = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with ThreadPoolExecutor(1) as pool:  # its own event loop: callers may be async
            pool.submit(asyncio.run, _create(server, dbname)).result()
        _made[key] = urlunsplit(urlsplit(server)._replace(path="/" + dbname))
    return _made[key]


async def _create(server: str, dbname: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f'CREATE DATABASE "{dbname}" TEMPLATE template0')
    finally:
        await conn.close()
