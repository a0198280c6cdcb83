"""Messages read in a ticket's context: replies to a ticket's card, to a reported
message or to any bot message about a ticket (附议 confirmation, rating request); and
forwarded messages, which are nobody's report.

The kind of message is read by ``nlp.followup``; what it does to the ticket is decided
by ``tickets.followups`` and carried out by ``services.followups``. This module only
translates: it finds the ticket the message replies to and answers in the chat.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import nlp
from handlers import intake
from handlers.common import (
    Incoming,
    display_name,
    enqueue,
    is_group,
    reply,
    reply_message,
)
from handlers.context import Services
from nlp.followup import classify_followup
from services.followups import ReplyInput, reply_received, ticket_replied_to
from tickets.followups import Outcome, Reply
from tickets.model import Ticket
from tickets.outgoing import OutgoingMessage
from ui import conversations as say

log = logging.getLogger(__name__)


def is_forwarded(inc: Incoming) -> bool:
    """A message forwarded from elsewhere (a notice passed on): not a report on its own.
    The forwarder's own words come as a separate message and are read as usual."""
    return inc.message.forward_origin is not None


async def replied_ticket(services: Services, inc: Incoming) -> int | None:
    """The ticket whose card, report or bot message this message replies to."""
    target = inc.message.reply_to_message
    if target is None:
        return None
    if inc.message.is_topic_message and target.message_id == inc.message.message_thread_id:
        return None  # in a forum every message "replies" to its topic's first message
    return await ticket_replied_to(services.db, inc.chat.id, target.message_id)


def about_ticket(inc: Incoming, ticket: Ticket, text: str, suffix: str) -> OutgoingMessage:
    """A reply about a ticket, keyed "t<id>:…" so that a reply to it is read in the
    ticket's context too (see ``ConversationRepository.ticket_for_message``)."""
    return replace(reply_message(inc, text, suffix=suffix),
                   dedupe_key=f"t{ticket.id}:{suffix}:{inc.request_key}")


def _photo(inc: Incoming) -> str | None:
    photos = inc.message.photo
    return photos[-1].file_id if photos else None


async def read_in_ticket_context(services: Services, inc: Incoming, text: str,
                                 parsed: nlp.ParseResult) -> bool:
    """Handle a reply that belongs to a ticket. False when the message has no ticket
    context (or the ticket no longer gives one) and must be read alone."""
    ticket_id = await replied_ticket(services, inc)
    if ticket_id is None:
        return False
    kind = Reply(classify_followup(parsed, has_photo=_photo(inc) is not None))
    item = ReplyInput(
        ticket_id=ticket_id, chat_id=inc.chat.id, message_id=inc.message.message_id,
        user_id=inc.user.id, user_name=display_name(inc.user), kind=kind,
        report=intake.report_input(text, parsed), request_key=inc.request_key,
        thread_id=inc.thread_id, username=inc.user.username, photo_file_id=_photo(inc),
        category=parsed.category if parsed.is_report else None)

    def answer(ticket: Ticket) -> OutgoingMessage:
        return about_ticket(inc, ticket, say.progress_answer(ticket, services.config),
                            "progress")

    result = await reply_received(
        services.db, services.config, services.clock, services.presenter, item,
        answer=answer,
        progress_interval=services.config.conversations.progress_interval)
    log.info("reply to ticket %s read as %s: %s", ticket_id, kind, result.outcome)
    if result.outcome is Outcome.READ_ALONE:
        return False
    services.dispatcher.wake()
    if result.repeated or result.ticket is None:
        return True
    number = result.ticket.number
    if result.outcome is Outcome.REOPEN:
        await enqueue(services, about_ticket(inc, result.ticket,
                                             say.REOPENED.format(number=number), "reopened"))
    elif result.outcome is Outcome.FOLLOW_UP and result.earlier is not None and not is_group(
            inc.chat):
        await reply(services, inc, say.FOLLOW_UP.format(earlier=result.earlier.number,
                                                        number=number), suffix="follow_up")
    elif result.outcome is Outcome.ADD_DETAIL and not is_group(inc.chat):
        await reply(services, inc, say.ADDED_PRIVATE.format(number=number), suffix="added")
    return True


async def read_in_context(services: Services, inc: Incoming, text: str,
                          parsed: nlp.ParseResult) -> bool:
    """True when the message was handled as part of a conversation (and must not be read
    alone): a forwarded message, or a reply that belongs to a ticket."""
    if is_forwarded(inc):
        return True
    if inc.message.reply_to_message is None:
        return False
    person = services.config.person_by_telegram(inc.user.id, inc.user.username)
    if person is not None and person.is_staff:
        return False  # staff answer with commands and buttons
    return await read_in_ticket_context(services, inc, text, parsed)
