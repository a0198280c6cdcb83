"""The read path of handlers (and tests and benchmarks): each function reads from the
database's reader connection (a consistent snapshot; never blocks behind writes). The SQL
is in ``storage/queries.py`` and the repositories; handlers never open a transaction or a
read themselves. (The scheduler's scans read ``storage`` directly, with their own cutoffs.)"""

from __future__ import annotations

from datetime import datetime

from community.model import CommunityConfig
from services.recipients import GroupChat, grid_groups
from storage import Database, Digest, EventRecord, Overdue, Supporter
from tickets.clock import Clock
from tickets.errors import TicketNotFound
from tickets.model import Ticket


async def my_open_tickets(db: Database, person_key: str, limit: int = 50) -> list[Ticket]:
    """Open tickets assigned to ``person_key``, oldest first."""
    async with db.read() as r:
        return await r.queries.open_for_assignee(person_key, limit)


async def grid_open_tickets(db: Database, grid: str, limit: int = 50) -> list[Ticket]:
    """A grid's open tickets by age (oldest first)."""
    async with db.read() as r:
        return await r.queries.open_in_grid(grid, limit)


async def overdue_tickets(db: Database, clock: Clock, limit: int = 100) -> list[Overdue]:
    """Open tickets past their accept or resolve deadline, earliest deadline first."""
    async with db.read() as r:
        return await r.queries.overdue(clock.now(), limit)


async def tickets_of_reporter(db: Database, user_id: int, limit: int = 20) -> list[Ticket]:
    """A resident's tickets, newest first."""
    async with db.read() as r:
        return await r.queries.of_reporter(user_id, limit)


async def ticket_by_number(db: Database, number: str) -> Ticket:
    """The ticket with this number ("2609-0042"); TicketNotFound otherwise."""
    async with db.read() as r:
        ticket = await r.tickets.get_by_number(number)
    if ticket is None:
        raise TicketNotFound(number)
    return ticket


async def ticket_by_source(db: Database, chat_id: int, message_id: int) -> Ticket | None:
    """The ticket a message opened, if any."""
    async with db.read() as r:
        return await r.tickets.get_by_source(chat_id, message_id)


async def recently_resolved_by(db: Database, person_key: str, since: datetime,
                               limit: int = 1) -> list[Ticket]:
    """Tickets ``person_key`` resolved since ``since``, newest first."""
    async with db.read() as r:
        return await r.queries.recently_resolved_by(person_key, since, limit=limit)


async def grid_of_chat(db: Database, config: CommunityConfig, chat_id: int) -> str | None:
    """The grid a chat belongs to: a /bind binding wins over the config's ``chats``."""
    async with db.read() as r:
        bound = await r.chats.grid_of(chat_id)
    if bound:
        return bound
    grid = config.grid_of_chat(chat_id)
    return grid.name if grid else None


async def groups_of_grids(db: Database, config: CommunityConfig) -> dict[str, list[GroupChat]]:
    """Each grid's group chats (:func:`services.recipients.grid_groups`)."""
    async with db.read() as r:
        return await grid_groups(r, config)


async def ticket_by_id(db: Database, ticket_id: int) -> Ticket:
    async with db.read() as r:
        ticket = await r.tickets.get(ticket_id)
    if ticket is None:
        raise TicketNotFound(ticket_id)
    return ticket


async def timeline(db: Database, ticket_id: int) -> list[EventRecord]:
    """Every event of a ticket, oldest first."""
    async with db.read() as r:
        return await r.events.for_ticket(ticket_id)


async def supporters_of(db: Database, ticket_id: int) -> list[Supporter]:
    """Residents who joined the ticket (附议), in joining order."""
    async with db.read() as r:
        return await r.supporters.for_ticket(ticket_id)


async def digest(db: Database, start: datetime, end: datetime) -> Digest:
    """Counts for ``[start, end)``: new, resolved, on-time rate, average rating —
    in total, per category and per grid."""
    async with db.read() as r:
        return await r.queries.digest(start, end)


async def tickets_needing_followup(db: Database, config: CommunityConfig, clock: Clock,
                                   limit: int = 100) -> list[Ticket]:
    """Resolved, unrated tickets resolved more than ``sla.followup_after`` ago (ask the
    reporter again for a rating)."""
    async with db.read() as r:
        return await r.queries.needing_followup(clock.now() - config.sla.followup_after, limit)


async def tickets_to_close_unrated(db: Database, config: CommunityConfig, clock: Clock,
                                   limit: int = 100) -> list[Ticket]:
    """Resolved, unrated tickets past ``sla.close_unrated_after``: close them unrated."""
    async with db.read() as r:
        return await r.queries.needing_followup(
            clock.now() - config.sla.close_unrated_after, limit)
