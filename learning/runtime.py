"""The running bot's side of learning: stored categories join the config, and the active
community model is loaded at start and swapped in when another version becomes active."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from community.model import CategoryConfig, CommunityConfig
from nlp.textmodel import CommunityModel

log = logging.getLogger("gridbot.learning")


async def with_stored_categories(db: Any, config: CommunityConfig) -> CommunityConfig:
    """The config plus the categories earlier imports created (config entries win)."""
    async with db.read() as uow:
        stored = await uow.learning.categories()
    have = {c.slug for c in config.categories}
    extra = tuple(CategoryConfig(c.slug, c.name) for c in stored if c.slug not in have)
    if not extra:
        return config
    return dataclasses.replace(config, categories=(*config.categories, *extra))


async def refresh_model(db: Any, lexicon: Any) -> str | None:
    """Make `lexicon.community_model` the active version in the database. Returns the new
    version when it changed, else None. Loading runs in a worker thread; the swap is one
    attribute assignment, so a parse in progress finishes with the model it started with."""
    async with db.read() as uow:
        models = [m for m in await uow.learning.models() if m.active]
    current = getattr(lexicon.community_model, "version", None)
    wanted = models[0].version if models else None
    if wanted == current:
        return None
    if wanted is None:
        lexicon.community_model = None
        log.info("community model switched off")
        return "none"
    async with db.read() as uow:
        blobs = await uow.learning.model_blobs(wanted)
    if blobs is None:
        return None
    try:
        model = await asyncio.to_thread(CommunityModel.from_blobs, blobs[0], blobs[1], wanted)
    except Exception:
        log.exception("community model %s could not be loaded; keeping %s", wanted, current)
        return None
    lexicon.community_model = model
    log.info("community model %s active (was %s)", wanted, current)
    return wanted


@dataclass(frozen=True, slots=True)
class RetrainSettings:
    """When the nightly retraining runs: at `at` local time, if at least `min_new` examples
    arrived since the newest stored model. Environment: GRIDBOT_RETRAIN_AT ("03:00", "off"),
    GRIDBOT_RETRAIN_MIN_NEW (20)."""

    at: time | None = time(3, 0)
    min_new: int = 20

    @classmethod
    def from_env(cls) -> RetrainSettings:
        raw = os.environ.get("GRIDBOT_RETRAIN_AT", "03:00").strip()
        at: time | None
        try:
            at = None if raw.lower() in ("off", "") else time.fromisoformat(raw)
        except ValueError:
            log.warning("GRIDBOT_RETRAIN_AT=%r is not HH:MM; nightly retraining is off", raw)
            at = None
        try:
            min_new = max(1, int(os.environ.get("GRIDBOT_RETRAIN_MIN_NEW", "20")))
        except ValueError:
            min_new = 20
        return cls(at, min_new)


class LearningRunner:
    """The learning part of the scheduler's tick: pick up a promoted (or rolled back) model,
    and start the nightly retraining in a worker process when enough new examples arrived.
    The tick never waits for the training; the job_runs row `retrain:<date>` makes it run
    once a day even across restarts."""

    def __init__(self, services: Any, settings: RetrainSettings | None = None,
                 in_process: bool = True) -> None:
        self.services = services
        self.settings = settings or RetrainSettings.from_env()
        self.in_process = in_process
        self.task: asyncio.Task[Any] | None = None

    async def run(self, now: datetime) -> str | None:
        s = self.services
        changed = await refresh_model(s.db, s.lexicon)
        at = self.settings.at
        if at is None or (self.task is not None and not self.task.done()):
            return changed
        local = now.astimezone(s.tz)
        if local.time() < at:
            return changed
        key = f"retrain:{local.date().isoformat()}"
        async with s.db.read() as uow:
            if await uow.job_runs.last_due(key) is not None:
                return changed
            models = await uow.learning.models()
            since = models[0].created_at if models else None
            new = await uow.learning.count_examples(since)
        async with s.db.transaction() as uow:
            if not await uow.job_runs.claim(key, now, now):
                return changed
        if new < self.settings.min_new:
            log.info("nightly retraining skipped: %d new example(s), %d needed", new,
                     self.settings.min_new)
            return changed
        self.task = asyncio.create_task(self._retrain(now))
        return changed

    async def _retrain(self, now: datetime) -> None:
        from learning.ops import retrain

        s = self.services
        try:
            result = await retrain(s.db, s.config, in_process=self.in_process, now=now)
            log.info("nightly retraining: %s", "; ".join(result.lines()))
            if result.promoted:
                await refresh_model(s.db, s.lexicon)
            s.dispatcher.wake()
        except Exception:
            log.exception("nightly retraining failed; the active model stays")
