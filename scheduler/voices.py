"""Voice messages reach the grid's worker in batches.

A grid's voices wait until the oldest of them has waited ``conversations.voice_batch``;
then the voices whose sender followed up in writing (a report or a 附议 in the same chat)
are skipped, and the rest are copied into the worker's private chat — one header and
one copy per voice, each with 登记为工单 / 不是诉求 buttons — in one transaction that
also marks them sent, so a restart neither loses nor repeats a batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from community.model import CommunityConfig
from scheduler.recipients import private_ids
from tickets.outgoing import Button, OutgoingMessage
from ui import conversations as say
from ui.callback_data import voice_button
from ui.cards import HTML, local_time

if TYPE_CHECKING:  # runtime.context imports telegram; only the type is needed here
    from handlers.context import Services

log = logging.getLogger("gridbot.scheduler")


@dataclass(slots=True)
class VoiceReport:
    sent: list[int] = field(default_factory=list)
    skipped: int = 0

    @property
    def wrote(self) -> bool:
        return bool(self.sent)


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


class VoiceBatchRunner:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def run(self, now: datetime) -> VoiceReport:
        services, report = self.services, VoiceReport()
        config = services.config
        waited_since = now - config.conversations.voice_batch
        async with services.db.read() as uow:
            grids = await uow.voices.grids_due(waited_since)
        for grid in grids:
            async with services.db.transaction() as uow:
                report.skipped += await uow.voices.skip_followed_by_text(grid)
                voices = await uow.voices.waiting_in(grid)
                if not voices:
                    continue
                listener = listener_of(config, grid)
                if listener is None:
                    log.warning("voices of grid %s: nobody to listen", grid)
                    continue
                user_id = (await private_ids(uow, config, [listener])).get(listener)
                group = voices[0].chat_id
                fallback = say.VOICE_FALLBACK.format(count=len(voices))
                if user_id is None:  # the worker never started the bot: say so in the group
                    messages = [OutgoingMessage(
                        chat_id=group, text=f"{listener} {fallback}", dedupe_key=(
                            f"voices:{voices[0].id}:fallback"), kind="voice_fallback")]
                else:
                    messages = [OutgoingMessage(
                        chat_id=user_id, text=say.VOICE_HEADER.format(
                            grid=grid or "", count=len(voices)),
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
                await uow.outbox.add_many(messages, now)
                for voice in voices:
                    if await uow.voices.mark_sent(voice.id, listener, now):
                        report.sent.append(voice.id)
        if report.wrote:
            services.dispatcher.wake()
        return report
