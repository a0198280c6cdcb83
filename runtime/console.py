"""``gridbot web``: the staff console alone, in its own process, against the bot's database
(for deployments that want it separate from the bot)."""

from __future__ import annotations

import asyncio
import signal

from telegram import Bot

import storage
from community.model import CommunityConfig
from runtime.api_url import bot_api_urls
from services.service import TicketService
from tickets.clock import SystemClock
from ui.presenter import ChatPresenter
from web.deps import ConsoleDeps
from web.server import ConfigFile, ConsoleServer, bot_file_fetcher, default_url, parse_address


async def serve_console(*, config: CommunityConfig, config_path: str | None, db_path: str,
                        address: str, web_url: str | None, token: str | None,
                        api_url: str | None) -> None:
    """``gridbot web``: the console alone against the bot's database, until SIGINT/SIGTERM.
    Messages its actions queue are sent by the running bot's outbox sender."""
    host, port = parse_address(address)
    clock = SystemClock()
    db = await storage.open_database(db_path, clock=clock, timezone=config.timezone)
    bot: Bot | None = None
    try:
        if token:
            base_url, base_file_url = bot_api_urls(api_url)
            bot = Bot(token, base_url=base_url, base_file_url=base_file_url)
            await bot.initialize()
        source = ConfigFile(config_path, config) if config_path else None
        public = (web_url or default_url(address)).rstrip("/")
        deps = ConsoleDeps(
            db=db, config=config, clock=clock,
            service=TicketService(db, config, clock, ChatPresenter(config)),
            base_url=public, secure_cookies=public.startswith("https://"),
            fetch_file=bot_file_fetcher(bot) if bot is not None else None,
            bot_token=token, config_source=source)
        server = await ConsoleServer(deps, host, port).start()
        print(f"网格工作台: {server.url}(公开地址 {public})", flush=True)
        await serve_until_signal(server)
    finally:
        if bot is not None:
            await bot.shutdown()
        await db.close()


async def wait_for_signal() -> None:
    """Return at the first SIGINT or SIGTERM (the handlers are removed again)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def serve_until_signal(server: ConsoleServer) -> None:
    """Keep a started console serving until SIGINT/SIGTERM, then stop it."""
    try:
        await wait_for_signal()
    finally:
        await server.stop()
