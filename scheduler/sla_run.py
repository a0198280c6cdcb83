"""Running the SLA ladder (see :mod:`scheduler.ladder`) against the database.

Exactly-once: every step is claimed in ``job_runs`` under its key in the same transaction
that queues its message (whose outbox ``dedupe_key`` is the same key), so repeated ticks
and restarts never send a step twice. Escalation goes through the ticket service in its
own transaction; before escalating, the ticket's event log is checked for an escalation
at or after the deadline (by anyone), so a crash between escalating and claiming cannot
escalate twice, and a supervisor who already escalated by hand is not paged again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from community.model import CommunityConfig
from scheduler import ladder
from scheduler.deps import SchedulerDeps
from scheduler.ladder import Decision, Step
from scheduler.recipients import private_message, ticket_group
from services.recipients import GroupChat, contacts, grid_groups
from services.scheduled import Occurrence, send_once
from storage import UnitOfWork
from tickets.errors import TicketNotFound, TransitionRefused
from tickets.model import Actor
from tickets.outgoing import OutgoingMessage
from tickets.sla import WorkCalendar
from ui import reminders
from ui.cards import CardRenderer, worker_buttons

log = logging.getLogger("gridbot.scheduler")

#: Tickets scanned per tick. Open tickets near or past a deadline in one community are in
#: the tens or hundreds; the query returns the earliest deadlines first.
SCAN_LIMIT = 2000
_EPSILON = timedelta(seconds=1)


@dataclass(slots=True)
class LadderReport:
    sent: list[str] = field(default_factory=list)  # step keys queued
    skipped: list[str] = field(default_factory=list)  # step keys claimed without sending
    escalated: list[int] = field(default_factory=list)  # ticket ids

    @property
    def wrote(self) -> bool:
        return bool(self.sent or self.escalated)


class LadderRunner:
    """Applies due ladder steps. ``done`` caches step keys known to be claimed: only an
    optimisation (it saves a query per settled step per tick); the database decides."""

    def __init__(self, services: SchedulerDeps) -> None:
        self.services = services
        self.config: CommunityConfig = services.config
        self.calendar = WorkCalendar(self.config.timezone, self.config.working_hours)
        self.cards = CardRenderer(self.config)
        self.done: set[str] = set()

    async def run(self, now: datetime) -> LadderReport:
        report = LadderReport()
        sla = self.config.sla
        async with self.services.db.read() as r:
            rows = await r.queries.overdue(self._horizon(now), SCAN_LIMIT)
        tickets = {o.ticket.id: o.ticket for o in rows}
        decisions: list[Decision] = []
        for ticket in tickets.values():
            for d in ladder.decide(ladder.plan(ticket, sla, self.calendar), now,
                                   sla.stale_after):
                if d.step.key not in self.done:
                    decisions.append(d)
        if not decisions:
            return report
        notices = [d for d in decisions if d.step.kind != ladder.ESCALATE]
        if notices:
            await self._notices(notices, now, report)
        for d in decisions:
            if d.step.kind == ladder.ESCALATE:
                await self._escalate(d, now, report)
        return report

    def _horizon(self, now: datetime) -> datetime:
        """Deadlines before this may have a step due now. Usually ``now + remind_before``;
        when that lands after hours, up to the next opening + ``remind_before``, because a
        deadline right at opening time is reminded before the previous close (see
        :func:`scheduler.ladder.plan`). ``overdue(x)`` means "deadline < x", hence the
        epsilon: a reminder due exactly now is included."""
        lead = self.config.sla.remind_before
        return self.calendar.anchor(now + lead) + lead + _EPSILON

    # -- messages (reminder, overdue, backup) ---------------------------------------------

    async def _notices(self, decisions: list[Decision], now: datetime,
                       report: LadderReport) -> None:
        async with self.services.db.read() as r:
            groups = await grid_groups(r, self.config)
            keys = {k for d in decisions for k in self._recipients(d.step)}
            ids = {k: c.user_id for k, c in (await contacts(r, self.config, keys)).items()}
        built = {d.step.key: self._messages(d.step, ids, ticket_group(d.step.ticket, groups))
                 if d.send else [] for d in decisions}
        claimed = {o.key for o in await send_once(self.services.db, now, [
            Occurrence(d.step.key, d.step.at, tuple(built[d.step.key])) for d in decisions])}
        for d in decisions:
            step = d.step
            self.done.add(step.key)
            if step.key not in claimed:
                continue
            if built[step.key]:
                report.sent.append(step.key)
            else:
                report.skipped.append(step.key)
                log.info("SLA step %s skipped (%s)", step.key,
                         d.why if not d.send else "nobody to tell")

    def _recipients(self, step: Step) -> list[str]:
        ticket = step.ticket
        if step.kind == ladder.BACKUP:
            grid = self.config.grid(ticket.grid) if ticket.grid else None
            backup = grid.backup if grid else None
            return [backup] if backup and backup != ticket.assignee else []
        if ticket.assignee:
            return [ticket.assignee]
        if step.kind == ladder.OVERDUE:  # nobody assigned: whoever can assign must know
            return [p.key for p in self.config.supervisors()]
        return []

    def _messages(self, step: Step, ids: dict[str, int | None],
                  group: GroupChat | None) -> list[OutgoingMessage]:
        ticket, out = step.ticket, []
        for key in self._recipients(step):
            person = self.config.person(key)
            if step.kind == ladder.REMIND:
                text = reminders.reminder(self.cards, ticket, step.deadline, step.due)
                what = reminders.FALLBACK_WHAT["remind"]
            elif step.kind == ladder.BACKUP:
                assignee = self.config.person(ticket.assignee) if ticket.assignee else None
                text = reminders.backup_alert(self.cards, ticket, assignee)
                what = reminders.FALLBACK_WHAT["backup"]
            elif ticket.assignee:
                text = reminders.overdue(self.cards, ticket, step.deadline, step.due)
                what = reminders.FALLBACK_WHAT["overdue"]
            else:
                text = reminders.unassigned_overdue(self.cards, ticket, step.due)
                what = reminders.FALLBACK_WHAT["unassigned"]
            msg = private_message(
                user_id=ids.get(key), text=text, fallback=group,
                fallback_text=reminders.staff_fallback(person, key, ticket, what),
                dedupe_key=f"{step.key}:{key}", kind=f"sla_{step.kind}",
                buttons=worker_buttons(ticket))
            if msg is not None:
                out.append(msg)
        return out

    # -- escalation -----------------------------------------------------------------------

    async def _escalate(self, d: Decision, now: datetime, report: LadderReport) -> None:
        step = d.step
        ticket_id = step.ticket.id or 0
        async with self.services.db.read() as r:
            if await r.job_runs.last_due(step.key) is not None:  # handled before a restart
                self.done.add(step.key)
                return
            already = await _escalated_since(r, ticket_id, step.due)
        if not d.send:
            report.skipped.append(step.key)
            log.info("SLA step %s skipped (%s)", step.key, d.why)
        elif already:
            log.info("SLA step %s: already escalated since the deadline", step.key)
        else:
            reason = reminders.escalation_reason(
                step.deadline, step.due, self.cards.tz,
                emergency=step.ticket.urgency == "emergency" and step.deadline == ladder.ACCEPT)
            try:
                await self.services.tickets.escalate(ticket_id, Actor.system(), reason)
                report.escalated.append(ticket_id)
                log.info("SLA step %s: escalated ticket %s", step.key, ticket_id)
            except (TransitionRefused, TicketNotFound) as error:
                # Accepted/resolved/closed since the scan: nothing to escalate.
                log.info("SLA step %s: not escalated (%s)", step.key, error)
        await send_once(self.services.db, now, [Occurrence(step.key, step.at)])
        self.done.add(step.key)


async def _escalated_since(uow: UnitOfWork, ticket_id: int, since: datetime) -> bool:
    """True when the ticket was escalated (by anyone) at or after ``since``."""
    events = await uow.events.for_ticket(ticket_id)
    return any(e.action == "escalate" and e.at >= since for e in events)
