"""The ticket state machine. ``TRANSITIONS`` is the one place that says which action is
allowed from which state, by whom, and where it leads.

Each action function checks the table, mutates the :class:`Ticket` and returns the events
to append (usually one). Illegal moves raise :class:`TransitionRefused` with a code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tickets.errors import RefusalCode, TransitionRefused
from tickets.events import (
    Accepted,
    Assigned,
    Cancelled,
    Closed,
    Corrected,
    DetailAdded,
    Escalated,
    Linked,
    Merged,
    MergeReceived,
    PhotoAttached,
    Progressed,
    Rated,
    Rejected,
    Reopened,
    ReportEdited,
    Resolved,
    Split,
    SplitOff,
    SupporterJoined,
    TicketCreated,
    TicketEvent,
    Transferred,
)
from tickets.model import (
    LOW_RATINGS,
    OPEN_STATES,
    RATING_LABELS,
    Actor,
    Location,
    ReportInput,
    Ticket,
    TicketState,
)
from tickets.priority import is_overdue, priority_of
from tickets.routing import RoutingDecision
from tickets.sla import Deadlines

S = TicketState


class Action(StrEnum):
    ASSIGN = "assign"
    ACCEPT = "accept"
    PROGRESS = "progress"
    RESOLVE = "resolve"
    CLOSE = "close"
    RATE = "rate"
    REOPEN = "reopen"
    TRANSFER = "transfer"
    ESCALATE = "escalate"
    REJECT = "reject"
    CANCEL = "cancel"
    MERGE = "merge"
    SPLIT = "split"
    SUPPORT = "support"
    ATTACH_PHOTO = "attach_photo"
    EDIT = "edit"
    CORRECT = "correct"
    ADD_DETAIL = "add_detail"


class Who(StrEnum):
    """Relations between an actor and a ticket that grant an action."""

    SYSTEM = "system"  # the bot (routing, scheduler)
    ANYONE = "anyone"  # any Telegram user
    REPORTER = "reporter"  # the resident who opened the ticket
    OWNER = "owner"  # the assignee, or a person the ticket was escalated to (co-owner)
    GRID_WORKER = "grid_worker"  # a worker of the ticket's grid
    SPECIALIST = "specialist"  # a specialist whose categories include the ticket's
    SUPERVISOR = "supervisor"  # a supervisor or admin


@dataclass(frozen=True, slots=True)
class Rule:
    """``to_state`` None means the state does not change."""

    sources: frozenset[TicketState]
    who: frozenset[Who]
    to_state: TicketState | None


def _rule(sources: set[TicketState], who: set[Who], to: TicketState | None) -> Rule:
    return Rule(frozenset(sources), frozenset(who), to)


_OPEN = set(OPEN_STATES)
_HANDLERS = {Who.OWNER, Who.GRID_WORKER, Who.SPECIALIST, Who.SUPERVISOR}

#: The transition table. Rating a resolved ticket closes it; a low rating then reopens it
#: (see :func:`rate`). Reopen targets ASSIGNED: the assignee must accept again.
TRANSITIONS: dict[Action, Rule] = {
    Action.ASSIGN: _rule({S.NEW}, {Who.SYSTEM, Who.SUPERVISOR}, S.ASSIGNED),
    Action.ACCEPT: _rule({S.NEW, S.ASSIGNED}, _HANDLERS, S.ACCEPTED),
    Action.PROGRESS: _rule({S.ACCEPTED, S.IN_PROGRESS}, {Who.OWNER, Who.SUPERVISOR}, S.IN_PROGRESS),
    Action.RESOLVE: _rule(
        {S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS}, {Who.OWNER, Who.SUPERVISOR}, S.RESOLVED
    ),
    Action.CLOSE: _rule({S.RESOLVED}, {Who.SYSTEM, Who.SUPERVISOR}, S.CLOSED),
    Action.RATE: _rule({S.RESOLVED}, {Who.REPORTER}, S.CLOSED),
    Action.REOPEN: _rule({S.RESOLVED, S.CLOSED}, {Who.REPORTER, Who.SUPERVISOR}, S.ASSIGNED),
    Action.TRANSFER: _rule(_OPEN, {Who.OWNER, Who.SUPERVISOR}, S.ASSIGNED),
    Action.ESCALATE: _rule(_OPEN, {Who.SYSTEM, Who.OWNER, Who.GRID_WORKER, Who.SUPERVISOR}, None),
    Action.REJECT: _rule(_OPEN, _HANDLERS, S.CANCELLED),
    Action.CANCEL: _rule(_OPEN, {Who.REPORTER, Who.SUPERVISOR}, S.CANCELLED),
    Action.MERGE: _rule(_OPEN, {Who.OWNER, Who.GRID_WORKER, Who.SUPERVISOR}, S.MERGED),
    Action.SPLIT: _rule({S.MERGED}, {Who.OWNER, Who.GRID_WORKER, Who.SUPERVISOR}, S.ASSIGNED),
    Action.SUPPORT: _rule(_OPEN, {Who.ANYONE}, None),
    Action.ATTACH_PHOTO: _rule(_OPEN | {S.RESOLVED}, {Who.REPORTER} | _HANDLERS, None),
    Action.EDIT: _rule({S.NEW, S.ASSIGNED}, {Who.REPORTER}, None),
    Action.CORRECT: _rule(_OPEN, _HANDLERS, None),
    # Anyone may add a note under a card; only the reporter and handlers fill the place.
    Action.ADD_DETAIL: _rule(_OPEN | {S.RESOLVED}, {Who.ANYONE}, None),
}


def relations(actor: Actor, ticket: Ticket) -> frozenset[Who]:
    """Every :class:`Who` the actor holds towards this ticket."""
    if actor.is_system:
        return frozenset({Who.SYSTEM})
    rel = {Who.ANYONE}
    if actor.is_reporter_of(ticket):
        rel.add(Who.REPORTER)
    if actor.key is not None and (
        actor.key == ticket.assignee or actor.key in ticket.escalated_to
    ):
        rel.add(Who.OWNER)
    if actor.is_worker_of(ticket.grid):
        rel.add(Who.GRID_WORKER)
    if actor.is_specialist_for(ticket.category):
        rel.add(Who.SPECIALIST)
    if actor.is_supervisor:
        rel.add(Who.SUPERVISOR)
    return frozenset(rel)


def may_handle(actor: Actor, ticket: Ticket) -> bool:
    """Whether the actor holds a handling relation to the ticket (owner, a worker of its
    grid, a specialist of its category, a supervisor): the people 接单 and 退回 allow."""
    return bool(relations(actor, ticket) & _HANDLERS)


def can_view(actor: Actor, ticket: Ticket) -> bool:
    """Who may see a ticket's details (``/ticket N``, the staff console): the reporter,
    the assignee and escalation targets, the grid's workers, specialists of its category,
    and supervisors."""
    return bool(relations(actor, ticket) & {Who.REPORTER, Who.OWNER, Who.GRID_WORKER,
                                            Who.SPECIALIST, Who.SUPERVISOR})


def check(action: Action, ticket: Ticket, actor: Actor) -> Rule:
    """Return the rule when ``actor`` may do ``action`` now; else raise TransitionRefused.

    The state is checked before the actor, so a late click on a closed ticket says
    "already closed" whoever clicks.
    """
    rule = TRANSITIONS[action]
    state = ticket.state
    if state not in rule.sources:
        if action is Action.ACCEPT and state in (S.ACCEPTED, S.IN_PROGRESS):
            code = RefusalCode.ALREADY_ACCEPTED
        elif ticket.is_final:
            code = RefusalCode.ALREADY_CLOSED
        else:
            code = RefusalCode.WRONG_STATE
        raise TransitionRefused(code, action=action, state=state)
    if relations(actor, ticket) & rule.who:
        return rule
    raise TransitionRefused(_who_code(action, rule, actor), action=action, state=state)


def _who_code(action: Action, rule: Rule, actor: Actor) -> RefusalCode:
    """The most helpful reason an actor lacks the right relation."""
    if actor.is_system:
        return RefusalCode.NOT_STAFF
    if action is Action.ACCEPT and not actor.is_staff:
        return RefusalCode.RESIDENT_CANNOT_ACCEPT
    if Who.REPORTER in rule.who:
        return RefusalCode.NOT_REPORTER
    if not actor.is_staff:
        return RefusalCode.NOT_STAFF
    if Who.SPECIALIST in rule.who and actor.person is not None and actor.person.categories:
        return RefusalCode.NOT_YOUR_CATEGORY
    if Who.GRID_WORKER in rule.who and actor.person is not None and actor.person.grids:
        return RefusalCode.NOT_YOUR_GRID
    if Who.OWNER in rule.who:
        return RefusalCode.NOT_ASSIGNEE
    return RefusalCode.SUPERVISOR_ONLY


# -- helpers -------------------------------------------------------------------------------


def _base(actor: Actor, now: datetime, frm: TicketState | None, to: TicketState) -> dict:
    return {"at": now, "actor_id": actor.user_id, "actor_key": actor.key, "from_state": frm,
            "to_state": to}


def refresh_priority(ticket: Ticket, now: datetime) -> None:
    """Recompute the stored priority after any change."""
    ticket.priority = priority_of(
        urgency=ticket.urgency,
        supporters=ticket.supporters_count,
        escalation_level=ticket.escalation_level,
        reopen_count=ticket.reopen_count,
        overdue=is_overdue(
            now,
            accepted=ticket.accepted_at is not None,
            resolved=ticket.resolved_at is not None,
            accept_due=ticket.accept_due,
            resolve_due=ticket.resolve_due,
        ),
    )


def _move(ticket: Ticket, to: TicketState | None, now: datetime) -> TicketState:
    frm = ticket.state
    if to is not None:
        ticket.state = to
    refresh_priority(ticket, now)
    return frm


# -- creation --------------------------------------------------------------------------------


def open_ticket(
    *,
    report: ReportInput,
    source_chat_id: int,
    source_message_id: int,
    source_thread_id: int | None,
    reporter: Actor,
    reporter_name: str,
    decision: RoutingDecision,
    deadlines: Deadlines,
    now: datetime,
) -> tuple[Ticket, TicketCreated]:
    """A new ticket from a report, already routed (ASSIGNED, or NEW when nobody fits)."""
    loc = report.location
    ticket = Ticket(
        source_chat_id=source_chat_id,
        source_message_id=source_message_id,
        source_thread_id=source_thread_id,
        reporter_id=reporter.user_id or 0,
        reporter_name=reporter_name,
        text=report.text,
        parse_json=report.parse_json,
        category=report.category,
        urgency=report.urgency,
        compound=loc.compound or loc.street,
        building=loc.building,
        unit=loc.unit,
        room=loc.room,
        floor=loc.floor,
        keywords=tuple(report.keywords),
        duplicate_key=report.duplicate_key,
        grid=decision.grid,
        assignee=decision.assignee,
        routing_reason=decision.reason_text,
        created_at=now,
        accept_due=deadlines.accept_due,
        resolve_due=deadlines.resolve_due,
        state=S.ASSIGNED if decision.assignee else S.NEW,
    )
    refresh_priority(ticket, now)
    event = TicketCreated(
        **_base(reporter, now, None, ticket.state),
        decision=decision,
        accept_due=deadlines.accept_due,
        resolve_due=deadlines.resolve_due,
    )
    return ticket, event


# -- actions ---------------------------------------------------------------------------------


def assign(ticket: Ticket, actor: Actor, now: datetime, assignee: str) -> tuple[TicketEvent, ...]:
    """Give an unassigned (NEW) ticket to ``assignee``."""
    rule = check(Action.ASSIGN, ticket, actor)
    ticket.assignee = assignee
    frm = _move(ticket, rule.to_state, now)
    return (Assigned(**_base(actor, now, frm, ticket.state), assignee=assignee),)


def accept(ticket: Ticket, actor: Actor, now: datetime) -> tuple[TicketEvent, ...]:
    """Claim the ticket (接单). Whoever accepts becomes the assignee."""
    rule = check(Action.ACCEPT, ticket, actor)
    previous = ticket.assignee
    ticket.assignee = actor.key
    ticket.accepted_at = now
    frm = _move(ticket, rule.to_state, now)
    return (
        Accepted(**_base(actor, now, frm, ticket.state), assignee=actor.key or "",
                 previous_assignee=previous),
    )


def progress(ticket: Ticket, actor: Actor, now: datetime, note: str) -> tuple[TicketEvent, ...]:
    """Add a progress note; the first one moves ACCEPTED → IN_PROGRESS."""
    rule = check(Action.PROGRESS, ticket, actor)
    first = ticket.state is S.ACCEPTED
    frm = _move(ticket, rule.to_state, now)
    return (Progressed(**_base(actor, now, frm, ticket.state), note=note, first=first),)


def resolve(
    ticket: Ticket, actor: Actor, now: datetime, note: str | None = None
) -> tuple[TicketEvent, ...]:
    """The work is done; the resident is asked to rate. Resolving an unaccepted ticket
    counts as accepting it at the same instant."""
    rule = check(Action.RESOLVE, ticket, actor)
    if ticket.accepted_at is None:
        ticket.accepted_at = now
    ticket.resolved_at = now
    frm = _move(ticket, rule.to_state, now)
    return (Resolved(**_base(actor, now, frm, ticket.state), note=note),)


def close_unrated(
    ticket: Ticket, actor: Actor, now: datetime, note: str | None = None
) -> tuple[TicketEvent, ...]:
    """Close a resolved ticket without a rating (follow-up expired, or a supervisor)."""
    rule = check(Action.CLOSE, ticket, actor)
    ticket.closed_at = now
    frm = _move(ticket, rule.to_state, now)
    return (Closed(**_base(actor, now, frm, ticket.state), note=note, rated=False, score=None),)


def rate(
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    score: int,
    reopen_deadlines: Deadlines,
    comment: str | None = None,
) -> tuple[TicketEvent, ...]:
    """The reporter rates a resolved ticket 1–4 (满意/基本满意/不满意/没解决).

    1–2 close it; 3–4 record the rating and reopen it (reason ``low_rating``) with fresh
    deadlines ``reopen_deadlines``.
    """
    rule = check(Action.RATE, ticket, actor)
    if score not in RATING_LABELS:
        raise TransitionRefused(RefusalCode.INVALID_RATING, action=Action.RATE,
                                state=ticket.state, detail=f"score {score}")
    ticket.rating = score
    rated = Rated(**_base(actor, now, ticket.state, ticket.state), note=comment, score=score,
                  label=RATING_LABELS[score])
    if score in LOW_RATINGS:
        return (rated, _reopen(ticket, actor, now, "low_rating", comment, reopen_deadlines))
    ticket.closed_at = now
    frm = _move(ticket, rule.to_state, now)
    return (rated, Closed(**_base(actor, now, frm, ticket.state), rated=True, score=score))


def reopen(
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    *,
    window: timedelta,
    deadlines: Deadlines,
    note: str | None = None,
) -> tuple[TicketEvent, ...]:
    """Reopen a resolved/closed ticket: the reporter within ``window`` of its resolution,
    a supervisor at any time. Deadlines restart from now."""
    check(Action.REOPEN, ticket, actor)
    is_supervisor = actor.is_supervisor
    if not is_supervisor:
        since = ticket.resolved_at or ticket.closed_at or ticket.created_at
        if now - since > window:
            raise TransitionRefused(RefusalCode.REOPEN_WINDOW_EXPIRED, action=Action.REOPEN,
                                    state=ticket.state)
    reason = "supervisor" if is_supervisor and not actor.is_reporter_of(ticket) else "reporter"
    # "Not fixed" after a good rating: the card no longer shows it (the ratings table keeps
    # it); the next resolution asks again.
    ticket.rating = None
    return (_reopen(ticket, actor, now, reason, note, deadlines),)


def _reopen(
    ticket: Ticket, actor: Actor, now: datetime, reason: str, note: str | None,
    deadlines: Deadlines,
) -> Reopened:
    ticket.reopen_count += 1
    ticket.accepted_at = ticket.resolved_at = ticket.closed_at = None
    ticket.accept_due, ticket.resolve_due = deadlines.accept_due, deadlines.resolve_due
    frm = _move(ticket, S.ASSIGNED if ticket.assignee else S.NEW, now)
    return Reopened(**_base(actor, now, frm, ticket.state), note=note, reason=reason,
                    accept_due=deadlines.accept_due, resolve_due=deadlines.resolve_due)


def transfer(
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    *,
    to_assignee: str | None,
    to_grid: str | None,
    note: str | None = None,
    fresh_accept_due: datetime | None = None,
) -> tuple[TicketEvent, ...]:
    """Hand the ticket to another person and/or grid; it waits for their acceptance.
    The resolve deadline is kept (the resident's clock does not restart), but the new
    owner gets at least a normal acceptance window: the accept deadline becomes the later
    of the old one and ``fresh_accept_due`` (computed from now), so a handed-over ticket is
    not overdue the moment it arrives."""
    rule = check(Action.TRANSFER, ticket, actor)
    new_grid = to_grid if to_grid is not None else ticket.grid
    if to_assignee == ticket.assignee and new_grid == ticket.grid:
        raise TransitionRefused(RefusalCode.SAME_TARGET, action=Action.TRANSFER,
                                state=ticket.state)
    from_assignee, from_grid = ticket.assignee, ticket.grid
    ticket.assignee, ticket.grid = to_assignee, new_grid
    ticket.accepted_at = None
    if fresh_accept_due is not None:
        ticket.accept_due = max(ticket.accept_due or fresh_accept_due, fresh_accept_due)
    ticket.escalated_to = ()  # a fresh owner; co-owners of the old escalation step back
    frm = _move(ticket, rule.to_state if to_assignee else S.NEW, now)
    return (
        Transferred(**_base(actor, now, frm, ticket.state), note=note,
                    from_assignee=from_assignee, to_assignee=to_assignee,
                    from_grid=from_grid, to_grid=new_grid),
    )


def escalate(
    ticket: Ticket, actor: Actor, now: datetime, *, reason: str, to: tuple[str, ...]
) -> tuple[TicketEvent, ...]:
    """Raise the ticket to the supervisors ``to`` (督办): level +1, they become co-owners.
    The state does not change."""
    check(Action.ESCALATE, ticket, actor)
    ticket.escalation_level += 1
    ticket.escalated_to = tuple(dict.fromkeys((*ticket.escalated_to, *to)))
    frm = _move(ticket, None, now)
    return (
        Escalated(**_base(actor, now, frm, ticket.state), reason=reason,
                  level=ticket.escalation_level, escalated_to=to),
    )


def reject(ticket: Ticket, actor: Actor, now: datetime, note: str) -> tuple[TicketEvent, ...]:
    """A handler says this is not a report: the ticket is cancelled and the service
    records a correction (text, predicted category, note) for the NLP team."""
    rule = check(Action.REJECT, ticket, actor)
    ticket.closed_at = now
    frm = _move(ticket, rule.to_state, now)
    return (
        Rejected(**_base(actor, now, frm, ticket.state), note=note,
                 predicted_category=ticket.category),
    )


def cancel(
    ticket: Ticket, actor: Actor, now: datetime, note: str | None = None
) -> tuple[TicketEvent, ...]:
    """The reporter (or a supervisor) withdraws the report."""
    rule = check(Action.CANCEL, ticket, actor)
    ticket.closed_at = now
    frm = _move(ticket, rule.to_state, now)
    return (Cancelled(**_base(actor, now, frm, ticket.state), note=note),)


def merge(
    duplicate: Ticket, master: Ticket, actor: Actor, now: datetime, *, supporters_after: int
) -> tuple[TicketEvent, ...]:
    """Mark ``duplicate`` as merged into ``master``. ``supporters_after`` is the master's
    supporter count once the duplicate's reporter and supporters moved over (storage
    counts them). Returns (Merged on the duplicate, MergeReceived on the master)."""
    rule = check(Action.MERGE, duplicate, actor)
    if master.id is None or master.id == duplicate.id:
        raise TransitionRefused(RefusalCode.SAME_TARGET, action=Action.MERGE,
                                state=duplicate.state)
    if not master.is_open:
        raise TransitionRefused(RefusalCode.MASTER_NOT_OPEN, action=Action.MERGE,
                                state=duplicate.state, detail=f"master is {master.state}")
    duplicate.merged_into = master.id
    duplicate.closed_at = now
    frm = _move(duplicate, rule.to_state, now)
    master.supporters_count = supporters_after
    _move(master, None, now)
    return (
        Merged(**_base(actor, now, frm, duplicate.state), master_id=master.id,
               master_number=master.number),
        MergeReceived(**_base(actor, now, master.state, master.state),
                      duplicate_id=duplicate.id or 0, duplicate_number=duplicate.number,
                      supporters_count=supporters_after),
    )


def split(
    ticket: Ticket, master: Ticket, actor: Actor, now: datetime, *, master_supporters_after: int
) -> tuple[TicketEvent, ...]:
    """Undo a merge: the ticket stands alone again (ASSIGNED, or NEW without assignee).
    Returns (Split on the ticket, SplitOff on the former master)."""
    check(Action.SPLIT, ticket, actor)
    if ticket.merged_into != master.id:
        raise TransitionRefused(RefusalCode.NOT_MERGED, action=Action.SPLIT, state=ticket.state)
    ticket.merged_into = None
    ticket.closed_at = None
    frm = _move(ticket, S.ASSIGNED if ticket.assignee else S.NEW, now)
    master.supporters_count = master_supporters_after
    _move(master, None, now)
    return (
        Split(**_base(actor, now, frm, ticket.state), former_master_id=master.id or 0),
        SplitOff(**_base(actor, now, master.state, master.state), other_id=ticket.id or 0,
                 supporters_count=master_supporters_after),
    )


def support(
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    *,
    user_name: str,
    source_chat_id: int,
    source_message_id: int,
    supporters_after: int,
    source_thread_id: int | None = None,
) -> tuple[TicketEvent, ...]:
    """A resident's duplicate report joins the open ticket as a supporter (附议)."""
    check(Action.SUPPORT, ticket, actor)
    ticket.supporters_count = supporters_after
    frm = _move(ticket, None, now)
    return (
        SupporterJoined(**_base(actor, now, frm, ticket.state), user_id=actor.user_id or 0,
                        user_name=user_name, supporters_count=supporters_after,
                        source_chat_id=source_chat_id, source_message_id=source_message_id,
                        source_thread_id=source_thread_id),
    )


