"""Commands for workers, specialists and supervisors (buttons do the same for taps).

Each checks the role first, then the ticket; refusals come back as one Chinese sentence.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import timedelta

from handlers.common import (
    Handler,
    Incoming,
    attempt,
    command,
    grid_of_chat,
    is_group,
    reply,
    staff,
)
from handlers.context import Services
from handlers.resident_commands import load_ticket
from services.queries import digest, grid_open_tickets, my_open_tickets
from tickets.errors import NotPermitted, RefusalCode
from tickets.model import Actor, Ticket
from ui import texts
from ui.cards import category_label, esc, is_private, local_time

Action = Callable[[Services, Ticket, Actor, list[str]], Awaitable[Ticket]]


def ticket_command(usage: str, needs_text: str | None, done_text: str,
                   ) -> Callable[[Action], Handler]:
    """Wrap a ticket action as a staff command: ticket lookup, argument check, the use
    case, and the answer."""
    def wrap(action: Action) -> Handler:
        @command(staff)
        async def handler(services: Services, inc: Incoming, actor: Actor,
                          args: list[str]) -> None:
            ticket = await load_ticket(services, inc, args, usage)
            if ticket is None:
                return
            if needs_text is not None and len(args) < 2:
                await reply(services, inc, texts.NEED_TEXT.format(
                    example=usage.format(n=ticket.number)))
                return
            done = await attempt(services, inc, lambda: action(services, ticket, actor, args))
            if done is not None:
                to = done.assignee or done.grid or ""
                await reply(services, inc, done_text.format(number=done.number, to=to))
        return functools.wraps(action)(handler)
    return wrap


@ticket_command("/accept {n}", None, texts.DONE_ACCEPT)
async def accept(services: Services, ticket: Ticket, actor: Actor, args: list[str]) -> Ticket:
    return await services.tickets.accept(ticket.id or 0, actor)


@ticket_command("/progress {n} 已联系物业,明天上午维修", "note", texts.DONE_PROGRESS)
async def progress(services: Services, ticket: Ticket, actor: Actor, args: list[str]) -> Ticket:
    return await services.tickets.progress(ticket.id or 0, actor, " ".join(args[1:]))


@ticket_command("/done {n} 已更换灯泡", None, texts.DONE_RESOLVE)
async def done(services: Services, ticket: Ticket, actor: Actor, args: list[str]) -> Ticket:
    return await services.tickets.resolve(ticket.id or 0, actor, " ".join(args[1:]) or None)


@ticket_command("/escalate {n} 需要街道协调", "reason", texts.DONE_ESCALATE)
async def escalate(services: Services, ticket: Ticket, actor: Actor, args: list[str]) -> Ticket:
    return await services.tickets.escalate(ticket.id or 0, actor, " ".join(args[1:]))


@ticket_command("/reject {n} 不是需要处理的问题", "reason", texts.DONE_REJECT)
async def reject(services: Services, ticket: Ticket, actor: Actor, args: list[str]) -> Ticket:
    return await services.tickets.reject(ticket.id or 0, actor, " ".join(args[1:]))


def find_person_key(services: Services, name: str) -> str | None:
    """A person by @username or configured name."""
    name = name.strip()
    if name.startswith("@"):
        person = services.config.person_by_username(name[1:])
        return person.key if person else None
    person = services.config.person(name)
    return person.key if person else None


@ticket_command("/transfer {n} @某人 (或网格名) 说明", "target", texts.DONE_TRANSFER)
async def transfer(services: Services, ticket: Ticket, actor: Actor, args: list[str]) -> Ticket:
    """/transfer N @someone|网格名 [说明]."""
    target, note = args[1], " ".join(args[2:]) or None
    person_key = find_person_key(services, target)
    grid = services.config.grid(target)
    if person_key is None and grid is None:
        raise NotPermitted(RefusalCode.UNKNOWN_TARGET, target)
    return await services.tickets.transfer(
        ticket.id or 0, actor, to_assignee=person_key, to_grid=grid.name if grid else None,
        note=note)


async def _list(services: Services, inc: Incoming, tickets: list[Ticket], header: str,
                empty: str) -> None:
    if not tickets:
        await reply(services, inc, empty)
        return
    now = services.clock.now()
    lines = [header]
    for ticket in tickets[:30]:
        age = texts.when_text((now - ticket.created_at) / timedelta(minutes=1))
        overdue = ""
        if ticket.resolve_due and ticket.resolve_due < now:
            overdue = " ⚠️超时"
        elif ticket.accept_due and ticket.accepted_at is None and ticket.accept_due < now:
            overdue = " ⚠️超时未接单"
        hidden = is_group(inc.chat) and is_private(ticket)  # no details of sensitive cases
        category = (texts.PRIVATE_CASE if hidden
                    else category_label(ticket.category, services.config))
        location = "—" if hidden else texts.location_text(
            ticket.compound, ticket.building, ticket.unit, with_room=not is_group(inc.chat))
        lines.append(texts.OPEN_LINE.format(
            number=esc(ticket.number), category=esc(category), location=esc(location),
            state=texts.STATE_SHORT.get(ticket.state, ticket.state), age=age,
            assignee=esc(ticket.assignee or "未派"), overdue=overdue))
    await reply(services, inc, "\n".join(lines), html=True)


@command(staff)
async def mine(services: Services, inc: Incoming, actor: Actor, args: list[str]) -> None:
    """/mine: my open tickets, oldest first."""
    if actor.key is None:
        return
    tickets = await my_open_tickets(services.db, actor.key)
    await _list(services, inc, tickets, texts.MINE_HEADER, texts.MINE_NONE)


async def _grids_for(services: Services, inc: Incoming, actor: Actor) -> list[str]:
    if is_group(inc.chat):
        grid = await grid_of_chat(services, inc.chat.id)
        return [grid] if grid else []
    if actor.is_supervisor:
        return [g.name for g in services.config.grids]
    return list(actor.person.grids) if actor.person else []


@command(staff)
async def open_tickets(services: Services, inc: Incoming, actor: Actor, args: list[str]) -> None:
    """/open: the grid's open tickets, oldest first (all grids for supervisors)."""
    grids = await _grids_for(services, inc, actor)
    if not grids:
        await reply(services, inc, texts.CHAT_NOT_BOUND)
        return
    tickets: list[Ticket] = []
    for grid in grids:
        tickets += await grid_open_tickets(services.db, grid)
    tickets.sort(key=lambda t: t.created_at)
    header = texts.OPEN_HEADER.format(grids="、".join(grids), count=len(tickets))
    await _list(services, inc, tickets, header, texts.OPEN_NONE)


@command(staff)
async def stats(services: Services, inc: Incoming, actor: Actor, args: list[str]) -> None:
    """/stats: the last 7 days in figures."""
    end = services.clock.now() + timedelta(seconds=1)  # [start, end) includes "now"
    start = end - timedelta(days=7)
    figures = await digest(services.db, start, end)
    lines = [texts.STATS_HEADER.format(start=local_time(start, services.tz),
                                       end=local_time(end, services.tz))]
    lines.append(texts.stats_line("全社区", figures.total))
    for grid, counts in sorted(figures.by_grid.items()):
        if grid:
            lines.append(texts.stats_line(grid, counts))
    await reply(services, inc, "\n".join(lines))
