"""Several ``gridbot run --deployment`` processes spreading one deployment's tokens.

Each bot token of the deployment has its own lease (``bot-<id>``, the key a single
``gridbot run`` takes for the token, held beside the database of the token's first
community: see storage/leases.py). The process holding it runs the token's
:class:`~runtime.deployment.TokenGroup` — the communities on the token (their outbox
senders and schedulers) and their polling (one GridBot, or a shared-token poller routing to
several) — and nobody else does. A process holding none of the tokens is a standby.

Balance without a membership protocol: each process also holds one *member slot* (one of
64 slot locks of the deployment, freed by the system when the process dies, like a lease)
and counts the slots held by anyone to know how many processes are alive (``M``). With
``T`` tokens, a process's fair share is ``ceil(T / M)``. Every ``tick`` seconds each
process

1. checks the leases it holds; a lost one stops that token's work at once (senders first);
2. holding more than its share (a process joined): gives the surplus back after a clean
   stop (polling first, then a few seconds for the senders), newest first;
3. holding less: tries the tokens that look free (``pg_locks`` / a flock attempt) and takes
   them until it holds its share, starting them concurrently (at most ``parallel`` at once).

As ``M * ceil(T / M) >= T``, the live processes together always want every token, so a
dead process's tokens (its leases and member slot freed together) are taken within about
one tick plus a start-up; no process holds more than ``ceil(T / M)``. When ``T >= M`` a
process may still end with fewer than ``floor(T / M)`` (e.g. 2, 2, 0 for four tokens on
three processes): the rule bounds the most any process holds, not the least.

The staff console (``--web``) runs in every process, over every community's database
(the ``gridbot web --deployment`` view): its sessions live in the databases, so any process
may answer any request, and the outbox rows its actions write are sent by the token
holder's sender, which polls the outbox every second.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from community.deployment import Deployment, DeploymentCommunity, is_database_url
from runtime.app import BotOptions, StartupAborted
from runtime.deployment import TokenGroup, token_specs
from storage.leases import Lease, Presence, open_lease, open_presence
from tickets.clock import Clock, SystemClock

if TYPE_CHECKING:
    from telegram import Bot

    from web.server import ConsoleServer

log = logging.getLogger(__name__)

__all__ = ["SpreadDeployment", "deployment_key", "serve_spread_deployment"]


def deployment_key(deployment: Deployment) -> str:
    """``deployment-<hash of the sorted community keys>``: the member slots' key."""
    keys = ",".join(sorted(c.key for c in deployment.communities))
    return "deployment-" + hashlib.sha256(keys.encode()).hexdigest()[:16]


def _beside(community: DeploymentCommunity) -> str:
    target = community.db
    if not is_database_url(target):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    return target


