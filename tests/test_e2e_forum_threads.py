"""Forum groups: every answer goes to the topic it answers, not the master ticket's topic
nor the topic the group was bound in."""

from __future__ import annotations

from localapi import LocalBotApi
from runtime.app import GridBot
from tests.support.e2e import RESIDENT, RESIDENT_2, SUPERVISOR, WORKER_1, borderline_example

FORUM = -1005555


async def forum_with_two_topics(server: LocalBotApi, gridbot: GridBot) -> tuple[int, int]:
    server.group(FORUM, "阳光花园论坛群", is_forum=True, admins=[SUPERVISOR],
                 members=[SUPERVISOR, RESIDENT, RESIDENT_2, WORKER_1])
    repairs = await server.create_topic(FORUM, SUPERVISOR, "报修")
    chatter = await server.create_topic(FORUM, SUPERVISOR, "闲聊")
    await server.command(FORUM, SUPERVISOR, "/bind 第一网格", thread_id=repairs)
    await server.wait_consumed()
    await gridbot.until_idle()
    return repairs, chatter


def sent_in(server: LocalBotApi, marker: str) -> list[int | None]:
    """The topic of every message the bot sent to the forum containing ``marker``."""
    return [r.params.get("message_thread_id") for r in server.sent(chat_id=FORUM)
            if r.method == "sendMessage" and marker in (r.text or "")]


async def test_a_supporters_reply_goes_to_the_supporters_topic(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    repairs, chatter = await forum_with_two_topics(server, gridbot)
    await server.post(FORUM, RESIDENT, "8号楼3单元楼道灯坏了", thread_id=repairs)
    await server.wait_consumed()
    await gridbot.until_idle()
    await server.post(FORUM, RESIDENT_2, "8号楼3单元楼道灯坏了 晚上好黑", thread_id=chatter)
    await server.wait_consumed()
    await gridbot.until_idle()
    assert sent_in(server, "已为您附议") == [chatter]
    assert set(sent_in(server, "📋 工单 #")) == {repairs}  # the card stays where it was


async def test_a_prompts_answer_goes_to_the_topic_it_was_asked_in(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    repairs, chatter = await forum_with_two_topics(server, gridbot)
    text, _category = borderline_example()
    await server.post(FORUM, RESIDENT, text, thread_id=chatter)
    [question] = await server.wait_for(lambda: [
        r for r in server.sent(chat_id=FORUM, method="sendMessage")
        if "登记为工单" in str(r.params.get("reply_markup"))])
    assert question.params.get("message_thread_id") == chatter
    assert question.message is not None
    message = server.message(FORUM, question.message.message_id)
    assert message is not None
    data = question.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await server.tap(message, RESIDENT, data)
    await server.wait_for(lambda: [a for a in server.callback_answers
                                   if "已登记" in (a.text or "")])
    await gridbot.until_idle()
    cards = sent_in(server, "📋 工单 #")
    assert cards and set(cards) == {chatter}  # not the topic the group was bound in
    assert repairs != chatter
