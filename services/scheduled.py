"""Scheduled sends: an occurrence of a scheduled job (an SLA reminder, a follow-up …) is
claimed and its messages queued in one transaction, so a restart or an overlapping tick
never sends it twice and a failure sends nothing. The scheduler decides what is due and
what to say; this is where it is written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage import Database
from tickets.outgoing import OutgoingMessage


@dataclass(frozen=True, slots=True)
class Occurrence:
    key: str  # the job_runs key of this occurrence
    due_at: datetime
    messages: tuple[OutgoingMessage, ...] = ()  # none: record it as handled, send nothing


async def send_once(db: Database, now: datetime,
                    occurrences: Sequence[Occurrence]) -> list[Occurrence]:
    """Claim each occurrence and queue its messages; return those claimed now (the others
    were handled by an earlier tick or before a restart, and send nothing)."""
    claimed: list[Occurrence] = []
    async with db.transaction() as uow:
        messages: list[OutgoingMessage] = []
        for occurrence in occurrences:
            if await uow.job_runs.claim(occurrence.key, occurrence.due_at, now):
                claimed.append(occurrence)
                messages += occurrence.messages
        if messages:
            await uow.outbox.add_many(messages, now)
    return claimed
