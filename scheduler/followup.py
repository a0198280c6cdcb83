"""Follow-up (回访): ask once more for a rating, then close unrated.

A resolved ticket without a rating ``sla.followup_after`` after it was resolved gets one
more request to the reporter — a reply to their original message in the group with the
rating buttons, or a private message when they reported privately. It goes out in working
time (no 3 a.m. questions to residents), once per resolution (key includes ``resolved_at``,
so a reopened and again resolved ticket is asked again). After ``sla.close_unrated_after``
the ticket is closed unrated through the ticket service (its card shows the final state).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scheduler.deps import SchedulerDeps
from services.scheduled import Occurrence, send_once
from tickets.errors import TicketNotFound, TransitionRefused
from tickets.model import Ticket
from tickets.outgoing import OutgoingMessage
from tickets.sla import WorkCalendar
from ui import reminders
from ui.cards import HTML, is_private, rating_buttons

log = logging.getLogger("gridbot.scheduler")
SCAN_LIMIT = 500
#: needing_followup(x) means "resolved before x"; include one resolved exactly a day ago.
_EPSILON = timedelta(seconds=1)


@dataclass(slots=True)
class FollowupReport:
    asked: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)


def followup_key(ticket: Ticket) -> str:
    stamp = ticket.resolved_at.isoformat() if ticket.resolved_at else ""
    return f"followup:{ticket.id}:{stamp}"


def followup_message(ticket: Ticket, key: str) -> OutgoingMessage:
    """The rating request: in the group as a reply to the report, or privately."""
    in_group = ticket.source_chat_id < 0
    text = reminders.followup(ticket, in_group=in_group, private_category=is_private(ticket))
    if in_group:
        return OutgoingMessage(chat_id=ticket.source_chat_id, text=text, parse_mode=HTML,
                               reply_to_message_id=ticket.source_message_id,
                               thread_id=ticket.source_thread_id,
                               buttons=rating_buttons(ticket), dedupe_key=key,
                               kind="followup")
    return OutgoingMessage(chat_id=ticket.reporter_id, text=text, parse_mode=HTML,
                           buttons=rating_buttons(ticket), dedupe_key=key, kind="followup")


class FollowupRunner:
    def __init__(self, services: SchedulerDeps) -> None:
        self.services = services
        self.calendar = WorkCalendar(services.config.timezone, services.config.working_hours)
        self.done: set[str] = set()  # cache of claimed keys; the database decides

    async def run(self, now: datetime) -> FollowupReport:
        report = FollowupReport()
        sla = self.services.config.sla
        # Close first, so a ticket past both limits is closed rather than asked again.
        async with self.services.db.read() as r:
            expired = await r.queries.needing_followup(
                now - sla.close_unrated_after + _EPSILON, SCAN_LIMIT)
        for ticket in expired:
            try:
                await self.services.tickets.close_unrated(ticket.id or 0)
                report.closed.append(ticket.id or 0)
            except (TransitionRefused, TicketNotFound) as error:
                log.info("close unrated %s refused: %s", ticket.id, error)  # rated meanwhile
        async with self.services.db.read() as r:
            waiting = await r.queries.needing_followup(
                now - sla.followup_after + _EPSILON, SCAN_LIMIT)
        due: list[tuple[Ticket, str, datetime]] = []
        for ticket in waiting:
            key = followup_key(ticket)
            if key in self.done or ticket.resolved_at is None:
                continue
            at = self.calendar.anchor(ticket.resolved_at + sla.followup_after)
            if at <= now:
                due.append((ticket, key, at))
        if not due:
            return report
        stale = {key for _ticket, key, at in due if now - at > sla.stale_after}
        claimed = {o.key for o in await send_once(self.services.db, now, [
            Occurrence(key, at, () if key in stale else (followup_message(ticket, key),))
            for ticket, key, at in due])}
        for ticket, key, at in due:
            self.done.add(key)
            if key not in claimed:
                continue
            if key in stale:
                report.skipped.append(ticket.id or 0)
                log.info("follow-up %s skipped (stale, due %s)", key, at.isoformat())
                continue
            report.asked.append(ticket.id or 0)
        return report
