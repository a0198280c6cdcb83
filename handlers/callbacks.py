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
from handlers import web_commands
from handlers.common import actor_of, display_name, refusal_text
from handlers.intake import answer_prompt
from runtime.context import GridContext, Services
from tickets.errors import NotPermitted, TicketNotFound, TransitionRefused
from tickets.messages import Button, OutgoingMessage
from tickets.model import Actor, Ticket
from ui import texts
from ui.callback_data import (
    PromptButton,
    RatingButton,
    TicketAction,
    TicketButton,
    TransferButton,
    WebButton,
    parse_callback,
    ticket_button,
    transfer_button,
)
from ui.cards import worker_buttons

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


async def _ticket_action(services: Services, query: CallbackQuery, actor: Actor,
                         payload: TicketButton) -> str:
    tickets = services.tickets
    ticket_id = payload.ticket_id
    action = payload.action
    if not actor.is_staff:
        return texts.STAFF_ONLY
    if action in (TicketAction.TRANSFER, TicketAction.RETURN, TicketAction.BACK):
        # These only change the buttons under the tapped message: only in a worker's
        # private chat, and only for someone who may act on the ticket.
        ticket = await tickets_lookup(services, ticket_id)
        in_private = query.message is not None and query.message.chat.type == "private"
        if not in_private or not may_handle(actor, ticket):
            return texts.BUTTON_NOT_FOR_YOU
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


def may_handle(actor: Actor, ticket: Ticket) -> bool:
    """Staff with a relation to the ticket: assignee, its grid's worker, a specialist of
    its category, a supervisor, or someone it was escalated to."""
    return (actor.is_supervisor or actor.is_assignee_of(ticket)
            or actor.is_worker_of(ticket.grid) or actor.is_specialist_for(ticket.category)
            or (actor.key is not None and actor.key in ticket.escalated_to))


async def tickets_lookup(services: Services, ticket_id: int) -> Ticket:
    async with services.db.read() as uow:
        ticket = await uow.tickets.get(ticket_id)
    if ticket is None:
        raise TicketNotFound(ticket_id)
    return ticket


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


async def on_callback(update: Update, context: GridContext) -> None:
    query = update.callback_query
    if query is None:
        return
    services = context.services
    payload = parse_callback(query.data)
    toast = texts.BUTTON_INVALID
    try:
        if payload is not None:
            actor = await actor_of(services, query.from_user)
            if isinstance(payload, TicketButton):
                toast = await _ticket_action(services, query, actor, payload)
            elif isinstance(payload, RatingButton):
                toast = await _rate(services, query, actor, payload)
            elif isinstance(payload, PromptButton):
                toast = await answer_prompt(services, payload.prompt_id, query.from_user.id,
                                            display_name(query.from_user), payload.register)
                if toast not in (texts.BUTTON_NOT_FOR_YOU, texts.BUTTON_INVALID):
                    await _set_buttons(query, ())
            elif isinstance(payload, WebButton):
                toast = await web_commands.on_web_button(services, context, query.from_user,
                                                         actor)
            else:
                toast = await _transfer(services, query, actor, payload)
    except _REFUSALS as error:
        toast = refusal_text(error, services)
    finally:
        with contextlib.suppress(TelegramError):
            await query.answer(toast[:200], show_alert=len(toast) > 40)