def attach_photo(
    ticket: Ticket, actor: Actor, now: datetime, file_id: str
) -> tuple[TicketEvent, ...]:
    """A photo from the reporter or a handler (before/after pictures)."""
    check(Action.ATTACH_PHOTO, ticket, actor)
    ticket.photos_count += 1
    frm = _move(ticket, None, now)
    return (PhotoAttached(**_base(actor, now, frm, ticket.state), file_id=file_id,
                          photos_count=ticket.photos_count),)


def edit_report(
    ticket: Ticket, actor: Actor, now: datetime, report: ReportInput
) -> tuple[TicketEvent, ...]:
    """The reporter edited the message while nobody accepted it yet: text and parse
    follow. Routing and deadlines are kept (the service may re-route)."""
    check(Action.EDIT, ticket, actor)
    old_text, old_category = ticket.text, ticket.category
    loc = report.location
    ticket.text, ticket.parse_json = report.text, report.parse_json
    ticket.category, ticket.urgency = report.category, report.urgency
    ticket.compound, ticket.building = loc.compound or loc.street, loc.building
    ticket.unit, ticket.room, ticket.floor = loc.unit, loc.room, loc.floor
    ticket.keywords, ticket.duplicate_key = tuple(report.keywords), report.duplicate_key
    frm = _move(ticket, None, now)
    return (ReportEdited(**_base(actor, now, frm, ticket.state), old_text=old_text,
                         old_category=old_category),)


