"""A crash between an action's commit and the update's processed mark repeats nothing.

The first bot handles worker buttons and commands but cannot mark the updates processed
(as if it died right after each commit); the second bot replays them at start-up. Every
action carries its update id as a request key, so each happens once.
"""

from __future__ import annotations

import asyncio

import pytest

from community import CommunityConfig
from localapi import LocalBotApi
from runtime.app import GridBot
from runtime.stores import StorageInboxStore
from tests.support.e2e import GROUP_1, WORKER_1, fast_options, file_report
from tickets.clock import FakeClock


async def _unmarked(*args: object, **kwargs: object) -> None:
    raise OSError("killed before the processed mark")


async def _until_actions(bot: GridBot, ticket_id: int, tail: list[str]) -> None:
    """Wait until the ticket's last events are ``tail`` (the handlers committed)."""
    assert bot.services is not None
    for _ in range(500):
        async with bot.services.db.read() as uow:
            actions = [e.action for e in await uow.events.for_ticket(ticket_id)]
        if actions[-len(tail):] == tail:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"events so far: {actions}")


async def test_replayed_buttons_and_commands_make_one_event_each(
    server: LocalBotApi, community: CommunityConfig, clock: FakeClock, db_path: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = GridBot(community, server.token, db_path, clock=clock, options=fast_options(server))
    await first.start()
    try:
        number = await file_report(server, first, "8号楼门口的下水道堵了 污水冒出来了")
        brief = next(r for r in server.sent(chat_id=WORKER_1) if "🆕 新工单" in (r.text or ""))
        assert brief.message is not None
        message = server.message(WORKER_1, brief.message.message_id)
        assert message is not None
        ticket_id = brief.params["reply_markup"]["inline_keyboard"][0][0][
            "callback_data"].split(":")[2]
        await server.tap(message, WORKER_1, f"t:acc:{ticket_id}")
        await server.wait_consumed()
        await first.until_idle()
        monkeypatch.setattr(StorageInboxStore, "mark_processed", _unmarked)
        await server.tap(message, WORKER_1, f"t:prg:{ticket_id}", verify=False)
        await server.tap(message, WORKER_1, f"t:esc:{ticket_id}", verify=False)
        await server.command(GROUP_1, WORKER_1, f"/progress {number} 已联系物业疏通")
        await server.wait_consumed()
        await _until_actions(first, int(ticket_id), ["progress", "escalate", "progress"])
    finally:
        await first.stop()
    monkeypatch.undo()
    assert first.services is None

    second = GridBot(community, server.token, db_path, clock=clock, options=fast_options(server))
    await second.start()
    try:
        await second.until_idle()
        assert second.services is not None
        async with second.services.db.read() as uow:
            assert await uow.inbox.pending(limit=10) == []  # the replay ran
            events = await uow.events.for_ticket(int(ticket_id))
    finally:
        await second.stop()
    actions = [e.action for e in events]
    assert actions.count("escalate") == 1, actions
    assert actions.count("progress") == 2, actions  # the button's and the command's, once each
    assert [e.note for e in events if e.action == "progress"][-1] == "已联系物业疏通"
