"""End to end: the real bot (PTB's HTTP stack, long polling) against the local Bot API."""

from __future__ import annotations

from localapi import LocalBotApi
from runtime.app import GridBot
from tests.support.e2e import RESIDENT, WORKER_1


async def test_start_in_private_answers_residents_with_help(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    await server.start_private(RESIDENT)
    [sent] = await server.wait_sent(chat_id=RESIDENT, method="sendMessage")
    assert "网格助手" in sent.text
    assert "/report" in sent.text


async def test_start_registers_a_worker_for_private_messages(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    await server.start_private(WORKER_1)
    [sent] = await server.wait_sent(chat_id=WORKER_1, method="sendMessage")
    assert "王芳" in sent.text and "/accept" in sent.text
    assert gridbot.services is not None
    async with gridbot.services.db.read() as uow:
        registration = await uow.people.get(WORKER_1)
    assert registration is not None and registration.private_chat
    assert registration.person_key == "王芳"


async def test_command_menus_are_published_per_scope(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    from telegram import BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats

    private = [c["command"] for c in server.commands(BotCommandScopeAllPrivateChats())]
    group = [c["command"] for c in server.commands(BotCommandScopeAllGroupChats())]
    assert "report" in private and "my" in private
    assert "report" in group and "accept" not in group
