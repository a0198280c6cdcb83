"""Resident messages: every text or captioned photo is read; reports become tickets.

In a bound group chat a non-report gets nothing; a report gets its card (the
acknowledgement) from the presenter; a borderline message gets a question with two
buttons, asked privately when the author has started the bot, else as a short reply.
An emergency is never held back by a question. In a private chat the bot answers
everything, since the resident is talking to it.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from telegram import Update

import nlp
from handlers import fragments, replies, voice
from handlers.common import (
    BadTicketRef,
    Incoming,
    actor_of,
    display_name,
    grid_of_chat,
    incoming,
    is_group,
    parse_ticket_ref,
    refusal_text,
    reply,
    reply_message,
)
from handlers.context import GridContext, Services
from services import prompts
from services.prompts import PromptAnswer, ask_if_report
from services.queries import recently_resolved_by, ticket_by_source, tickets_of_reporter
from tickets.errors import NotPermitted, TicketNotFound, TransitionRefused
from tickets.model import Location, ReportInput, Ticket, TicketState
from tickets.outgoing import Button, OutgoingMessage
from ui import texts
from ui.callback_data import prompt_button

log = logging.getLogger(__name__)

PROMPT_LIFETIME = timedelta(minutes=30)
PHOTO_FOLLOWUP = timedelta(minutes=5)  # a photo this soon after a report belongs to it
EDITABLE_STATES = (TicketState.NEW, TicketState.ASSIGNED)


def location_of(parsed: nlp.ParseResult) -> Location:
    """The parser's place as the ticket rules' Location."""
    loc = parsed.location
    return Location(loc.compound, loc.building, loc.unit, loc.room, loc.floor, loc.street)


def report_input(text: str, parsed: nlp.ParseResult) -> ReportInput:
    """What the ticket rules need from a parse. A forced report (/report, "yes" to a
    question) may come with no category or urgency: then other/normal."""
    return ReportInput(
        text=text,
        category=parsed.category or "other",
        urgency=parsed.urgency or "normal",
        location=location_of(parsed),
        keywords=parsed.keywords,
        duplicate_key=parsed.duplicate_key,
        parse_json=json.dumps(parsed.to_dict(), ensure_ascii=False),
        confidence=parsed.confidence,
    )


def report_input_from_parse_json(text: str, parse_json: str) -> ReportInput:
    """Rebuild the input from a stored parse result (``nlp.ParseResult.to_dict`` as JSON,
    e.g. of a prompt answered later)."""
    data = json.loads(parse_json)
    loc = data.get("location") or {}
    return ReportInput(
        text=text,
        category=data.get("category") or "other",
        urgency=data.get("urgency") or "normal",
        location=Location(**{k: loc.get(k) for k in
                             ("compound", "building", "unit", "room", "floor", "street")}),
        keywords=tuple(data.get("keywords") or ()),
        duplicate_key=data.get("duplicate_key") or "",
        parse_json=parse_json,
        confidence=float(data.get("confidence") or 0.0),
    )


def _text_of(inc: Incoming) -> str:
    return (inc.message.text or inc.message.caption or "").strip()


def _photo_file_id(inc: Incoming) -> str | None:
    photos = inc.message.photo
    return photos[-1].file_id if photos else None


async def file_report(services: Services, inc: Incoming, report: ReportInput) -> Ticket:
    """Record the report (ticket or 附议) and attach the message's photo, if any."""
    result = await services.tickets.report_received(
        source_chat_id=inc.chat.id,
        source_message_id=inc.message.message_id,
        source_thread_id=inc.thread_id,
        reporter_id=inc.user.id,
        reporter_name=display_name(inc.user),
        reporter_username=inc.user.username,
        report=report,
    )
    photo = _photo_file_id(inc)
    # Also when not created: a retry after a failure between the two steps must not lose
    # the photo (attaching the same file twice is a no-op).
    if photo and result.ticket.reporter_id == inc.user.id:
        actor = await actor_of(services, inc.user)
        await services.tickets.attach_photo(result.ticket.id or 0, actor, photo)
    services.dispatcher.wake()
    return result.ticket


