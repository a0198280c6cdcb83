"""Voice messages, video notes and audio files: people listen, since nothing here can
transcribe Chinese speech offline.

In a bound group a resident's voice is kept (``voices`` table) and reaches the grid's
worker in the next batch (``scheduler/voices.py``), copied so that it plays in their
private chat, with 登记为工单 / 不是诉求 buttons. 登记为工单 shows the categories; after the
pick the worker's next private text is the place, and the ticket is filed for the
resident, its card replying to the voice in the group. A community turns this off with
``[conversations] voice = false`` or per group with ``voice_off_chats``. A caption is
read like any message by intake (this handler runs in a later handler group).
"""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
from datetime import timedelta

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.warnings import PTBDeprecationWarning

import nlp
from delivery import keyboard
from handlers.common import Incoming, display_name, grid_of_chat, incoming, is_group, reply
from handlers.context import GridContext, Services
from services.voices import (
    ask_place,
    dismiss_voice,
    keep_voice,
    voice_awaiting_place,
    voice_by_id,
    voice_registered,
)
from storage.voices_repo import Voice
from tickets.model import Actor, Location, ReportInput
from tickets.outgoing import Button, OutgoingMessage
from ui import conversations as say
from ui import texts
from ui.callback_data import VoiceButton, voice_button
from ui.cards import category_label

log = logging.getLogger(__name__)
PRIVATE_VOICE = "语音暂时无法自动识别,请用文字说说是什么问题、在哪里,我来登记。"


def _media(inc: Incoming) -> tuple[str, int | None] | None:
    message = inc.message
    for kind in ("voice", "video_note", "audio"):
        media = getattr(message, kind)
        if media is not None:
            with warnings.catch_warnings():  # PTB 22.2+: duration becomes a timedelta
                warnings.simplefilter("ignore", PTBDeprecationWarning)
                duration = getattr(media, "duration", None)
            if isinstance(duration, timedelta):
                duration = int(duration.total_seconds())
            return kind, duration
    return None


async def on_voice(update: Update, context: GridContext) -> None:
    """A voice, video note or audio file from a resident."""
    inc = incoming(update)
    if inc is None or update.message is None or inc.user.is_bot:
        return
    if inc.message.sender_chat is not None or inc.message.forward_origin is not None:
        return
    media = _media(inc)
    if media is None:
        return
    services = context.services
    person = services.config.person_by_telegram(inc.user.id, inc.user.username)
    if person is not None and person.is_staff:
        return
    if not is_group(inc.chat):
        if not (inc.message.caption or "").strip():
            await reply(services, inc, PRIVATE_VOICE, suffix="voice")
        return
    grid = await grid_of_chat(services, inc.chat.id)
    if grid is None or not services.config.conversations.voice_on(inc.chat.id):
        return
    kind, duration = media
    await keep_voice(services.db, chat_id=inc.chat.id, message_id=inc.message.message_id,
                     thread_id=inc.thread_id, user_id=inc.user.id,
                     user_name=display_name(inc.user), kind=kind, duration=duration, grid=grid)
    log.info("%s from %s in %s kept for the worker of %s", kind, inc.user.id, inc.chat.id, grid)


# -- the worker's buttons ------------------------------------------------------------------


def _categories(services: Services) -> list[tuple[str, str]]:
    slugs = list(nlp.DEFAULT_CATEGORIES) + [c.slug for c in services.config.categories]
    return [(slug, category_label(slug, services.config)) for slug in dict.fromkeys(slugs)]


def category_buttons(services: Services, voice_id: int) -> tuple[tuple[Button, ...], ...]:
    buttons = [Button(label, voice_button(voice_id, f"c.{slug}"))
               for slug, label in _categories(services)
               if len(voice_button(voice_id, f"c.{slug}").encode()) <= 64]
    return tuple(tuple(buttons[i:i + 3]) for i in range(0, len(buttons), 3))


async def _set_buttons(query: CallbackQuery, rows: tuple[tuple[Button, ...], ...]) -> None:
    markup = keyboard(OutgoingMessage(chat_id=0, text="", buttons=rows))
    with contextlib.suppress(TelegramError):
        await query.edit_message_reply_markup(reply_markup=markup or InlineKeyboardMarkup([]))


def may_answer(actor: Actor, voice: Voice) -> bool:
    return actor.is_staff and (actor.is_supervisor or actor.key == voice.sent_to
                               or actor.is_worker_of(voice.grid))


async def on_voice_button(services: Services, query: CallbackQuery, actor: Actor,
                          payload: VoiceButton) -> str:
    """登记为工单 → the categories; a category → ask for the place; 不是诉求 → done."""
    voice = await voice_by_id(services.db, payload.voice_id)
    if voice is None:
        return texts.BUTTON_INVALID
    if not may_answer(actor, voice):
        return texts.BUTTON_NOT_FOR_YOU
    if voice.state not in ("sent", "awaiting_place"):
        await _set_buttons(query, ())
        return say.VOICE_DONE_ALREADY
    if payload.dismiss:
        await dismiss_voice(services.db, voice.id)
        await _set_buttons(query, ())
        return say.VOICE_DISMISSED
    if payload.register:
        await _set_buttons(query, category_buttons(services, voice.id))
        return say.VOICE_PICK_CATEGORY
    category = payload.category
    if category not in dict(_categories(services)):
        return texts.BUTTON_INVALID
    await ask_place(services.db, voice.id, category or "other", query.from_user.id,
                    OutgoingMessage(
                        chat_id=query.from_user.id, kind="voice",
                        text=say.VOICE_ASK_PLACE.format(
                            category=category_label(category, services.config)),
                        dedupe_key=f"voice:{voice.id}:ask:{category}:{query.id}"))
    services.dispatcher.wake()
    await _set_buttons(query, ())
    return say.VOICE_ASK_PLACE.format(category=category_label(category, services.config))[:60]


async def take_place_for_voice(services: Services, inc: Incoming, text: str) -> bool:
    """A worker's private text right after picking a voice's category is its place: the
    ticket is filed for the resident who spoke. False when no voice waits for a place."""
    voice = await voice_awaiting_place(services.db, inc.user.id)
    if voice is None:
        return False
    parsed = nlp.parse(text, services.lexicon)
    loc = parsed.location
    place = Location() if text.strip() == say.VOICE_UNKNOWN_PLACE else Location(
        loc.compound, loc.building, loc.unit, loc.room, loc.floor, loc.street)
    kind = say.VOICE_KINDS.get(voice.kind, "语音")
    report = ReportInput(
        text=f"[{kind}] {text}", category=voice.category or "other",
        urgency=parsed.urgency or "normal", location=place, keywords=parsed.keywords,
        duplicate_key=parsed.duplicate_key,
        parse_json=json.dumps(parsed.to_dict(), ensure_ascii=False), confidence=1.0)
    result = await services.tickets.report_received(
        source_chat_id=voice.chat_id, source_message_id=voice.message_id,
        source_thread_id=voice.thread_id, reporter_id=voice.user_id,
        reporter_name=voice.user_name, report=report)
    await voice_registered(services.db, voice.id, result.ticket.id or 0)
    services.dispatcher.wake()
    await reply(services, inc, say.VOICE_REGISTERED.format(number=result.ticket.number),
                suffix="voice_registered")
    return True
