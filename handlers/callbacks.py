"""Inline buttons: worker actions, ratings, "register this?" answers, transfer picks.

Every CallbackQuery is answered (a short toast), whatever happens. The payload is
parsed in one place (``ui.callback_data``); forged or stale data is refused, and every
action goes through the same use cases and permission checks as the commands, so a
button can never do what its tapper may not.
"""

from __future__ import annotations

import contextlib
import logging

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from community import Role
from delivery import keyboard
from handlers import voice, web_commands
from handlers.common import actor_of, display_name, refusal_text
from handlers.context import GridContext, Services
from handlers.intake import answer_prompt
from services.common import request_key
from services.corrections import category_choices
from services.queries import ticket_by_id
from tickets.errors import NotPermitted, TicketNotFound, TransitionRefused
from tickets.lifecycle import may_handle
from tickets.model import Actor, Ticket
from tickets.outgoing import Button, OutgoingMessage
from ui import texts
from ui.callback_data import (
    CategoryButton,
    PromptButton,
    RatingButton,
    TicketAction,
    TicketButton,
    TransferButton,
    VoiceButton,
    WebButton,
    category_button,
    parse_callback,
    ticket_button,
    transfer_button,
)
from ui.cards import category_label, worker_buttons

log = logging.getLogger(__name__)
_REFUSALS = (TransitionRefused, NotPermitted, TicketNotFound)


async def _set_buttons(query: CallbackQuery, rows: tuple[tuple[Button, ...], ...]) -> None:
    """Best effort: the buttons under the tapped message follow the ticket's state."""
    markup = keyboard(OutgoingMessage(chat_id=0, text="", buttons=rows))
    with contextlib.suppress(TelegramError):
        await query.edit_message_reply_markup(reply_markup=markup or InlineKeyboardMarkup([]))


def _transfer_choices(services: Services, ticket: Ticket) -> tuple[tuple[Button, ...], ...]:
    """Workers (of every grid) and specialists for the ticket's category, two per row."""
    config = services.config
    people = [p for p in config.people
              if p.key != ticket.assignee and (
                  p.has(Role.WORKER) or (p.has(Role.SPECIALIST) and ticket.category in p.categories))]
    buttons = []
    for person in people:
        data = transfer_button(person.key, ticket.id or 0)
        if data is not None:
            buttons.append(Button(person.key, data))
    rows = [tuple(buttons[i:i + 2]) for i in range(0, len(buttons), 2)]
    rows.append((Button("↩️ 返回", ticket_button(TicketAction.BACK, ticket.id or 0)),))
    return tuple(rows)


def category_slugs(services: Services) -> list[str]:
    return category_choices(services.config)


def _category_choices(services: Services, ticket: Ticket) -> tuple[tuple[Button, ...], ...]:
    """改分类: every category but the current one, three per row."""
    buttons = []
    for slug in category_slugs(services):
        data = category_button(slug, ticket.id or 0)
        if slug != ticket.category and data is not None:
            buttons.append(Button(category_label(slug, services.config)[:20], data))
    rows = [tuple(buttons[i:i + 3]) for i in range(0, len(buttons), 3)]
    rows.append((Button("↩️ 返回", ticket_button(TicketAction.BACK, ticket.id or 0)),))
    return tuple(rows)


async def _ticket_action(services: Services, query: CallbackQuery, actor: Actor,
                         payload: TicketButton) -> str:
    tickets = services.tickets
    ticket_id = payload.ticket_id
    action = payload.action
    if not actor.is_staff:
        return texts.STAFF_ONLY
    if action in (TicketAction.TRANSFER, TicketAction.RETURN, TicketAction.BACK,
                  TicketAction.RECATEGORISE):
        # These only change the buttons under the tapped message: only in a worker's
        # private chat, and only for someone who may act on the ticket.
        ticket = await tickets_lookup(services, ticket_id)
        in_private = query.message is not None and query.message.chat.type == "private"
        if not in_private or not may_handle(actor, ticket):
            return texts.BUTTON_NOT_FOR_YOU
        if action is TicketAction.RECATEGORISE:
            await _set_buttons(query, _category_choices(services, ticket))
            return texts.CATEGORY_PICK.format(
                number=ticket.number, current=category_label(ticket.category, services.config))
        if action is TicketAction.TRANSFER:
            await _set_buttons(query, _transfer_choices(services, ticket))
            return texts.TRANSFER_PICK.format(number=ticket.number)
        if action is TicketAction.RETURN:
            await _set_buttons(query, ((
                Button("确认退回", ticket_button(TicketAction.RETURN_CONFIRM, ticket_id)),
                Button("取消", ticket_button(TicketAction.BACK, ticket_id))),))
            return texts.RETURN_CONFIRM.format(number=ticket.number)
        await _set_buttons(query, worker_buttons(ticket))
        return "好的"
    if action is TicketAction.ACCEPT:
        ticket = await tickets.accept(ticket_id, actor)
    elif action is TicketAction.PROGRESS:
        ticket = await tickets.progress(ticket_id, actor, texts.PROGRESS_DEFAULT_NOTE)
    elif action is TicketAction.DONE:
        ticket = await tickets.resolve(ticket_id, actor, None)
    elif action is TicketAction.ESCALATE:
        ticket = await tickets.escalate(ticket_id, actor, texts.ESCALATE_DEFAULT_REASON)
    else:  # RETURN_CONFIRM
        ticket = await tickets.reject(ticket_id, actor, texts.RETURN_DEFAULT_NOTE)
        action = TicketAction.RETURN
    services.dispatcher.wake()
    await _set_buttons(query, worker_buttons(ticket))
    return texts.ACTION_TOASTS.get(action.value, "好的")