async def _ask_if_report(services: Services, inc: Incoming, parsed: nlp.ParseResult) -> None:
    """Store the question, then ask the author privately if possible, else in the chat."""
    now = services.clock.now()

    def question(prompt_id: int, can_dm: bool) -> OutgoingMessage:
        buttons = ((Button("📝 登记为工单", prompt_button(True, prompt_id)),
                    Button("不用了", prompt_button(False, prompt_id))),)
        if is_group(inc.chat) and can_dm:
            return OutgoingMessage(
                chat_id=inc.user.id, text=texts.ASK_PRIVATE.format(text=_text_of(inc)[:200]),
                buttons=buttons, dedupe_key=f"{inc.request_key}:ask", kind="prompt")
        name = display_name(inc.user)
        return reply_message(inc, texts.ASK_IN_CHAT.format(name=name), buttons=buttons,
                             suffix="ask")

    asked = await ask_if_report(
        services.db, chat_id=inc.chat.id, message_id=inc.message.message_id,
        author_id=inc.user.id, text=_text_of(inc),
        parse_json=json.dumps(parsed.to_dict(), ensure_ascii=False),
        expires_at=now + PROMPT_LIFETIME, question=question, thread_id=inc.thread_id)
    if not asked:
        return  # already asked (the update was replayed)
    services.dispatcher.wake()


async def _attach_followup_photo(services: Services, inc: Incoming) -> None:
    """A photo without caption right after the same person's report joins that ticket."""
    photo = _photo_file_id(inc)
    if photo is None:
        return
    since = services.clock.now() - PHOTO_FOLLOWUP
    recent = await tickets_of_reporter(services.db, inc.user.id, limit=5)
    for ticket in recent:
        if ticket.source_chat_id == inc.chat.id and ticket.created_at >= since and ticket.is_open:
            actor = await actor_of(services, inc.user)
            await services.tickets.attach_photo(ticket.id or 0, actor, photo)
            services.dispatcher.wake()
            return


STAFF_PHOTO_WINDOW = timedelta(minutes=30)  # a fix photo after /done belongs to that ticket


async def _attach_staff_photo(services: Services, inc: Incoming, person_key: str) -> bool:
    """A worker's photo in private chat: the ticket named in the caption ("#2611-0042"),
    else the ticket they resolved most recently (a photo of the fix after /done)."""
    photo = _photo_file_id(inc)
    if photo is None:
        return False
    caption = (inc.message.caption or "").strip()
    ticket_ref: int | str | None = None
    if caption:
        token = caption.split()[0]
        try:
            ticket_ref = parse_ticket_ref(token, services)
        except BadTicketRef:
            ticket_ref = None
    if ticket_ref is None:
        since = services.clock.now() - STAFF_PHOTO_WINDOW
        recent = await recently_resolved_by(services.db, person_key, since, limit=1)
        if not recent:
            return False
        ticket_ref = recent[0].id or 0
    actor = await actor_of(services, inc.user)
    try:
        ticket = await services.tickets.attach_photo(ticket_ref, actor, photo)
    except (TransitionRefused, NotPermitted, TicketNotFound) as error:
        await reply(services, inc, refusal_text(error, services))
        return True
    services.dispatcher.wake()
    await reply(services, inc, texts.PHOTO_ATTACHED.format(number=ticket.number))
    return True


async def _read_in_group(services: Services, inc: Incoming) -> bool:
    """Group messages are read only in bound groups and only from residents: staff post
    notices and replies there, and file tickets with /report."""
    if await grid_of_chat(services, inc.chat.id) is None:
        log.info("message in unbound group %s ignored", inc.chat.id)
        return False
    person = services.config.person_by_telegram(inc.user.id, inc.user.username)
    return person is None or not person.is_staff


