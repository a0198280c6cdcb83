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

Several processes may run the same deployment file: the one holding the deployment's lease
(:func:`deployment_lease`) runs it, the others stand by (:func:`serve_leased_deployment`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import signal
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from community.deployment import Deployment, DeploymentCommunity, is_database_url
from delivery import SlidingWindowRateLimiter
from runtime.app import BotOptions, GridBot, StartupAborted, StartupError
from runtime.lease import LeaseKeeper
from runtime.shared_token import TokenPoller
from storage.leases import FileLease, Lease, PostgresLease
from tickets.clock import Clock, SystemClock

if TYPE_CHECKING:
    from web.server import ConsoleServer

log = logging.getLogger(__name__)

__all__ = ["DeploymentRuntime", "deployment_lease", "run_deployment", "serve_leased_deployment"]


class DeploymentRuntime:
    """The running deployment: ``await start()``, then ``await stop()``.

    ``options`` apply to every bot (their ``web`` is taken by the one console);
    ``options_for`` may give a token its own (tests: one local Bot API server per token).
    """

    def __init__(
        self, deployment: Deployment, environ: Mapping[str, str], *,
        clock: Clock | None = None, options: BotOptions | None = None,
        options_for: Callable[[str], BotOptions] | None = None,
    ) -> None:
        self.deployment = deployment
        self.clock = clock or SystemClock()
        self.options = options or BotOptions()
        self.bots: dict[str, GridBot] = {}  # by community key, in the file's order
        self.pollers: list[TokenPoller] = []  # one per shared token
        self.console: ConsoleServer | None = None
        for token, communities in deployment.token_groups(environ):
            if not token:
                names = "、".join(c.key for c in communities)
                raise StartupError(f"社区 {names} 的令牌环境变量未设置,请先运行 "
                                   f"`gridbot check --deployment {deployment.path}`。")
            base = replace(options_for(token) if options_for is not None else self.options,
                           web=None)
            if len(communities) == 1:
                [community] = communities
                self.bots[community.key] = self._bot(community, token, base)
                continue
            limiter = SlidingWindowRateLimiter() if base.rate_limit else None
            shared = {c.key: self._bot(c, token, replace(base, poll=False), limiter)
                      for c in communities}
            self.bots.update(shared)
            self.pollers.append(TokenPoller(token, shared, base))

    def _bot(self, community: DeploymentCommunity, token: str, options: BotOptions,
             limiter: SlidingWindowRateLimiter | None = None) -> GridBot:
        if not is_database_url(community.db):
            Path(community.db).parent.mkdir(parents=True, exist_ok=True)
        return GridBot(community.config, token, community.db, clock=self.clock,
                       options=options, schema=community.schema, limiter=limiter)

    def bot(self, key: str) -> GridBot:
        return self.bots[key]

    async def start(self, stop: asyncio.Event | None = None) -> None:
        """Start every community's bot, then the console; if one cannot start, the ones
        already started are stopped and the error is raised."""
        started: list[GridBot | TokenPoller] = []
        try:
            for key, bot in self.bots.items():
                log.info("starting community %s (%s)", key, bot.config.name)
                await bot.start(stop)
                started.append(bot)
                assert bot.services is not None
                bot.services.street_staff = self.deployment.street_staff  # /web for them
            for poller in self.pollers:
                await poller.start()
                started.append(poller)
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
        for poller in self.pollers:
            await poller.stop()
        for bot in reversed(list(self.bots.values())):
            await bot.stop()


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


def deployment_lease(deployment: Deployment) -> Lease:
    """The one lease of a whole deployment: the process holding it runs every community
    (pollers, senders, schedulers, the console); others started with the same file stand
    by and take over when it dies. Keyed by the sorted community keys, held beside the
    first community's database (its SQLite file, or its PostgreSQL server)."""
    keys = ",".join(sorted(c.key for c in deployment.communities))
    key = "deployment-" + hashlib.sha256(keys.encode()).hexdigest()[:16]
    target = deployment.communities[0].db
    if is_database_url(target):
        return PostgresLease(target, key)
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    return FileLease(target, key)


async def serve_leased_deployment(make_runtime: Callable[[], DeploymentRuntime], lease: Lease,
                                  stop: asyncio.Event, *, retry: float = 3.0,
                                  check: float = 2.0) -> None:
    """Run the deployment while holding its lease, until ``stop`` is set: a fresh
    :class:`DeploymentRuntime` on each activation, stopped the moment the lease is lost."""
    running: list[DeploymentRuntime] = []

    async def activate() -> None:
        runtime = make_runtime()
        await runtime.start(stop)
        running.append(runtime)

    async def deactivate() -> None:
        while running:
            await running.pop().stop()

    keeper = LeaseKeeper(lease, activate=activate, deactivate=deactivate,
                         retry=retry, check=check)
    try:
        await keeper.start()
    except StartupAborted:
        return
    try:
        await stop.wait()
    finally:
        await keeper.stop()
        await deactivate()
        await lease.release()


def run_deployment(*, deployment: Deployment, environ: Mapping[str, str],
                   api_url: str | None = None, web: str | None = None,
                   web_url: str | None = None) -> None:
    """``gridbot run --deployment``: every community until SIGINT/SIGTERM."""
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
        await serve_leased_deployment(
            lambda: DeploymentRuntime(deployment, environ, options=options),
            deployment_lease(deployment), stop)

    asyncio.run(main())
