"""The durable inbox: no update Telegram delivered is lost, none is handled twice.

Telegram considers an update confirmed as soon as the next ``getUpdates`` asks for a
higher offset, and python-telegram-bot asks again right after queueing a batch, long
before the handlers ran. So :class:`DurableBot` writes every batch to SQLite *before*
returning it: once the offset moves on, the update is on disk. If it cannot be written
(disk full, database read-only) ``getUpdates`` fails with a NetworkError, PTB's polling
loop backs off and retries, and the updates stay unconfirmed on Telegram's side.

:class:`GridApplication` marks an update processed after its handlers finished without
error, skips updates already processed (redelivery, replay), and replays whatever was
left unprocessed by a crash when the bot starts again. Handlers make their effects
idempotent (a ticket is unique per source message; actions carry a request key), so the
small window between an effect's commit and the processed mark cannot repeat anything.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from telegram import Update
from telegram.error import NetworkError
from telegram.ext import Application, ExtBot

log = logging.getLogger(__name__)


class InboxStore(Protocol):
    """What the inbox needs from storage."""

    async def save_updates(self, updates: Sequence[tuple[int, str]]) -> int | None:
        """Store a batch; returns how many of them were new (None: unknown)."""
    async def is_processed(self, update_id: int) -> bool: ...
    async def mark_processed(self, update_id: int) -> None: ...
    async def mark_failed(self, update_id: int, error: str) -> None: ...
    async def pending_updates(self) -> list[tuple[int, str]]: ...


class InboxUnavailable(NetworkError):
    """The inbox could not store a batch; PTB retries getUpdates without confirming it."""


class DurableBot(ExtBot[Any]):
    """An ExtBot whose ``get_updates`` persists each batch before returning it."""

    _inbox: InboxStore | None = None
    #: Ids of updates first stored by this process and not yet handled: they cannot have
    #: been handled before, so handling them needs no look-up in the inbox.
    _fresh: set[int] | None = None

    def attach_inbox(self, inbox: InboxStore) -> None:
        self._inbox = inbox
        self._fresh = set()

    def take_fresh(self, update_id: int) -> bool:
        """True (once) if this process stored the update and has not handled it yet."""
        if self._fresh is None or update_id not in self._fresh:
            return False
        self._fresh.discard(update_id)
        return True

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        updates = await super().get_updates(*args, **kwargs)
        if not updates:
            return updates
        if self._inbox is None:
            raise InboxUnavailable("收件箱尚未就绪,稍后重试")
        try:
            new = await self._inbox.save_updates([(u.update_id, u.to_json()) for u in updates])
            if new == len(updates) and self._fresh is not None:  # none was stored before
                self._fresh.update(u.update_id for u in updates)
        except Exception as error:  # sqlite3.OperationalError (disk full, read-only, locked)
            log.error("cannot store %d update(s); left unconfirmed: %s", len(updates), error)
            raise InboxUnavailable(f"无法保存收到的消息: {error}") from error
        return updates


class GridApplication(Application):
    """An Application that records which updates were handled, for exactly-once effects."""

    #: In-process retries of an update whose handling failed (seconds to wait before each).
    #: After these it stays unprocessed in the inbox and is replayed at the next start.
    RETRY_DELAYS: tuple[float, ...] = (1.0, 5.0, 30.0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inbox: InboxStore | None = None
        self._failed_updates: set[int] = set()
        self._retries: dict[int, int] = {}

    def note_failure(self, update: object) -> None:
        """Called by the error handler: keep this update unprocessed for a later retry."""
        if isinstance(update, Update):
            self._failed_updates.add(update.update_id)

    async def process_update(self, update: object) -> None:
        if self.inbox is None or not isinstance(update, Update):
            await super().process_update(update)
            return
        update_id = update.update_id
        bot = self.bot
        # Nothing may escape from here: PTB's update fetcher would end for good.
        try:
            if isinstance(bot, DurableBot) and bot.take_fresh(update_id):
                pass  # stored by this process just now: it cannot have been handled
            elif await self.inbox.is_processed(update_id):
                log.info("update %d was already handled; skipped", update_id)
                return
        except Exception as error:  # the database is unavailable right now
            log.error("cannot check update %d: %s; will retry", update_id, error)
            await self._failed(update)
            return
        await super().process_update(update)
        if update_id in self._failed_updates:
            self._failed_updates.discard(update_id)
            await self._failed(update)
            return
        self._retries.pop(update_id, None)
        try:
            await self.inbox.mark_processed(update_id)
        except Exception as error:  # handled, but not recorded: replayed (idempotently)
            log.error("cannot mark update %d handled: %s", update_id, error)

    async def _failed(self, update: Update) -> None:
        """Count the failure and try again later in this process (a locked database or a
        passing fault usually clears within seconds)."""
        assert self.inbox is not None
        try:
            await self.inbox.mark_failed(update.update_id, "handler error")
        except Exception as error:  # the database itself may be what failed
            log.error("cannot record the failure of update %d: %s", update.update_id, error)
        attempt = self._retries.get(update.update_id, 0)
        if attempt >= len(self.RETRY_DELAYS) or not self.running:
            self._retries.pop(update.update_id, None)
            log.error("update %d failed %d times; left for the next start",
                      update.update_id, attempt + 1)
            return
        self._retries[update.update_id] = attempt + 1
        self.create_task(self._retry_later(update, self.RETRY_DELAYS[attempt]),
                         name=f"retry-update-{update.update_id}")

    async def _retry_later(self, update: Update, delay: float) -> None:
        await asyncio.sleep(delay)
        if self.running:
            await self.update_queue.put(update)

    async def replay_pending(self) -> int:
        """Queue updates stored by an earlier run but never handled; returns how many."""
        if self.inbox is None:
            return 0
        pending = await self.inbox.pending_updates()
        for _update_id, payload in pending:
            update = Update.de_json(json.loads(payload), self.bot)
            await self.update_queue.put(update)
        if pending:
            log.warning("replaying %d update(s) left unhandled by the previous run", len(pending))
        return len(pending)  # at most one batch (1,000); the rest follow at the next start

