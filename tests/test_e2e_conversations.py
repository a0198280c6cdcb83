"""End to end: messages read in a ticket's context (replies under a card, under a report,
under a 附议 confirmation) and split reports, through the local Bot API."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from community import CommunityConfig
from community.conversations import PlacePoint
from localapi import LocalBotApi, Request
from localapi.state import Message
from runtime.app import GridBot
from tests.support.e2e import GROUP_1, RESIDENT, RESIDENT_2, RESIDENT_3, WORKER_1, fast_options, idle
from tickets.clock import FakeClock
from tickets.model import Actor, Ticket, TicketState


async def tickets_of(gridbot: GridBot, user_id: int) -> list[Ticket]:
    assert gridbot.services is not None
    async with gridbot.services.db.read() as uow:
        return await uow.queries.of_reporter(user_id, limit=50)


async def events_of(gridbot: GridBot, ticket_id: int) -> list[str]:
    assert gridbot.services is not None
    async with gridbot.services.db.read() as uow:
        return [e.action for e in await uow.events.for_ticket(ticket_id)]


def bot_message(server: LocalBotApi, chat_id: int, request: Request) -> Message:
    """The stored message a bot request produced (to reply to or tap)."""
    assert request.message is not None
    found = server.message(chat_id, request.message.message_id)
    assert found is not None
    return found


async def report_with_card(server: LocalBotApi, gridbot: GridBot, text: str,
                           user: int = RESIDENT) -> tuple[Ticket, Message, Message]:
    """Post a report; return its ticket, the report message and the card message."""
    report = await server.post(GROUP_1, user, text)
    await idle(server, gridbot)
    card_request = next(r for r in server.sent(chat_id=GROUP_1, method="sendMessage")
                        if r.params["reply_parameters"]["message_id"] == report.message_id)
    card = bot_message(server, GROUP_1, card_request)
    [ticket] = [t for t in await tickets_of(gridbot, user)
                if t.source_message_id == report.message_id]
    return ticket, report, card


async def resolve(gridbot: GridBot, ticket: Ticket) -> None:
    assert gridbot.services is not None
    services = gridbot.services
    worker = Actor.resolve(services.config, WORKER_1)
    await services.tickets.accept(ticket.id or 0, worker)
    await services.tickets.resolve(ticket.id or 0, worker, "已修好")


async def current(gridbot: GridBot, ticket: Ticket) -> Ticket:
    assert gridbot.services is not None
    async with gridbot.services.db.read() as uow:
        found = await uow.tickets.get(ticket.id or 0)
    assert found is not None
    return found


def group_texts(server: LocalBotApi, since: int = 0) -> list[str]:
    return [r.text or "" for r in server.sent(chat_id=GROUP_1) if r.seq > since]


def last_seq(server: LocalBotApi) -> int:
    sent = server.sent()
    return sent[-1].seq if sent else 0


# -- replies under a card --------------------------------------------------------------------


async def test_an_addition_under_the_card_fills_the_place_and_tells_the_worker(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    await server.start_private(WORKER_1)
    ticket, _, card = await report_with_card(server, gridbot, "8号楼顶楼漏水了 天花板都湿了")
    assert ticket.unit is None and ticket.room is None
    mark = last_seq(server)
    await server.post(GROUP_1, RESIDENT, "补充一下 是3单元502室", reply_to=card)
    await idle(server, gridbot)
    updated = await current(gridbot, ticket)
    assert (updated.building, updated.unit, updated.room) == ("8", "3", "502")
    assert len(await tickets_of(gridbot, RESIDENT)) == 1
    assert "detail" in await events_of(gridbot, ticket.id or 0)
    edits = [r for r in server.sent(chat_id=GROUP_1, method="editMessageText") if r.seq > mark]
    assert edits and "8号楼3单元" in (edits[-1].text or "") and "502" not in (edits[-1].text or "")
    told = [r.text or "" for r in server.sent(chat_id=WORKER_1) if r.seq > mark]
    assert any("补充" in t and "502" in t for t in told)
    assert not [r for r in server.sent(chat_id=GROUP_1, method="sendMessage") if r.seq > mark]


async def test_thanks_and_chatter_under_the_card_are_left_alone(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    await server.start_private(WORKER_1)
    ticket, _, card = await report_with_card(server, gridbot, "5号楼电梯坏了 一直停在三楼")
    await idle(server, gridbot)
    before = await events_of(gridbot, ticket.id or 0)
    mark = last_seq(server)
    await server.post(GROUP_1, RESIDENT, "好的 谢谢网格员🙏", reply_to=card)
    await server.post(GROUP_1, RESIDENT_2, "哈哈哈", reply_to=card)
    await idle(server, gridbot)
    assert await events_of(gridbot, ticket.id or 0) == before
    assert [r for r in server.sent() if r.seq > mark] == []
    assert await tickets_of(gridbot, RESIDENT_2) == []


async def test_an_addition_under_the_reported_message_itself(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    ticket, report, _ = await report_with_card(server, gridbot, "12号楼楼道灯不亮了")
    await server.post(GROUP_1, RESIDENT, "忘了说 是2单元", reply_to=report)
    await idle(server, gridbot)
    assert (await current(gridbot, ticket)).unit == "2"
    assert len(await tickets_of(gridbot, RESIDENT)) == 1


async def test_another_problem_under_a_card_is_a_new_report(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    ticket, _, card = await report_with_card(server, gridbot, "8号楼顶楼漏水了")
    await server.post(GROUP_1, RESIDENT, "另外3号楼门口的路灯也坏了", reply_to=card)
    await idle(server, gridbot)
    assert len(await tickets_of(gridbot, RESIDENT)) == 2
    assert "detail" not in await events_of(gridbot, ticket.id or 0)


async def test_a_photo_under_the_card_joins_the_ticket_and_reaches_the_worker(
    server: LocalBotApi, gridbot: GridBot, clock: FakeClock
) -> None:
    await server.start_private(WORKER_1)
    ticket, _, card = await report_with_card(server, gridbot, "8号楼门口的下水道堵了 污水漫出来")
    clock.advance(minutes=30)  # long after the report: only the reply ties the photo to it
    await server.post(GROUP_1, RESIDENT, photo=True, reply_to=card)
    await idle(server, gridbot)
    assert (await current(gridbot, ticket)).photos_count == 1
    assert server.sent(chat_id=WORKER_1, method="sendPhoto")
    await server.post(GROUP_1, RESIDENT_2, photo=True, reply_to=card)  # not the reporter's
    await idle(server, gridbot)
    assert (await current(gridbot, ticket)).photos_count == 1


async def test_a_reply_in_the_private_chat_adds_to_a_private_report(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    await server.start_private(RESIDENT)
    await server.post(RESIDENT, RESIDENT, "我家楼上漏水 天花板在滴水 我住8号楼")
    await idle(server, gridbot)
    [ticket] = await tickets_of(gridbot, RESIDENT)
    notice = next(r for r in server.sent(chat_id=RESIDENT) if "已登记为工单" in (r.text or ""))
    await server.post(RESIDENT, RESIDENT, "补充 是2单元301室",
                      reply_to=bot_message(server, RESIDENT, notice))
    await idle(server, gridbot)
    updated = await current(gridbot, ticket)
    assert (updated.unit, updated.room) == ("2", "301")
    assert any("已补充到工单" in (r.text or "") for r in server.sent(chat_id=RESIDENT))
    assert len(await tickets_of(gridbot, RESIDENT)) == 1


# -- not fixed ----------------------------------------------------------------------------------


async def test_not_fixed_from_the_reporter_reopens_within_the_window(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    await server.start_private(WORKER_1)
    ticket, _, card = await report_with_card(server, gridbot, "8号楼3单元顶楼漏水了")
    await resolve(gridbot, ticket)
    await idle(server, gridbot)
    mark = last_seq(server)
    await server.post(GROUP_1, RESIDENT, "还没修好啊,今天又漏了", reply_to=card)
    await idle(server, gridbot)
    reopened = await current(gridbot, ticket)
    assert reopened.state is TicketState.ASSIGNED and reopened.reopen_count == 1
    assert len(await tickets_of(gridbot, RESIDENT)) == 1
    assert any("重新打开" in t for t in group_texts(server, mark))
    assert any("重新打开" in (r.text or "") for r in server.sent(chat_id=WORKER_1)
               if r.seq > mark)


async def test_not_fixed_after_the_window_opens_a_linked_ticket(
    server: LocalBotApi, gridbot: GridBot, clock: FakeClock
) -> None:
    await server.start_private(WORKER_1)
    ticket, _, card = await report_with_card(server, gridbot, "8号楼3单元顶楼漏水了")
    await resolve(gridbot, ticket)
    await idle(server, gridbot)
    assert gridbot.services is not None
    clock.advance(gridbot.services.config.sla.reopen_window + timedelta(days=1))
    await server.post(GROUP_1, RESIDENT, "又开始漏了", reply_to=card)
    await idle(server, gridbot)
    old = await current(gridbot, ticket)
    assert old.state is TicketState.RESOLVED and old.reopen_count == 0
    new = [t for t in await tickets_of(gridbot, RESIDENT) if t.id != ticket.id]
    assert len(new) == 1
    assert (new[0].category, new[0].building, new[0].unit) == ("water_leak", "8", "3")
    async with gridbot.services.db.read() as uow:
        assert await uow.conversations.earlier_of(new[0].id or 0) == ticket.id
    assert "link" in await events_of(gridbot, ticket.id or 0)
    assert any("后续" in (r.text or "") for r in server.sent(chat_id=WORKER_1))


async def test_not_fixed_from_a_neighbour_supports_an_open_ticket_or_opens_a_linked_one(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    ticket, _, card = await report_with_card(server, gridbot, "6号楼电梯坏了 困在里面出不来")
    await server.post(GROUP_1, RESIDENT_2, "我家也是 电梯又坏了", reply_to=card)
    await idle(server, gridbot)
    assert (await current(gridbot, ticket)).supporters_count == 1
    assert await tickets_of(gridbot, RESIDENT_2) == []

    await resolve(gridbot, ticket)
    await idle(server, gridbot)
    await server.post(GROUP_1, RESIDENT_2, "还是坏的 根本没修好", reply_to=card)
    await idle(server, gridbot)
    [follow_up] = await tickets_of(gridbot, RESIDENT_2)
    assert follow_up.category == ticket.category and follow_up.building == "6"
    assert (await current(gridbot, ticket)).state is TicketState.RESOLVED


# -- progress questions ------------------------------------------------------------------------


async def test_a_progress_question_gets_state_assignee_and_deadline_once_per_interval(
    server: LocalBotApi, gridbot: GridBot, clock: FakeClock
) -> None:
    ticket, _, card = await report_with_card(server, gridbot, "9号楼门口的垃圾三天没人收了")
    mark = last_seq(server)
    await server.post(GROUP_1, RESIDENT, "什么时候来处理啊?", reply_to=card)
    await idle(server, gridbot)
    answers = [t for t in group_texts(server, mark) if f"#{ticket.number}" in t]
    assert len(answers) == 1
    assert "负责 王芳" in answers[0] and "预计" in answers[0] and "已派单" in answers[0]

    await server.post(GROUP_1, RESIDENT_2, "有人管吗", reply_to=card)
    await idle(server, gridbot)
    assert len([t for t in group_texts(server, mark) if f"#{ticket.number}" in t]) == 1

    clock.advance(minutes=6)
    await server.post(GROUP_1, RESIDENT_2, "請問什麼時候來修", reply_to=card)
    await idle(server, gridbot)
    assert len([t for t in group_texts(server, mark) if f"#{ticket.number}" in t]) == 2

    # A reply to the bot's answer is about the same ticket: "me too" is a 附议, no ticket.
    answer = [r for r in server.sent(chat_id=GROUP_1, method="sendMessage") if r.seq > mark][-1]
    await server.post(GROUP_1, RESIDENT_3, "我家门口也是 垃圾堆了好几天",
                      reply_to=bot_message(server, GROUP_1, answer))
    await idle(server, gridbot)
    assert (await current(gridbot, ticket)).supporters_count == 1
    assert await tickets_of(gridbot, RESIDENT_3) == []
    assert len(await tickets_of(gridbot, RESIDENT)) == 1
    assert await tickets_of(gridbot, RESIDENT_2) == []


async def test_a_question_under_the_support_confirmation_is_about_that_ticket(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    ticket, _, _ = await report_with_card(server, gridbot, "7号楼停水了 一滴水都没有")
    await server.post(GROUP_1, RESIDENT_2, "7号楼也停水了")
    await idle(server, gridbot)
    confirmation = next(r for r in server.sent(chat_id=GROUP_1, method="sendMessage")
                        if "附议" in (r.text or ""))
    message = bot_message(server, GROUP_1, confirmation)
    mark = last_seq(server)
    await server.post(GROUP_1, RESIDENT_2, "那大概几点能来水", reply_to=message)
    await idle(server, gridbot)
    assert any(f"#{ticket.number}" in t for t in group_texts(server, mark))
    assert await tickets_of(gridbot, RESIDENT_2) == []


# -- split reports -------------------------------------------------------------------------------


async def test_a_report_split_over_three_messages_makes_one_ticket(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    await server.post(GROUP_1, RESIDENT, "8号楼")
    await server.post(GROUP_1, RESIDENT, "3单元")
    last = await server.post(GROUP_1, RESIDENT, "顶楼漏水了")
    await idle(server, gridbot)
    [ticket] = await tickets_of(gridbot, RESIDENT)
    assert (ticket.building, ticket.unit, ticket.category) == ("8", "3", "water_leak")
    assert ticket.source_message_id == last.message_id
    cards = [r for r in server.sent(chat_id=GROUP_1, method="sendMessage")]
    assert len(cards) == 1 and "8号楼3单元" in (cards[0].text or "")


async def test_the_place_after_the_report_updates_the_ticket(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    await server.post(GROUP_1, RESIDENT, "楼道灯坏了 晚上黑乎乎的")
    await server.post(GROUP_1, RESIDENT, "10号楼2单元")
    await idle(server, gridbot)
    [ticket] = await tickets_of(gridbot, RESIDENT)
    assert (ticket.building, ticket.unit) == ("10", "2")
    assert len(server.sent(chat_id=GROUP_1, method="sendMessage")) == 1
    edits = server.sent(chat_id=GROUP_1, method="editMessageText")
    assert edits and "10号楼2单元" in (edits[-1].text or "")


async def test_the_same_problem_again_with_its_place_completes_the_first_ticket(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    await server.post(GROUP_1, RESIDENT, "顶楼漏水了")
    await server.post(GROUP_1, RESIDENT, "是8号楼3单元顶楼漏水")
    await idle(server, gridbot)
    [ticket] = await tickets_of(gridbot, RESIDENT)
    assert (ticket.building, ticket.unit) == ("8", "3")
    assert len(server.sent(chat_id=GROUP_1, method="sendMessage")) == 1
    await server.post(GROUP_1, RESIDENT, "还有6号楼电梯也坏了")  # another problem: its own ticket
    await idle(server, gridbot)
    assert len(await tickets_of(gridbot, RESIDENT)) == 2


async def test_unrelated_messages_from_one_person_are_not_merged(
    server: LocalBotApi, gridbot: GridBot, clock: FakeClock
) -> None:
    await server.post(GROUP_1, RESIDENT, "8号楼的快递到了吗")
    await server.post(GROUP_1, RESIDENT, "顶楼漏水了")
    await idle(server, gridbot)
    [ticket] = await tickets_of(gridbot, RESIDENT)
    assert ticket.building is None

    await server.post(GROUP_1, RESIDENT_2, "5号楼")  # a place, then nothing for a while
    await idle(server, gridbot)
    clock.advance(minutes=3)
    await server.post(GROUP_1, RESIDENT_2, "楼道灯坏了")
    await idle(server, gridbot)
    [other] = await tickets_of(gridbot, RESIDENT_2)
    assert other.building is None


async def test_a_fragment_survives_a_restart(
    server: LocalBotApi, community: CommunityConfig, clock: FakeClock, db_path: str
) -> None:
    first = GridBot(community, server.token, db_path, clock=clock, options=fast_options(server))
    await first.start()
    await server.post(GROUP_1, RESIDENT, "11号楼")
    await idle(server, first)
    await first.stop()
    second = GridBot(community, server.token, db_path, clock=clock, options=fast_options(server))
    await second.start()
    try:
        await server.post(GROUP_1, RESIDENT, "电梯坏了 下不了楼")
        await idle(server, second)
        [ticket] = await tickets_of(second, RESIDENT)
        assert ticket.building == "11"
    finally:
        await second.stop()


# -- forwarded messages --------------------------------------------------------------------------

FORWARDED = {"forward_origin": {"type": "hidden_user", "date": 1764000000,
                                "sender_user_name": "自来水公司"}}


async def test_a_forwarded_notice_is_not_a_report_but_the_forwarders_words_are(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    await server.post(GROUP_1, RESIDENT, "停水通知:明天8号楼停水 维修管道漏水", extra=FORWARDED)
    await idle(server, gridbot)
    assert await tickets_of(gridbot, RESIDENT) == []
    assert server.sent(chat_id=GROUP_1) == []
    await server.post(GROUP_1, RESIDENT, "我们3号楼楼道也漏水了 好几天了")
    await idle(server, gridbot)
    assert len(await tickets_of(gridbot, RESIDENT)) == 1


# -- location pins ------------------------------------------------------------------------------

# Points 8号楼 and 12号楼 of 阳光花园 about 110 m apart; the compound's centre between them.
POINTS = (PlacePoint("阳光花园", "8", 30.27410, 120.15510),
          PlacePoint("阳光花园", "12", 30.27510, 120.15510),
          PlacePoint("阳光花园", None, 30.27460, 120.15530))


def pin(lat: float, lon: float) -> dict:
    return {"location": {"latitude": lat, "longitude": lon}}


async def pinned_bot(server: LocalBotApi, community: CommunityConfig, clock: FakeClock,
                     db_path: str) -> GridBot:
    config = replace(community, conversations=replace(community.conversations, points=POINTS))
    bot = GridBot(config, server.token, db_path, clock=clock, options=fast_options(server))
    await bot.start()
    return bot


async def test_a_pin_after_the_report_places_the_ticket(
    server: LocalBotApi, community: CommunityConfig, clock: FakeClock, db_path: str
) -> None:
    bot = await pinned_bot(server, community, clock, db_path)
    try:
        await server.post(GROUP_1, RESIDENT, "楼道灯坏了 晚上黑乎乎的")
        await idle(server, bot)
        clock.advance(minutes=4)  # longer than the split window, inside the pin window
        await server.post(GROUP_1, RESIDENT, extra=pin(30.27412, 120.15505))
        await idle(server, bot)
        [ticket] = await tickets_of(bot, RESIDENT)
        assert (ticket.compound, ticket.building) == ("阳光花园", "8")
        edits = server.sent(chat_id=GROUP_1, method="editMessageText")
        assert edits and "阳光花园8号楼" in (edits[-1].text or "")
    finally:
        await bot.stop()


async def test_a_pin_before_the_report_is_its_place_and_a_far_pin_is_nothing(
    server: LocalBotApi, community: CommunityConfig, clock: FakeClock, db_path: str
) -> None:
    bot = await pinned_bot(server, community, clock, db_path)
    try:
        await server.post(GROUP_1, RESIDENT, extra=pin(30.27508, 120.15512))
        clock.advance(minutes=3)
        await server.post(GROUP_1, RESIDENT, "电梯坏了 困人了 快来")
        await idle(server, bot)
        [ticket] = await tickets_of(bot, RESIDENT)
        assert (ticket.compound, ticket.building) == ("阳光花园", "12")

        await server.post(GROUP_1, RESIDENT_2, extra=pin(30.30, 120.20))  # kilometres away
        await server.post(GROUP_1, RESIDENT_2, "楼下垃圾桶满了没人收")
        await idle(server, bot)
        [other] = await tickets_of(bot, RESIDENT_2)
        assert other.compound is None and other.building is None
    finally:
        await bot.stop()


async def test_a_venue_is_read_by_its_name(
    server: LocalBotApi, community: CommunityConfig, clock: FakeClock, db_path: str
) -> None:
    bot = await pinned_bot(server, community, clock, db_path)
    try:
        await server.post(GROUP_1, RESIDENT, "门口路灯不亮了")
        await server.post(GROUP_1, RESIDENT, extra={
            "location": {"latitude": 30.0, "longitude": 120.0},
            "venue": {"location": {"latitude": 30.0, "longitude": 120.0},
                      "title": "阳光花园5号楼", "address": "幸福路88号"}})
        await idle(server, bot)
        [ticket] = await tickets_of(bot, RESIDENT)
        assert (ticket.compound, ticket.building) == ("阳光花园", "5")
    finally:
        await bot.stop()