def place_text(ticket: Ticket) -> str:
    """compound/building/unit/room/floor as one short string (for the event log)."""
    parts = (ticket.compound, ticket.building and f"{ticket.building}栋",
             ticket.unit and f"{ticket.unit}单元", ticket.room and f"{ticket.room}室",
             ticket.floor and f"{ticket.floor}层")
    return "".join(p for p in parts if p)


def correct(
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    *,
    category: str | None = None,
    place: tuple[str | None, str | None, str | None, str | None, str | None] | None = None,
    reroute: RoutingDecision | None = None,
    fresh_accept_due: datetime | None = None,
) -> tuple[TicketEvent, ...]:
    """A handler corrects the category and/or the place (compound, building, unit, room,
    floor). ``reroute`` (decided by the service) hands the ticket to another assignee/grid
    when the correction changes who is responsible; it then waits for their acceptance."""
    check(Action.CORRECT, ticket, actor)
    old_category, old_place = ticket.category, place_text(ticket)
    if category is not None:
        ticket.category = category
        if ticket.duplicate_key and "|" in ticket.duplicate_key:
            ticket.duplicate_key = category + ticket.duplicate_key[ticket.duplicate_key.index("|"):]
    if place is not None:
        (ticket.compound, ticket.building, ticket.unit, ticket.room, ticket.floor) = place
    from_assignee, from_grid = ticket.assignee, ticket.grid
    to_state: TicketState | None = None
    if reroute is not None and (reroute.assignee, reroute.grid) != (ticket.assignee, ticket.grid):
        ticket.assignee = reroute.assignee
        ticket.grid = reroute.grid if reroute.grid is not None else ticket.grid
        ticket.routing_reason = reroute.reason_text
        ticket.accepted_at = None
        ticket.escalated_to = ()
        if fresh_accept_due is not None:
            ticket.accept_due = max(ticket.accept_due or fresh_accept_due, fresh_accept_due)
        to_state = S.ASSIGNED if ticket.assignee else S.NEW
    frm = _move(ticket, to_state, now)
    return (Corrected(**_base(actor, now, frm, ticket.state), old_category=old_category,
                      new_category=ticket.category, old_place=old_place,
                      new_place=place_text(ticket), from_assignee=from_assignee,
                      to_assignee=ticket.assignee, from_grid=from_grid, to_grid=ticket.grid),)


