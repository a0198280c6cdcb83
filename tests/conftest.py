"""Shared fixtures: a community, a fake clock, the local Bot API server, the database the
test runs on (SQLite file or PostgreSQL database, see tests/support/backends.py) and a
running bot."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from community import CommunityConfig
from localapi import LocalBotApi
from localapi.testing import running_server
from runtime.app import GridBot
from tests.support import pg
from tests.support.backends import SQLITE, SQLITE_ONLY, backends_for
from tests.support.e2e import (
    GROUP_1,
    GROUP_2,
    POLICE,
    RESIDENT,
    RESIDENT_2,
    RESIDENT_3,
    SUPERVISOR,
    TUESDAY_MORNING,
    WORKER_1,
    WORKER_2,
    example_community,
    fast_options,
)
from tickets.clock import FakeClock


@pytest.fixture
def community() -> CommunityConfig:
    return example_community()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY_MORNING)


@pytest.fixture
async def server() -> AsyncIterator[LocalBotApi]:
    async with running_server() as api:
        # Staff opened their private chat with the bot before the test began; residents did
        # not, so private sends to them answer 403 as on Telegram (strict_private).
        api.user(WORKER_1, "王芳", username="wangfang_grid", started=True)
        api.user(WORKER_2, "李强", username="liqiang_grid", started=True)
        api.user(SUPERVISOR, "张书记", username="zhang_shuji", started=True)
        api.user(POLICE, "刘警官", started=True)
        api.user(RESIDENT, "张阿姨")
        api.user(RESIDENT_2, "老李")
        api.user(RESIDENT_3, "小陈", username="xiaochen")
        members = [WORKER_1, WORKER_2, SUPERVISOR, POLICE, RESIDENT, RESIDENT_2, RESIDENT_3]
        api.group(GROUP_1, "阳光花园一网格群", admins=[SUPERVISOR], members=members)
        api.group(GROUP_2, "翠苑二网格群", admins=[SUPERVISOR], members=members)
        yield api


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{SQLITE_ONLY}(reason): the test is about SQLite itself; no [postgres] run")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses the database (the ``backend`` fixture, usually through
    ``db_target``/``db_path``/``db``) runs once per backend: ids ``[sqlite]``, ``[postgres]``."""
    if "backend" in metafunc.fixturenames:
        marks = list(metafunc.definition.iter_markers())
        metafunc.parametrize("backend", backends_for(marks), indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """"sqlite" or "postgres" (parametrised by ``pytest_generate_tests``)."""
    return str(request.param)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PgServer]:
    """The run's own PostgreSQL (one per xdist worker), started on first use, stopped at the
    end of the session. If it cannot start, every test that needs it fails with the reason
    and what to install (started once: pytest keeps a session fixture's error); never skips."""
    try:
        server = pg.start()
    except pg.PgUnavailable as exc:
        pytest.fail(f"cannot start the tests' PostgreSQL: {exc}", pytrace=False)
    try:
        pg.prepare_template(server)
        yield server
    finally:
        server.stop()


@pytest.fixture
def db_target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty GridBot database for the test: a SQLite file path, or the URL of a new
    PostgreSQL database (already migrated: a copy of the session's template)."""
    if backend == SQLITE:
        yield str(tmp_path / "gridbot.db")
        return
    server: pg.PgServer = request.getfixturevalue("pg_server")
    name = server.new_database()
    yield server.url(name)
    server.release(name)


@pytest.fixture
def db_targets(backend: str, tmp_path: Path,
               request: pytest.FixtureRequest) -> Iterator[Callable[[], str]]:
    """``db_targets()`` → one more fresh database on the test's backend (for tests that need
    a second community or a second copy); all removed at the end."""
    made: list[str] = []
    count = itertools.count(2)  # db_target is the first
    server: pg.PgServer | None = None
    if backend != SQLITE:
        server = request.getfixturevalue("pg_server")

    def make() -> str:
        if server is None:
            return str(tmp_path / f"gridbot-{next(count)}.db")
        made.append(server.new_database())
        return server.url(made[-1])
    yield make
    for name in made:
        assert server is not None
        server.release(name)


@pytest.fixture
def db_path(db_target: str) -> str:
    """The bot's ``--db``: a SQLite path or a PostgreSQL URL (the name predates PostgreSQL)."""
    return db_target


@pytest.fixture
async def gridbot(
    server: LocalBotApi, community: CommunityConfig, clock: FakeClock, db_path: str
) -> AsyncIterator[GridBot]:
    bot = GridBot(community, server.token, db_path, clock=clock, options=fast_options(server))
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()
