"""Webhook delivery, as Telegram does it: with a webhook set, each queued update is POSTed
to its URL (header ``X-Telegram-Bot-Api-Secret-Token`` when a ``secret_token`` was given)
until an answer 2xx confirms it; other answers and network errors are retried after
``retry`` seconds, in update order, one request at a time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from .state import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One POST to the webhook: the update and the HTTP status (0: no answer)."""

    update_id: int
    status: int


class WebhookPusher:
    def __init__(self, store: Store, wait_change: Callable[[float], Awaitable[None]],
                 retry: float = 0.2) -> None:
        self.store = store
        self._wait_change = wait_change
        self.retry = retry
        self.deliveries: list[Delivery] = []
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def ensure_running(self) -> None:
        """Start delivering (after setWebhook); the loop ends by itself when it is deleted."""
        self._stopping = False
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(),
                                                                name="localapi-webhook")

    async def stop(self) -> None:
        # The flag, not only the cancel: Python 3.11's wait_for can swallow a cancel that
        # coincides with the server's change event.
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while self.store.webhook_url and not self._stopping:
                if not self.store.updates:
                    await self._wait_change(1.0)
                    continue
                update = self.store.updates[0]
                status = await self._post(session, update)
                self.deliveries.append(Delivery(int(update["update_id"]), status))
                if 200 <= status < 300:
                    self.store.confirm(int(update["update_id"]) + 1)
                elif not self._stopping:
                    await asyncio.sleep(self.retry)

    async def _post(self, session: aiohttp.ClientSession, update: dict[str, object]) -> int:
        headers = {"Content-Type": "application/json"}
        if self.store.webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.store.webhook_secret
        try:
            async with session.post(self.store.webhook_url, headers=headers,
                                    data=json.dumps(update, ensure_ascii=False)) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            log.info("webhook delivery failed: %s", error)
            return 0
