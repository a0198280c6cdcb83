"""Several GridBots on one token and one database: only the lease holder polls, sends and
schedules; when it stops, loses its lease or is killed, a standby takes over and nothing
is lost or doubled."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from community import CommunityConfig, example_config_text
from localapi import LocalBotApi
from runtime.app import GridBot
from storage.leases import FileLease, PostgresLease, open_lease
from tests.support.backends import query
from tests.support.e2e import GROUP_1, RESIDENT, RESIDENT_2, RESIDENT_3, fast_options
from tests.support.processes import (
    acknowledgements,
    report_text,
    resent_after_takeover,
    start_run,
)
from tickets.clock import FakeClock


def make_bot(server: LocalBotApi, community: CommunityConfig, clock: FakeClock,
             db_path: str) -> GridBot:
    """A GridBot with a lease object of its own (as a separate process would have)."""
    return GridBot(community, server.token, db_path, clock=clock,
                   options=fast_options(server, lease_retry=0.05, lease_check=0.05),
                   lease=open_lease(db_path, server.token))


@pytest.fixture
async def pair(server: LocalBotApi, community: CommunityConfig, clock: FakeClock,
               db_path: str) -> AsyncIterator[tuple[GridBot, GridBot]]:
    first = make_bot(server, community, clock, db_path)
    second = make_bot(server, community, clock, db_path)
    await first.start()
    await second.start()
    try:
        yield first, second
    finally:
        await second.stop()
        await first.stop()


async def tickets_of(db_path: str) -> list[tuple[int, int]]:
    rows = await asyncio.to_thread(
        query, db_path, "SELECT source_chat_id, source_message_id FROM tickets")
    return sorted((int(a), int(b)) for a, b in rows)


async def lose_lease(bot: GridBot) -> None:
    """What losing a lease looks like: the lock file replaced, the lock's session gone."""
    lease = bot.lease
    if isinstance(lease, FileLease):
        lease.path.unlink()
    else:
        assert isinstance(lease, PostgresLease) and lease._conn is not None
        lease._conn.terminate()


def cards(server: LocalBotApi) -> list[int]:
    """The report message ids the group's ticket cards answer."""
    return [r.params["reply_parameters"]["message_id"]
            for r in server.sent(chat_id=GROUP_1, method="sendMessage")
            if (r.text or "").startswith("📋 工单 #")]


async def wait_active(bot: GridBot) -> None:
    for _ in range(500):
        if bot.active:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the standby did not take over")


async def wait_standby(bot: GridBot) -> None:
    for _ in range(500):
        if bot.role_changes and bot.role_changes[-1][1] == "standby":
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the holder did not stand down")


async def test_only_the_holder_acts_and_a_standby_takes_over_when_it_stops(
    server: LocalBotApi, pair: tuple[GridBot, GridBot], db_path: str
) -> None:
    first, second = pair
    assert first.active and not second.active
    assert second.application.updater is not None and not second.application.updater.running
    one = await server.post(GROUP_1, RESIDENT, "8号楼顶楼漏水了")
    await server.wait_consumed()
    await first.until_idle()
    polls_before = server.poll_count

    await first.stop()  # a clean stop gives the lease up at once
    await wait_active(second)
    two = await server.post(GROUP_1, RESIDENT_2, "3号楼楼道灯坏了")
    await server.wait_consumed()
    await second.until_idle()
    assert server.poll_count > polls_before  # the new holder polls now
    assert await tickets_of(db_path) == sorted([(GROUP_1, one.message_id),
                                                (GROUP_1, two.message_id)])
    assert sorted(cards(server)) == sorted([one.message_id, two.message_id])  # once each
    assert [role for _, role in second.role_changes] == ["active"]


