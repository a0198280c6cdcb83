"""Use cases acting on an existing ticket: accept, progress, resolve, rate, reopen, …

Each function takes the Database, the CommunityConfig, the Clock and a Presenter, opens
its own transaction, applies one lifecycle action, saves the ticket (version-checked),
appends the events and queues the presenter's messages — all or nothing. It returns the
updated Ticket, or raises TransitionRefused / NotPermitted / TicketNotFound.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from community.model import CommunityConfig, Role
from services.common import Deps, card_thread, emit, first_time, load, save
from services.intake import IncomingReport, intake_in, report_from_json
from services.presenter import Presenter
from storage import Database, UnitOfWork
from tickets import lifecycle
from tickets.clock import Clock
from tickets.errors import NotPermitted, RefusalCode
from tickets.events import SplitOff, TicketEvent
from tickets.model import Actor, ReportInput, Ticket
from tickets.routing import route
from tickets.sla import Deadlines, compute_deadlines

Ref = int | str  # a ticket id or its number ("2609-0042")
Step = Callable[[UnitOfWork, Ticket, datetime], Awaitable[tuple[TicketEvent, ...]]]


async def _run(deps: Deps, ref: Ref, actor: Actor, action: str, step: Step) -> Ticket:
    async with deps.db.transaction() as uow:
        ticket = await load(uow, ref)
        if not await first_time(uow, action, ticket):
            return ticket  # a replayed request: done before, nothing repeats
        now = deps.clock.now()
        events = await step(uow, ticket, now)
        await save(uow, ticket, action)
        await emit(uow, deps, actor, now, [(ticket, e) for e in events],
                   card_thread_id=await card_thread(uow, ticket))
    return ticket


def _deadlines(deps: Deps, ticket: Ticket, now: datetime) -> Deadlines:
    return compute_deadlines(deps.config.sla, deps.calendar, ticket.urgency, now)


async def assign(db: Database, config: CommunityConfig, clock: Clock, presenter: Presenter,
                 ref: Ref, actor: Actor, assignee: str) -> Ticket:
    """Give an unassigned (NEW) ticket to a configured staff member."""
    _require_staff(config, assignee)

    async def step(uow: UnitOfWork, t: Ticket, now: datetime) -> tuple[TicketEvent, ...]:
        return lifecycle.assign(t, actor, now, assignee)
    return await _run(Deps(db, config, clock, presenter), ref, actor, "assign", step)


async def accept(db: Database, config: CommunityConfig, clock: Clock, presenter: Presenter,
                 ref: Ref, actor: Actor) -> Ticket:
    """Claim a ticket (接单). Of two simultaneous accepts exactly one wins; the other gets
    TransitionRefused(ALREADY_ACCEPTED)."""
    async def step(uow: UnitOfWork, t: Ticket, now: datetime) -> tuple[TicketEvent, ...]:
        events = lifecycle.accept(t, actor, now)
        from services.corrections import record_confirmed  # learning: a confirmed label

        await record_confirmed(uow, t, actor, now)
        return events
    return await _run(Deps(db, config, clock, presenter), ref, actor, "accept", step)


async def progress(db: Database, config: CommunityConfig, clock: Clock, presenter: Presenter,
                   ref: Ref, actor: Actor, note: str) -> Ticket:
    """Add a progress note (the first moves accepted → in_progress)."""
    async def step(uow: UnitOfWork, t: Ticket, now: datetime) -> tuple[TicketEvent, ...]:
        return lifecycle.progress(t, actor, now, note)
    return await _run(Deps(db, config, clock, presenter), ref, actor, "progress", step)


async def resolve(db: Database, config: CommunityConfig, clock: Clock, presenter: Presenter,
                  ref: Ref, actor: Actor, note: str | None = None) -> Ticket:
    """The assignee (or a supervisor) marks the problem fixed; the reporter is asked to rate."""
    async def step(uow: UnitOfWork, t: Ticket, now: datetime) -> tuple[TicketEvent, ...]:
        return lifecycle.resolve(t, actor, now, note)
    return await _run(Deps(db, config, clock, presenter), ref, actor, "resolve", step)


async def close_unrated(db: Database, config: CommunityConfig, clock: Clock,
                        presenter: Presenter, ref: Ref, actor: Actor | None = None,
                        note: str | None = None) -> Ticket:
    """Close a resolved ticket without rating (the follow-up window expired; system actor
    by default)."""
    who = actor or Actor.system()

    async def step(uow: UnitOfWork, t: Ticket, now: datetime) -> tuple[TicketEvent, ...]:
        return lifecycle.close_unrated(t, who, now, note)
    return await _run(Deps(db, config, clock, presenter), ref, who, "close", step)


async def rate(db: Database, config: CommunityConfig, clock: Clock, presenter: Presenter,
               ref: Ref, actor: Actor, score: int, comment: str | None = None) -> Ticket:
    """The reporter rates 1–4 (满意/基本满意/不满意/没解决): 1–2 close, 3–4 reopen. The
    rating is kept in the ratings table either way."""
    deps = Deps(db, config, clock, presenter)

    async def step(uow: UnitOfWork, t: Ticket, now: datetime) -> tuple[TicketEvent, ...]:
        events = lifecycle.rate(t, actor, now, score, _deadlines(deps, t, now), comment)
        await uow.ratings.add(t.id or 0, actor.user_id or 0, score, comment, now)
        return events
    return await _run(deps, ref, actor, "rate", step)


async def reopen(db: Database, config: CommunityConfig, clock: Clock, presenter: Presenter,
                 ref: Ref, actor: Actor, note: str | None = None) -> Ticket:
    """The reporter says it is not fixed (within sla.reopen_window), or a supervisor
    reopens; deadlines restart."""
    deps = Deps(db, config, clock, presenter)

    async def step(uow: UnitOfWork, t: Ticket, now: datetime) -> tuple[TicketEvent, ...]:
        return lifecycle.reopen(t, actor, now, window=config.sla.reopen_window,
                                deadlines=_deadlines(deps, t, now), note=note)
    return await _run(deps, ref, actor, "reopen", step)


async def transfer(db: Database, config: CommunityConfig, clock: Clock, presenter: Presenter,
                   ref: Ref, actor: Actor, *, to_assignee: str | None = None,
                   to_grid: str | None = None, note: str | None = None) -> Ticket:
    """Hand over to another staff member and/or grid. A grid alone goes to that grid's
    primary worker (or its backup / a supervisor, as routing would)."""
    if to_assignee is None and to_grid is None:
        raise NotPermitted(RefusalCode.UNKNOWN_TARGET, "no target")
    if to_grid is not None and config.grid(to_grid) is None:
        raise NotPermitted(RefusalCode.UNKNOWN_TARGET, f"grid {to_grid}")
    if to_assignee is not None:
        _require_staff(config, to_assignee)

    async def step(uow: UnitOfWork, t: Ticket, now: datetime) -> tuple[TicketEvent, ...]:
        target = to_assignee
        if target is None:
            target = route(config, category=t.category, urgency=t.urgency, compound=None,
                           building=None, chat_grid=to_grid).assignee
        fresh = _deadlines(deps, t, now).accept_due
        return lifecycle.transfer(t, actor, now, to_assignee=target, to_grid=to_grid, note=note,
                                  fresh_accept_due=fresh)
    deps = Deps(db, config, clock, presenter)
    return await _run(deps, ref, actor, "transfer", step)


async def escalate(db: Database, config: CommunityConfig, clock: Clock, presenter: Presenter,
                   ref: Ref, actor: Actor, reason: str) -> Ticket:
    """Raise to the supervisors (督办) with a reason; they become co-owners, the state
    stays. Also used by the scheduler (system actor) for missed deadlines."""
    to = tuple(p.key for p in config.supervisors())

    async def step(uow: UnitOfWork, t: Ticket, now: datetime) -> tuple[TicketEvent, ...]:
        return lifecycle.escalate(t, actor, now, reason=reason, to=to)
    return await _run(Deps(db, config, clock, presenter), ref, actor, "escalate", step)


async def reject(db: Database, config: CommunityConfig, clock: Clock, presenter: Presenter,
                 ref: Ref, actor: Actor, note: str) -> Ticket:
    """"Not a report": cancel it and record a correction (text, predicted category, note)."""
    async def step(uow: UnitOfWork, t: Ticket, now: datetime) -> tuple[TicketEvent, ...]:
        events = lifecycle.reject(t, actor, now, note)
        await uow.corrections.add(ticket_id=t.id, text=t.text, predicted_category=t.category,
                                  parse_json=t.parse_json, note=note, by_key=actor.key, now=now)
        return events
    return await _run(Deps(db, config, clock, presenter), ref, actor, "reject", step)


async def cancel(db: Database, config: CommunityConfig, clock: Clock, presenter: Presenter,
                 ref: Ref, actor: Actor, note: str | None = None) -> Ticket:
    """The reporter withdraws the report (or a supervisor cancels it)."""
    async def step(uow: UnitOfWork, t: Ticket, now: datetime) -> tuple[TicketEvent, ...]:
        return lifecycle.cancel(t, actor, now, note)
    return await _run(Deps(db, config, clock, presenter), ref, actor, "cancel", step)


async def attach_photo(db: Database, config: CommunityConfig, clock: Clock,
                       presenter: Presenter, ref: Ref, actor: Actor, file_id: str) -> Ticket:
    """Attach a photo (Telegram file_id). The same file twice is stored once, no event."""
    async def step(uow: UnitOfWork, t: Ticket, now: datetime) -> tuple[TicketEvent, ...]:
        lifecycle.check(lifecycle.Action.ATTACH_PHOTO, t, actor)
        if not await uow.tickets.add_photo(t.id or 0, file_id, actor.user_id, now):
            return ()
        return lifecycle.attach_photo(t, actor, now, file_id)
    return await _run(Deps(db, config, clock, presenter), ref, actor, "attach_photo", step)


async def edit_report(db: Database, config: CommunityConfig, clock: Clock, presenter: Presenter,
                      ref: Ref, actor: Actor, report: ReportInput) -> Ticket:
    """The reporter edited the message while the ticket is still new/assigned: text and
    parse are replaced; routing and deadlines are kept."""
    async def step(uow: UnitOfWork, t: Ticket, now: datetime) -> tuple[TicketEvent, ...]:
        return lifecycle.edit_report(t, actor, now, report)
    return await _run(Deps(db, config, clock, presenter), ref, actor, "edit", step)


async def merge(db: Database, config: CommunityConfig, clock: Clock, presenter: Presenter,
                ref: Ref, master_ref: Ref, actor: Actor) -> Ticket:
    """Merge a duplicate into its master by hand: the duplicate becomes MERGED (pointing
    at the master), its reporter and supporters become the master's supporters.
    Returns the duplicate."""
    deps = Deps(db, config, clock, presenter)
    async with db.transaction() as uow:
        dup = await load(uow, ref)
        master = await load(uow, master_ref)
        now = clock.now()
        lifecycle.check(lifecycle.Action.MERGE, dup, actor)
        if master.id != dup.id and master.is_open and dup.id is not None:
            if dup.reporter_id != master.reporter_id:
                await uow.supporters.add(
                    master.id or 0, user_id=dup.reporter_id, user_name=dup.reporter_name,
                    source_chat_id=dup.source_chat_id, source_message_id=dup.source_message_id,
                    text=dup.text, now=now, via_ticket_id=dup.id)
            await uow.supporters.move(dup.id, master.id or 0)
        after = await uow.supporters.count(master.id or 0)
        events = lifecycle.merge(dup, master, actor, now, supporters_after=after)
        await save(uow, dup, "merge")
        await save(uow, master, "merge")
        await emit(uow, deps, actor, now, [(dup, events[0]), (master, events[1])],
                   master=master, card_thread_id=await card_thread(uow, master))
    return dup


async def split(db: Database, config: CommunityConfig, clock: Clock, presenter: Presenter,
                ref: Ref, actor: Actor) -> Ticket:
    """Undo a merge: the ticket stands alone again with its own supporters back.
    Returns the split ticket."""
    deps = Deps(db, config, clock, presenter)
    async with db.transaction() as uow:
        ticket = await load(uow, ref)
        lifecycle.check(lifecycle.Action.SPLIT, ticket, actor)
        if ticket.merged_into is None:
            raise NotPermitted(RefusalCode.NOT_MERGED)
        master = await load(uow, ticket.merged_into)
        now = clock.now()
        await uow.supporters.move_back(master.id or 0, ticket.id or 0)
        ticket.supporters_count = await uow.supporters.count(ticket.id or 0)
        after = await uow.supporters.count(master.id or 0)
        events = lifecycle.split(ticket, master, actor, now, master_supporters_after=after)
        await save(uow, ticket, "split")
        await save(uow, master, "split")
        await emit(uow, deps, actor, now, [(ticket, events[0]), (master, events[1])],
                   master=master, card_thread_id=await card_thread(uow, ticket))
    return ticket


async def split_supporter(db: Database, config: CommunityConfig, clock: Clock,
                          presenter: Presenter, ref: Ref, user_id: int, actor: Actor) -> Ticket:
    """Undo a join: a supporter's report was a different problem after all. Their row
    leaves the master and their original message becomes its own routed ticket.
    Returns the new ticket."""
    deps = Deps(db, config, clock, presenter)
    async with db.transaction() as uow:
        master = await load(uow, ref)
        # Same rights as merging: the master's owner, its grid's workers, supervisors.
        lifecycle.check(lifecycle.Action.MERGE, master, actor)
        sup = await uow.supporters.get(master.id or 0, user_id)
        if sup is None:
            raise NotPermitted(RefusalCode.NOT_A_SUPPORTER, f"user {user_id}")
        await uow.supporters.remove(sup.id)
        now = clock.now()
        master.supporters_count = await uow.supporters.count(master.id or 0)
        lifecycle.refresh_priority(master, now)
        await save(uow, master, "split")
        report = report_from_json(sup.parse_json)
        # Bypass duplicate detection for this one: it was just judged different.
        item = IncomingReport(sup.source_chat_id, sup.source_message_id, sup.user_id,
                              sup.user_name, report)
        result = await intake_in(uow, deps, item, allow_join=False)
        off = SplitOff(at=now, actor_id=actor.user_id, actor_key=actor.key,
                       from_state=master.state, to_state=master.state,
                       other_id=result.ticket.id or 0,
                       supporters_count=master.supporters_count)
        await emit(uow, deps, actor, now, [(master, off)],
                   card_thread_id=await card_thread(uow, master))
    return result.ticket




def _require_staff(config: CommunityConfig, key: str) -> None:
    person = config.person(key)
    if person is None or not (person.roles & {Role.WORKER, Role.SPECIALIST, Role.SUPERVISOR,
                                              Role.ADMIN}):
        raise NotPermitted(RefusalCode.UNKNOWN_TARGET, f"person {key}")
