"""End to end in the group: bursts, privacy, prompts, edits, photos, odd senders."""

from __future__ import annotations

from localapi import LocalBotApi
from runtime.app import GridBot
from tests.support.e2e import (
    GROUP_1,
    RESIDENT,
    RESIDENT_2,
    RESIDENT_3,
    SUPERVISOR,
    WORKER_1,
    borderline_example,
)


async def tickets_of(gridbot: GridBot, user_id: int) -> list:
    assert gridbot.services is not None
    async with gridbot.services.db.read() as uow:
        return await uow.queries.of_reporter(user_id, limit=50)


async def all_tickets(gridbot: GridBot) -> list:
    assert gridbot.services is not None
    async with gridbot.services.db.read() as uow:
        found = []
        for grid in ("第一网格", "第二网格"):
            found += await uow.queries.open_in_grid(grid, limit=500)
    return found


async def test_burst_of_thirty_makes_one_card_not_thirty_replies(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    phrasings = ["7号楼停水了", "7号楼也没水了", "我家7号楼也停水了!!", "7栋停水了什么时候来水",
                 "7号楼没水了 做不了饭", "7号楼停水了吗 我家也没水"]
    for index in range(30):
        user = 3000 + index
        server.user(user, f"居民{index}")
        await server.post(GROUP_1, user, phrasings[index % len(phrasings)])
    await server.wait_consumed(timeout=10)
    await gridbot.until_idle()
    tickets = await all_tickets(gridbot)
    assert len(tickets) == 1
    assert tickets[0].supporters_count == 29
    new_messages = server.sent(chat_id=GROUP_1, method="sendMessage")
    assert len(new_messages) <= 2  # the card and the first supporter's reply
    edits = server.sent(chat_id=GROUP_1, method="editMessageText")
    assert edits and "29 人" in edits[-1].text


async def test_phone_and_room_numbers_are_masked_in_the_group(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    await server.start_private(WORKER_1)
    await server.post(GROUP_1, RESIDENT, "8号楼3单元601室漏水了 我电话13812345678 快来看看")
    [card] = await server.wait_sent(chat_id=GROUP_1, method="sendMessage")
    assert "13812345678" not in card.text and "601" not in card.text
    brief = (await server.wait_sent(chat_id=WORKER_1, count=2))[-1]
    assert "601" in brief.text and "13812345678" in brief.text  # the worker sees it all


async def test_sensitive_categories_show_no_details_in_the_group(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    await server.start_private(WORKER_1)
    await server.post(GROUP_1, RESIDENT, "8号楼独居的王奶奶好几天没见了 敲门也没人应")
    [card] = await server.wait_sent(chat_id=GROUP_1, method="sendMessage")
    assert "王奶奶" not in card.text and "8号楼" not in card.text
    assert "私下联系" in card.text
    brief = (await server.wait_sent(chat_id=WORKER_1, count=2))[-1]
    assert "王奶奶" in brief.text


async def test_borderline_message_gets_a_question_and_yes_files_it(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    text, category = borderline_example()
    await server.post(GROUP_1, RESIDENT, text)
    [question] = await server.wait_sent(chat_id=GROUP_1, method="sendMessage")
    assert "登记为工单" in str(question.params["reply_markup"])
    data = question.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    message = server.message(GROUP_1, question.message.message_id)
    await server.tap(message, RESIDENT_2, data)  # not the author: refused
    await server.wait_for(lambda: [a for a in server.callback_answers if "不是给您" in a.text])
    assert await tickets_of(gridbot, RESIDENT) == []
    await server.tap(message, RESIDENT, data)
    await server.wait_for(lambda: [a for a in server.callback_answers if "已登记" in a.text])
    [ticket] = await tickets_of(gridbot, RESIDENT)
    assert ticket.category == category
    # A second "yes" (or a retry after a failure) files nothing new: same ticket.
    await server.tap(message, RESIDENT, data, verify=False)
    await server.wait_for(lambda: len([a for a in server.callback_answers
                                       if "已登记" in a.text]) >= 2)
    assert len(await tickets_of(gridbot, RESIDENT)) == 1
    no = data.replace("q:yes:", "q:no:")
    await server.tap(message, RESIDENT, no, verify=False)  # changing one's mind: too late
    await server.wait_for(lambda: [a for a in server.callback_answers if "失效" in a.text])


async def test_edit_updates_a_new_report_and_photos_attach(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    report = await server.post(GROUP_1, RESIDENT, "8号楼门口的路灯坏了", photo=True,
                               caption="8号楼门口的路灯坏了")
    await server.wait_sent(chat_id=GROUP_1, method="sendMessage")
    await server.post(GROUP_1, RESIDENT, photo=True)  # a second photo right after
    await server.edit(report, "8号楼和9号楼门口的路灯都坏了")
    await server.wait_consumed()
    await gridbot.until_idle()
    [ticket] = await tickets_of(gridbot, RESIDENT)
    assert ticket.text == "8号楼和9号楼门口的路灯都坏了"
    assert ticket.photos_count == 2


async def test_bots_channels_and_anonymous_admins_are_handled_deliberately(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    server.user(7777, "另一个机器人", username="other_bot", is_bot=True)
    await server.post(GROUP_1, 7777, "8号楼漏水了", is_bot=True)
    await server.post(GROUP_1, SUPERVISOR, "8号楼电梯坏了", sender_chat=GROUP_1)
    await server.command(GROUP_1, SUPERVISOR, "/open", sender_chat=GROUP_1)
    [answer] = await server.wait_sent(chat_id=GROUP_1, method="sendMessage")
    assert "匿名" in answer.text
    assert await all_tickets(gridbot) == []


async def test_staff_notices_in_the_group_are_not_tickets(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    await server.post(GROUP_1, WORKER_1, "各位邻居 明天上午8号楼停水检修 请提前储水")
    await server.post(GROUP_1, RESIDENT_3, "收到")
    await server.wait_consumed()
    await gridbot.until_idle()
    await server.post(GROUP_1, RESIDENT, "/my@gridbot_test_bot")
    await server.wait_sent(chat_id=GROUP_1, method="sendMessage")
    assert await all_tickets(gridbot) == []


async def test_staff_edits_in_the_group_do_not_file_tickets(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    notice = await server.post(GROUP_1, WORKER_1, "各位邻居下午好")
    await server.edit(notice, "8号楼电梯坏了 正在维修 请走楼梯")
    await server.wait_consumed()
    await gridbot.until_idle()
    assert await all_tickets(gridbot) == []
