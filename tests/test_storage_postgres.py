"""Storage on PostgreSQL: one schema per community, the version table and its refusals,
migrating once when processes start together, writes serialised across processes by the
community's advisory lock, connection failures. On the test run's own PostgreSQL
(tests/support/pg.py); the generic storage tests run on it too ([postgres])."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest

from storage import (
    LATEST_VERSION,
    DatabaseUnavailable,
    NotAGridbotDatabase,
    SchemaTooNew,
    open_database,
)
from tests.support.pg import PgServer
from tests.support.tickets import T0
from tickets.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def url(pg_server: PgServer) -> Iterator[str]:
    name = pg_server.new_database(template=None)  # empty: these tests create the schema
    yield pg_server.url(name)
    pg_server.drop_database(name)


async def sql(url: str, query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def lock_waiter(url: str) -> None:
    """Return once a session of this database waits for an advisory lock."""
    for _ in range(3000):
        if await sql(url, "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT "
                          "granted AND database = (SELECT oid FROM pg_database "
                          "WHERE datname = current_database())"):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("nobody waited for the community's lock")


async def test_a_community_lives_in_its_schema_with_its_version(url: str,
                                                               clock: FakeClock) -> None:
    db = await open_database(url, clock=clock, schema="xingfuli")
    try:
        assert (db.backend, db.schema, db.schema_version) == ("postgres", "xingfuli",
                                                              LATEST_VERSION)
        assert db.target == url
        async with db.transaction() as uow:
            assert await uow.idempotency.claim("k")
    finally:
        await db.close()
    rows = await sql(url, "SELECT application, version FROM xingfuli.gridbot_schema")
    assert [tuple(r) for r in rows] == [("gridbot", LATEST_VERSION)]
    assert await sql(url, "SELECT key FROM xingfuli.idempotency") == [("k",)]


async def test_two_communities_share_a_database_but_not_their_rows(url: str,
                                                                  clock: FakeClock) -> None:
    a = await open_database(url, clock=clock, schema="community_a")
    b = await open_database(url, clock=clock, schema="community_b")
    try:
        async with a.transaction() as uow:
            assert await uow.idempotency.claim("same key")
        async with b.transaction() as uow:
            assert await uow.idempotency.claim("same key")
        async with a.read() as r:
            assert await r.tickets.get(1) is None
    finally:
        await a.close()
        await b.close()


async def test_a_foreign_or_newer_schema_is_refused_untouched(url: str,
                                                             clock: FakeClock) -> None:
    await sql(url, "CREATE SCHEMA other")
    await sql(url, "CREATE TABLE other.things (x int)")
    with pytest.raises(NotAGridbotDatabase, match="refusing"):
        await open_database(url, clock=clock, schema="other")
    db = await open_database(url, clock=clock, schema="newer")
    await db.close()
    await sql(url, "UPDATE newer.gridbot_schema SET version = 999")
    with pytest.raises(SchemaTooNew, match="999"):
        await open_database(url, clock=clock, schema="newer")
    assert await sql(url, "SELECT version FROM newer.gridbot_schema") == [(999,)]


async def test_processes_starting_together_migrate_once(url: str, clock: FakeClock) -> None:
    dbs = await asyncio.gather(*(open_database(url, clock=clock) for _ in range(3)))
    try:
        assert {db.schema_version for db in dbs} == {LATEST_VERSION}
        assert await sql(url, "SELECT count(*) FROM gridbot.gridbot_schema") == [(1,)]
    finally:
        for db in dbs:
            await db.close()


async def test_writes_of_one_community_wait_for_each_other_across_processes(
        url: str, clock: FakeClock) -> None:
    """Two Database objects stand for two processes: the second's write transaction
    waits on the community's advisory lock until the first commits."""
    first = await open_database(url, clock=clock)
    second = await open_database(url, clock=clock)
    order: list[str] = []

    async def later_write() -> None:
        async with second.transaction() as uow:
            order.append("second")
            await uow.idempotency.claim("b")

    try:
        async with first.transaction() as uow:
            await uow.idempotency.claim("a")
            task = asyncio.create_task(later_write())
            await lock_waiter(url)
            order.append("first")
        await task
        assert order == ["first", "second"]
        assert await sql(url, "SELECT key FROM gridbot.idempotency ORDER BY key") == [
            ("a",), ("b",)]
    finally:
        await first.close()
        await second.close()


async def test_an_unreachable_server_is_one_clear_error(clock: FakeClock) -> None:
    with pytest.raises(DatabaseUnavailable, match="cannot connect"):
        await open_database("postgresql://nobody:pw@127.0.0.1:1/x", clock=clock)


async def test_sums_come_back_as_numbers_like_on_sqlite(url: str, clock: FakeClock) -> None:
    db = await open_database(url, clock=clock)
    try:
        async with db.transaction() as uow:
            await uow.inbox.add_batch([(1, "{}"), (2, "{}")])
            await uow.inbox.mark_failed(1, "boom")
            assert await uow.inbox.failed_attempts() == 1
            total = await uow.inbox._scalar("SELECT sum(update_id) FROM inbox")
            mean = await uow.inbox._scalar("SELECT avg(update_id) FROM inbox")
        assert total == 3 and isinstance(total, int)
        assert mean == 1.5 and isinstance(mean, float)
    finally:
        await db.close()


async def test_a_write_cancelled_while_it_waits_for_the_lock_leaves_nothing_open(
        url: str, clock: FakeClock) -> None:
    first = await open_database(url, clock=clock)
    second = await open_database(url, clock=clock)

    async def blocked_write() -> None:
        async with second.transaction() as uow:
            await uow.idempotency.claim("never")

    try:
        async with first.transaction() as uow:
            await uow.idempotency.claim("a")
            task = asyncio.create_task(blocked_write())
            await lock_waiter(url)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        async with second.transaction() as uow:
            assert await uow.idempotency.claim("b")
        assert await sql(url, "SELECT key FROM gridbot.idempotency ORDER BY key") == [
            ("a",), ("b",)]
    finally:
        await first.close()
        await second.close()
