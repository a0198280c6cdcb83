"""Voice batches: written once with the voices' new state, to the account that reaches the
listener (services.recipients.contacts), skipping what was said in writing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.voices import keep_voice, listener_of, send_voice_batch, voice_by_id
from storage import Database
from storage.voices_repo import Voice
from tests.support.tickets import CHAT_B, CONFIG, GRID_A, GRID_B, GRID_C, T0
from tickets.outgoing import OutgoingMessage

FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)
UNLISTED = "未登记员"  # a worker configured without a Telegram id
# Grid B's voices are heard by the worker the config gives no Telegram id.
LISTENED_BY_UNLISTED = replace(CONFIG, grids=tuple(
    replace(g, workers=(UNLISTED,)) if g.name == GRID_B else g for g in CONFIG.grids))


class Composer:
    """Records what each batch was composed for; one message per voice."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[int], str, int | None]] = []

    def __call__(self, voices: Sequence[Voice], listener: str,
                 user_id: int | None) -> list[OutgoingMessage]:
        self.calls.append(([v.id for v in voices], listener, user_id))
        return [OutgoingMessage(chat_id=user_id or CHAT_B, text="语音", kind="voice",
                                dedupe_key=f"voice:{v.id}:copy") for v in voices]


async def _keep(db: Database, message_id: int, user_id: int = 5001) -> int:
    assert await keep_voice(db, chat_id=CHAT_B, message_id=message_id, thread_id=None,
                            user_id=user_id, user_name="居民", kind="voice", duration=6,
                            grid=GRID_B)
    async with db.read() as uow:
        [voice] = [v for v in await uow.voices.waiting_in(GRID_B) if v.message_id == message_id]
    return voice.id


def test_the_listener_is_the_first_worker_else_the_backup_else_the_secretary() -> None:
    assert listener_of(CONFIG, GRID_A) == "王芳"
    assert listener_of(CONFIG, GRID_C) == CONFIG.supervisors()[0].key  # no worker, no backup
    assert listener_of(CONFIG, None) == CONFIG.supervisors()[0].key


async def test_a_batch_reaches_the_listener_on_their_latest_account_once(db: Database) -> None:
    async with db.transaction() as uow:
        await uow.people.register(7002, UNLISTED, now=T0 - timedelta(days=2))
        await uow.people.register(7001, UNLISTED, now=T0 - timedelta(days=1))
    first, second = await _keep(db, 11), await _keep(db, 12, user_id=5002)
    compose = Composer()
    result = await send_voice_batch(db, LISTENED_BY_UNLISTED, GRID_B, T0, compose)
    assert compose.calls == [([first, second], UNLISTED, 7001)]
    assert sorted(result.sent) == [first, second] and not result.nobody_listens
    again = await send_voice_batch(db, LISTENED_BY_UNLISTED, GRID_B, T0, compose)
    assert again.sent == [] and len(compose.calls) == 1  # a second tick sends nothing
    async with db.transaction() as uow:  # due() claims rows for sending
        queued = await uow.outbox.due(100, now=FAR_FUTURE)
    assert sorted(str(r.message.dedupe_key) for r in queued) == [f"voice:{first}:copy",
                                                           f"voice:{second}:copy"]
    assert {r.message.chat_id for r in queued} == {7001}
    voice = await voice_by_id(db, first)
    assert voice is not None and voice.state == "sent" and voice.sent_to == UNLISTED


async def test_an_unknown_listener_is_composed_for_without_an_account(db: Database) -> None:
    voice_id = await _keep(db, 21)
    compose = Composer()
    result = await send_voice_batch(db, LISTENED_BY_UNLISTED, GRID_B, T0, compose)
    assert compose.calls == [([voice_id], UNLISTED, None)]  # the group fallback is composed
    assert result.sent == [voice_id]
