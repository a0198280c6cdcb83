"""The two storage backends the storage, services and end-to-end tests run against.

A test that asks for the ``backend`` fixture (directly or through ``db_target``,
``db_path`` or a ``db`` fixture) is collected twice, ``[sqlite]`` and ``[postgres]``
(``tests/conftest.py``'s ``pytest_generate_tests``). A test about SQLite alone (file
corruption, WAL, PRAGMAs, a foreign file) says so with ``@sqlite_only("why")`` and is
collected once, ``[sqlite]``. The databases come from ``tests/conftest.py``'s ``db_target``
(SQLite file) or the run's own PostgreSQL (``tests/support/pg.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest

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


async def rows(db: Database, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """A test's look at the stored rows, on either backend (``?`` placeholders)."""
    async with db.read() as uow:
        return [tuple(r) for r in await uow.tickets._all(sql, params)]


async def execute(db: Database, sql: str, *params: object) -> int:
    """Run one statement in its own write transaction (for tests of what is refused)."""
    async with db.transaction() as uow:
        return await uow.tickets._exec(sql, params)
