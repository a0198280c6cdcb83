"""End to end: voice messages reach the grid's worker in batches, copied so they play, and
the worker registers them as tickets (or not) with buttons, through the local Bot API."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from community import CommunityConfig
from localapi import LocalBotApi, Request
from localapi.state import Message
from runtime.app import GridBot
from scheduler.voices import VoiceBatchRunner, VoiceReport
from tests.support.e2e import GROUP_1, RESIDENT, RESIDENT_2, WORKER_1, fast_options, idle
from tickets.clock import FakeClock


def voice(seed: str, seconds: int = 6) -> dict[str, object]:
    return {"voice": {"file_id": f"voice-{seed}", "file_unique_id": f"u-{seed}",
                      "duration": seconds, "mime_type": "audio/ogg"}}


async def batch(server: LocalBotApi, gridbot: GridBot, clock: FakeClock,
                wait: bool = True) -> VoiceReport:
    assert gridbot.services is not None
    if wait:
        clock.advance(gridbot.services.config.conversations.voice_batch + timedelta(seconds=1))
    report = await VoiceBatchRunner(gridbot.services).run(clock.now())
    await gridbot.until_idle()
    return report


def stored(server: LocalBotApi, chat_id: int, message_id: int) -> Message:
    found = server.message(chat_id, message_id)
    assert found is not None
    return found


def played_copy(server: LocalBotApi, request: Request) -> Message:
    assert request.message is not None
    return stored(server, WORKER_1, request.message.message_id)


def copies(server: LocalBotApi) -> list[Request]:
    return server.sent(chat_id=WORKER_1, method="copyMessage")


async def test_a_voice_alone_reaches_the_worker_who_registers_it(
    server: LocalBotApi, gridbot: GridBot, clock: FakeClock
) -> None:
    await server.start_private(WORKER_1)
    spoken = await server.post(GROUP_1, RESIDENT, extra=voice("a"))
    await idle(server, gridbot)
    assert (await batch(server, gridbot, clock, wait=False)).sent == []  # not yet due
    assert copies(server) == []
    report = await batch(server, gridbot, clock)
    assert len(report.sent) == 1
    [copy] = copies(server)
    assert copy.params["from_chat_id"] == GROUP_1
    assert copy.params["message_id"] == spoken.message_id
    played = played_copy(server, copy)
    assert played.extra["voice"]["file_id"] == "voice-a" and "张阿姨" in (played.caption or "")
    assert any("条居民语音" in (r.text or "") for r in server.sent(chat_id=WORKER_1))

    [register, _] = played.callback_data
    await server.tap(played, WORKER_1, register)
    await idle(server, gridbot)
    picks = stored(server, WORKER_1, played.message_id).callback_data
    leak = next(d for d in picks if d.startswith("v:c.water_leak:"))
    await server.tap(played, WORKER_1, leak)
    await idle(server, gridbot)
    assert any("请直接发送地点" in (r.text or "") for r in server.sent(chat_id=WORKER_1))

    await server.post(WORKER_1, WORKER_1, "8号楼3单元 顶楼漏水 家里老人不方便")
    await idle(server, gridbot)
    assert gridbot.services is not None
    async with gridbot.services.db.read() as uow:
        [ticket] = await uow.queries.of_reporter(RESIDENT, limit=5)
    assert (ticket.category, ticket.building, ticket.unit) == ("water_leak", "8", "3")
    assert ticket.source_message_id == spoken.message_id and ticket.text.startswith("[语音]")
    [card] = server.sent(chat_id=GROUP_1, method="sendMessage")
    assert card.params["reply_parameters"]["message_id"] == spoken.message_id
    assert any("已登记为工单" in (r.text or "") for r in server.sent(chat_id=WORKER_1))


async def test_a_voice_followed_by_a_text_report_is_not_sent(
    server: LocalBotApi, gridbot: GridBot, clock: FakeClock
) -> None:
    await server.start_private(WORKER_1)
    await server.post(GROUP_1, RESIDENT, extra=voice("b"))
    await server.post(GROUP_1, RESIDENT, "5号楼电梯坏了 困人了")
    await server.post(GROUP_1, RESIDENT_2, extra={"video_note": {
        "file_id": "vn-1", "file_unique_id": "vn-u1", "length": 240, "duration": 8}})
    await idle(server, gridbot)
    report = await batch(server, gridbot, clock)
    assert report.skipped == 1 and len(report.sent) == 1
    [copy] = copies(server)
    assert "视频消息" in (copy.text or "")


async def test_not_a_report_dismisses_the_voice(
    server: LocalBotApi, gridbot: GridBot, clock: FakeClock
) -> None:
    await server.start_private(WORKER_1)
    await server.post(GROUP_1, RESIDENT, extra=voice("c"))
    await server.post(GROUP_1, RESIDENT_2, extra=voice("d"))
    await idle(server, gridbot)
    await batch(server, gridbot, clock)
    first, _ = copies(server)
    headers = [r for r in server.sent(chat_id=WORKER_1) if "条居民语音" in (r.text or "")]
    assert len(headers) == 1 and "2 条" in (headers[0].text or "")  # one batch
    played = played_copy(server, first)
    await server.tap(played, WORKER_1, played.callback_data[1])
    await idle(server, gridbot)
    assert any("不是诉求" in (a.text or "") for a in server.callback_answers)
    assert stored(server, WORKER_1, played.message_id).callback_data == []
    await server.post(WORKER_1, WORKER_1, "8号楼漏水")  # not taken as a voice's place
    await idle(server, gridbot)
    assert gridbot.services is not None
    async with gridbot.services.db.read() as uow:
        assert await uow.queries.of_reporter(RESIDENT, limit=5) == []


async def test_a_resident_cannot_answer_for_the_worker(
    server: LocalBotApi, gridbot: GridBot, clock: FakeClock
) -> None:
    await server.start_private(WORKER_1)
    await server.post(GROUP_1, RESIDENT, extra=voice("e"))
    await idle(server, gridbot)
    await batch(server, gridbot, clock)
    [copy] = copies(server)
    played = played_copy(server, copy)
    await server.tap(played, RESIDENT, played.callback_data[1], verify=False)
    await idle(server, gridbot)
    assert stored(server, WORKER_1, played.message_id).callback_data != []


async def test_a_group_can_turn_voices_off(
    server: LocalBotApi, community: CommunityConfig, clock: FakeClock, db_path: str
) -> None:
    quiet = replace(community, conversations=replace(community.conversations,
                                                     voice_off_chats=(GROUP_1,)))
    bot = GridBot(quiet, server.token, db_path, clock=clock, options=fast_options(server))
    await bot.start()
    try:
        await server.start_private(WORKER_1)
        await server.post(GROUP_1, RESIDENT, extra=voice("f"))
        await idle(server, bot)
        assert (await batch(server, bot, clock)).sent == []
        assert copies(server) == []
    finally:
        await bot.stop()


async def test_a_voice_in_the_private_chat_gets_asked_for_text(
    server: LocalBotApi, gridbot: GridBot, clock: FakeClock
) -> None:
    await server.start_private(RESIDENT)
    await server.post(RESIDENT, RESIDENT, extra=voice("p"))
    await idle(server, gridbot)
    assert any("文字" in (r.text or "") for r in server.sent(chat_id=RESIDENT))
    assert (await batch(server, gridbot, clock)).sent == []
