"""Webhook mode: every process receives, the lease holder handles.

:class:`WebhookReceiver` (aiohttp) answers Telegram's POSTs on the webhook URL's path: it
checks ``X-Telegram-Bot-Api-Secret-Token`` (401 otherwise), stores the update in the inbox
keyed by its update id and only then answers 200 (a failed store answers 500, so Telegram
delivers it again; a repeated delivery is stored once). Any process behind a reverse proxy
may receive. :class:`InboxPump` runs in the lease holder and queues the inbox's pending
updates for handling: woken at once by this process's receiver, and scanning the table
every ``every`` seconds for what other processes stored (the table is the truth).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Callable
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update

from runtime.inbox import GridApplication, InboxStore

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # Telegram's updates are far smaller


def webhook_secret(token: str) -> str:
    """``GRIDBOT_WEBHOOK_SECRET``, or one derived from the token (the same in every
    process of the deployment, and revealing nothing about the token)."""
    configured = os.environ.get("GRIDBOT_WEBHOOK_SECRET", "").strip()
    if configured:
        return configured
    return hmac.new(token.encode(), b"gridbot-webhook-secret", hashlib.sha256).hexdigest()


def webhook_path(url: str) -> str:
    """The path the receiver serves: the webhook URL's (``https://host/tg/<x>`` → ``/tg/<x>``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError("--webhook 须为完整网址,如 https://bot.example.org/tg/xxxx")
    return parts.path or "/"


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (port 0: any free port, for tests)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"--listen 须为 主机:端口,如 127.0.0.1:8443(收到 {listen!r})")
    return host, int(port)


class WebhookReceiver:
    def __init__(self, inbox: InboxStore, *, secret: str, path: str, listen: str) -> None:
        self.inbox = inbox
        self.secret = secret.encode()
        self.path = path
        self.host, self.port = parse_listen(listen)
        #: Called after each newly stored update (the holder's pump wakes up).
        self.on_stored: Callable[[], None] = lambda: None
        self.refused = 0
        self.stored = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.path, self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        if self.port == 0:  # a free port was asked for: which one it got
            sockets = getattr(site._server, "sockets", None) or []
            if sockets:
                self.port = int(sockets[0].getsockname()[1])
        self._runner = runner
        log.info("webhook receiver listening on %s:%d%s", self.host, self.port,
                 "/…" if self.path.count("/") > 1 else self.path)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            self.refused += 1
            log.warning("webhook: refused a request without the right secret from %s",
                        request.remote)
            return web.Response(status=401, text="unauthorized")
        try:
            body = await request.text()
            update_id = json.loads(body)["update_id"]
        except (ValueError, KeyError, TypeError):
            return web.Response(status=400, text="bad update")
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return web.Response(status=400, text="bad update")
        try:
            new = await self.inbox.save_updates([(update_id, body)])
        except Exception as error:  # answered 500: Telegram delivers it again later
            log.error("webhook: cannot store update %d: %s", update_id, error)
            return web.Response(status=500, text="not stored")
        if new:
            self.stored += 1
            self.on_stored()
        return web.Response(text="ok")


class InboxPump:
    """Queues pending inbox rows (stored by any process) for the holder's handlers."""

    def __init__(self, application: GridApplication, inbox: InboxStore, *,
                 every: float = 0.2) -> None:
        self.application = application
        self.inbox = inbox
        self.every = every
        self._queued: set[int] = set()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        self._wakeup.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="inbox-pump")

    async def stop(self) -> None:
        self._stopping = True  # Python 3.11's wait_for may swallow a cancel
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def scan(self) -> int:
        """Queue the pending updates not queued yet, in update order; returns how many."""
        pending = await self.inbox.pending_updates()
        ids = {update_id for update_id, _ in pending}
        self._queued &= ids  # handled ones leave the set
        added = 0
        for update_id, payload in pending:
            if update_id in self._queued:
                continue
            update = Update.de_json(json.loads(payload), self.application.bot)
            await self.application.update_queue.put(update)
            self._queued.add(update_id)
            added += 1
        return added

    async def _run(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            try:
                await self.scan()
            except Exception as error:  # the database is unavailable right now
                log.error("inbox pump: %s; retrying", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.every)
