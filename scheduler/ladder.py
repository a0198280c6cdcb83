"""The SLA ladder of one ticket deadline, as plain data (no I/O).

For the deadline that currently binds a ticket — ``accept_due`` while it is new/assigned,
``resolve_due`` while it is accepted/in progress — the steps are:

1. ``remind``   ``remind_before`` before the deadline, to the assignee. Skipped when the
   whole window is that short (a 15-minute emergency accept window) or when the deadline
   has already passed by the time it could go out.
2. ``overdue``  at the deadline, to the assignee.
3. ``backup``   emergencies only, at the accept deadline: the grid's backup worker.
4. ``escalate`` ``escalate_after`` past the deadline (at once for an emergency not
   accepted): 督办 through the ticket service, which tells the supervisors and marks the
   group card "已督办".

Working time: for ``normal`` tickets a step that falls outside working hours (per
:class:`~tickets.sla.WorkCalendar`, so weekends, statutory holidays and 调休 count) waits
for the next start of working hours. ``urgent`` and ``emergency`` steps go out any time.

Each step has a key that includes the deadline's timestamp, so a reopened ticket with new
deadlines gets a fresh ladder while repeated ticks and restarts never repeat a step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from community.model import SlaPolicy
from tickets.model import Ticket, TicketState
from tickets.sla import WorkCalendar

REMIND, OVERDUE, BACKUP, ESCALATE = "remind", "overdue", "backup", "escalate"
ACCEPT, RESOLVE = "accept", "resolve"
#: Urgencies whose steps ignore working hours.
ANY_TIME = frozenset({"emergency", "urgent"})
_WAITING = frozenset({TicketState.NEW, TicketState.ASSIGNED})
_WORKING = frozenset({TicketState.ACCEPTED, TicketState.IN_PROGRESS})


@dataclass(frozen=True, slots=True)
class Step:
    """One rung of a ticket's ladder. ``at`` is when it may go out (after deferral)."""

    ticket: Ticket
    deadline: str  # ACCEPT | RESOLVE
    due: datetime  # the deadline itself
    kind: str  # REMIND | OVERDUE | BACKUP | ESCALATE
    at: datetime

    @property
    def key(self) -> str:
        """Dedupe key: outbox ``dedupe_key`` and ``job_runs`` key of this step.

        Reminder and overdue notice name the assignee: a transfer keeps the deadlines
        (the resident's clock does not restart) but the new assignee must still be told.
        """
        key = f"sla:{self.ticket.id}:{self.deadline}:{self.due.isoformat()}:{self.kind}"
        if self.kind in (REMIND, OVERDUE):
            key += f"@{self.ticket.assignee or '-'}"
        return key

    @property
    def late(self) -> timedelta:
        """How far past the deadline the step goes out (negative for reminders)."""
        return self.at - self.due


def binding_deadline(ticket: Ticket) -> tuple[str, datetime] | None:
    """The deadline the ladder follows now, or None (no deadline, or not open)."""
    if ticket.state in _WAITING and ticket.accept_due is not None:
        return ACCEPT, ticket.accept_due
    if ticket.state in _WORKING and ticket.resolve_due is not None:
        return RESOLVE, ticket.resolve_due
    return None


def _window(policy: SlaPolicy, urgency: str, deadline: str) -> timedelta | None:
    """The wall-clock length of the deadline's window, None for working-day rules (which
    are always longer than any sensible reminder lead)."""
    rule = policy.rule(urgency)
    if deadline == ACCEPT:
        return None if rule.accept_working_days is not None else rule.accept
    return None if rule.resolve_working_days is not None else rule.resolve


def plan(ticket: Ticket, policy: SlaPolicy, calendar: WorkCalendar) -> list[Step]:
    """Every step of the ticket's current ladder, in time order (some maybe in the past)."""
    bound = binding_deadline(ticket)
    if bound is None or ticket.id is None:
        return []
    deadline, due = bound
    any_time = ticket.urgency in ANY_TIME

    def when(nominal: datetime) -> datetime:
        # Non-urgent nags wait for working time; anchor() is the next working-hours start.
        return nominal if any_time else calendar.anchor(nominal)

    steps: list[Step] = []
    window = _window(policy, ticket.urgency, deadline)
    if window is None or window > policy.remind_before:
        remind_at = when(due - policy.remind_before)
        if remind_at >= due:
            # Due right at opening time: remind before closing on the last working day.
            remind_at = _before_last_close(calendar, due - policy.remind_before,
                                           policy.remind_before)
        if remind_at < due:
            steps.append(Step(ticket, deadline, due, REMIND, remind_at))
    steps.append(Step(ticket, deadline, due, OVERDUE, when(due)))
    if ticket.urgency == "emergency" and deadline == ACCEPT:
        steps.append(Step(ticket, deadline, due, BACKUP, due))
        steps.append(Step(ticket, deadline, due, ESCALATE, due))
    else:
        steps.append(Step(ticket, deadline, due, ESCALATE, when(due + policy.escalate_after)))
    return steps


def _before_last_close(calendar: WorkCalendar, when: datetime,
                       lead: timedelta) -> datetime:
    """``lead`` before the last close of working hours before ``when`` (not earlier than
    that day's opening)."""
    day = when.astimezone(calendar.tz).date()
    for _ in range(60):  # the longest Chinese holiday run is 8-9 days
        if calendar.is_working_day(day):
            close = datetime.combine(day, calendar.hours.end, tzinfo=calendar.tz)
            if close <= when:
                opening = datetime.combine(day, calendar.hours.start, tzinfo=calendar.tz)
                return max(close - lead, opening).astimezone(UTC)
        day -= timedelta(days=1)
    return when


@dataclass(frozen=True, slots=True)
class Decision:
    """What the tick does with a step whose time has come."""

    step: Step
    send: bool
    why: str  # "due" | "stale" | "superseded"


def decide(steps: list[Step], now: datetime, stale_after: timedelta) -> list[Decision]:
    """The steps whose time has come, each marked send or skip.

    A reminder is superseded once the deadline has passed (it would say "due soon" about
    something already late). Any step more than ``stale_after`` past its time (the bot was
    down) is skipped as stale — the digest still lists the ticket as overdue.
    """
    out: list[Decision] = []
    for step in steps:
        if step.at > now:
            continue
        if step.kind == REMIND and now >= step.due:
            out.append(Decision(step, False, "superseded"))
        elif now - step.at > stale_after:
            out.append(Decision(step, False, "stale"))
        else:
            out.append(Decision(step, True, "due"))
    return out
