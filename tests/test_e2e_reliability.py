"""End to end under trouble: 429 storms, 5xx, restarts, crashes, redelivery, migration."""

from __future__ import annotations

from datetime import timedelta

import pytest

from community import CommunityConfig
from localapi import LocalBotApi
from runtime.app import GridBot
from tests.support.backends import sqlite_only
from tests.support.e2e import GROUP_1, RESIDENT, RESIDENT_2, WORKER_1, fast_options
from tickets.clock import FakeClock


async def count_tickets(bot: GridBot) -> int:
    assert bot.services is not None
    async with bot.services.db.read() as uow:
        return len(await uow.queries.open_in_grid("第一网格", limit=1000))


async def idle(server: LocalBotApi, bot: GridBot) -> None:
    await server.wait_consumed()
    await bot.until_idle()


async def test_429_storm_delays_but_delivers_each_card_once(
    server: LocalBotApi, gridbot: GridBot, clock: FakeClock
) -> None:
    server.faults.rate_limit(retry_after=3, count=4, methods="sendMessage")
    await server.post(GROUP_1, RESIDENT, "8号楼电梯坏了 困住人了")
    await server.post(GROUP_1, RESIDENT_2, "3号楼楼道灯坏了")
    await server.wait_consumed()
    await server.wait_for(lambda: len(server.faults.served_429) >= 1)
    for _ in range(6):  # time passes: each retry_after runs out
        clock.advance(seconds=4)
        await gridbot.until_idle()
    cards = [r for r in server.sent(chat_id=GROUP_1, method="sendMessage") if "📋 工单 #" in r.text]
    assert len(cards) == 2
    assert len({r.params["reply_parameters"]["message_id"] for r in cards}) == 2


async def test_server_errors_are_retried_with_backoff(
    server: LocalBotApi, gridbot: GridBot, clock: FakeClock
) -> None:
    server.faults.fail(status=500, count=3, methods="sendMessage")
    await server.post(GROUP_1, RESIDENT, "8号楼门口下水道堵了 污水横流")
    await server.wait_consumed()
    await server.wait_for(lambda: len(server.faults.served) >= 1)
    for _ in range(8):
        clock.advance(seconds=30)
        await gridbot.until_idle()
    cards = [r for r in server.sent(chat_id=GROUP_1, method="sendMessage") if "📋 工单 #" in r.text]
    assert len(cards) == 1