class SpreadDeployment:
    """This process's part of a deployment: ``await start()``, then ``await stop()``."""

    def __init__(
        self, deployment: Deployment, environ: Mapping[str, str], *,
        clock: Clock | None = None, options: BotOptions | None = None,
        options_for: Callable[[str], BotOptions] | None = None,
        tick: float = 2.0, parallel: int = 8, name: str = "",
    ) -> None:
        self.deployment = deployment
        self.clock = clock or SystemClock()
        self.options = options or BotOptions()
        self.tick = tick
        self.parallel = parallel
        self.name = name  # tests: which of several in-process instances
        self.specs: dict[str, tuple[str, list[DeploymentCommunity], BotOptions]] = {}
        self.leases: dict[str, Lease] = {}
        for token, communities, opts in token_specs(deployment, environ, self.options,
                                                    options_for):
            group = TokenGroup(token, communities, opts, self.clock)  # validates the token
            self.specs[group.key] = (token, communities, opts)
            self.leases[group.key] = open_lease(_beside(communities[0]), token)
        self.presence: Presence = open_presence(_beside(deployment.communities[0]),
                                                deployment_key(deployment))
        self.held: dict[str, TokenGroup] = {}  # lease key → running group, in taking order
        #: (monotonic time, lease key, "taken" | "released" | "lost") for tests and logs.
        self.events: list[tuple[float, str, str]] = []
        self.console: ConsoleServer | None = None
        self.console_url: str | None = None
        self._console_closers: list[Callable[[], object]] = []
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._standby_logged = False

    @property
    def tokens(self) -> int:
        return len(self.specs)

    def group(self, key: str) -> TokenGroup:
        return self.held[key]

    async def start(self, stop: asyncio.Event | None = None) -> None:
        """Join the deployment, start the console, take this process's share now (a
        rejected token raises here, as it does for one community), then keep balancing."""
        self._stop = stop
        await self.presence.join()
        try:
            try:
                await self._start_console()
            except Exception:  # the bots matter more than the console
                log.exception("网格工作台无法启动;机器人照常运行,工作台未开启")
            await self._tick(first=True)
        except BaseException:
            await self._stop_everything()
            raise
        self._task = asyncio.get_running_loop().create_task(
            self._loop(), name=f"spread-{self.name or 'deployment'}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._stop_everything()

    async def _stop_everything(self) -> None:
        await asyncio.gather(*(self._drop(key, "released", drain_timeout=5.0)
                               for key in list(self.held)))
        if self.console is not None:
            await self.console.stop()
            self.console = None
        for close in self._console_closers:
            result = close()
            if asyncio.iscoroutine(result):
                await result
        self._console_closers = []
        await self.presence.leave()

    async def until_idle(self, within: float = 10.0) -> None:
        for group in list(self.held.values()):
            await group.until_idle(within)

    # ------------------------------------------------------------------ balancing

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            try:
                await self._tick()
            except Exception:  # database unreachable…: keep what runs, try again
                log.exception("deployment %s: balancing failed; retrying",
                              self.deployment.name)

    async def _tick(self, *, first: bool = False) -> None:
        for key in list(self.held):
            if not await self.leases[key].check():
                log.error("token %s lost: stopping its sending, polling and schedules", key)
                await self._drop(key, "lost", drain_timeout=0.0)
        if not await self.presence.check():
            await self.presence.leave()
            await self.presence.join()
        members = max(1, await self.presence.members())
        share = math.ceil(self.tokens / members)
        if len(self.held) > share:
            surplus = list(self.held)[share:]
            log.info("deployment %s: %d processes, share %d of %d tokens: giving back %s",
                     self.deployment.name, members, share, self.tokens, ", ".join(surplus))
            await asyncio.gather(*(self._drop(key, "released", drain_timeout=5.0)
                                   for key in surplus))
        elif len(self.held) < share:
            await self._take(share - len(self.held), members, share, first=first)
        if not self.held and not self._standby_logged:
            log.info("standby: all %d tokens of deployment %s are held by other processes "
                     "(%d processes); retrying every %.0f s", self.tokens,
                     self.deployment.name, members, self.tick)
        self._standby_logged = not self.held

    async def _take(self, wanted: int, members: int, share: int, *, first: bool) -> None:
        keys = list(self.specs)
        slot = self.presence.slot or 0
        order = keys[slot % len(keys):] + keys[:slot % len(keys)]  # spread first tries
        candidates = [self.leases[k] for k in order if k not in self.held]
        taken: list[str] = []
        for lease in await self.presence.unheld(candidates):
            if len(taken) >= wanted:
                break
            try:
                if await lease.try_acquire():
                    taken.append(lease.key)
            except Exception as error:
                log.warning("lease %s: cannot try (%s)", lease.key, error)
        if not taken:
            return
        gate = asyncio.Semaphore(self.parallel)

        async def activate(key: str) -> None:
            async with gate:
                await self._activate(key, members, share, first=first)

        results = await asyncio.gather(*(activate(k) for k in taken), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:  # only the first tick raises (a rejected token, a stop during start-up)
            raise errors[0]

    async def _activate(self, key: str, members: int, share: int, *, first: bool) -> None:
        token, communities, opts = self.specs[key]
        group = TokenGroup(token, communities, opts, self.clock)
        try:
            await group.start(self._stop, self.deployment.street_staff, self.console_url)
        except BaseException as error:
            await self.leases[key].release()
            if first or isinstance(error, StartupAborted | asyncio.CancelledError):
                raise
            log.exception("token %s: start failed; lease given up", key)
            return
        self.held[key] = group
        self.events.append((asyncio.get_running_loop().time(), key, "taken"))
        log.info("token %s taken (communities %s): holding %d of %d tokens "
                 "(%d processes, share %d)", key, "、".join(c.key for c in communities),
                 len(self.held), self.tokens, members, share)

    async def _drop(self, key: str, why: str, *, drain_timeout: float) -> None:
        group = self.held.pop(key, None)
        if group is None:
            return
        try:
            await group.stop(drain_timeout=drain_timeout)
        except Exception:
            log.exception("token %s: stopping failed", key)
        await self.leases[key].release()  # only after the work stopped
        self.events.append((asyncio.get_running_loop().time(), key, why))
        log.info("token %s %s: holding %d of %d tokens", key, why, len(self.held),
                 self.tokens)

    # ------------------------------------------------------------------ console

    async def _start_console(self) -> None:
        """The console over every community's database, in every process."""
        if self.options.web is None:
            return
        from runtime.street_console import open_street_console, street_server
        from web.server import default_url, parse_address

        address = self.options.web
        host, port = parse_address(address)
        public = (self.options.web_url or default_url(address)).rstrip("/")
        tokens = {c.token_env: token for token, communities, _ in self.specs.values()
                  for c in communities}
        street, opened, bots = await open_street_console(
            self.deployment, public=public, clock=self.clock, tokens=tokens,
            api_url=self.options.api_url)
        self._console_closers = [*(_shutdown(bot) for bot in bots),
                                 *(db.close for db in opened)]
        try:
            self.console = await street_server(street, host, port).start()
        except OSError as error:
            log.error("网格工作台无法监听 %s (%s);机器人照常运行,工作台未开启", address, error)
            return
        self.console_url = (self.options.web_url.rstrip("/") if self.options.web_url
                            else self.console.url)


def _shutdown(bot: Bot) -> Callable[[], object]:
    return bot.shutdown


async def serve_spread_deployment(spread: SpreadDeployment, stop: asyncio.Event) -> None:
    """Run this process's part until ``stop`` is set."""
    try:
        await spread.start(stop)
    except StartupAborted:
        return
    try:
        await stop.wait()
    finally:
        await spread.stop()
