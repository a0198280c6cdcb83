"""The chat, registration and prompt use cases handlers call (each one transaction)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.chats import bind_chat, migrate_chat, private_chat_allowed, private_chat_started
from services.prompts import PromptAnswer, answer_prompt, ask_if_report
from services.recipients import contacts
from storage import Database
from tests.support.tickets import CHAT_A, CONFIG, GRID_A, GRID_B, T0
from tickets.outgoing import OutgoingMessage


async def test_a_migrated_configured_group_keeps_its_grid_under_the_new_id(db: Database) -> None:
    grid = await migrate_chat(db, CONFIG, CHAT_A, -100777, "一网格群")
    async with db.read() as uow:
        assert await uow.chats.grid_of(-100777) == grid == GRID_A


async def test_a_bound_chat_follows_the_binding_not_the_config(db: Database) -> None:
    await bind_chat(db, CHAT_A, GRID_B, title="群", thread_id=None, by=901)
    assert await migrate_chat(db, CONFIG, CHAT_A, -100778, "群") == GRID_B


async def test_start_registers_the_account_and_blocking_is_remembered(db: Database) -> None:
    await private_chat_started(db, 7001, username="weidengji", display_name="未登记员",
                               person_key="未登记员")
    async with db.read() as uow:
        assert (await contacts(uow, CONFIG, ["未登记员"]))["未登记员"].can_dm is True
    await private_chat_allowed(db, 7001, False)
    async with db.read() as uow:
        found = (await contacts(uow, CONFIG, ["未登记员"]))["未登记员"]
    assert (found.user_id, found.can_dm) == (7001, False)


async def test_a_prompt_is_asked_once_and_answered_once(db: Database) -> None:
    asked: list[tuple[int, bool]] = []

    def question(prompt_id: int, can_dm: bool) -> OutgoingMessage:
        asked.append((prompt_id, can_dm))
        return OutgoingMessage(chat_id=CHAT_A, text="登记为工单吗?", dedupe_key=f"ask:{prompt_id}")

    fields: dict[str, Any] = dict(chat_id=CHAT_A, message_id=42, author_id=5001, text="楼道灯坏了",
                  parse_json="{}", expires_at=T0 + timedelta(hours=1), question=question)
    assert await ask_if_report(db, **fields) is True
    assert await ask_if_report(db, **fields) is False  # a replayed update asks nothing
    assert len(asked) == 1 and asked[0][1] is False
    prompt_id = asked[0][0]
    assert (await answer_prompt(db, prompt_id + 1, 5001, True))[0] is PromptAnswer.INVALID
    assert (await answer_prompt(db, prompt_id, 5002, True))[0] is PromptAnswer.NOT_YOURS
    outcome, prompt = await answer_prompt(db, prompt_id, 5001, True)
    assert outcome is PromptAnswer.FILE and prompt is not None and prompt.text == "楼道灯坏了"
    # A retried "yes" still files (idempotent); a late "no" is too late.
    assert (await answer_prompt(db, prompt_id, 5001, True))[0] is PromptAnswer.FILE
    assert (await answer_prompt(db, prompt_id, 5001, False))[0] is PromptAnswer.EXPIRED
