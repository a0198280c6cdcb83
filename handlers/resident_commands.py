"""Commands anyone may use: /start, /help, /report, /my, /ticket, /cancel."""

from __future__ import annotations

import nlp
from handlers.common import (
    BadTicketRef,
    Incoming,
    attempt,
    command,
    example_number,
    is_group,
    parse_ticket_ref,
    refusal_text,
    reply,
)
from handlers.context import Services
from handlers.intake import file_report, report_input
from handlers.menus import sync_menu
from services.chats import private_chat_started
from services.queries import ticket_by_number, tickets_of_reporter, timeline
from tickets.errors import TicketNotFound
from tickets.lifecycle import can_view
from tickets.model import Actor, Ticket
from tickets.outgoing import Button
from ui import texts
from ui.callback_data import WEB_LOGIN
from ui.cards import category_label, esc, local_time
from ui.mask import mask_for_group


def help_text(actor: Actor) -> str:
    if actor.is_supervisor:
        return "\n\n".join((texts.WORKER_HELP, texts.SUPERVISOR_HELP))
    if actor.is_staff:
        return texts.WORKER_HELP
    return texts.RESIDENT_HELP


@command()
async def start(services: Services, inc: Incoming, actor: Actor, args: list[str]) -> None:
    """Private /start: note that the user can receive private messages; register staff."""
    if is_group(inc.chat):
        await reply(services, inc, help_text(actor))
        return
    await private_chat_started(services.db, inc.user.id, username=inc.user.username,
                               display_name=inc.user.full_name,
                               person_key=actor.person.key if actor.person else None)
    if actor.person is not None and actor.is_staff:
        text = texts.START_STAFF.format(name=actor.person.key, help=help_text(actor))
    else:
        text = texts.START_RESIDENT
    await reply(services, inc, text, quote=False)
    await sync_menu(inc.update.get_bot(), services.db, actor)  # the menu of their role


@command()
async def help_command(services: Services, inc: Incoming, actor: Actor, args: list[str]) -> None:
    buttons: tuple[tuple[Button, ...], ...] = ()
    if actor.is_staff and services.console_url and not is_group(inc.chat):
        buttons = ((Button(texts.WEB_BUTTON, WEB_LOGIN),),)  # a login link to the console
    await reply(services, inc, help_text(actor), buttons=buttons)


@command()
async def report(services: Services, inc: Incoming, actor: Actor, args: list[str]) -> None:
    """/report 文字: file a ticket even when detection missed it."""
    text = " ".join(args).strip()
    if not text and inc.message.reply_to_message is not None:
        quoted = inc.message.reply_to_message
        text = (quoted.text or quoted.caption or "").strip()
    if not text:
        await reply(services, inc, texts.NEED_TEXT.format(example="/report 8号楼3单元楼道灯坏了"))
        return
    parsed = nlp.parse(text, services.lexicon)
    await file_report(services, inc, report_input(text, parsed))


@command()
async def my_tickets(services: Services, inc: Incoming, actor: Actor, args: list[str]) -> None:
    """/my: the author's tickets and their states."""
    tickets = await tickets_of_reporter(services.db, inc.user.id, limit=10)
    if not tickets:
        await reply(services, inc, texts.MY_NONE)
        return
    lines = [texts.MY_HEADER]
    for ticket in tickets:
        lines.append(texts.MY_LINE.format(
            number=esc(ticket.number),
            category=esc(category_label(ticket.category, services.config)),
            state=texts.STATE_SHORT.get(ticket.state, ticket.state),
            date=local_time(ticket.created_at, services.tz)))
    await reply(services, inc, "\n".join(lines), html=True)


async def load_ticket(services: Services, inc: Incoming, args: list[str],
                      usage: str) -> Ticket | None:
    """The ticket named by the first argument, or None after answering why not."""
    if not args:
        await reply(services, inc, texts.NEED_TICKET_NUMBER.format(
            example=usage.format(n=example_number(services))))
        return None
    try:
        return await ticket_by_number(services.db, parse_ticket_ref(args[0], services))
    except (BadTicketRef, TicketNotFound) as error:
        await reply(services, inc, refusal_text(error, services))
        return None


@command()
async def show_ticket(services: Services, inc: Incoming, actor: Actor, args: list[str]) -> None:
    """/ticket N: details and timeline; masked in groups, full in private."""
    ticket = await load_ticket(services, inc, args, "/ticket {n}")
    if ticket is None:
        return
    if not can_view(actor, ticket):
        await reply(services, inc, texts.NOT_ALLOWED_TO_VIEW)
        return
    renderer = services.presenter.cards
    events = await timeline(services.db, ticket.id or 0)
    in_group = is_group(inc.chat)
    body = renderer.card(ticket) if in_group else renderer.brief(ticket, title="📋 工单")
    lines = [body, "", texts.TIMELINE_HEADER]
    for event in events[-12:]:
        note = f":{event.note}" if event.note else ""
        action = texts.ACTION_LABELS.get(event.action, event.action)
        who = event.actor_key or ""
        text = f"{local_time(event.at, services.tz)} {action} {who}{note}".strip()
        lines.append(esc(mask_for_group(text) if is_group(inc.chat) else text))
    await reply(services, inc, "\n".join(lines), html=True)


@command()
async def cancel(services: Services, inc: Incoming, actor: Actor, args: list[str]) -> None:
    """/cancel N [原因]: the reporter withdraws a report."""
    ticket = await load_ticket(services, inc, args, "/cancel {n}")
    if ticket is None:
        return
    note = " ".join(args[1:]) or None
    done = await attempt(services, inc,
                         lambda: services.tickets.cancel(ticket.id or 0, actor, note))
    if done is not None:
        await reply(services, inc, texts.CANCELLED.format(number=done.number))