async def test_a_holder_that_loses_its_lease_stops_acting_at_once(
    server: LocalBotApi, pair: tuple[GridBot, GridBot], db_path: str
) -> None:
    first, second = pair
    one = await server.post(GROUP_1, RESIDENT, "8号楼顶楼漏水了")
    await server.wait_consumed()
    await first.until_idle()
    assert first.lease is not None
    await lose_lease(first)
    await wait_active(second)
    assert not first.active  # it noticed and stands down (a new lock file let the other in)
    await wait_standby(first)
    assert first.application.updater is not None and not first.application.updater.running
    two = await server.post(GROUP_1, RESIDENT_2, "3号楼楼道灯坏了")
    three = await server.post(GROUP_1, RESIDENT_3, "5号楼门口下水道堵了")
    await server.wait_consumed()
    await second.until_idle()
    assert [role for _, role in first.role_changes] == ["active", "standby"]
    reports = sorted(m.message_id for m in (one, two, three))
    assert [m for _, m in await tickets_of(db_path)] == reports
    assert sorted(cards(server)) == reports


async def test_a_standby_can_take_over_again_after_standing_down(
    server: LocalBotApi, pair: tuple[GridBot, GridBot], db_path: str
) -> None:
    """Roles can swap several times: a fresh Application is built at each activation."""
    first, second = pair
    for round_ in range(2):
        holder, standby = (first, second) if round_ == 0 else (second, first)
        assert holder.lease is not None
        await lose_lease(holder)
        await wait_active(standby)
        message = await server.post(GROUP_1, RESIDENT, f"{round_ + 3}号楼电梯坏了")
        await server.wait_consumed()
        await standby.until_idle()
        assert message.message_id in cards(server)
    assert len(await tickets_of(db_path)) == 2


GROUPS = (-1001000000001, -1001000000003, -1001000000004)
REPORTS = 30


async def test_sigkill_of_the_holder_process_loses_and_doubles_nothing(tmp_path: Path) -> None:
    """Two real `gridbot run` processes; the holder is killed mid-burst; the standby takes
    the token over within seconds, replays what was left and sends what was waiting."""
    config = tmp_path / "community.toml"
    config.write_text(example_config_text().replace(
        "chats = [-1001000000001]", f"chats = [{', '.join(map(str, GROUPS))}]"),
        encoding="utf-8")
    db, log_a, log_b = tmp_path / "gridbot.db", tmp_path / "a.log", tmp_path / "b.log"
    async with LocalBotApi() as server:
        server.user(1000, "张书记")
        residents = list(range(5000, 5000 + REPORTS))
        for user in residents:
            server.user(user, f"居民{user}")
        for group in GROUPS:
            server.group(group, f"阳光花园群{group}", admins=[1000], members=[1000, *residents])
        holder = await start_run(server, config, db, log_a)
        await server.wait_for(lambda: server.poll_count > 0, timeout=30)
        standby = await start_run(server, config, db, log_b)
        await server.wait_for(lambda: b"standby" in log_b.read_bytes(), timeout=30)
        polls = server.poll_count
        reports = []
        try:
            for index, user in enumerate(residents):
                group = GROUPS[index % len(GROUPS)]
                reports.append(await server.post(group, user, report_text(index)))
                if index == REPORTS // 2:
                    await server.wait_for(lambda: len(acknowledgements(server, db)) >= 5,
                                          timeout=30)
                    holder.send_signal(signal.SIGKILL)
                    await holder.wait()
            report_ids = {(m.chat.id, m.message_id) for m in reports}
            await server.wait_for(lambda: report_ids <= set(acknowledgements(server, db)),
                                  timeout=60)
            await asyncio.sleep(0.5)  # anything sent twice would show up now
        finally:
            standby.send_signal(signal.SIGTERM)
            exit_code = await asyncio.wait_for(standby.wait(), timeout=30)
            if holder.returncode is None:
                holder.kill()
                await holder.wait()
        assert exit_code == 0, log_b.read_text(errors="replace")[-3000:]
        assert server.poll_count > polls
        acks = acknowledgements(server, db)

    with contextlib.closing(sqlite3.connect(db)) as conn:
        tickets = conn.execute("SELECT source_chat_id, source_message_id FROM tickets").fetchall()
        unhandled = conn.execute(
            "SELECT count(*) FROM inbox WHERE processed_at IS NULL").fetchone()[0]
    assert sorted(tickets) == sorted(report_ids)  # each report once, none lost
    assert unhandled == 0
    doubled = sum(n - 1 for n in acks.values())
    assert doubled <= resent_after_takeover(db) <= 8  # only what was on the wire repeats
    assert "lease bot-" in log_b.read_text(errors="replace")
