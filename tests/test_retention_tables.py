"""Retention beyond the tickets: outbox bodies, the event log's personal text, prompts,
corrections, rating comments and forgotten residents — each table on the retention
schedule, the event log append-only for everything else, and no purged text left in the
database files (secure_delete + WAL checkpoint)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from storage import INTEGRITY_ERRORS
from tests.support.backends import execute, rows, sqlite_only
from tests.support.scheduler import Harness, harness, local
from tests.support.tickets import CONFIG, person_actor, report, resident

WINDOW = 30  # retention_days
CFG = replace(CONFIG, retention_days=WINDOW, correction_days=10)
START = local(2026, 9, 1, 10)
DAY = START + timedelta(days=WINDOW + 1)  # the retention run
PHONE = "13812345678"  # appears in every kind of personal text below
WANG = person_actor("王芳")


async def sql(h: Harness, query: str, *params: object) -> list[tuple[object, ...]]:
    return await rows(h.db, query, *params)


async def lived_ticket(h: Harness) -> int:
    """A ticket that collected every kind of personal text, then closed."""
    t = await h.new_ticket(reporter=5001, text=f"8号楼3单元顶楼漏水 电话{PHONE}")
    await h.services.tickets.edit_report(
        t.id or 0, resident(5001), report(text=f"8号楼3单元顶楼漏水很严重 {PHONE}"))
    await h.new_ticket(reporter=5002, text=f"8号楼3单元也漏水 找我{PHONE}")  # 附议
    await h.services.tickets.accept(t.id or 0, WANG)
    await h.services.tickets.progress(t.id or 0, WANG, f"已联系业主 {PHONE}")
    await h.services.tickets.escalate(t.id or 0, WANG, f"业主不开门 {PHONE}")
    await h.services.tickets.resolve(t.id or 0, WANG, f"已修好,业主{PHONE}确认")
    await h.services.tickets.rate(t.id or 0, resident(5001), 1, f"王师傅很好 {PHONE}")
    return t.id or 0


async def seed(h: Harness) -> dict[str, int]:
    lived = await lived_ticket(h)
    wrong = await h.new_ticket(reporter=5003, building="9", text=f"9号楼有人说话 {PHONE}")
    await h.services.tickets.reject(wrong.id or 0, WANG, f"不是诉求 {PHONE}")
    still_open = await h.new_ticket(reporter=5004, building="10", text="10号楼漏水")
    async with h.db.transaction() as uow:
        await uow.prompts.add(chat_id=-1001, message_id=9, author_id=5005,
                              text=f"最近是不是有点吵 {PHONE}", parse_json="{}",
                              expires_at=START + timedelta(days=1))
        await uow.people.seen(7001, username="old_resident", display_name="老住户")
        await uow.people.seen(5006, display_name="常来的住户")  # started long ago, reports
        await uow.people.register(101, "王芳")  # staff: stays
        for row in await uow.outbox.due(10_000, now=START + timedelta(days=1)):
            await uow.outbox.mark_sent(row.id, 1)
    return {"lived": lived, "wrong": wrong.id or 0, "open": still_open.id or 0}


async def run_retention(h: Harness) -> None:
    h.at(DAY - timedelta(hours=1))
    async with h.db.transaction() as uow:
        await uow.people.seen(7002, username="new_resident", display_name="新住户")
    await h.new_ticket(reporter=5006, building="11", text="11号楼电梯坏了")  # pending rows
    result = await h.tick(DAY)
    assert result.errors == [] and result.retention.ran


async def test_each_table_is_purged_on_the_schedule(db_target: str) -> None:
    async with harness(db_target, CFG, START) as h:
        ids = await seed(h)
        [(outbox_before,)] = await sql(h, "SELECT count(*) FROM outbox WHERE status = 'sent'")
        actions_before = await sql(h, "SELECT id, action, at, actor_key, from_state, to_state "
                                      "FROM ticket_events ORDER BY id")
        await run_retention(h)

        # outbox: sent bodies gone, what is still to send stays
        assert outbox_before and await sql(h, "SELECT count(*) FROM outbox WHERE status != "
                                              "'pending'") == [(0,)]
        assert await sql(h, "SELECT count(*) > 0 FROM outbox WHERE status = 'pending'") == [(1,)]
        # event log: every fact kept, personal text gone from purged tickets' events
        assert await sql(h, "SELECT id, action, at, actor_key, from_state, to_state "
                            "FROM ticket_events WHERE id <= ? ORDER BY id",
                         actions_before[-1][0]) == actions_before
        lived = await sql(h, "SELECT action, note, data, purged_at FROM ticket_events "
                             "WHERE ticket_id = ?", ids["lived"])
        assert {a for a, *_ in lived} >= {"create", "edit", "accept", "progress", "escalate",
                                          "resolve", "rate", "support"}
        for action, note, data, purged_at in lived:
            assert note is None and purged_at is not None, action
            assert not {"user_name", "old_text"} & set(json.loads(str(data))), action
            if action == "escalate":
                assert "reason" not in json.loads(str(data))
                assert json.loads(str(data))["escalated_to"]  # the fact stays
        open_notes = await sql(h, "SELECT purged_at FROM ticket_events WHERE ticket_id = ?",
                               ids["open"])
        assert open_notes and all(p is None for (p,) in open_notes)
        # prompts, corrections, rating comments, residents
        assert await sql(h, "SELECT count(*) FROM prompts") == [(0,)]
        [(text, note, category)] = await sql(h, "SELECT text, note, predicted_category "
                                                "FROM corrections")
        assert PHONE not in str(text) and note is None and category
        assert await sql(h, "SELECT score, comment FROM ratings") == [(1, None)]
        people = {r[0] for r in await sql(h, "SELECT user_id FROM people")}
        assert 7001 not in people and {7002, 101, 5006} <= people


def files_holding(folder: Path, needle: str) -> list[str]:
    """Names of the database files (main, -wal, -shm) whose bytes contain ``needle``."""
    files = list(folder.glob("gridbot.db*"))
    assert files
    return [p.name for p in files if needle.encode() in p.read_bytes()]


@sqlite_only("the bytes of the database files (main, WAL, shared memory) are SQLite's")
async def test_purged_text_does_not_linger_in_the_files(db_target: str, tmp_path: Path) -> None:
    async with harness(db_target, CFG, START) as h:
        await seed(h)
        assert files_holding(tmp_path, PHONE)
        await run_retention(h)
        async with h.db.read() as uow:
            assert await uow.retention._scalar("PRAGMA secure_delete") == 1
        assert files_holding(tmp_path, PHONE) == []


async def test_corrections_keep_their_text_as_long_as_the_setting_allows(
    db_target: str, db_targets: Callable[[], str],
) -> None:
    allowed = replace(CFG, retention_days=WINDOW + 10, correction_days=WINDOW + 5)
    async with harness(db_target, allowed, START) as h:
        await seed(h)
        await run_retention(h)  # 31 days: within the 35 allowed
        [(text,)] = await sql(h, "SELECT text FROM corrections")
        assert PHONE in str(text)
    capped = replace(CFG, correction_days=WINDOW + 5)  # never longer than retention_days
    async with harness(db_targets(), capped, START) as h:
        await seed(h)
        await run_retention(h)
        [(text,)] = await sql(h, "SELECT text FROM corrections")
        assert PHONE not in str(text)


async def test_the_event_log_stays_append_only_for_everything_else(db_target: str) -> None:
    async with harness(db_target, CFG, START) as h:
        ids = await seed(h)
        await run_retention(h)
        [(purged,)] = await sql(h, "SELECT id FROM ticket_events WHERE ticket_id = ? "
                                "AND action = 'progress'", ids["lived"])
        [(live,)] = await sql(h, "SELECT min(id) FROM ticket_events WHERE ticket_id = ?",
                              ids["open"])
        refused = [
            ("DELETE FROM ticket_events WHERE id = ?", (live,)),
            ("DELETE FROM ticket_events WHERE id = ?", (purged,)),
            ("UPDATE ticket_events SET note = 'x' WHERE id = ?", (live,)),
            ("UPDATE ticket_events SET note = NULL, purged_at = 'now' WHERE id = ?",
             (purged,)),  # once purged, immutable again
            ("UPDATE ticket_events SET note = NULL, actor_key = '别人', purged_at = 'now' "
             "WHERE id = ?", (live,)),  # a purge may not touch a fact
            ("UPDATE ticket_events SET note = NULL, data = '{}', purged_at = 'now' "
             "WHERE id = ?", (live,)),  # nor drop anything but personal text
        ]
        for statement, params in refused:
            with pytest.raises(INTEGRITY_ERRORS, match="append-only"):
                await execute(h.db, statement, *params)
