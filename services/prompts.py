"""The "register this as a ticket?" question: asked once per message, answered once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum

from storage import Database, Prompt
from tickets.outgoing import OutgoingMessage


async def ask_if_report(db: Database, *, chat_id: int, message_id: int, author_id: int,
                        text: str, parse_json: str, expires_at: datetime,
                        question: Callable[[int, bool], OutgoingMessage],
                        thread_id: int | None = None) -> bool:
    """Store the question and queue it, in one transaction. ``question(prompt_id, can_dm)``
    builds the message (privately when the author started the bot). False when this
    message was already asked about (a replayed update)."""
    async with db.transaction() as uow:
        prompt_id = await uow.prompts.add(
            chat_id=chat_id, message_id=message_id, author_id=author_id, text=text,
            parse_json=parse_json, expires_at=expires_at, thread_id=thread_id)
        if prompt_id is None:
            return False
        registration = await uow.people.get(author_id)
        can_dm = registration is not None and registration.private_chat
        await uow.outbox.add(question(prompt_id, can_dm))
    return True


class PromptAnswer(Enum):
    INVALID = "invalid"  # no such prompt
    NOT_YOURS = "not_yours"  # someone else tapped
    EXPIRED = "expired"  # answered before, or too late
    DECLINED = "declined"  # 不用了
    FILE = "file"  # 登记为工单: file the stored text as a report


async def answer_prompt(db: Database, prompt_id: int, user_id: int,
                        register: bool) -> tuple[PromptAnswer, Prompt | None]:
    """The author tapped 登记为工单 (``register``) or 不用了. With FILE the caller files
    the returned prompt's text as a report (filing is idempotent per source message)."""
    async with db.transaction() as uow:
        prompt = await uow.prompts.get(prompt_id)
        if prompt is None:
            return PromptAnswer.INVALID, None
        if prompt.author_id != user_id:
            return PromptAnswer.NOT_YOURS, prompt
        answered = await uow.prompts.answer(prompt_id, "yes" if register else "no")
        # A "yes" already recorded by an attempt that failed afterwards goes on to file
        # the report, so nothing is lost.
        if not answered and not (register and prompt.answer == "yes"):
            return PromptAnswer.EXPIRED, prompt
    return (PromptAnswer.FILE if register else PromptAnswer.DECLINED), prompt