async def test_same_update_delivered_twice_makes_one_ticket(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    message = await server.post(GROUP_1, RESIDENT, "8号楼顶楼漏水了")
    await idle(server, gridbot)
    # Telegram redelivers the same message: once under a new update id, once under the
    # same (new) id again.
    redelivered = {"update_id": 900_000, "message": message.to_dict()}
    await server.inject_update(redelivered)
    await server.inject_update(dict(redelivered))
    await idle(server, gridbot)
    assert await count_tickets(gridbot) == 1
    cards = [r for r in server.sent(chat_id=GROUP_1, method="sendMessage") if "📋 工单 #" in r.text]
    assert len(cards) == 1


async def test_restart_in_the_middle_of_a_conversation(
    server: LocalBotApi, community: CommunityConfig, clock: FakeClock, db_path: str
) -> None:
    first = GridBot(community, server.token, db_path, clock=clock, options=fast_options(server))
    await first.start()
    await server.start_private(WORKER_1)
    await server.post(GROUP_1, RESIDENT, "5号楼2单元楼道有人给电动车充电")
    await idle(server, first)
    brief = next(r for r in server.sent(chat_id=WORKER_1) if "🆕 新工单" in (r.text or ""))
    await first.stop()

    # While the bot is down: the worker taps 接单, a neighbour adds the same problem.
    message = server.message(WORKER_1, brief.message.message_id)
    accept = brief.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await server.tap(message, WORKER_1, accept)
    await server.post(GROUP_1, RESIDENT_2, "5号楼2单元楼道电动车充电 太危险")

    second = GridBot(community, server.token, db_path, clock=clock, options=fast_options(server))
    await second.start()
    try:
        await idle(server, second)
        assert await count_tickets(second) == 1
        cards = [r for r in server.sent(chat_id=GROUP_1, method="sendMessage")
                 if "📋 工单 #" in r.text]
        assert len(cards) == 1
        edits = server.sent(chat_id=GROUP_1, method="editMessageText")
        assert any("已接单" in r.text and "附议: 1 人" in r.text for r in edits) or (
            any("已接单" in r.text for r in edits) and any("附议" in r.text for r in edits))
    finally:
        await second.stop()


async def test_a_crash_while_handling_is_replayed_once_after_restart(
    server: LocalBotApi, community: CommunityConfig, clock: FakeClock, db_path: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = GridBot(community, server.token, db_path, clock=clock, options=fast_options(server))
    await first.start()
    assert first.services is not None

    async def broken(*args: object, **kwargs: object) -> object:
        raise OSError("disk I/O error")

    monkeypatch.setattr("services.service.report_received", broken)
    await server.post(GROUP_1, RESIDENT, "8号楼3单元楼上漏水到我家了")
    await server.wait_consumed()
    await server.wait_for(lambda: server.pending_updates() == 0)
    await _until_failed(first)
    await first.stop()
    monkeypatch.undo()
    assert [r for r in server.sent(chat_id=GROUP_1, method="sendMessage")] == []

    second = GridBot(community, server.token, db_path, clock=clock, options=fast_options(server))
    await second.start()
    try:
        await idle(server, second)
        assert await count_tickets(second) == 1
        cards = [r for r in server.sent(chat_id=GROUP_1, method="sendMessage")
                 if "📋 工单 #" in r.text]
        assert len(cards) == 1
    finally:
        await second.stop()


async def _until_failed(bot: GridBot) -> None:
    """Wait until the inbox recorded the failed attempt."""
    import asyncio

    assert bot.services is not None
    for _ in range(250):
        async with bot.services.db.read() as uow:
            attempts = await uow.inbox.failed_attempts()
        if attempts:
            return
        await asyncio.sleep(0.02)
    raise TimeoutError("the handler never failed")


async def test_group_migration_moves_the_grid_and_pending_messages(
    server: LocalBotApi, community: CommunityConfig, clock: FakeClock, db_path: str
) -> None:
    basic = -4001
    server.group(basic, "老小区群", type="group", admins=[1000], members=[1000, RESIDENT])
    gridbot = GridBot(community, server.token, db_path, clock=clock, options=fast_options(server))
    await gridbot.start()
    try:
        await server.command(basic, 1000, "/bind 第一网格")
        await idle(server, gridbot)
        new_id = await server.migrate(basic)
        await idle(server, gridbot)
        await server.post(new_id, RESIDENT, "8号楼门口垃圾堆成山了 好几天没人收")
        await idle(server, gridbot)
        cards = [r for r in server.sent(chat_id=new_id, method="sendMessage")
                 if "📋 工单 #" in r.text]
        assert cards and "环境卫生" in cards[0].text
    finally:
        await gridbot.stop()


async def test_forum_topics_get_answers_in_their_thread(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    forum = -1005555
    server.group(forum, "阳光花园论坛群", is_forum=True, admins=[1000],
                 members=[1000, RESIDENT, WORKER_1])
    thread = await server.create_topic(forum, 1000, "报修")
    await server.command(forum, 1000, "/bind 第一网格", thread_id=thread)
    await idle(server, gridbot)
    await server.post(forum, RESIDENT, "8号楼3单元楼道灯坏了", thread_id=thread)
    await idle(server, gridbot)
    cards = [r for r in server.sent(chat_id=forum, method="sendMessage") if "📋 工单 #" in r.text]
    assert cards and cards[0].params.get("message_thread_id") == thread


async def test_read_only_database_keeps_updates_unconfirmed(
    server: LocalBotApi, gridbot: GridBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inbox cannot store a batch: getUpdates fails, nothing is confirmed or lost."""
    import sqlite3

    from runtime.stores import StorageInboxStore

    async def read_only(self: StorageInboxStore, updates: object) -> None:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(StorageInboxStore, "save_updates", read_only)
    await server.post(GROUP_1, RESIDENT, "8号楼电梯坏了")
    await server.wait_for(lambda: server.poll_count > 3, timeout=10)
    assert server.pending_updates() == 1  # still Telegram's, not lost
    monkeypatch.undo()
    await idle(server, gridbot)
    assert await count_tickets(gridbot) == 1
    _ = timedelta


@sqlite_only("holds SQLite's file write lock from a second connection (BEGIN IMMEDIATE)")
async def test_database_locked_by_another_writer_for_seconds(
    server: LocalBotApi, gridbot: GridBot, db_path: str
) -> None:
    """Another process holds the write lock longer than the busy timeout: receiving the
    update fails and is retried (Telegram keeps it); once the lock goes, one ticket."""
    import asyncio
    import sqlite3

    await gridbot.until_idle()  # start-up writes are done: the blocker gets the lock
    blocker = sqlite3.connect(db_path, timeout=10, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        await server.post(GROUP_1, RESIDENT, "8号楼单元门禁坏了 关不上")
        await asyncio.sleep(6.5)  # longer than the 5 s busy timeout
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    await server.wait_consumed(timeout=40)
    await gridbot.until_idle(within=40)
    assert await count_tickets(gridbot) == 1
    cards = [r for r in server.sent(chat_id=GROUP_1, method="sendMessage")
             if "📋 工单 #" in r.text]
    assert len(cards) == 1


async def test_an_inbox_error_does_not_stop_update_handling(
    server: LocalBotApi, gridbot: GridBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database error while checking the inbox must not end PTB's update loop: the
    update is retried and later updates are still handled."""
    import sqlite3

    from runtime.stores import StorageInboxStore

    original = StorageInboxStore.is_processed
    failures = iter([True])

    async def flaky(self: StorageInboxStore, update_id: int) -> bool:
        if next(failures, False):
            raise sqlite3.OperationalError("database is locked")
        return await original(self, update_id)

    monkeypatch.setattr(StorageInboxStore, "is_processed", flaky)
    await server.post(GROUP_1, RESIDENT, "8号楼门口路灯不亮了")
    await server.post(GROUP_1, RESIDENT_2, "3号楼单元门禁坏了")
    await server.wait_consumed()
    await server.wait_for(lambda: len([r for r in server.sent(chat_id=GROUP_1)
                                       if "📋 工单 #" in (r.text or "")]) == 2, timeout=10)
    await gridbot.until_idle()
    assert await count_tickets(gridbot) == 2
