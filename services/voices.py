"""Use cases of voice messages (and video notes, audio files): kept for the grid's
worker, sent to them in batches, answered with buttons, registered as tickets.

Each function is one transaction (or one read). What the messages say is decided above
(``scheduler/voices.py``, ``handlers/voice.py``); here they are written, together with
the voice's new state, so a restart neither loses nor repeats anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from community.model import CommunityConfig
from services.recipients import contacts
from storage import Database
from storage.voices_repo import Voice
from tickets.outgoing import OutgoingMessage

#: Builds a batch's messages: (the voices, the listener's person key, their Telegram id
#: or None when unknown) → the messages to queue.
ComposeBatch = Callable[[Sequence[Voice], str, int | None], list[OutgoingMessage]]


def listener_of(config: CommunityConfig, grid: str | None) -> str | None:
    """Who listens to a grid's voices: its first worker, else its backup, else the
    secretary."""
    found = config.grid(grid) if grid else None
    if found is not None and found.workers:
        return found.workers[0]
    if found is not None and found.backup:
        return found.backup
    supervisors = config.supervisors()
    return supervisors[0].key if supervisors else None


async def keep_voice(db: Database, *, chat_id: int, message_id: int, thread_id: int | None,
                     user_id: int, user_name: str, kind: str, duration: int | None,
                     grid: str | None) -> bool:
    """Keep a resident's voice for the grid's next batch; False when already kept."""
    async with db.transaction() as uow:
        return await uow.voices.add(chat_id=chat_id, message_id=message_id,
                                    thread_id=thread_id, user_id=user_id, user_name=user_name,
                                    kind=kind, duration=duration, grid=grid)


async def voice_by_id(db: Database, voice_id: int) -> Voice | None:
    async with db.read() as uow:
        return await uow.voices.get(voice_id)


async def dismiss_voice(db: Database, voice_id: int) -> bool:
    """不是诉求: the voice needs nothing more."""
    async with db.transaction() as uow:
        return await uow.voices.dismiss(voice_id)


async def ask_place(db: Database, voice_id: int, category: str, worker_id: int,
                    question: OutgoingMessage) -> None:
    """The worker picked a category: their next private text is the place; ``question``
    (asking for it) is queued in the same transaction."""
    async with db.transaction() as uow:
        await uow.voices.ask_place(voice_id, category, worker_id)
        await uow.outbox.add(question)


async def voice_awaiting_place(db: Database, worker_id: int) -> Voice | None:
    """The voice whose place this worker's next private text gives, if any."""
    async with db.read() as uow:
        return await uow.voices.awaiting_place_of(worker_id)


async def voice_registered(db: Database, voice_id: int, ticket_id: int) -> None:
    async with db.transaction() as uow:
        await uow.voices.registered(voice_id, ticket_id)


async def grids_with_voices_due(db: Database, waited_since: datetime) -> list[str | None]:
    """Grids whose oldest waiting voice has waited since ``waited_since`` or longer."""
    async with db.read() as uow:
        return await uow.voices.grids_due(waited_since)


@dataclass(slots=True)
class BatchResult:
    sent: list[int] = field(default_factory=list)  # the voices sent now
    skipped: int = 0  # voices whose sender followed up in writing
    nobody_listens: bool = False  # voices wait, but the grid has nobody to listen


async def send_voice_batch(db: Database, config: CommunityConfig, grid: str | None,
                           now: datetime, compose: ComposeBatch) -> BatchResult:
    """One grid's batch, in one transaction: skip the voices followed by a text report,
    queue ``compose``'s messages for the rest and mark them sent."""
    result = BatchResult()
    async with db.transaction() as uow:
        result.skipped = await uow.voices.skip_followed_by_text(grid)
        voices = await uow.voices.waiting_in(grid)
        if not voices:
            return result
        listener = listener_of(config, grid)
        if listener is None:
            result.nobody_listens = True
            return result
        user_id = (await contacts(uow, config, [listener]))[listener].user_id
        await uow.outbox.add_many(compose(voices, listener, user_id), now)
        for voice in voices:
            if await uow.voices.mark_sent(voice.id, listener, now):
                result.sent.append(voice.id)
    return result
