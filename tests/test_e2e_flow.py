"""The closed loop end to end: report → card → worker buttons → resolved → rating."""

from __future__ import annotations

from localapi import LocalBotApi
from runtime.app import GridBot
from tests.support.e2e import GROUP_1, RESIDENT, RESIDENT_2, SUPERVISOR, WORKER_1


def buttons_of(request: object) -> list[str]:
    markup = request.params.get("reply_markup") or {}  # type: ignore[attr-defined]
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


async def test_report_becomes_ticket_card_and_worker_brief(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    await server.start_private(WORKER_1)
    await server.wait_sent(chat_id=WORKER_1)
    report = await server.post(GROUP_1, RESIDENT, "8号楼3单元顶楼漏雨了 家里天花板都湿了 @wangfang_grid")
    [card] = await server.wait_sent(chat_id=GROUP_1, method="sendMessage")
    assert card.params["reply_parameters"]["message_id"] == report.message_id
    assert "漏水" in card.text and "8号楼3单元" in card.text
    assert "王芳" in card.text and "预计" in card.text
    briefs = await server.wait_sent(chat_id=WORKER_1, count=2)
    brief = briefs[-1]
    assert "新工单" in brief.text and "8号楼3单元" in brief.text and "张阿姨" in brief.text
    assert any(data.startswith("t:acc:") for data in buttons_of(brief))


async def test_chatter_gets_no_answer_in_the_group(server: LocalBotApi, gridbot: GridBot) -> None:
    await server.post(GROUP_1, RESIDENT, "大家早上好")
    await server.post(GROUP_1, RESIDENT_2, "收到,谢谢网格员")
    await server.post(GROUP_1, RESIDENT, "明天几点团购接龙呀")
    await server.wait_consumed()
    marker = await server.post(GROUP_1, RESIDENT, "5号楼电梯坏了 困人了")
    sent = await server.wait_sent(chat_id=GROUP_1, method="sendMessage")
    assert len(sent) == 1
    assert sent[0].params["reply_parameters"]["message_id"] == marker.message_id


async def test_full_loop_with_buttons_and_rating(server: LocalBotApi, gridbot: GridBot) -> None:
    await server.start_private(WORKER_1)
    await server.wait_sent(chat_id=WORKER_1)
    await server.post(GROUP_1, RESIDENT, "3号楼楼道灯坏了好几天了 晚上看不见")
    [card] = await server.wait_sent(chat_id=GROUP_1, method="sendMessage")
    brief_request = (await server.wait_sent(chat_id=WORKER_1, count=2))[-1]
    brief = server.message(WORKER_1, brief_request.message.message_id)
    accept = next(d for d in buttons_of(brief_request) if d.startswith("t:acc:"))

    await server.tap(brief, WORKER_1, accept)
    edit = await server.wait_for(lambda: [r for r in server.sent(chat_id=GROUP_1,
                                          method="editMessageText") if "已接单" in r.text])
    assert edit[0].params["message_id"] == card.message.message_id
    answers = await server.wait_for(lambda: server.callback_answers)
    assert "接单" in answers[-1].text

    ticket_id = accept.split(":")[-1]
    await server.tap(brief, WORKER_1, f"t:done:{ticket_id}", verify=False)
    rating_request = await server.wait_for(lambda: [r for r in server.sent(
        chat_id=GROUP_1, method="sendMessage") if "请您评价" in (r.text or "")])
    rate_message = server.message(GROUP_1, rating_request[0].message.message_id)
    assert f"r:1:{ticket_id}" in buttons_of(rating_request[0])

    # Only the reporter's tap counts.
    await server.tap(rate_message, RESIDENT_2, f"r:1:{ticket_id}")
    refusal = await server.wait_for(lambda: [a for a in server.callback_answers
                                             if "只有反映" in (a.text or "")])
    assert refusal
    await server.tap(rate_message, RESIDENT, f"r:1:{ticket_id}")
    await server.wait_for(lambda: [a for a in server.callback_answers
                                   if "感谢" in (a.text or "")])
    closed = await server.wait_for(lambda: [r for r in server.sent(
        chat_id=GROUP_1, method="editMessageText") if "满意" in r.text])
    assert "已关闭" in closed[-1].text


async def test_resident_cannot_accept_by_command(server: LocalBotApi, gridbot: GridBot) -> None:
    await server.post(GROUP_1, RESIDENT, "8号楼门口垃圾好几天没人清理了 臭死了")
    [card] = await server.wait_sent(chat_id=GROUP_1, method="sendMessage")
    number = card.text.split("#")[1].split(" ")[0]
    await server.command(GROUP_1, RESIDENT_2, f"/accept {number}")
    [_card, refusal] = await server.wait_sent(chat_id=GROUP_1, method="sendMessage", count=2)
    assert "工作人员" in refusal.text
    await server.command(GROUP_1, SUPERVISOR, "/accept abc")
    replies = await server.wait_sent(chat_id=GROUP_1, method="sendMessage", count=3)
    assert "不是有效的工单编号" in replies[-1].text
