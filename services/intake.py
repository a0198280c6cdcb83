"""Use case: a parsed report arrives from a group chat.

One transaction decides everything: a redelivered message returns what it produced the
first time; a duplicate joins its master as a supporter (附议); anything else becomes a
routed ticket with SLA deadlines, its creation event and its outbox messages.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from community.model import CommunityConfig
from services.common import Deps, Emission, emit_many
from services.presenter import Presenter
from storage import Database, UnitOfWork
from tickets import lifecycle
from tickets.clock import Clock
from tickets.duplicates import BURST_WINDOW, find_master
from tickets.model import Actor, Location, ReportInput, Ticket
from tickets.routing import route
from tickets.sla import compute_deadlines


@dataclass(frozen=True, slots=True)
class IncomingReport:
    """A report as the handler hands it over: where it came from, who sent it, the parse."""

    source_chat_id: int
    source_message_id: int
    reporter_id: int
    reporter_name: str
    report: ReportInput
    source_thread_id: int | None = None
    reporter_username: str | None = None


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """``created``: a new ticket was opened. ``joined_master``: the report supports
    ``ticket`` (an existing open ticket). Both False: this message was already handled
    (redelivery) and ``ticket`` is what it produced then."""

    ticket: Ticket
    created: bool
    joined_master: bool


def report_to_json(report: ReportInput) -> str:
    """Serialise a ReportInput (kept on supporter rows so a join can be split later)."""
    data = asdict(report)
    return json.dumps(data, ensure_ascii=False)


def report_from_json(text: str) -> ReportInput:
    """The inverse of :func:`report_to_json` (not a parse result: see
    ``handlers.intake.report_input_from_parse_json`` for that)."""
    data = json.loads(text)
    data["location"] = Location(**data["location"])
    data["keywords"] = tuple(data["keywords"])
    return ReportInput(**data)


async def report_received(
    db: Database,
    config: CommunityConfig,
    clock: Clock,
    presenter: Presenter,
    *,
    source_chat_id: int,
    source_message_id: int,
    reporter_id: int,
    reporter_name: str,
    report: ReportInput,
    source_thread_id: int | None = None,
    reporter_username: str | None = None,
) -> IntakeResult:
    """Record one report durably (ticket or supporter + events + outbox) and return the
    outcome. When this returns, everything is committed."""
    deps = Deps(db, config, clock, presenter)
    item = IncomingReport(source_chat_id, source_message_id, reporter_id, reporter_name,
                          report, source_thread_id, reporter_username)
    async with db.transaction() as uow:
        return await intake_in(uow, deps, item)


async def report_received_many(
    db: Database,
    config: CommunityConfig,
    clock: Clock,
    presenter: Presenter,
    items: Sequence[IncomingReport],
) -> list[IntakeResult]:
    """Group commit: record several reports in ONE transaction (all or nothing) — for
    bursts. Later items see earlier ones, so a burst of the same report makes one ticket.
    Nothing may be acknowledged before this returns."""
    deps = Deps(db, config, clock, presenter)
    async with db.transaction() as uow:
        return await intake_batch(uow, deps, items)


async def intake_in(
    uow: UnitOfWork, deps: Deps, item: IncomingReport, *, allow_join: bool = True
) -> IntakeResult:
    """The intake decision for one report inside the caller's transaction
    (``allow_join=False`` skips duplicate detection: used when a supporter is split off
    into its own ticket)."""
    return (await intake_batch(uow, deps, [item], allow_join=allow_join))[0]


async def intake_batch(
    uow: UnitOfWork, deps: Deps, items: Sequence[IncomingReport], *, allow_join: bool = True
) -> list[IntakeResult]:
    """Decide every report of a batch, in order, inside the caller's transaction.

    Lookups that do not depend on earlier items (already-seen source keys, chat
    bindings) are made once for the batch, and all events and outbox rows are written
    at the end in one statement each: that is what makes group commit fast. Later items
    see tickets created by earlier ones (same transaction), so a burst joins up.
    """
    config = deps.config
    now = deps.clock.now()
    keys = [(i.source_chat_id, i.source_message_id) for i in items]
    seen = await uow.tickets.sources_seen(keys)
    bindings = await uow.chats.get_many(
        {i.source_chat_id for i, k in zip(items, keys, strict=True) if k not in seen})
    loaded: dict[int, Ticket] = {}  # identity map: one object per ticket in the batch
    done: dict[tuple[int, int], IntakeResult] = {}
    emissions: list[Emission] = []

    async def get(ticket_id: int) -> Ticket:
        if ticket_id not in loaded:
            ticket = await uow.tickets.get(ticket_id)
            assert ticket is not None
            loaded[ticket_id] = ticket
        return loaded[ticket_id]

    def thread_of(chat_id: int) -> int | None:
        binding = bindings.get(chat_id)
        return binding.thread_id if binding else None

    results: list[IntakeResult] = []
    for item, key in zip(items, keys, strict=True):
        if key in done:  # the same message twice in one batch
            prior = done[key]
            results.append(IntakeResult(prior.ticket, created=False, joined_master=False))
            continue
        if key in seen:  # redelivery: report what the first delivery produced
            _, ticket_id = seen[key]
            results.append(IntakeResult(await get(ticket_id), created=False,
                                        joined_master=False))
            continue
        report, chat = item.report, item.source_chat_id
        reporter = Actor.resolve(config, item.reporter_id, username=item.reporter_username,
                                 name=item.reporter_name)
        place = report.location
        match = None
        if allow_join:
            candidates = await uow.tickets.duplicate_candidates(
                report.category, now - config.sla.duplicate_window,
                compound=place.compound or place.street, building=place.building,
                chat_id=chat, burst_since=now - BURST_WINDOW)
            match = find_master(report, source_chat_id=chat, now=now, candidates=candidates,
                                window=config.sla.duplicate_window)
        if match is not None:
            master = await get(match.ticket_id)
            result = await support_in(uow, item, reporter, master, now, emissions,
                                      thread_of(master.source_chat_id))
        else:
            binding = bindings.get(chat)
            chat_grid = binding.grid if binding and binding.grid else None
            if chat_grid is None:
                grid = config.grid_of_chat(chat)
                chat_grid = grid.name if grid else None
            decision = route(config, category=report.category, urgency=report.urgency,
                             compound=place.compound or place.street, building=place.building,
                             chat_grid=chat_grid)
            deadlines = compute_deadlines(config.sla, deps.calendar, report.urgency, now)
            ticket, event = lifecycle.open_ticket(
                report=report, source_chat_id=chat, source_message_id=item.source_message_id,
                source_thread_id=item.source_thread_id, reporter=reporter,
                reporter_name=item.reporter_name, decision=decision, deadlines=deadlines,
                now=now)
            await uow.tickets.add(ticket)
            loaded[ticket.id or 0] = ticket
            emissions.append(Emission(ticket, event, reporter, None, thread_of(chat)))
            result = IntakeResult(ticket, created=True, joined_master=False)
        done[key] = result
        results.append(result)
    await emit_many(uow, deps, now, emissions)
    return results


async def support_in(uow: UnitOfWork, item: IncomingReport, reporter: Actor, master: Ticket,
                     now: datetime, emissions: list[Emission],
                     thread: int | None) -> IntakeResult:
    """Inside a transaction: the report joins ``master`` as a supporter (附议)."""
    assert master.id is not None
    if item.reporter_id == master.reporter_id:
        # The reporter repeating themselves is not a second voice.
        return IntakeResult(master, created=False, joined_master=True)
    added = await uow.supporters.add(
        master.id, user_id=item.reporter_id, user_name=item.reporter_name,
        source_chat_id=item.source_chat_id, source_message_id=item.source_message_id,
        text=item.report.text, parse_json=report_to_json(item.report), now=now)
    if not added:  # this user already supports it: one vote per person
        return IntakeResult(master, created=False, joined_master=True)
    events = lifecycle.support(
        master, reporter, now, user_name=item.reporter_name,
        source_chat_id=item.source_chat_id, source_message_id=item.source_message_id,
        supporters_after=master.supporters_count + 1, source_thread_id=item.source_thread_id)
    await uow.tickets.update(master)
    emissions.extend(Emission(master, e, reporter, master, thread) for e in events)
    return IntakeResult(master, created=False, joined_master=True)
