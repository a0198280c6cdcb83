"""The one staff console of a deployment: inside ``gridbot run --deployment`` (each
community's bot process state: its database, use cases, outbox wake-up) or alone
(``gridbot web --deployment``, against the communities' databases)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from telegram import Bot

import storage
from community.deployment import Deployment
from runtime.api_url import bot_api_urls
from runtime.console import serve_until_signal
from services.service import TicketService
from tickets.clock import Clock, SystemClock
from ui.presenter import ChatPresenter
from web.deps import ConsoleDeps
from web.server import (
    ConsoleServer,
    bot_file_fetcher,
    default_url,
    deps_for_services,
    parse_address,
)
from web.street import CommunityConsole, StreetConsole, create_street_app

if TYPE_CHECKING:
    from runtime.deployment import DeploymentRuntime

log = logging.getLogger("gridbot.console")


def street_server(street: StreetConsole, host: str, port: int) -> ConsoleServer:
    """A :class:`ConsoleServer` whose app serves every community of the deployment."""
    server = ConsoleServer(street.communities[0].deps, host, port)
    server.app = create_street_app(street)
    return server


async def start_deployment_console(runtime: DeploymentRuntime, address: str,
                                   web_url: str | None) -> ConsoleServer | None:
    """In the bot process: one console over every running community; ``/web`` in any
    community's bot links to it. Returns None when the address cannot be bound (the bots
    keep running; logged)."""
    from handlers.web_commands import publish_console_menu

    host, port = parse_address(address)
    public = (web_url or default_url(address)).rstrip("/")
    street_staff = runtime.deployment.street_staff
    communities = []
    for key, bot in runtime.bots.items():
        services = bot.services
        assert services is not None, "start the bots first"
        deps = deps_for_services(services, base_url=public, bot=bot.bot, bot_token=bot.bot.token)
        communities.append(CommunityConsole(key, replace(deps, street_staff=street_staff)))
    street = StreetConsole(runtime.deployment.name, tuple(communities))
    try:
        server = await street_server(street, host, port).start()
    except OSError as error:
        log.error("网格工作台无法监听 %s (%s);机器人照常运行,工作台未开启", address, error)
        return None
    url = web_url.rstrip("/") if web_url else server.url
    for bot in runtime.bots.values():
        assert bot.services is not None
        bot.services.console_url = url
        await publish_console_menu(bot.bot, bot.config, url)
    return server


async def open_street_console(
    deployment: Deployment, *, public: str, clock: Clock,
    tokens: Mapping[str, str] | None = None, api_url: str | None = None,
) -> tuple[StreetConsole, list[storage.Database], list[Bot]]:
    """The console's view of every community's database, for ``gridbot web
    --deployment`` (messages its actions queue are sent by the running bots). With a
    community's token in ``tokens`` (the environment), its photos are shown and its Mini
    App signs in."""
    communities: list[CommunityConsole] = []
    opened: list[storage.Database] = []
    bots: dict[str, Bot] = {}
    try:
        for community in deployment.communities:
            token = (tokens or {}).get(community.token_env, "").strip() or None
            if token is not None and token not in bots:
                base_url, base_file_url = bot_api_urls(api_url)
                bots[token] = Bot(token, base_url=base_url, base_file_url=base_file_url)
                await bots[token].initialize()
            bot = bots.get(token) if token is not None else None
            config = community.config
            db = await storage.open_database(community.db, clock=clock,
                                             timezone=config.timezone, schema=community.schema)
            opened.append(db)
            deps = ConsoleDeps(
                db=db, config=config, clock=clock,
                service=TicketService(db, config, clock, ChatPresenter(config)),
                base_url=public, secure_cookies=public.startswith("https://"),
                fetch_file=bot_file_fetcher(bot) if bot is not None else None,
                bot_token=token, street_staff=deployment.street_staff)
            communities.append(CommunityConsole(community.key, deps))
    except BaseException:
        await _close(opened, list(bots.values()))
        raise
    return StreetConsole(deployment.name, tuple(communities)), opened, list(bots.values())


async def _close(opened: list[storage.Database], bots: list[Bot]) -> None:
    for bot in bots:
        await bot.shutdown()
    for db in opened:
        await db.close()


async def serve_deployment_console(deployment: Deployment, *, address: str,
                                   web_url: str | None, tokens: Mapping[str, str] | None = None,
                                   api_url: str | None = None) -> None:
    """``gridbot web --deployment``: the console alone until SIGINT/SIGTERM."""
    host, port = parse_address(address)
    public = (web_url or default_url(address)).rstrip("/")
    street, opened, bots = await open_street_console(
        deployment, public=public, clock=SystemClock(), tokens=tokens, api_url=api_url)
    try:
        server = await street_server(street, host, port).start()
        print(f"网格工作台: {server.url}(公开地址 {public},{len(opened)} 个社区)", flush=True)
        await serve_until_signal(server)
    finally:
        await _close(opened, bots)