#: Location fields a later message may fill, in the order a card shows them.
LOCATION_FIELDS = ("compound", "building", "unit", "room", "floor")
#: The ones the group card shows (the room and floor stay private).
VISIBLE_LOCATION_FIELDS = ("compound", "building", "unit")


def add_detail(
    ticket: Ticket, actor: Actor, now: datetime, *, text: str, location: Location,
) -> tuple[DetailAdded]:
    """More about the problem after the report. Location fields the ticket lacks are filled
    from ``location`` when the reporter (or a handler) says them — never overwritten, and
    never from another resident, whose room is another household's. The text goes to the
    timeline as the event's note."""
    check(Action.ADD_DETAIL, ticket, actor)
    rel = relations(actor, ticket)
    may_fill = bool(rel & {Who.REPORTER, Who.OWNER, Who.GRID_WORKER, Who.SUPERVISOR})
    filled: list[str] = []
    if may_fill:
        compound = location.compound or location.street
        values = {"compound": compound, "building": location.building, "unit": location.unit,
                  "room": location.room, "floor": location.floor}
        if ticket.building and location.building and ticket.building != location.building:
            values = {}  # another building: not this ticket's place, do not mix
        for name in LOCATION_FIELDS:
            value = values.get(name)
            if value and not getattr(ticket, name):
                setattr(ticket, name, value)
                filled.append(name)
    frm = _move(ticket, None, now)
    return (DetailAdded(**_base(actor, now, frm, ticket.state), note=text or None,
                        filled=tuple(filled),
                        by_reporter=Who.REPORTER in rel,
                        visible=any(n in VISIBLE_LOCATION_FIELDS for n in filled)),)


def link_follow_up(new: Ticket, earlier: Ticket, actor: Actor, now: datetime,
                   ) -> tuple[TicketEvent, TicketEvent]:
    """``new`` continues ``earlier`` (a problem back after its ticket was closed): one
    Linked event on each, no state change."""
    return (
        Linked(**_base(actor, now, new.state, new.state), other_id=earlier.id or 0,
               other_number=earlier.number, role="continues"),
        Linked(**_base(actor, now, earlier.state, earlier.state), other_id=new.id or 0,
               other_number=new.number, role="continued_by"),
    )
