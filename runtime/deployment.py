"""``gridbot run --deployment``: every community of a deployment in one process.

Each community keeps its own :class:`~runtime.app.GridBot` — its own Application, database
(its SQLite file, or its schema in one PostgreSQL database), outbox sender and scheduler —
so nothing a community does can reach another's data. Communities are grouped by token
*value* (Telegram allows one poller per token): a token of its own gives the community a
GridBot as ``gridbot run`` builds it; communities sharing a token get one
:class:`~runtime.shared_token.TokenPoller` that routes each update to its community's
GridBot (which then does not poll), and share the token's rate limiter.

The staff console, when asked for, is one server for the whole deployment
(:mod:`runtime.street_console`).

Several processes may run the same deployment file: they spread its tokens, each token (a
:class:`TokenGroup`) run by the one process holding its lease (runtime/spread.py).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from community.deployment import (
    Deployment,
    DeploymentCommunity,
    StreetPerson,
    is_database_url,
)
from delivery import SlidingWindowRateLimiter
from runtime.app import BotOptions, GridBot, StartupAborted, StartupError
from runtime.shared_token import TokenPoller
from storage.leases import lease_key
from tickets.clock import Clock, SystemClock

if TYPE_CHECKING:
    from web.server import ConsoleServer

log = logging.getLogger(__name__)

__all__ = ["DeploymentRuntime", "TokenGroup", "run_deployment", "token_specs"]


class TokenGroup:
    """One bot token and every community on it — the unit a process acts for while it
    holds the token's lease (runtime/spread.py): the communities' GridBots (outbox senders,
    schedulers), and for a token shared by several communities the one poller routing its
    updates. Built afresh for each activation."""

    def __init__(self, token: str, communities: list[DeploymentCommunity], options: BotOptions,
                 clock: Clock) -> None:
        self.token = token
        self.key = lease_key(token)  # bot-<id>: the lease key, never the secret
        self.communities = communities
        self.clock = clock
        self.bots: dict[str, GridBot] = {}
        self.poller: TokenPoller | None = None
        base = replace(options, web=None)
        if len(communities) == 1:
            [community] = communities
            self.bots[community.key] = self._bot(community, base)
            return
        limiter = SlidingWindowRateLimiter() if base.rate_limit else None
        self.bots = {c.key: self._bot(c, replace(base, poll=False), limiter)
                     for c in communities}
        self.poller = TokenPoller(token, self.bots, base)

    def _bot(self, community: DeploymentCommunity, options: BotOptions,
             limiter: SlidingWindowRateLimiter | None = None) -> GridBot:
        if not is_database_url(community.db):
            Path(community.db).parent.mkdir(parents=True, exist_ok=True)
        return GridBot(community.config, self.token, community.db, clock=self.clock,
                       options=options, schema=community.schema, limiter=limiter)

    async def start(self, stop: asyncio.Event | None, street_staff: tuple[StreetPerson, ...],
                    console_url: str | None = None) -> None:
        """Start the communities' bots, then the poller; if one cannot start, the ones
        already started are stopped and the error is raised."""
        started: list[GridBot | TokenPoller] = []
        try:
            for key, bot in self.bots.items():
                log.info("starting community %s (%s)", key, bot.config.name)
                await bot.start(stop)
                started.append(bot)
                assert bot.services is not None
                bot.services.street_staff = street_staff  # /web for them
                if console_url is not None:
                    from handlers.web_commands import publish_console_menu

                    bot.services.console_url = console_url
                    await publish_console_menu(bot.bot, bot.config, console_url)
            if self.poller is not None:
                await self.poller.start()
                started.append(self.poller)
        except BaseException:
            for running in reversed(started):
                await running.stop()
            raise

    async def stop(self, *, drain_timeout: float = 5.0) -> None:
        """Stop acting for the token. A clean stop ends polling first and lets the senders
        drain; with ``drain_timeout=0`` (the lease was lost) the senders stop first."""
        if drain_timeout > 0 and self.poller is not None:
            await self.poller.stop()
        for bot in reversed(list(self.bots.values())):
            await bot.stop(drain_timeout=drain_timeout)
        if drain_timeout <= 0 and self.poller is not None:
            await self.poller.stop()

    async def until_idle(self, within: float = 10.0) -> None:
        for bot in self.bots.values():
            await bot.until_idle(within)


def token_specs(deployment: Deployment, environ: Mapping[str, str], options: BotOptions,
                options_for: Callable[[str], BotOptions] | None = None,
                ) -> list[tuple[str, list[DeploymentCommunity], BotOptions]]:
    """(token, its communities, its options) in the file's order; a missing token is the
    operator's to fix."""
    specs = []
    for token, communities in deployment.token_groups(environ):
        if not token:
            names = "、".join(c.key for c in communities)
            raise StartupError(f"社区 {names} 的令牌环境变量未设置,请先运行 "
                               f"`gridbot check --deployment {deployment.path}`。")
        specs.append((token, communities,
                      options_for(token) if options_for is not None else options))
    return specs


