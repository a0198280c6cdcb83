"""``gridbot migrate-db``: a SQLite database filled by the real use cases (tickets through
their whole life, events, outbox, ratings, supporters, a merge, corrections and learning
rows, a stored model, console sessions, the inbox) is copied to PostgreSQL, and the copy
answers through the repositories exactly as the file did: the same tickets, the same next
ticket number and id, the same search results. A running bot and a target with data are
refused in Chinese; a count mismatch is reported per table with exit code 1."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot
from runtime.migrate import MigrateRefused, migrate_db, report_lines
from services import TicketService
from storage import Database, open_database
from storage.console_repo import SORTS, Scope, TicketFilter
from storage.transfer import TableCount, TransferReport
from tests.support.pg import PgServer
from tests.support.tickets import CHAT_A, CHAT_B, CONFIG, T0, RecordingPresenter, person_actor, resident
from tests.support.tickets import report as report_input
from tickets.clock import FakeClock
from tickets.model import Ticket

WANG = person_actor("王芳")


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """An empty PostgreSQL database (migrate-db creates the community's schema)."""
    name = pg_server.new_database(template=None)
    yield pg_server.url(name)
    pg_server.drop_database(name)


async def fill(path: Path, clock: FakeClock) -> None:
    """A community's history, written by the real use cases."""
    db = await open_database(path, clock=clock)
    svc = TicketService(db, CONFIG, clock, RecordingPresenter())
    try:
        reports = [("8号楼3单元顶楼漏水", "water_leak", "8", ("漏水",)),
                   ("5号楼电梯困人了", "elevator", "5", ("电梯",)),
                   ("3号楼楼道灯坏了", "facilities", "3", ("路灯",)),
                   ("6号楼电梯又坏了", "elevator", "6", ("电梯", "坏")),
                   ("7号楼有人说话", "noise", "7", ("说话",))]
        tickets: list[Ticket] = []
        for n, (text, category, building, words) in enumerate(reports, 1):
            result = await svc.report_received(
                source_chat_id=CHAT_A if n % 2 else CHAT_B, source_message_id=n,
                reporter_id=5000 + n, reporter_name=f"居民{n}",
                report=report_input(text=text, category=category, building=building,
                                    keywords=words))
            tickets.append(result.ticket)
            clock.advance(minutes=7)
        first = tickets[0].id or 0
        await svc.accept(first, WANG)
        await svc.progress(first, WANG, "已联系物业")
        await svc.resolve(first, WANG, "已修好")
        await svc.rate(first, resident(5001), 1, "王师傅很好")
        await svc.change_category(tickets[2].id or 0, WANG, "sanitation")
        assert len({t.id for t in tickets}) == 5
        await svc.reject(tickets[4].id or 0, WANG, "不是诉求")  # a correction
        # An earlier ticket merged into a later one: a reference to a later row.
        await svc.merge(tickets[1].id or 0, tickets[3].id or 0, person_actor("周书记"))
        async with db.transaction() as uow:
            await uow.web_auth.add_session("hash-1", 101, "王芳", "csrf-1", "link")
            await uow.inbox.add_batch([(1, '{"update_id": 1}'), (2, '{"update_id": 2}')])
            await uow.inbox.mark_processed(1)
            await uow.learning.save_model(version="v1", model=b"\x00\x01model\xff",
                                          base_model=None, examples=3, background=10,
                                          metrics={"accuracy": 0.9})
            await uow.learning.activate("v1")
    finally:
        await db.close()


async def snapshot(db: Database) -> tuple[list[Ticket], list[str], list[str]]:
    """Every ticket, and what a search for 漏水 and for 电梯 lists."""
    async with db.read() as r:
        tickets = [t for n in range(1, 10) if (t := await r.tickets.get(n)) is not None]
        found = []
        for word in ("漏水", "电梯"):
            page = await r.console.page(TicketFilter(text=word), Scope.everyone(),
                                        SORTS["new"], size=100)
            found.append(",".join(t.number or "" for t in page.tickets))
    return tickets, found[:1], found[1:]


async def next_ticket(db: Database, clock: FakeClock) -> Ticket:
    svc = TicketService(db, CONFIG, clock, RecordingPresenter())
    result = await svc.report_received(source_chat_id=CHAT_A, source_message_id=99,
                                       reporter_id=5099, reporter_name="新居民",
                                       report=report_input(text="9号楼门禁坏了"))
    return result.ticket


async def test_a_community_moves_to_postgresql_and_answers_the_same(
        tmp_path: Path, pg_url: str) -> None:
    clock = FakeClock(T0)
    source = tmp_path / "gridbot.db"
    await fill(source, clock)
    out = io.StringIO()

    code = await migrate_db(str(source), pg_url, schema="xingfu", out=out)

    lines = out.getvalue().splitlines()
    assert code == 0, out.getvalue()
    table_lines = [line for line in lines if line.endswith((" ok", " MISMATCH"))]
    assert all(line.endswith(" ok") for line in table_lines)
    named = {line.split()[0]: line.split() for line in table_lines}
    assert named["tickets"][1:4] == ["5", "→", "5"]
    for table in ("ticket_events", "outbox", "ratings", "corrections", "learning_examples",
                  "learning_models", "console_sessions", "inbox", "counters"):
        assert table in named and int(named[table][1]) > 0, table
    assert "迁移完成" in lines[-1]

    sqlite_db = await open_database(source, clock=clock)
    pg_db = await open_database(pg_url, clock=clock, schema="xingfu")
    try:
        before, after = await snapshot(sqlite_db), await snapshot(pg_db)
        assert after == before
        assert after[1] == [before[0][0].number] and after[2] != [""]
        merged = before[0][1]
        assert merged.merged_into == before[0][3].id  # the forward reference survived
        async with pg_db.read() as r:
            model = await r.learning.active_model()
        assert model is not None and model[1] == b"\x00\x01model\xff"
        new_sqlite, new_pg = await next_ticket(sqlite_db, clock), await next_ticket(pg_db, clock)
        assert (new_pg.id, new_pg.number) == (new_sqlite.id, new_sqlite.number)
    finally:
        await sqlite_db.close()
        await pg_db.close()


async def test_a_target_with_data_is_refused_and_left_alone(tmp_path: Path,
                                                           pg_url: str) -> None:
    clock = FakeClock(T0)
    source = tmp_path / "gridbot.db"
    await fill(source, clock)
    assert await migrate_db(str(source), pg_url, out=io.StringIO()) == 0
    with pytest.raises(MigrateRefused, match="已有数据"):
        await migrate_db(str(source), pg_url, out=io.StringIO())
    db = await open_database(pg_url, clock=clock)
    try:
        async with db.read() as r:
            assert await r.tickets.get(6) is None and await r.tickets.get(5) is not None
    finally:
        await db.close()


async def test_a_database_in_use_is_refused(tmp_path: Path, pg_url: str) -> None:
    source = tmp_path / "gridbot.db"
    await fill(source, FakeClock(T0))
    holder = sqlite3.connect(source)  # a running bot keeps the file open
    try:
        holder.execute("SELECT count(*) FROM tickets").fetchall()
        with pytest.raises(MigrateRefused, match="正被其他进程使用"):
            await migrate_db(str(source), pg_url, out=io.StringIO())
    finally:
        holder.close()


def test_the_command_line_prints_one_line_per_table_and_refuses_in_one_sentence(
        tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "gridbot.db"
    asyncio.run(fill(source, FakeClock(T0)))
    assert bot.main(["migrate-db", "--from", str(source), "--to", pg_url,
                     "--schema", "community_b"]) == 0
    printed = capsys.readouterr().out
    assert "tickets" in printed and "迁移完成" in printed and "MISMATCH" not in printed
    assert bot.main(["migrate-db", "--from", str(source), "--to", str(tmp_path / "x.db")]) == 2
    assert "PostgreSQL 地址" in capsys.readouterr().err
    assert bot.main(["migrate-db", "--from", str(tmp_path / "none.db"), "--to", pg_url]) == 2
    assert "找不到" in capsys.readouterr().err


def test_a_count_mismatch_is_named_per_table() -> None:
    report = TransferReport("postgresql://h/db", "s", (TableCount("tickets", 4, 4),
                                                       TableCount("outbox", 9, 8)))
    lines = report_lines(report)
    assert not report.ok
    assert lines[0].split()[-1] == "ok" and lines[1].split()[-1] == "MISMATCH"
    assert "outbox" in lines[-1] and "不一致" in lines[-1]
