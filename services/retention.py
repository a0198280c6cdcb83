"""Retention: personal data of finished tickets does not stay forever."""

from __future__ import annotations

from dataclasses import dataclass
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


#: Sent (and superseded or failed) outbox rows: their bodies are no use after delivery.
OUTBOX_KEEP = timedelta(days=3)
#: Prompts and request keys only matter while an update can still be replayed.
PROMPT_KEEP = timedelta(days=7)
REQUEST_KEY_KEEP = timedelta(days=30)


@dataclass(slots=True)
class SidePurge:
    """Rows cleared in each table by :func:`purge_other_personal_data`."""

    outbox: int = 0
    events: int = 0
    prompts: int = 0
    corrections: int = 0
    examples: int = 0
    rating_comments: int = 0
    people: int = 0
    request_keys: int = 0


async def compact_search_index(db: Database) -> None:
    """After tickets were purged: rewrite the search index without their words (run only
    then: it rewrites the whole index)."""
    async with db.transaction() as uow:
        await uow.retention.compact_search_index()


async def purge_other_personal_data(db: Database, config: CommunityConfig,
                                    clock: Clock) -> SidePurge:
    """Everything besides the tickets, in one transaction (run after
    :func:`purge_personal_data`, whose purged tickets decide which events lose text):

    - outbox rows finished more than :data:`OUTBOX_KEEP` ago are deleted;
    - events of purged tickets lose notes, supporters' names, edited-away texts and
      escalation reasons (the log stays append-only for everything else);
    - prompts expired more than :data:`PROMPT_KEEP` ago are deleted;
    - corrections older than ``config.correction_days`` (at most ``retention_days``) keep
      their category and time only, and training examples taken from tickets (re-categorised
      or accepted) are deleted at the same age (imported history stays);
    - rating comments older than ``retention_days`` are dropped (the score stays);
    - residents not seen for ``retention_days`` are forgotten (``people`` rows).
    """
    now = clock.now()
    retention = timedelta(days=config.retention_days)
    corrections = timedelta(days=min(config.correction_days, config.retention_days))
    out = SidePurge()
    async with db.transaction() as uow:
        r = uow.retention
        out.outbox = await r.prune_outbox(now - OUTBOX_KEEP)
        out.events = await r.purge_event_texts(now)
        out.prompts = await r.prune_prompts(now - PROMPT_KEEP)
        out.corrections = await r.purge_correction_texts(now - corrections, mask_text(""))
        out.examples = await r.prune_ticket_examples(now - corrections)
        out.rating_comments = await r.purge_rating_comments(now - retention)
        out.people = await r.forget_people(now - retention)
        out.request_keys = await r.prune_request_keys(now - REQUEST_KEY_KEEP)
    return out
async def prune_inbox(db: Database, handled_before: datetime, run: Occurrence,
                      now: datetime) -> int:
    """Delete raw updates handled before ``handled_before`` (the newest stays) and record
    the retention ``run`` as done, in one transaction. Returns how many were deleted."""
    async with db.transaction() as uow:
        pruned = await uow.inbox.prune(handled_before)
        await uow.job_runs.claim(run.key, run.due_at, now)
    return pruned
