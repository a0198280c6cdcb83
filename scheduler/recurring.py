"""Recurring jobs — digests and broadcasts — fired from ``job_runs``, not from memory.

Each job has a stable key, a schedule expression and a ``build`` function that returns
the occurrence's messages. Per tick and job: find the pending occurrence (see
:mod:`scheduler.occurrences` for the stale rule), build its messages, then claim it in
``job_runs`` and queue them in one transaction (:func:`services.scheduled.send_once`) — so
an occurrence is sent at most once even across restarts, and a crash before the commit
leaves it unclaimed to be sent on the next tick.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.triggers.base import BaseTrigger

from community.model import Broadcast, CommunityConfig
from scheduler import digest
from scheduler.deps import SchedulerDeps
from scheduler.occurrences import next_due, pending_occurrence
from services.recipients import grid_groups
from services.scheduled import Occurrence, send_once
from services.schedules import ScheduleError, parse_schedule
from storage import Schedule, UnitOfWork
from tickets.outgoing import OutgoingMessage
from ui import reminders

log = logging.getLogger("gridbot.scheduler")
Build = Callable[[UnitOfWork, datetime], Awaitable[list[OutgoingMessage]]]


@dataclass(frozen=True, slots=True)
class Job:
    """A recurring job. ``created_at`` is set for admin schedules (their first run counts
    from creation); config jobs count from when the scheduler first saw them."""

    key: str
    expression: str
    build: Build
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Fired:
    key: str
    due: datetime
    sent: bool
    messages: int


def config_broadcast_key(b: Broadcast) -> str:
    """Stable across restarts and reordering; a changed text or time is a new job."""
    digest_ = hashlib.sha1(f"{b.when}|{b.text}|{','.join(b.grids)}".encode()).hexdigest()
    return f"broadcast:cfg:{digest_[:12]}"


def broadcast_build(config: CommunityConfig, job_key: str, text: str,
                    grids: tuple[str, ...]) -> Build:
    async def build(uow: UnitOfWork, due: datetime) -> list[OutgoingMessage]:
        groups = await grid_groups(uow, config)
        names = grids or tuple(groups)
        chats = {c.chat_id: c for name in names for c in groups.get(name, [])}
        body = reminders.broadcast(text)
        return [OutgoingMessage(chat_id=c.chat_id, thread_id=c.thread_id, text=body,
                                dedupe_key=f"{job_key}:{due.isoformat()}:{c.chat_id}",
                                kind="broadcast") for c in chats.values()]
    return build


def jobs(config: CommunityConfig, schedules: list[Schedule]) -> list[Job]:
    """Every recurring job: grid digests, the community digest, config and admin
    broadcasts."""
    out: list[Job] = []
    for grid in config.grids:
        async def grid_build(uow: UnitOfWork, due: datetime, g=grid) -> list[OutgoingMessage]:
            return await digest.grid_digest(uow, config, g, due)
        out.append(Job(digest.job_key(grid.name), grid.digest or config.digest, grid_build))

    async def community_build(uow: UnitOfWork, due: datetime) -> list[OutgoingMessage]:
        return await digest.community_digest(uow, config, due)
    out.append(Job(digest.COMMUNITY_KEY, config.digest, community_build))
    for b in config.broadcasts:
        key = config_broadcast_key(b)
        out.append(Job(key, b.when, broadcast_build(config, key, b.text, b.grids)))
    for s in schedules:
        key = f"broadcast:{s.id}"
        out.append(Job(key, s.expression, broadcast_build(config, key, s.text, s.grids),
                       created_at=s.created_at))
    return out


class RecurringRunner:
    """Fires due occurrences. ``_next`` caches, per job key and expression, the earliest
    time anything can fall due, so quiet ticks touch no database rows."""

    def __init__(self, services: SchedulerDeps) -> None:
        self.services = services
        self._next: dict[tuple[str, str], datetime | None] = {}
        self._bad: set[tuple[str, str]] = set()

    def _trigger(self, job: Job) -> BaseTrigger | None:
        try:
            return parse_schedule(job.expression, self.services.tz)
        except ScheduleError as error:
            if (job.key, job.expression) not in self._bad:  # log once, not every tick
                self._bad.add((job.key, job.expression))
                log.error("job %s: invalid schedule %r: %s", job.key, job.expression, error)
            return None

    async def run(self, now: datetime) -> list[Fired]:
        async with self.services.db.read() as r:
            schedules = await r.schedules.active()
        fired: list[Fired] = []
        for job in jobs(self.services.config, schedules):
            cached = (job.key, job.expression)
            if cached in self._next:
                upcoming = self._next[cached]
                if upcoming is None or upcoming > now:
                    continue
            trigger = self._trigger(job)
            if trigger is None:
                continue
            result = await self._fire(job, trigger, now)
            if result is not None:
                fired.append(result)
        return fired

    async def _fire(self, job: Job, trigger: BaseTrigger, now: datetime) -> Fired | None:
        sla = self.services.config.sla
        db = self.services.db
        result: Fired | None = None
        anchor = await self._anchor(job, now)
        occurrence = pending_occurrence(trigger, anchor, now, sla.stale_after)
        if occurrence is not None:
            messages: list[OutgoingMessage] = []
            if occurrence.send:
                async with db.read() as r:
                    messages = await job.build(r, occurrence.due)
            if await send_once(db, now, [Occurrence(job.key, occurrence.due, tuple(messages))]):
                if occurrence.superseded:
                    log.info("job %s: earlier missed occurrences skipped, newest %s",
                             job.key, occurrence.due.isoformat())
                if occurrence.send:
                    result = Fired(job.key, occurrence.due, True, len(messages))
                else:
                    log.warning("job %s: occurrence %s skipped as stale (older than %s)",
                                job.key, occurrence.due.isoformat(), sla.stale_after)
                    result = Fired(job.key, occurrence.due, False, 0)
            anchor = occurrence.due  # claimed now, or by an earlier run
        self._next[(job.key, job.expression)] = next_due(trigger, anchor)
        return result

    async def _anchor(self, job: Job, now: datetime) -> datetime:
        """Where the occurrence search starts: the last claimed occurrence, else the admin
        schedule's creation, else the moment the scheduler first saw the job (stored as
        ``since:<key>`` so a restart keeps it)."""
        since_key = f"since:{job.key}"
        async with self.services.db.read() as r:
            last = await r.job_runs.last_due(job.key)
            since = (await r.job_runs.last_due(since_key)
                     if last is None and job.created_at is None else None)
        if last is not None:
            return last
        if job.created_at is not None:
            # Admin schedules are created by the running bot, so their creation is already
            # later than its start; an occurrence missed during a restart right after
            # creation is still found (and sent if fresh).
            return job.created_at
        if since is None:
            await send_once(self.services.db, now, [Occurrence(since_key, now)])
            since = now
        return since
