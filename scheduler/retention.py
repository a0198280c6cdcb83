"""Retention: once a day, forget what the community no longer needs to keep.

Two things go, both idempotent:

- the personal fields of tickets closed, cancelled or merged more than
  ``config.retention_days`` ago (:func:`services.purge_personal_data`: reporter name
  masked, report text replaced, parse result and room dropped, supporters' names and
  texts masked; category, place down to the unit, timestamps and ratings stay for the
  statistics);
- raw Telegram updates in the inbox that were handled more than :data:`INBOX_KEEP` ago.
  They hold every sender's name, username and full message text, and are only kept to
  recognise a redelivery, which Telegram makes within a day at most. Updates that were
  never handled (a poison message) stay for an operator to look at;
- personal text elsewhere (:func:`services.retention.purge_other_personal_data`): sent
  outbox bodies, the event log's notes and edited-away texts, old prompts, correction
  texts, rating comments, residents not seen for ``retention_days``.

Then the WAL is checkpointed (truncated), so with ``secure_delete`` the purged text is
gone from both files, not only from the tables.

It runs at the first scheduler tick of each local day. The ``job_runs`` row
``retention:<local date>`` is claimed *after* the work, so a failed run is retried at
the next tick, and a restart later the same day does not run it again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from scheduler.deps import SchedulerDeps
from services.retention import (
    SidePurge,
    compact_search_index,
    prune_inbox,
    purge_other_personal_data,
    purge_personal_data,
)
from services.scheduled import Occurrence

log = logging.getLogger("gridbot.scheduler")

#: Handled raw updates older than this are deleted from the inbox.
INBOX_KEEP = timedelta(days=7)


def retention_key(day: date) -> str:
    """The ``job_runs`` key of one day's run."""
    return f"retention:{day.isoformat()}"


@dataclass(slots=True)
class RetentionReport:
    """What one run did; ``ran`` is False when today's run had already happened."""

    ran: bool = False
    tickets_purged: int = 0
    updates_pruned: int = 0
    side: SidePurge | None = None


class RetentionRunner:
    """The retention part of :class:`scheduler.jobs.GridScheduler`'s tick."""

    def __init__(self, services: SchedulerDeps) -> None:
        self.services = services
        self._done_for: date | None = None  # saves a read per tick; the database decides

    async def run(self, now: datetime) -> RetentionReport:
        services = self.services
        day = now.astimezone(services.tz).date()
        report = RetentionReport()
        if self._done_for == day:
            return report
        key = retention_key(day)
        async with services.db.read() as r:
            if await r.job_runs.last_due(key) is not None:
                self._done_for = day
                return report
        report.tickets_purged = await purge_personal_data(
            services.db, services.config, services.clock)
        if report.tickets_purged:
            await compact_search_index(services.db)
        report.side = side = await purge_other_personal_data(services.db, services.config,
                                                             services.clock)
        # The day's midnight is the occurrence; a second claim the same day is refused.
        report.updates_pruned = await prune_inbox(
            services.db, now - INBOX_KEEP,
            Occurrence(key, datetime.combine(day, time(0), services.tz)), now)
        await services.db.checkpoint()  # old page versions leave the WAL file too
        self._done_for = day
        report.ran = True
        log.info("retention %s: personal data purged from %d ticket(s) finished more than "
                 "%d days ago; %d handled update(s) older than %d days removed from the inbox; "
                 "cleared: %d sent message(s), %d event text(s), %d prompt(s), "
                 "%d correction text(s), %d training example(s), %d rating comment(s), "
                 "%d resident(s)",
                 day.isoformat(), report.tickets_purged, services.config.retention_days,
                 report.updates_pruned, INBOX_KEEP.days, side.outbox, side.events,
                 side.prompts, side.corrections, side.examples, side.rating_comments,
                 side.people)
        return report
