"""The console's ticket list in storage: each filter, the viewer's scope, keyset pages,
export chunks and the Chinese text search (kept in step at insert, edit and purge)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from storage import Database, open_database
from storage.console_repo import (
    SORTS,
    CursorError,
    Scope,
    TicketFilter,
    encode_cursor,
)
from storage.search_index import index_text, match_expression
from tests.support.console_data import T0, FakeViewer, add_tickets, hours, make_ticket
from tickets.clock import FakeClock
from tickets.model import Ticket, TicketState

EVERYONE = Scope.everyone()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0 + timedelta(days=1))


@pytest.fixture
async def db(db_target: str, clock: FakeClock) -> AsyncIterator[Database]:
    database = await open_database(db_target, clock=clock)
    yield database
    await database.close()


async def listed(db: Database, flt: TicketFilter, scope: Scope = EVERYONE,
                 sort: str = "new") -> list[str]:
    async with db.read() as r:
        page = await r.console.page(flt, scope, SORTS[sort], size=1000)
    return [t.number or "" for t in page.tickets]


def numbers(*tickets: Ticket) -> set[str]:
    return {t.number or "" for t in tickets}


async def test_each_filter_selects_its_tickets(db: Database, clock: FakeClock) -> None:
    now = clock.now()
    a = make_ticket(grid="一网格", category="water", urgency="emergency", assignee="王芳",
                    state=TicketState.ACCEPTED, created_at=T0, resolve_due=now - hours(1))
    b = make_ticket(grid="二网格", category="lighting", assignee="李强",
                    state=TicketState.CLOSED, created_at=T0 + hours(2))
    c = make_ticket(grid=None, category="water", urgency="urgent", assignee=None,
                    state=TicketState.NEW, created_at=T0 + hours(4), accept_due=now - hours(2))
    d = make_ticket(grid="一网格", category="noise", state=TicketState.ASSIGNED,
                    created_at=T0 + hours(6), resolve_due=now + hours(5))
    await add_tickets(db, a, b, c, d)
    everything = await listed(db, TicketFilter())
    assert everything == [d.number, c.number, b.number, a.number]  # newest first
    assert set(await listed(db, TicketFilter(grid="一网格"))) == numbers(a, d)
    assert set(await listed(db, TicketFilter(no_grid=True))) == numbers(c)
    assert set(await listed(db, TicketFilter(category="water"))) == numbers(a, c)
    assert set(await listed(db, TicketFilter(urgency="emergency"))) == numbers(a)
    assert set(await listed(db, TicketFilter(urgency="normal"))) == numbers(b, d)
    assert set(await listed(db, TicketFilter(assignee="李强"))) == numbers(b)
    assert set(await listed(db, TicketFilter(states=("closed",)))) == numbers(b)
    assert set(await listed(db, TicketFilter(states=("new", "accepted")))) == numbers(a, c)
    # Overdue: a missed its resolve deadline, c its accept deadline; d is not due yet.
    assert set(await listed(db, TicketFilter(overdue=True, now=now))) == numbers(a, c)
    window = TicketFilter(created_from=T0 + hours(1), created_to=T0 + hours(6))
    assert set(await listed(db, window)) == numbers(b, c)
    both = TicketFilter(grid="一网格", category="water")
    assert set(await listed(db, both)) == numbers(a)
    by_number = TicketFilter(text=b.number)
    assert await listed(db, by_number) == [b.number]


async def test_sorts_order_by_their_keys(db: Database, clock: FakeClock) -> None:
    now = clock.now()
    a = make_ticket(created_at=T0, urgency="normal", supporters_count=3,
                    resolve_due=now + hours(30))
    b = make_ticket(created_at=T0 + hours(1), urgency="emergency", supporters_count=0,
                    resolve_due=now + hours(2))
    c = make_ticket(created_at=T0 + hours(2), urgency="urgent", supporters_count=7)
    await add_tickets(db, a, b, c)
    flt = TicketFilter()
    assert await listed(db, flt, sort="old") == [a.number, b.number, c.number]
    assert await listed(db, flt, sort="urgency") == [b.number, c.number, a.number]
    assert await listed(db, flt, sort="supporters") == [c.number, a.number, b.number]
    # No deadline sorts last.
    assert await listed(db, flt, sort="deadline") == [b.number, a.number, c.number]


@pytest.mark.parametrize("sort", sorted(SORTS))
async def test_keyset_pages_cover_every_row_exactly_once(db: Database, sort: str) -> None:
    # Ties on created_at and on the sort keys, so the id must break them.
    tickets = [make_ticket(created_at=T0 + hours(i // 3), urgency=("normal", "urgent")[i % 2],
                           supporters_count=i % 4,
                           resolve_due=(T0 + hours(i % 5)) if i % 3 else None)
               for i in range(23)]
    await add_tickets(db, *tickets)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        async with db.read() as r:
            page = await r.console.page(TicketFilter(), EVERYONE, SORTS[sort], cursor, size=5)
        seen += [t.number or "" for t in page.tickets]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 5
    assert sorted(seen) == sorted(t.number or "" for t in tickets)
    assert len(seen) == len(set(seen))
    assert seen == await listed(db, TicketFilter(), sort=sort)


async def test_chunks_walk_every_matching_row(db: Database) -> None:
    tickets = [make_ticket(created_at=T0 + hours(i), grid=("一网格", "二网格")[i % 2])
               for i in range(17)]
    await add_tickets(db, *tickets)
    flt = TicketFilter(grid="二网格")
    got: list[str] = []
    after = None
    while True:
        async with db.read() as r:
            chunk, after = await r.console.chunk(flt, EVERYONE, SORTS["new"], after, 3)
        got += [row["number"] for row in chunk]
        if after is None:
            break
    assert got == await listed(db, flt)
    assert len(got) == 8


async def test_scope_makes_other_grids_impossible_to_list(db: Database) -> None:
    mine = make_ticket(grid="一网格", category="lighting", assignee="王芳")
    other = make_ticket(grid="二网格", category="lighting", assignee="李强")
    escalated = make_ticket(grid="二网格", category="noise", assignee="李强",
                            escalated_to=("王芳",))
    specialist = make_ticket(grid="二网格", category="security", assignee="李强")
    reported = make_ticket(grid="二网格", category="noise", assignee="李强", reporter_id=777)
    await add_tickets(db, mine, other, escalated, specialist, reported)
    worker = Scope.of_viewer(FakeViewer("王芳", 777, grids=frozenset({"一网格"})))
    visible = set(await listed(db, TicketFilter(), worker))
    assert visible == numbers(mine, escalated, reported)
    # No filter widens the scope: asking for the other grid lists only what is visible.
    assert set(await listed(db, TicketFilter(grid="二网格"), worker)) == numbers(
        escalated, reported)
    assert await listed(db, TicketFilter(text=other.number), worker) == []
    police = Scope.of_viewer(FakeViewer("老赵", 1, categories=frozenset({"security"})))
    assert set(await listed(db, TicketFilter(), police)) == numbers(specialist)
    nobody = Scope.of_viewer(FakeViewer("新人", 2))
    assert set(await listed(db, TicketFilter(), nobody)) == set()
    boss = Scope.of_viewer(FakeViewer("张书记", 3, is_supervisor=True))
    assert len(await listed(db, TicketFilter(), boss)) == 5
    for t in (mine, other, escalated, specialist, reported):
        assert worker.allows(t) == (t.number in visible)


async def test_chinese_search_finds_words_not_substrings_of_other_texts(
        db: Database) -> None:
    leak = make_ticket(text="8号楼顶楼漏水了")
    light = make_ticket(text="楼道灯坏了，晚上很黑")
    water = make_ticket(text="3单元停水一天了")
    await add_tickets(db, leak, light, water)
    assert await listed(db, TicketFilter(text="漏水")) == [leak.number]
    assert await listed(db, TicketFilter(text="8号楼 漏水")) == [leak.number]
    assert await listed(db, TicketFilter(text="楼道灯")) == [light.number]
    assert set(await listed(db, TicketFilter(text="水"))) == numbers(leak, water)
    assert await listed(db, TicketFilter(text="电梯")) == []
    # FTS syntax in the query is just text.
    assert await listed(db, TicketFilter(text='漏水" OR "灯')) == []
    assert await listed(db, TicketFilter(text="   ")) != []  # blank: no text filter


async def test_search_index_follows_edits_purges_and_backfills(
        db_target: str, clock: FakeClock) -> None:
    db = await open_database(db_target, clock=clock)
    try:
        t = make_ticket(text="电梯困人了", state=TicketState.CLOSED, closed_at=T0)
        await add_tickets(db, t)
        assert await listed(db, TicketFilter(text="电梯")) == [t.number]
        t.text = "水管爆了"
        async with db.transaction() as uow:
            await uow.tickets.update(t)
        assert await listed(db, TicketFilter(text="电梯")) == []
        assert await listed(db, TicketFilter(text="水管")) == [t.number]
        async with db.transaction() as uow:
            await uow.tickets.purge_personal(T0 + hours(1), "[已按保留期限清除]")
        assert await listed(db, TicketFilter(text="水管")) == []
        # A ticket written behind the repositories' back (a tool, an old version) is
        # indexed when the database is next opened.
        async with db.transaction() as uow:
            await uow.tickets._conn.execute(
                "INSERT INTO tickets (number, source_chat_id, source_message_id, reporter_id, "
                "reporter_name, text, category, urgency, state, created_at) VALUES "
                "('2611-9999', -1, 999, 1, '居民', '垃圾没人清', 'sanitation', 'normal', "
                "'new', '2026-11-02 01:00:00.000000')")
    finally:
        await db.close()
    db = await open_database(db_target, clock=clock)
    try:
        assert await listed(db, TicketFilter(text="垃圾")) == ["2611-9999"]
    finally:
        await db.close()


def test_query_words_and_index_words() -> None:
    assert "漏水" in index_text("8号楼顶楼漏水了").split()
    assert match_expression("漏水") == '"漏水"'
    assert match_expression("  ，。 ") is None
    assert match_expression('a"b') is not None and '""' not in (match_expression("ab") or "")


async def test_bad_cursors_are_refused(db: Database) -> None:
    sort = SORTS["new"]
    for bad in ("!!!", "eyJ", encode_cursor(["x"]), encode_cursor([1, 2]),
                encode_cursor(["2026", "3"]), "A" * 500, encode_cursor([True, 1])):
        with pytest.raises(CursorError):
            async with db.read() as r:
                await r.console.page(TicketFilter(), EVERYONE, sort, bad)


async def test_poll_returns_only_newer_visible_tickets(db: Database) -> None:
    first = make_ticket(grid="一网格")
    await add_tickets(db, first)
    async with db.read() as r:
        start = await r.console.max_id()
    mine, other = make_ticket(grid="一网格"), make_ticket(grid="二网格", assignee="李强")
    await add_tickets(db, mine, other)
    worker = Scope.of_viewer(FakeViewer("王芳", 1, grids=frozenset({"一网格"})))
    async with db.read() as r:
        fresh = await r.console.newer_than(TicketFilter(), worker, start)
    assert [t.number for t in fresh] == [mine.number]


async def test_upgrading_an_older_database_indexes_its_history(
        tmp_path: Path, clock: FakeClock) -> None:
    from storage.schema import load_migrations

    before_search = next(m.version for m in load_migrations()
                         if m.name.endswith("console_search.sql")) - 1
    path = tmp_path / "old.db"
    old = await open_database(path, clock=clock, target_version=before_search)
    t = make_ticket(text="3号楼电梯困人了")
    await add_tickets(old, t)
    await old.close()
    db = await open_database(path, clock=clock)
    try:
        assert await listed(db, TicketFilter(text="电梯")) == [t.number]
    finally:
        await db.close()
