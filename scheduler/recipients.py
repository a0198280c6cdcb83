"""Scheduler messages to staff: privately, with the group as the fallback.

Private messages go to the person's ``telegram_id`` from the config, else to the Telegram
user registered for them last (:func:`services.recipients.contacts`). Each carries the
ticket's (or grid's) group as ``fallback_chat_id`` with a short mention, so a refused
private message (403: the worker never started the bot) still reaches them in the group.
A person with no known Telegram id at all gets the mention in the group directly.
"""

from __future__ import annotations

from services.recipients import GroupChat
from tickets.model import Ticket
from tickets.outgoing import OutgoingMessage
from ui.cards import HTML


def ticket_group(ticket: Ticket, groups: dict[str, list[GroupChat]]) -> GroupChat | None:
    """Where group-facing fallbacks about a ticket go: its source group, else its grid's
    first group."""
    if ticket.source_chat_id < 0:
        return GroupChat(ticket.source_chat_id, ticket.source_thread_id)
    chats = groups.get(ticket.grid or "", [])
    return chats[0] if chats else None


def private_message(*, user_id: int | None, text: str, fallback: GroupChat | None,
                    fallback_text: str, dedupe_key: str, kind: str,
                    buttons: tuple = ()) -> OutgoingMessage | None:
    """A private HTML message with a group fallback; the fallback alone when the user id is
    unknown; None when there is nowhere to send it."""
    if user_id is None:
        if fallback is None:
            return None
        return OutgoingMessage(chat_id=fallback.chat_id, text=fallback_text, parse_mode=HTML,
                               thread_id=fallback.thread_id, dedupe_key=f"{dedupe_key}:group",
                               kind=f"{kind}_fallback")
    return OutgoingMessage(
        chat_id=user_id, text=text, parse_mode=HTML, buttons=buttons,
        fallback_chat_id=fallback.chat_id if fallback else None,
        fallback_text=fallback_text if fallback else None,
        dedupe_key=dedupe_key, kind=kind)
