"""Serving the console: inside the bot's process (``gridbot run``), alone (``gridbot web``)
or after the demo (``gridbot demo --web``). All on the caller's event loop."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from aiohttp import web
from telegram import Bot

from community.model import CommunityConfig
from web.app import create_console_app
from web.deps import ConsoleDeps, FileFetcher

if TYPE_CHECKING:
    from handlers.context import Services

log = logging.getLogger("gridbot.console")


class AddressError(ValueError):
    """``--web`` is not HOST:PORT (the message is Chinese, for the operator)."""


def parse_address(text: str) -> tuple[str, int]:
    """"127.0.0.1:8080" → ("127.0.0.1", 8080); ":8080" listens on 127.0.0.1."""
    host, sep, port = text.rpartition(":")
    if not sep or not (port.isascii() and port.isdigit()) or not 0 <= int(port) <= 65535:
        raise AddressError(f"--web 应为 主机:端口,例如 127.0.0.1:8080(收到 {text!r})")
    return (host.strip("[]") or "127.0.0.1"), int(port)


def default_url(address: str) -> str:
    host, port = parse_address(address)
    return f"http://{host}:{port}"


def bot_file_fetcher(bot: Bot) -> FileFetcher:
    """Download a Telegram file by id with the bot's own HTTP client (the token stays on
    the server)."""
    async def fetch(file_id: str) -> bytes:
        file = await bot.get_file(file_id)
        return bytes(await file.download_as_bytearray())
    return fetch


class ConsoleServer:
    """An aiohttp site for the console on ``host:port`` (port 0 picks a free one)."""

    def __init__(self, deps: ConsoleDeps, host: str, port: int) -> None:
        self.deps, self.host, self.port = deps, host, port
        self.app = create_console_app(deps)
        self._runner: web.AppRunner | None = None

    async def start(self) -> ConsoleServer:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = site._server.sockets if site._server is not None else []  # type: ignore[attr-defined]
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("staff console listening on http://%s:%d (public URL %s)", self.host,
                 self.port, self.deps.base_url)
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def deps_for_services(services: Services, *, base_url: str, bot: Bot | None,
                      bot_token: str | None) -> ConsoleDeps:
    """The console's dependencies inside the bot's process: the same database, config,
    clock and use cases; actions wake the outbox sender at once."""
    return ConsoleDeps(
        db=services.db, config=services.config, clock=services.clock,
        service=services.tickets, base_url=base_url,
        secure_cookies=base_url.startswith("https://"),
        fetch_file=bot_file_fetcher(bot) if bot is not None else None,
        bot_token=bot_token, wake=services.dispatcher.wake,
    )


class ConfigFile:
    """The config file, re-read when it changes on disk (``gridbot web``): a person removed
    from it loses console access at their next request. A broken edit keeps the last good
    config (and is logged)."""

    def __init__(self, path: str, config: CommunityConfig) -> None:
        self.path, self.config = path, config
        self._mtime = self._stat()

    def _stat(self) -> float:
        try:
            return os.stat(self.path).st_mtime
        except OSError:
            return 0.0

    def __call__(self) -> CommunityConfig:
        mtime = self._stat()
        if mtime != self._mtime:
            self._mtime = mtime
            from community import check_config

            config, problems = check_config(self.path)
            if config is None or problems:
                log.warning("console: %s changed but has problems; keeping the previous "
                            "config: %s", self.path, "; ".join(problems))
            else:
                log.info("console: %s re-read", self.path)
                self.config = config
        return self.config

