"""Use cases of conversations: a message read in a ticket's context, and a report's
missing place arriving in a later message.

``reply_received`` carries out what ``tickets.followups.decide`` says, in one
transaction with the events and outbox rows, keyed by the update so a replay does
nothing twice. ``place_received`` fills an open ticket's empty location fields from a
later message of its reporter (a split report, a location pin).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from community.model import CommunityConfig
from services.common import Deps, Emission, card_thread, emit, emit_many, load, save
from services.intake import IncomingReport, intake_in, support_in
from services.presenter import Presenter
from storage import Database, UnitOfWork
from tickets import lifecycle
from tickets.clock import Clock
from tickets.events import TicketEvent
from tickets.followups import Outcome, Reply, decide
from tickets.model import Actor, Location, ReportInput, Ticket
from tickets.outgoing import OutgoingMessage
from tickets.sla import compute_deadlines

#: Builds the short progress answer (state, assignee, deadline) for a ticket.
ProgressAnswer = Callable[[Ticket], OutgoingMessage]


@dataclass(frozen=True, slots=True)
class ReplyInput:
    """A message that replies to something belonging to ``ticket_id``."""

    ticket_id: int
    chat_id: int
    message_id: int
    user_id: int
    user_name: str
    kind: Reply
    report: ReportInput  # the message read as a report (text, category, place)
    request_key: str  # the update's key: the same update is handled once
    thread_id: int | None = None
    username: str | None = None
    photo_file_id: str | None = None
    category: str | None = None  # the message's own category when it reads as a report


@dataclass(frozen=True, slots=True)
class ReplyResult:
    """``ticket`` is the ticket in context after the change, or the new follow-up ticket
    (then ``earlier`` is the old one). ``answered``: a progress answer was queued."""

    outcome: Outcome
    ticket: Ticket | None
    earlier: Ticket | None = None
    answered: bool = False
    repeated: bool = False  # the update was handled before: nothing done now


async def ticket_replied_to(db: Database, chat_id: int, message_id: int) -> int | None:
    """The ticket whose card, reported message or bot message about it is ``message_id``
    in ``chat_id`` (None: the message belongs to no ticket)."""
    async with db.read() as uow:
        return await uow.conversations.ticket_for_message(chat_id, message_id)


async def reply_received(
    db: Database, config: CommunityConfig, clock: Clock, presenter: Presenter,
    item: ReplyInput, *, answer: ProgressAnswer, progress_interval: timedelta,
) -> ReplyResult:
    """Handle one message in a ticket's context (see ``tickets.followups``)."""
    deps = Deps(db, config, clock, presenter)
    actor = Actor.resolve(config, item.user_id, username=item.username, name=item.user_name)
    async with db.transaction() as uow:
        ticket = await load(uow, item.ticket_id)
        while ticket.merged_into is not None:  # a merged duplicate speaks for its master
            ticket = await load(uow, ticket.merged_into)
        now = clock.now()
        outcome = decide(item.kind, ticket, actor, now, reopen_window=config.sla.reopen_window,
                         category=item.category)
        if outcome in (Outcome.IGNORE, Outcome.READ_ALONE):
            return ReplyResult(outcome, ticket)
        if not await uow.idempotency.claim(f"{item.request_key}:reply", now):
            return ReplyResult(outcome, ticket, repeated=True)
        thread = await card_thread(uow, ticket)
        if outcome is Outcome.ANSWER_PROGRESS:
            private = item.chat_id > 0
            claimed = private or await uow.conversations.claim_progress_answer(
                ticket.id or 0, item.chat_id, not_since=now - progress_interval, now=now)
            if claimed:
                await uow.outbox.add(answer(ticket), now)
            return ReplyResult(outcome, ticket, answered=claimed)
        if outcome is Outcome.ADD_DETAIL:
            events = await _add_detail(uow, ticket, actor, now, item)
            await save(uow, ticket, "add_detail")
            await emit(uow, deps, actor, now, [(ticket, e) for e in events],
                       card_thread_id=thread)
            return ReplyResult(outcome, ticket)
        if outcome is Outcome.REOPEN:
            deadlines = compute_deadlines(config.sla, deps.calendar, ticket.urgency, now)
            events = lifecycle.reopen(ticket, actor, now, window=config.sla.reopen_window,
                                      deadlines=deadlines, note=item.report.text or None)
            await save(uow, ticket, "reopen")
            await emit(uow, deps, actor, now, [(ticket, e) for e in events],
                       card_thread_id=thread)
            return ReplyResult(outcome, ticket)
        if outcome is Outcome.SUPPORT:
            emissions: list[Emission] = []
            await support_in(uow, _intake_item(item, item.report), actor, ticket, now,
                             emissions, thread)
            await emit_many(uow, deps, now, emissions)
            return ReplyResult(outcome, ticket)
        new = await follow_up_in(uow, deps, ticket, actor, _intake_item(item, item.report))
        return ReplyResult(outcome, new, earlier=ticket)


