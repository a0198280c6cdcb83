"""Voice messages reach the grid's worker in batches.

A grid's voices wait until the oldest of them has waited ``conversations.voice_batch``;
then the voices whose sender followed up in writing (a report or a 附议 in the same chat)
are skipped, and the rest are copied into the worker's private chat — one header and
one copy per voice, each with 登记为工单 / 不是诉求 buttons — in one transaction that
also marks them sent (:func:`services.voices.send_voice_batch`), so a restart neither
loses nor repeats a batch. This module decides what the messages say.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from scheduler.deps import SchedulerDeps
from services.voices import grids_with_voices_due, listener_of, send_voice_batch
from storage.voices_repo import Voice
from tickets.outgoing import Button, OutgoingMessage
from ui import conversations as say
from ui.callback_data import voice_button
from ui.cards import HTML, local_time

__all__ = ["VoiceBatchRunner", "VoiceReport", "batch_messages", "listener_of"]

log = logging.getLogger("gridbot.scheduler")


@dataclass(slots=True)
class VoiceReport:
    sent: list[int] = field(default_factory=list)
    skipped: int = 0

    @property
    def wrote(self) -> bool:
        return bool(self.sent)


def batch_messages(services: SchedulerDeps, grid: str | None, voices: Sequence[Voice],
                   listener: str, user_id: int | None) -> list[OutgoingMessage]:
    """A batch for the listener: a header and a copy of each voice with its buttons; when
    their Telegram id is unknown (they never started the bot), a mention in the group."""
    group = voices[0].chat_id
    fallback = say.VOICE_FALLBACK.format(count=len(voices))
    if user_id is None:  # the worker never started the bot: say so in the group
        return [OutgoingMessage(
            chat_id=group, text=f"{listener} {fallback}", dedupe_key=(
                f"voices:{voices[0].id}:fallback"), kind="voice_fallback")]
    messages = [OutgoingMessage(
        chat_id=user_id, text=say.VOICE_HEADER.format(grid=grid or "", count=len(voices)),
        fallback_chat_id=group, fallback_text=f"{listener} {fallback}",
        dedupe_key=f"voices:{voices[0].id}:header", kind="voice")]
    for index, voice in enumerate(voices, 1):
        caption = say.VOICE_CAPTION.format(
            index=index, count=len(voices), name=voice.user_name,
            time=local_time(voice.at, services.tz),
            kind=say.VOICE_KINDS.get(voice.kind, "语音"))
        messages.append(OutgoingMessage(
            chat_id=user_id, text=caption, parse_mode=HTML,
            copy_from_chat_id=voice.chat_id, copy_message_id=voice.message_id,
            buttons=((Button("📝 登记为工单", voice_button(voice.id, "reg")),
                      Button("不是诉求", voice_button(voice.id, "no"))),),
            dedupe_key=f"voice:{voice.id}:copy", kind="voice"))
    return messages


class VoiceBatchRunner:
    def __init__(self, services: SchedulerDeps) -> None:
        self.services = services

    async def run(self, now: datetime) -> VoiceReport:
        services, report = self.services, VoiceReport()
        config = services.config
        for grid in await grids_with_voices_due(services.db,
                                                now - config.conversations.voice_batch):
            def compose(voices: Sequence[Voice], listener: str, user_id: int | None,
                        grid: str | None = grid) -> list[OutgoingMessage]:
                return batch_messages(services, grid, voices, listener, user_id)

            result = await send_voice_batch(services.db, config, grid, now, compose)
            report.skipped += result.skipped
            report.sent += result.sent
            if result.nobody_listens:
                log.warning("voices of grid %s: nobody to listen", grid)
        if report.wrote:
            services.dispatcher.wake()
        return report
