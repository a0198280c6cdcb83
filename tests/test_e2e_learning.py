"""End to end (real bot, PTB's HTTP stack, the local Bot API): 改分类 from a worker's private
ticket message, /fix, and the labelled examples they leave behind; a community model and an
imported category take part in a running bot."""

from __future__ import annotations

from typing import Any

from community import CommunityConfig
from learning.ops import retrain
from learning.runtime import with_stored_categories
from localapi import LocalBotApi
from runtime.app import GridBot
from storage import open_database
from storage.learning_repo import NewExample
from tests.support.e2e import (
    GROUP_1,
    POLICE,
    RESIDENT,
    RESIDENT_2,
    WORKER_1,
    fast_options,
    file_report,
    texts_to,
)
from tests.support.learning import FAMILY
from tickets.clock import FakeClock


def _buttons(record: Any) -> list[str]:
    markup = record.params.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


async def test_recategorise_from_the_private_message_reroutes_and_is_stored(
        server: LocalBotApi, gridbot: GridBot) -> None:
    await server.start_private(WORKER_1)
    await server.start_private(POLICE)
    await server.wait_sent(chat_id=WORKER_1)
    number = await file_report(server, gridbot, "5号楼楼下晚上总有一帮人喝酒划拳 吵得没法睡")
    brief = next(r for r in server.sent(chat_id=WORKER_1) if "🆕 新工单" in (r.text or ""))
    assert brief.message is not None
    message = server.message(WORKER_1, brief.message.message_id)
    assert message is not None
    cat = next(d for d in _buttons(brief) if d.startswith("t:cat:"))
    ticket_id = int(cat.split(":")[2])
    await server.tap(message, WORKER_1, cat)
    picked = await server.wait_for(lambda: [r for r in server.sent(
        chat_id=WORKER_1, method="editMessageReplyMarkup") if "c:public_order" in str(r.params)])
    assert picked
    # a resident forging the pick is refused, and nothing changes
    await server.tap(message, RESIDENT, f"c:public_order:{ticket_id}", verify=False)
    await server.wait_for(lambda: [a for a in server.callback_answers if "工作人员" in (a.text or "")])
    await server.tap(message, WORKER_1, f"c:public_order:{ticket_id}", verify=False)
    await server.wait_for(lambda: [a for a in server.callback_answers if "已改为" in (a.text or "")])
    await gridbot.until_idle()
    assert gridbot.services is not None
    async with gridbot.services.db.read() as uow:
        ticket = await uow.tickets.get(ticket_id)
        example = await uow.learning.for_ticket(ticket_id)
    assert ticket is not None and ticket.category == "public_order"
    assert ticket.assignee == "刘警官"  # the police officer's category: re-routed
    assert example is not None and example.category == "public_order"
    assert example.source == "correction" and example.by_key == "王芳"
    assert example.old_category != "public_order"
    # the police officer got the brief; the group card was edited to the new category
    await server.wait_for(lambda: [t for t in texts_to(server, POLICE) if number in t])
    await server.wait_for(lambda: [r for r in server.sent(chat_id=GROUP_1)
                                   if r.method == "editMessageText"
                                   and "治安" in (r.params.get("text") or "")])


async def test_fix_corrects_the_place_and_accept_confirms(server: LocalBotApi,
                                                          gridbot: GridBot) -> None:
    number = await file_report(server, gridbot, "楼道灯坏了好几天了", user=RESIDENT_2)
    await server.command(GROUP_1, WORKER_1, f"/fix {number} 8号楼3单元502")
    await server.command(GROUP_1, WORKER_1, f"/fix {number} 随便")
    await server.command(GROUP_1, WORKER_1, f"/accept {number}")
    await server.wait_consumed()
    await gridbot.until_idle()
    group = texts_to(server, GROUP_1)
    fixed = [t for t in group if f"#{number} 的位置已更正为" in t]
    assert fixed and "3单元" in fixed[0] and "502" not in fixed[0]  # the group never sees the room
    assert any("没有从「随便」里读出" in t for t in group)
    assert gridbot.services is not None
    async with gridbot.services.db.read() as uow:
        ticket = await uow.tickets.get_by_number(number)
        assert ticket is not None
        example = await uow.learning.for_ticket(ticket.id or 0)
    assert (ticket.building, ticket.unit, ticket.room) == ("8", "3", "502")
    assert example is not None and example.source == "confirmed"
    assert example.category == ticket.category


async def test_an_imported_category_and_its_model_work_in_the_running_bot(
        server: LocalBotApi, community: CommunityConfig, clock: FakeClock, db_path: str) -> None:
    """Categories created by an import are first-class: the model files reports under them,
    cards name them, and the 改分类 list offers them."""
    db = await open_database(db_path, clock=clock)
    try:
        async with db.transaction() as uow:
            await uow.learning.add_category("c_rental", "群租房", "import:台账.xlsx")
            await uow.learning.add_imported([
                NewExample(f"h{i}", text, "c_rental", f"台账.xlsx:{i + 2}")
                for i, text in enumerate(FAMILY)])
        config = await with_stored_categories(db, community)
        assert (await retrain(db, config, in_process=False)).promoted
    finally:
        await db.close()
    bot = GridBot(community, server.token, db_path, clock=clock, options=fast_options(server))
    await bot.start()
    try:
        await server.start_private(WORKER_1)
        number = await file_report(server, bot, "11号楼疑似群租 天天进出好多陌生人")
        assert bot.services is not None
        async with bot.services.db.read() as uow:
            ticket = await uow.tickets.get_by_number(number)
        assert ticket is not None and ticket.category == "c_rental"
        assert any("群租房" in t for t in texts_to(server, GROUP_1))
        brief = next(r for r in server.sent(chat_id=WORKER_1) if number in (r.text or ""))
        assert "群租房" in (brief.text or "")
        assert brief.message is not None
        message = server.message(WORKER_1, brief.message.message_id)
        assert message is not None
        await server.tap(message, WORKER_1, f"t:cat:{ticket.id}")
        edits = await server.wait_for(lambda: [r for r in server.sent(
            chat_id=WORKER_1, method="editMessageReplyMarkup") if "c:water_leak" in str(r.params)])
        assert "c:c_rental" not in str(edits[-1].params)  # not the category it already has
        other = await file_report(server, bot, "3号楼楼道灯坏了 晚上黑乎乎的", user=RESIDENT_2)
        brief2 = next(r for r in server.sent(chat_id=WORKER_1) if other in (r.text or ""))
        assert brief2.message is not None
        message2 = server.message(WORKER_1, brief2.message.message_id)
        assert message2 is not None
        cat = next(d for d in _buttons(brief2) if d.startswith("t:cat:"))
        await server.tap(message2, WORKER_1, cat)
        await server.wait_for(lambda: [r for r in server.sent(
            chat_id=WORKER_1, method="editMessageReplyMarkup") if "c:c_rental" in str(r.params)])
    finally:
        await bot.stop()
