"""The weekly digest and the 周四议事会 agenda, built inside the occurrence's transaction.

Per grid (``grid.digest``, default ``config.digest``): a public summary of the past 7 days
to each of the grid's groups (new, resolved, still open, on-time rate, average rating —
figures only), and the agenda privately to the grid's workers and backup. Community-wide
(``config.digest``): the summary of all grids plus the agenda of every grid, privately to
the supervisors (instead of one agenda per grid, so they get one message, not seven).

Agenda order: overdue first, then by supporters (附议) count, then oldest first. A ticket
more than ``sla.long_overdue_after`` past its deadline is marked long-overdue.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from community.model import CommunityConfig, Grid, Role
from scheduler.ladder import binding_deadline
from scheduler.recipients import private_message
from services.recipients import GroupChat, contacts, grid_groups
from storage import Counts, UnitOfWork
from tickets.model import Ticket
from tickets.outgoing import OutgoingMessage
from ui import reminders
from ui.cards import HTML
from ui.reminders import AgendaItem

PERIOD = timedelta(days=7)
#: Open tickets read per grid; far more than a grid ever has open.
OPEN_LIMIT = 1000
COMMUNITY_KEY = "digest-all"


def job_key(grid: str) -> str:
    return f"digest:{grid}"


def agenda_items(tickets: Iterable[Ticket], now: datetime,
                 long_overdue_after: timedelta) -> list[AgendaItem]:
    """Open tickets ranked for the meeting: overdue first, supporters, then age."""
    items = []
    for t in {t.id: t for t in tickets}.values():
        bound = binding_deadline(t)
        late = now - bound[1] if bound is not None and bound[1] < now else None
        items.append(AgendaItem(t, late, late is not None and late > long_overdue_after))
    items.sort(key=_rank)
    return items


def grid_staff(config: CommunityConfig, grid: Grid) -> list[str]:
    """The grid's workers (listed on the grid, or workers whose person lists the grid) and
    its backup, each once."""
    keys = [*grid.workers, *([grid.backup] if grid.backup else [])]
    keys += [p.key for p in config.people if p.has(Role.WORKER) and grid.name in p.grids]
    return list(dict.fromkeys(keys))


async def grid_digest(uow: UnitOfWork, config: CommunityConfig, grid: Grid,
                      due: datetime) -> list[OutgoingMessage]:
    """The grid's public summaries and its workers' agendas for the occurrence ``due``."""
    tz = ZoneInfo(config.timezone)
    start = due - PERIOD
    counts = (await uow.queries.digest(start, due)).by_grid.get(grid.name)
    open_tickets = await uow.queries.open_in_grid(grid.name, OPEN_LIMIT)
    stamp = f"{job_key(grid.name)}:{due.isoformat()}"
    groups = (await grid_groups(uow, config)).get(grid.name, [])
    summary = reminders.digest_summary(grid.name, counts or Counts(), len(open_tickets),
                                       start, due, tz)
    out = [OutgoingMessage(chat_id=g.chat_id, thread_id=g.thread_id, text=summary,
                           parse_mode=HTML, dedupe_key=f"{stamp}:group:{g.chat_id}",
                           kind="digest") for g in groups]
    items = agenda_items(open_tickets, due, config.sla.long_overdue_after)
    text = reminders.agenda(grid.name, items, config, due)
    staff = grid_staff(config, grid)
    out += await _agendas(uow, config, staff, text, groups[0] if groups else None, stamp)
    return out


async def community_digest(uow: UnitOfWork, config: CommunityConfig,
                           due: datetime) -> list[OutgoingMessage]:
    """The community-wide summary + agenda, privately to the supervisors."""
    tz = ZoneInfo(config.timezone)
    start = due - PERIOD
    digest = await uow.queries.digest(start, due)
    tickets: list[Ticket] = []
    for grid in config.grids:
        tickets += await uow.queries.open_in_grid(grid.name, OPEN_LIMIT)
    supervisors = [p.key for p in config.supervisors()]
    for key in supervisors:  # tickets outside any grid are routed to a supervisor
        tickets += [t for t in await uow.queries.open_for_assignee(key, OPEN_LIMIT)
                    if t.grid is None]
    items = agenda_items(tickets, due, config.sla.long_overdue_after)
    items.sort(key=lambda i: (i.ticket.grid or "\uffff", _rank(i)))  # grouped by grid
    text = (reminders.digest_summary(config.name, digest.total, len(items), start, due, tz)
            + "\n\n" + reminders.agenda(config.name, items, config, due, grid_heading=True))
    groups = await grid_groups(uow, config)
    first_group = next((chats[0] for chats in groups.values() if chats), None)
    stamp = f"{COMMUNITY_KEY}:{due.isoformat()}"
    return await _agendas(uow, config, supervisors, text, first_group, stamp)


def _rank(item: AgendaItem) -> tuple[bool, int, datetime]:
    return (item.overdue_by is None, -item.ticket.supporters_count, item.ticket.created_at)


async def _agendas(uow: UnitOfWork, config: CommunityConfig, keys: list[str], text: str,
                   fallback: GroupChat | None, stamp: str) -> list[OutgoingMessage]:
    ids = {k: c.user_id for k, c in (await contacts(uow, config, keys)).items()}
    out = []
    for key in dict.fromkeys(keys):
        msg = private_message(
            user_id=ids.get(key), text=text, fallback=fallback,
            fallback_text=reminders.agenda_fallback(config.person(key), key),
            dedupe_key=f"{stamp}:agenda:{key}", kind="agenda")
        if msg is not None:
            out.append(msg)
    return out
