"""Occurrences of recurring jobs (digests, broadcasts), computed from the database.

A job is identified by a stable ``job_key``. Its fired occurrences live in ``job_runs``;
the latest one (``last_due``) is where the next search starts. A job never fired before
starts from the moment the scheduler first saw it (recorded once as ``since:<job_key>``
in ``job_runs``, so a restart keeps it) or, for admin schedules, from their creation time,
whichever is later. So a schedule added today never fires an occurrence from months ago.

**Stale rule.** When the next tick finds occurrences that fell due (e.g. while the bot was
down), only the latest one is sent, and only if it is at most ``stale_after`` old; older
ones are skipped. Either way the latest one handled is claimed in ``job_runs`` (sent or
skipped), so no occurrence is ever handled twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger

_TINY = timedelta(microseconds=1)
#: Bound on trigger steps per job and tick, so a minutely cron after a month of downtime
#: cannot stall a tick; the remaining catch-up continues on the next ticks.
MAX_STEPS = 2000


def next_after(trigger: BaseTrigger, after: datetime) -> datetime | None:
    """The first fire time strictly after ``after`` (None when the trigger is exhausted).

    ``previous_fire_time=None`` makes Cron and Date triggers behave alike: the cron one
    searches from ``now`` (rounded up to a whole second), the date one returns its date.
    """
    fire = trigger.get_next_fire_time(None, after + _TINY)
    return fire if fire is not None and fire > after else None


@dataclass(frozen=True, slots=True)
class Occurrence:
    """What to do about a job at ``now``: claim ``due`` and send it, or skip it as stale.

    ``superseded`` says earlier due occurrences were passed over in favour of ``due``.
    """

    due: datetime
    send: bool
    superseded: bool = False


def pending_occurrence(trigger: BaseTrigger, anchor: datetime, now: datetime,
                       stale_after: timedelta) -> Occurrence | None:
    """The occurrence to handle now for a job last handled at ``anchor`` (exclusive).

    Returns None when nothing fell due in ``(anchor, now]``. Otherwise the latest due
    occurrence, with ``send`` False when it is older than ``stale_after``.
    """
    first = next_after(trigger, anchor)
    if first is None or first > now:
        return None
    latest, passed, steps = first, False, 0
    fresh_from = now - stale_after
    if latest < fresh_from:
        # Jump straight to the fresh window when it holds an occurrence: everything
        # before it would be skipped anyway.
        fresh = next_after(trigger, fresh_from - _TINY)
        if fresh is not None and fresh <= now:
            latest, passed = fresh, True
    while steps < MAX_STEPS:
        following = next_after(trigger, latest)
        if following is None or following > now:
            break
        latest, passed, steps = following, True, steps + 1
    return Occurrence(due=latest, send=latest >= fresh_from, superseded=passed)


def next_due(trigger: BaseTrigger, anchor: datetime) -> datetime | None:
    """When the job next falls due after ``anchor`` (for the tick's in-memory skip)."""
    return next_after(trigger, anchor)