class DeploymentRuntime:
    """Every community of a deployment in this process, without leases (tests, benchmarks
    and the building block of one token's work): ``await start()``, then ``await stop()``.

    ``options`` apply to every bot (their ``web`` is taken by the one console);
    ``options_for`` may give a token its own (tests: one local Bot API server per token).
    Several processes share a deployment with runtime/spread.py instead.
    """

    def __init__(
        self, deployment: Deployment, environ: Mapping[str, str], *,
        clock: Clock | None = None, options: BotOptions | None = None,
        options_for: Callable[[str], BotOptions] | None = None,
    ) -> None:
        self.deployment = deployment
        self.clock = clock or SystemClock()
        self.options = options or BotOptions()
        self.console: ConsoleServer | None = None
        self.groups = [TokenGroup(token, communities, opts, self.clock)
                       for token, communities, opts in token_specs(
                           deployment, environ, self.options, options_for)]
        self.bots: dict[str, GridBot] = {}  # by community key, in the file's order
        for community in deployment.communities:
            for group in self.groups:
                if community.key in group.bots:
                    self.bots[community.key] = group.bots[community.key]
        self.pollers = [g.poller for g in self.groups if g.poller is not None]

    def bot(self, key: str) -> GridBot:
        return self.bots[key]

    async def start(self, stop: asyncio.Event | None = None) -> None:
        """Start every token's communities, then the console; if one cannot start, the
        ones already started are stopped and the error is raised."""
        started: list[TokenGroup] = []
        try:
            for group in self.groups:
                await group.start(stop, self.deployment.street_staff)
                started.append(group)
            await self._start_console()
        except BaseException:
            for running in reversed(started):
                await running.stop()
            raise
        log.info("deployment %s: %d communities running", self.deployment.name,
                 len(self.bots))

    async def _start_console(self) -> None:
        if self.options.web is None:
            return
        from runtime.street_console import start_deployment_console

        self.console = await start_deployment_console(self, self.options.web,
                                                      self.options.web_url)

    async def until_idle(self, within: float = 10.0) -> None:
        """Every community idle (tests, benchmarks)."""
        for bot in self.bots.values():
            await bot.until_idle(within)

    async def stop(self) -> None:
        if self.console is not None:
            await self.console.stop()
            self.console = None
        for group in reversed(self.groups):
            await group.stop()


async def serve_deployment(runtime: DeploymentRuntime, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set."""
    try:
        await runtime.start(stop)
    except StartupAborted:
        return
    try:
        await stop.wait()
    finally:
        await runtime.stop()


def run_deployment(*, deployment: Deployment, environ: Mapping[str, str],
                   api_url: str | None = None, web: str | None = None,
                   web_url: str | None = None) -> None:
    """``gridbot run --deployment``: this process's share of the deployment's tokens
    (runtime/spread.py) until SIGINT/SIGTERM."""
    import os

    from runtime.secrets import install_token_redaction

    level = os.environ.get("GRIDBOT_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level if level in logging.getLevelNamesMapping() else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
    for community in deployment.communities:
        token = environ.get(community.token_env, "").strip()
        if token:
            install_token_redaction(token)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        options = BotOptions(api_url=api_url, web=web, web_url=web_url)
        from runtime.spread import SpreadDeployment, serve_spread_deployment

        await serve_spread_deployment(SpreadDeployment(deployment, environ, options=options),
                                      stop)

    asyncio.run(main())