def _intake_item(item: ReplyInput, report: ReportInput) -> IncomingReport:
    return IncomingReport(item.chat_id, item.message_id, item.user_id, item.user_name, report,
                          item.thread_id, item.username)


async def _add_detail(uow: UnitOfWork, ticket: Ticket, actor: Actor, now: datetime,
                      item: ReplyInput) -> tuple[TicketEvent, ...]:
    events: tuple[TicketEvent, ...] = ()
    if item.report.text or not item.report.location.is_empty:
        events = lifecycle.add_detail(ticket, actor, now, text=item.report.text,
                                      location=item.report.location)
    photo_rule = lifecycle.TRANSITIONS[lifecycle.Action.ATTACH_PHOTO]
    if (item.photo_file_id is not None and lifecycle.relations(actor, ticket) & photo_rule.who
            and await uow.tickets.add_photo(ticket.id or 0, item.photo_file_id, actor.user_id,
                                            now)):
        events += lifecycle.attach_photo(ticket, actor, now, item.photo_file_id)
    return events


def follow_up_report(report: ReportInput, earlier: Ticket) -> ReportInput:
    """The report of a follow-up ticket: the new words, with the old ticket's category
    (it is the same problem come back: "还是坏的" under a lift card is about the lift) and
    its place where the words name none."""
    loc, old = report.location, earlier.location
    place = Location(loc.compound or old.compound, loc.building or old.building,
                     loc.unit or old.unit, loc.room or old.room, loc.floor or old.floor,
                     loc.street)
    return replace(report, category=earlier.category, location=place,
                   keywords=report.keywords or earlier.keywords)


async def follow_up_in(uow: UnitOfWork, deps: Deps, earlier: Ticket, actor: Actor,
                       item: IncomingReport) -> Ticket:
    """Open a new ticket for a problem that came back after ``earlier`` was closed, and
    link the two (an event on each)."""
    item = replace(item, report=follow_up_report(item.report, earlier))
    result = await intake_in(uow, deps, item, allow_join=False)
    new = result.ticket
    if result.created and new.id is not None and earlier.id is not None:
        now = deps.clock.now()
        await uow.conversations.link(new.id, earlier.id, now)
        linked = lifecycle.link_follow_up(new, earlier, actor, now)
        await emit(uow, deps, actor, now, [(new, linked[0]), (earlier, linked[1])])
    return new


async def place_received(
    db: Database, config: CommunityConfig, clock: Clock, presenter: Presenter, *,
    ticket_id: int, user_id: int, user_name: str, username: str | None, text: str,
    location: Location, request_key: str,
) -> Ticket | None:
    """The reporter said (or pinned) the place after filing: fill the ticket's empty
    location fields. None when the update was already handled."""
    deps = Deps(db, config, clock, presenter)
    actor = Actor.resolve(config, user_id, username=username, name=user_name)
    async with db.transaction() as uow:
        now = clock.now()
        if not await uow.idempotency.claim(f"{request_key}:place", now):
            return None
        ticket = await load(uow, ticket_id)
        events = lifecycle.add_detail(ticket, actor, now, text=text, location=location)
        await save(uow, ticket, "add_detail")
        await emit(uow, deps, actor, now, [(ticket, e) for e in events],
                   card_thread_id=await card_thread(uow, ticket))
    return ticket
