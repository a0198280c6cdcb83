"""Storage on a real database (each test on SQLite and PostgreSQL unless it is about SQLite's
files): migrations, refusals, pragmas, append-only log, optimistic versions, outbox, inbox,
idempotency, job runs, prompts, chats."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiosqlite
import pytest

from storage import (
    INTEGRITY_ERRORS,
    LATEST_VERSION,
    Database,
    NotAGridbotDatabase,
    SchemaTooNew,
    StaleTicket,
    open_database,
)
from tests.support.tickets import T0
from tickets.clock import FakeClock
from tickets.model import Ticket, TicketState
from tickets.outgoing import Button, OutgoingMessage


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def db(db_target: str, clock: FakeClock) -> AsyncIterator[Database]:
    database = await open_database(db_target, clock=clock)
    yield database
    await database.close()


def a_ticket(msg: int = 1) -> Ticket:
    return Ticket(source_chat_id=-1001, source_message_id=msg, reporter_id=5001,
                  reporter_name="张阿姨", text="漏水 电话13812345678", category="water_leak",
                  urgency="normal", created_at=T0, state=TicketState.ASSIGNED, assignee="王芳",
                  grid="一网格", keywords=("漏水",), escalated_to=("周书记",))


async def pragma(db_path: Path, name: str) -> object:
    async with aiosqlite.connect(db_path) as conn:
        rows = list(await conn.execute_fetchall(f"PRAGMA {name}"))
        return rows[0][0]


async def test_fresh_database_is_created_migrated_and_configured(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "g.db"  # SQLite's pragmas (PostgreSQL: tests/test_storage_postgres.py)
    db = await open_database(path, clock=clock)
    assert db.backend == "sqlite" and db.target == str(path) and db.schema is None
    assert db.schema_version == LATEST_VERSION >= 2
    assert await pragma(path, "user_version") == LATEST_VERSION
    assert await pragma(path, "journal_mode") == "wal"
    async with db.transaction() as uow:
        fk = await uow.tickets._scalar("PRAGMA foreign_keys")
        timeout = await uow.tickets._scalar("PRAGMA busy_timeout")
        sync = await uow.tickets._scalar("PRAGMA synchronous")
    assert (fk, timeout, sync) == (1, 5000, 1)
    await db.close()


async def test_reopening_keeps_data(db_target: str, clock: FakeClock) -> None:
    path = db_target
    db = await open_database(path, clock=clock)
    async with db.transaction() as uow:
        await uow.tickets.add(a_ticket())
    await db.close()
    db = await open_database(path, clock=clock)
    async with db.read() as r:
        assert (await r.tickets.get_by_source(-1001, 1)) is not None
    await db.close()


async def test_older_database_is_upgraded(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "old.db"
    v1 = await open_database(path, clock=clock, target_version=1)
    assert v1.schema_version == 1
    async with v1.transaction() as uow:
        await uow.tickets.add(a_ticket())
    await v1.close()
    db = await open_database(path, clock=clock)
    assert db.schema_version == LATEST_VERSION
    async with db.read() as r:
        assert await r.queries.open_for_assignee("王芳") != []
        names = {row[0] for row in await r.tickets._all(
            "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "tickets_open_by_assignee" in names
    await db.close()


async def test_newer_database_is_refused_untouched(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "g.db"
    db = await open_database(path, clock=clock)
    await db.close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 5}")
    with pytest.raises(SchemaTooNew) as info:
        await open_database(path, clock=clock)
    assert info.value.found == LATEST_VERSION + 5
    assert "newer than this GridBot supports" in str(info.value)
    assert await pragma(path, "user_version") == LATEST_VERSION + 5


async def test_foreign_sqlite_file_is_refused(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (x TEXT)")
    with pytest.raises(NotAGridbotDatabase):
        await open_database(path, clock=clock)


async def test_non_sqlite_file_is_refused(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"this is not a database at all, just some text\n" * 100)
    with pytest.raises(NotAGridbotDatabase):
        await open_database(path, clock=clock)
    assert path.read_bytes().startswith(b"this is not")


async def test_ticket_round_trip_and_source_key_unique(db: Database) -> None:
    async with db.transaction() as uow:
        t = await uow.tickets.add(a_ticket())
    async with db.read() as r:
        assert await r.tickets.get(t.id or 0) == t
    with pytest.raises(INTEGRITY_ERRORS):
        async with db.transaction() as uow:
            await uow.tickets.add(a_ticket())


async def test_stale_version_is_refused(db: Database) -> None:
    async with db.transaction() as uow:
        t = await uow.tickets.add(a_ticket())
    async with db.transaction() as uow:
        first = await uow.tickets.get(t.id or 0)
        second = await uow.tickets.get(t.id or 0)
        assert first is not None and second is not None
        first.state = TicketState.ACCEPTED
        await uow.tickets.update(first)
        second.state = TicketState.CANCELLED
        with pytest.raises(StaleTicket):
            await uow.tickets.update(second)
    async with db.read() as r:
        stored = await r.tickets.get(t.id or 0)
    assert stored is not None and stored.state is TicketState.ACCEPTED and stored.version == 2


async def test_event_log_is_append_only(db: Database) -> None:
    from tickets.events import Cancelled

    async with db.transaction() as uow:
        t = await uow.tickets.add(a_ticket())
        await uow.events.append(t.id or 0, Cancelled(
            at=T0, actor_id=1, actor_key=None, from_state=TicketState.NEW,
            to_state=TicketState.CANCELLED))
    for sql in ("UPDATE ticket_events SET note = 'x'", "DELETE FROM ticket_events"):
        with pytest.raises(INTEGRITY_ERRORS, match="append-only"):
            async with db.transaction() as uow:
                await uow.events._exec(sql)


async def test_outbox_due_retry_sent_failed_and_dedupe(db: Database, clock: FakeClock) -> None:
    msg = OutgoingMessage(chat_id=42, text="你好", buttons=((Button("接单", "acc:1"),),),
                          dedupe_key="k1")
    async with db.transaction() as uow:
        first = await uow.outbox.add(msg)
        assert await uow.outbox.add(msg) is None  # same dedupe key: no-op
        later = await uow.outbox.add(OutgoingMessage(
            chat_id=43, text="稍后", not_before=T0 + timedelta(minutes=5)))
        third = await uow.outbox.add(OutgoingMessage(chat_id=44, text="x"))
    async with db.transaction() as uow:
        due = await uow.outbox.due(10)
        assert [row.id for row in due] == [first, third]
        assert due[0].message.buttons == msg.buttons and due[0].message.dedupe_key == "k1"
        await uow.outbox.mark_sent(first or 0, 777)
        await uow.outbox.mark_retry(third or 0, "flood", T0 + timedelta(minutes=1))
    clock.advance(minutes=6)
    async with db.transaction() as uow:
        due = await uow.outbox.due(10)
        assert [row.id for row in due] == [later, third]
        assert due[1].attempts == 1 and due[1].last_error == "flood"
        await uow.outbox.mark_failed(later or 0, "chat not found")
        counts = await uow.outbox.counts()
        assert await uow.outbox.oldest_pending_at() == T0
    assert counts == {"pending": 1, "sent": 1, "failed": 1, "superseded": 0}


async def test_card_rows_coalesce(db: Database) -> None:
    async with db.transaction() as uow:
        t = await uow.tickets.add(a_ticket())
        tid = t.id or 0
        ids = [await uow.outbox.add(OutgoingMessage(chat_id=-1001, text=f"v{i}",
                                                    card_ticket_id=tid)) for i in range(3)]
        dm = await uow.outbox.add(OutgoingMessage(chat_id=101, text="dm"))
    async with db.transaction() as uow:
        due = await uow.outbox.due(10)
        assert [row.id for row in due] == [ids[2], dm]  # only the newest card survives
        assert due[0].message.text == "v2"
        await uow.outbox.mark_sent(ids[2] or 0, 555)
        await uow.outbox.set_card(tid, -1001, 555)
        newer = await uow.outbox.add(OutgoingMessage(chat_id=-1001, text="v3",
                                                     card_ticket_id=tid))
        counts = await uow.outbox.counts()
        card = await uow.tickets.get(tid)
    assert counts["superseded"] == 2 and newer is not None
    assert card is not None and (card.card_chat_id, card.card_message_id) == (-1001, 555)
    assert card.version == 1  # delivery state does not bump the ticket version


async def test_inbox_persists_batches_and_replays_pending(db: Database) -> None:
    async with db.transaction() as uow:
        assert await uow.inbox.add_batch([(1, '{"a":1}'), (2, '{"b":2}')]) == 2
        assert await uow.inbox.add_batch([(2, '{"b":2}'), (3, "{}")]) == 1
    async with db.transaction() as uow:
        await uow.inbox.mark_processed(1)
    async with db.read() as r:
        assert [u.update_id for u in await r.inbox.pending()] == [2, 3]
        assert await r.inbox.max_update_id() == 3


async def test_idempotency_and_job_runs_claim_once(db: Database) -> None:
    async with db.transaction() as uow:
        assert await uow.idempotency.claim("cb:99")
        assert not await uow.idempotency.claim("cb:99")
        assert await uow.job_runs.claim("digest", T0)
        assert not await uow.job_runs.claim("digest", T0)
        assert await uow.job_runs.claim("digest", T0 + timedelta(days=7))
        assert await uow.job_runs.last_due("digest") == T0 + timedelta(days=7)
    # A claim inside a rolled-back transaction does not burn the key.
    with pytest.raises(RuntimeError):
        async with db.transaction() as uow:
            assert await uow.idempotency.claim("cb:100")
            raise RuntimeError
    async with db.transaction() as uow:
        assert await uow.idempotency.claim("cb:100")


async def test_schedules_prompts_people(db: Database, clock: FakeClock) -> None:
    async with db.transaction() as uow:
        sid = await uow.schedules.add("每月3日 09:00", "免费理发", ("一网格",), created_by=900)
        await uow.schedules.add("每周五 10:00", "送饺子")
        assert await uow.schedules.deactivate(sid)
        pid = await uow.prompts.add(chat_id=-1001, message_id=5, author_id=5001, text="水",
                                    parse_json="{}", expires_at=T0 + timedelta(minutes=10))
        assert await uow.prompts.add(chat_id=-1001, message_id=5, author_id=5001, text="水",
                                     parse_json="{}", expires_at=T0) is None
        await uow.people.seen(5001, username="zhang", display_name="张阿姨")
        await uow.people.register(201, "陈静")
        await uow.people.set_private_chat(201, True)
        active = await uow.schedules.active()
    assert [s.text for s in active] == ["送饺子"]
    async with db.transaction() as uow:
        assert await uow.prompts.answer(pid or 0, "yes")
        assert not await uow.prompts.answer(pid or 0, "no")
        regs = await uow.people.for_keys(["陈静"])
    assert regs[0].user_id == 201 and regs[0].private_chat
    clock.advance(hours=1)
    async with db.transaction() as uow:
        p2 = await uow.prompts.add(chat_id=-1001, message_id=6, author_id=5001, text="电",
                                   parse_json="{}", expires_at=clock.now())
        expired = await uow.prompts.expired()
    assert [p.id for p in expired] == [p2]


async def test_chat_binding_and_supergroup_migration(db: Database) -> None:
    async with db.transaction() as uow:
        await uow.chats.bind(-1001, "二网格", title="阳光花园群", thread_id=7, by=901)
        t = await uow.tickets.add(a_ticket())
        await uow.tickets.set_card(t.id or 0, -1001, 9)
        await uow.outbox.add(OutgoingMessage(chat_id=-1001, text="pending"))
        await uow.chats.migrate(-1001, -1009001)
    async with db.read() as r:
        assert await r.chats.grid_of(-1009001) == "二网格"
        assert await r.chats.grid_of(-1001) is None
        moved = await r.tickets.get(t.id or 0)
    async with db.transaction() as uow:
        rows = await uow.outbox.due(10)
    assert moved is not None and moved.source_chat_id == -1009001 == moved.card_chat_id
    assert [row.message.chat_id for row in rows] == [-1009001]


@pytest.mark.parametrize("yields", range(6))
async def test_a_unit_of_work_cancelled_while_it_begins_leaves_no_transaction_open(
    db: Database, yields: int
) -> None:
    """A task cancelled at any point of BEGIN (a scheduler stopping, a shutdown) must not
    leave its connection inside a transaction: the next read and write still start."""

    async def read_forever() -> None:
        async with db.read() as r:
            await r.job_runs.last_due("x")
            await asyncio.sleep(3600)

    async def write_forever() -> None:
        async with db.transaction() as uow:
            await uow.job_runs.claim("x", T0, T0)
            await asyncio.sleep(3600)

    for body in (read_forever, write_forever):
        task = asyncio.create_task(body())
        for _ in range(yields):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    async with db.read() as r:
        assert await r.job_runs.last_due("x") is None
    async with db.transaction() as uow:
        assert await uow.job_runs.claim("x", T0, T0)