async def tickets_lookup(services: Services, ticket_id: int) -> Ticket:
    return await ticket_by_id(services.db, ticket_id)


async def _rate(services: Services, query: CallbackQuery, actor: Actor,
                payload: RatingButton) -> str:
    ticket = await tickets_lookup(services, payload.ticket_id)
    if not actor.is_reporter_of(ticket):
        return texts.RATE_ONLY_REPORTER
    await services.tickets.rate(payload.ticket_id, actor, payload.score)
    services.dispatcher.wake()
    await _set_buttons(query, ())
    return texts.RATED_THANKS


async def _transfer(services: Services, query: CallbackQuery, actor: Actor,
                    payload: TransferButton) -> str:
    if not actor.is_staff:
        return texts.STAFF_ONLY
    if services.config.person(payload.person_key) is None:
        return texts.BUTTON_INVALID
    ticket = await services.tickets.transfer(payload.ticket_id, actor,
                                             to_assignee=payload.person_key)
    services.dispatcher.wake()
    await _set_buttons(query, worker_buttons(ticket) if actor.is_assignee_of(ticket) else ())
    return texts.DONE_TRANSFER.format(number=ticket.number, to=payload.person_key)


async def _category(services: Services, query: CallbackQuery, actor: Actor,
                    payload: CategoryButton) -> str:
    """改分类: a pick from the list under a worker's private ticket message."""
    if not actor.is_staff:
        return texts.STAFF_ONLY
    if payload.slug not in category_slugs(services):
        return texts.BUTTON_INVALID
    ticket = await tickets_lookup(services, payload.ticket_id)
    in_private = query.message is not None and query.message.chat.type == "private"
    if not in_private or not may_handle(actor, ticket):
        return texts.BUTTON_NOT_FOR_YOU
    if ticket.category == payload.slug:
        await _set_buttons(query, worker_buttons(ticket))
        return texts.CATEGORY_SAME
    ticket = await services.tickets.change_category(payload.ticket_id, actor, payload.slug)
    services.dispatcher.wake()
    await _set_buttons(query, worker_buttons(ticket) if may_handle(actor, ticket) else ())
    return texts.CATEGORY_CHANGED.format(
        number=ticket.number, name=category_label(ticket.category, services.config))


async def on_callback(update: Update, context: GridContext) -> None:
    query = update.callback_query
    if query is None:
        return
    services = context.services
    payload = parse_callback(query.data)
    toast = texts.BUTTON_INVALID
    stack = contextlib.ExitStack()
    try:
        if payload is not None:
            actor = await actor_of(services, query.from_user)
            stack.enter_context(request_key(f"u{update.update_id}"))  # replay: no repeat
            if isinstance(payload, TicketButton):
                toast = await _ticket_action(services, query, actor, payload)
            elif isinstance(payload, RatingButton):
                toast = await _rate(services, query, actor, payload)
            elif isinstance(payload, PromptButton):
                toast = await answer_prompt(services, payload.prompt_id, query.from_user.id,
                                            display_name(query.from_user), payload.register)
                if toast not in (texts.BUTTON_NOT_FOR_YOU, texts.BUTTON_INVALID):
                    await _set_buttons(query, ())
            elif isinstance(payload, CategoryButton):
                toast = await _category(services, query, actor, payload)
            elif isinstance(payload, VoiceButton):
                toast = await voice.on_voice_button(services, query, actor, payload)
            elif isinstance(payload, WebButton):
                toast = await web_commands.on_web_button(services, context, query.from_user,
                                                         actor)
            else:
                toast = await _transfer(services, query, actor, payload)
    except _REFUSALS as error:
        toast = refusal_text(error, services)
    finally:
        stack.close()
        with contextlib.suppress(TelegramError):
            await query.answer(toast[:200], show_alert=len(toast) > 40)
