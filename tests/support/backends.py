"""Which database the storage-backed fixtures open: a SQLite file in the test's tmp_path
(the default), or, with ``GRIDBOT_TEST_DB=postgresql://…`` set, a fresh PostgreSQL
database on that server for each (tmp_path, name) pair (named
``<GRIDBOT_TEST_DB_PREFIX or gridbot_test>_<random>``; the server's owner drops them).

The one place fixtures ask for a target, so a harness can build on it."""

from __future__ import annotations

import asyncio
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

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
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f'CREATE DATABASE "{dbname}" TEMPLATE template0')
    finally:
        await conn.close()
