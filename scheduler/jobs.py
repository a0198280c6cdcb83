"""``GridScheduler``: the bot's clockwork — SLA ladder, digests, follow-ups, broadcasts,
retention.

The database is the source of truth; APScheduler (3.x ``AsyncIOScheduler`` on the bot's
event loop) is only the ticker: one interval job calls :meth:`GridScheduler.tick` every
``tick_seconds``. A tick reads "now" from the injected clock only, works out what is due
from the stored deadlines, schedules and ``job_runs``, and writes outbox rows (then wakes
the dispatcher). Nothing lives only in memory, so tests call ``tick()`` with a FakeClock
and a restart picks up exactly where the last run stopped.

Restart rule: something that fell due while the bot was down is sent once at the next
tick if it is at most ``config.sla.stale_after`` old (default 12 hours); older ones are
skipped, recorded as handled and logged — never sent twice, never a flood of old news.
When several occurrences of one schedule were missed, only the newest is considered.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from scheduler.deps import SchedulerDeps
from scheduler.followup import FollowupReport, FollowupRunner
from scheduler.recurring import Fired, RecurringRunner
from scheduler.retention import RetentionReport, RetentionRunner
from scheduler.sla_run import LadderReport, LadderRunner
from scheduler.voices import VoiceBatchRunner, VoiceReport

log = logging.getLogger("gridbot.scheduler")


@dataclass(slots=True)
class TickReport:
    """What one tick did (for logs, the demo and tests)."""

    now: datetime
    ladder: LadderReport = field(default_factory=LadderReport)
    followups: FollowupReport = field(default_factory=FollowupReport)
    fired: list[Fired] = field(default_factory=list)
    retention: RetentionReport = field(default_factory=RetentionReport)
    voices: VoiceReport = field(default_factory=VoiceReport)
    errors: list[str] = field(default_factory=list)

    @property
    def wrote(self) -> bool:
        return (self.ladder.wrote or bool(self.followups.asked or self.followups.closed)
                or any(f.sent for f in self.fired))


class GridScheduler:
    """Construct with the bot's services, ``start()`` once the outbox dispatcher runs,
    ``await stop()`` at shutdown. ``tick()`` may also be called directly."""

    def __init__(self, services: SchedulerDeps, tick_seconds: float = 30.0) -> None:
        self.services = services
        self.tick_seconds = tick_seconds
        self._ladder = LadderRunner(services)
        self._followups = FollowupRunner(services)
        self._recurring = RecurringRunner(services)
        self._retention = RetentionRunner(services)
        from learning.runtime import LearningRunner  # the community model: reload, retrain

        self.learning = LearningRunner(services)
        self._voices = VoiceBatchRunner(services)
        self._lock = asyncio.Lock()  # ticks never overlap (ticker and a direct call)
        self._ticker: AsyncIOScheduler | None = None

    def start(self) -> None:
        """Start ticking on the running event loop (first tick immediately)."""
        if self._ticker is not None:
            return
        self._ticker = AsyncIOScheduler(timezone=self.services.tz)
        # coalesce + max_instances=1: a slow tick is never stacked or run in parallel;
        # misfire_grace_time=None: a late tick still runs (it only ever looks at "now").
        self._ticker.add_job(self._scheduled_tick, "interval", seconds=self.tick_seconds,
                             id="gridbot-tick", coalesce=True, max_instances=1,
                             misfire_grace_time=None,
                             next_run_time=datetime.now(self.services.tz))
        self._ticker.start()
        log.info("scheduler started, tick every %ss", self.tick_seconds)

    async def stop(self) -> None:
        """Stop ticking and wait for a tick in progress to finish."""
        if self._ticker is not None:
            if self._ticker.running:
                self._ticker.shutdown(wait=False)
            self._ticker = None
        async with self._lock:
            pass
        if self.learning.task is not None and not self.learning.task.done():
            self.learning.task.cancel()  # the worker process finishes on its own; nothing saved

    @property
    def running(self) -> bool:
        return self._ticker is not None

    async def _scheduled_tick(self) -> None:
        try:
            await self.tick()
        except Exception:  # keep ticking: the next tick retries whatever failed
            log.exception("scheduler tick failed")

    async def tick(self) -> TickReport:
        """Do everything that is due at ``clock.now()``. Each part runs on its own, so a
        failure in one (logged, in ``errors``) does not hold up the others."""
        async with self._lock:
            now = self.services.clock.now()
            report = TickReport(now)
            try:
                report.ladder = await self._ladder.run(now)
            except Exception as error:
                self._failed(report, "ladder", error)
            try:
                report.followups = await self._followups.run(now)
            except Exception as error:
                self._failed(report, "followups", error)
            try:
                report.fired = await self._recurring.run(now)
            except Exception as error:
                self._failed(report, "recurring", error)
            try:
                report.retention = await self._retention.run(now)
            except Exception as error:
                self._failed(report, "retention", error)
            try:
                await self.learning.run(now)
            except Exception as error:
                self._failed(report, "learning", error)
            try:
                report.voices = await self._voices.run(now)
            except Exception as error:
                self._failed(report, "voices", error)
            if report.wrote:
                self.services.dispatcher.wake()
            return report

    @staticmethod
    def _failed(report: TickReport, part: str, error: Exception) -> None:
        log.exception("scheduler %s failed", part, exc_info=error)
        report.errors.append(f"{part}: {error!r}")