def _files_itself(parsed: nlp.ParseResult) -> bool:
    """A clear report becomes a ticket; an emergency never waits for a question."""
    return parsed.urgency == "emergency" or (parsed.is_report and not parsed.borderline)


async def on_message(update: Update, context: GridContext) -> None:
    """Every non-command message with text, a caption or a photo."""
    inc = incoming(update)
    if inc is None or update.message is None:
        return
    services = context.services
    if inc.user.is_bot or inc.message.sender_chat is not None:
        return  # bots, channel posts and anonymous admins post notices, not reports
    in_group = is_group(inc.chat)
    if in_group and not await _read_in_group(services, inc):
        return
    if not in_group:
        person = services.config.person_by_telegram(inc.user.id, inc.user.username)
        if (person is not None and person.is_staff and inc.message.photo
                and await _attach_staff_photo(services, inc, person.key)):
            return
        if (person is not None and person.is_staff and inc.message.text
                and await voice.take_place_for_voice(services, inc, _text_of(inc))):
            return  # the place of a resident's voice message (handlers/voice.py)
    text = _text_of(inc)
    parsed = nlp.parse(text, services.lexicon)
    if await replies.read_in_context(services, inc, text, parsed):
        return  # a reply under a ticket, a forwarded notice (handlers/replies.py)
    if not text:
        await _attach_followup_photo(services, inc)
        return
    if _files_itself(parsed):
        await fragments.file_with_fragments(services, inc, report_input(text, parsed))
    elif await fragments.keep_fragment(services, inc, text, parsed):
        return  # part of a split report (handlers/fragments.py)
    elif parsed.borderline:
        await _ask_if_report(services, inc, parsed)
    elif not in_group:
        await reply(services, inc, texts.PRIVATE_NOT_A_REPORT)


async def on_edited_message(update: Update, context: GridContext) -> None:
    """An edit to a report still waiting for a worker updates its text and parse; an edit
    that turns chatter into a report files it."""
    message = update.edited_message
    inc = incoming(update)
    if message is None or inc is None or inc.user.is_bot:
        return
    services = context.services
    if is_group(inc.chat) and not await _read_in_group(services, inc):
        return
    text = _text_of(inc)
    if not text:
        return
    ticket = await ticket_by_source(services.db, inc.chat.id, message.message_id)
    parsed = nlp.parse(text, services.lexicon)
    if ticket is None:
        if _files_itself(parsed):
            await file_report(services, inc, report_input(text, parsed))
        return
    if ticket.state not in EDITABLE_STATES or ticket.reporter_id != inc.user.id:
        return
    actor = await actor_of(services, inc.user)
    await services.tickets.edit_report(ticket.id or 0, actor, report_input(text, parsed))
    services.dispatcher.wake()


_PROMPT_TOASTS = {
    PromptAnswer.INVALID: texts.BUTTON_INVALID,
    PromptAnswer.NOT_YOURS: texts.BUTTON_NOT_FOR_YOU,
    PromptAnswer.EXPIRED: texts.BUTTON_EXPIRED,
    PromptAnswer.DECLINED: texts.PROMPT_DECLINED,
}


async def answer_prompt(services: Services, prompt_id: int, user_id: int, user_name: str,
                        register: bool) -> str:
    """The author tapped 登记为工单 / 不用了. Returns the toast text."""
    outcome, prompt = await prompts.answer_prompt(services.db, prompt_id, user_id, register)
    if outcome is not PromptAnswer.FILE or prompt is None:
        return _PROMPT_TOASTS[outcome]
    report = report_input_from_parse_json(prompt.text, prompt.parse_json)
    result = await services.tickets.report_received(
        source_chat_id=prompt.chat_id, source_message_id=prompt.message_id,
        source_thread_id=prompt.thread_id,  # answers go to the topic it was asked in
        reporter_id=prompt.author_id, reporter_name=user_name, report=report)
    services.dispatcher.wake()
    return texts.PROMPT_REGISTERED.format(number=result.ticket.number)

