"""Retention: personal data of finished tickets does not stay forever."""

from __future__ import annotations

from datetime import datetime, timedelta

from community.model import CommunityConfig
from services.scheduled import Occurrence
from storage import Database
from tickets.clock import Clock
from tickets.privacy import mask_text


async def purge_personal_data(db: Database, config: CommunityConfig, clock: Clock,
                              *, older_than_days: int | None = None) -> int:
    """Mask reporter names, replace original texts (and with them any phone numbers) and
    drop parse results and room numbers of tickets closed/cancelled/merged more than
    ``older_than_days`` (default ``config.retention_days``) ago; supporters' names and
    texts on those tickets too. Category, place down to the unit, timestamps and ratings
    stay for statistics. Returns the number of tickets purged (each only once)."""
    days = config.retention_days if older_than_days is None else older_than_days
    cutoff = clock.now() - timedelta(days=days)
    async with db.transaction() as uow:
        await uow.supporters.purge_names(cutoff)
        return await uow.tickets.purge_personal(cutoff, mask_text(""))


async def prune_inbox(db: Database, handled_before: datetime, run: Occurrence,
                      now: datetime) -> int:
    """Delete raw updates handled before ``handled_before`` (the newest stays) and record
    the retention ``run`` as done, in one transaction. Returns how many were deleted."""
    async with db.transaction() as uow:
        pruned = await uow.inbox.prune(handled_before)
        await uow.job_runs.claim(run.key, run.due_at, now)
    return pruned
