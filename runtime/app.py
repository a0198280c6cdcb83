"""Builds and runs the bot: one Application, one database, one outbox dispatcher.

:class:`GridBot` owns the start-up and shut-down order, used the same way by
``gridbot run``, the demo and the end-to-end tests:

start: open the database (migrating it) → build services → initialise PTB (getMe) →
publish command menus → start the outbox dispatcher and the scheduler → queue the
updates a crash left unhandled → start polling.

stop: stop polling → let PTB finish the update in hand → stop the scheduler → drain
the outbox for a few seconds → close the database. Anything not finished stays in
SQLite (unprocessed inbox rows, unsent outbox rows) and is picked up by the next start.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from telegram import Update
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import ApplicationBuilder
from telegram.request import HTTPXRequest

import handlers
import storage
from community import CommunityConfig
from delivery import OutboxDispatcher, SlidingWindowRateLimiter
from handlers.context import CONTEXT_TYPES, Services
from handlers.menus import sync_staff_menus
from runtime.api_url import DEFAULT_API_URL, bot_api_urls
from runtime.inbox import DurableBot, GridApplication
from runtime.lease import LeaseKeeper
from runtime.lexicon import ready_lexicon
from runtime.stores import StorageDeliveryStore, StorageInboxStore
from runtime.webhook import InboxPump, WebhookReceiver, webhook_path, webhook_secret
from scheduler.jobs import GridScheduler
from storage.leases import Lease, open_lease
from tickets.clock import Clock, SystemClock
from ui.presenter import ChatPresenter

if TYPE_CHECKING:
    from web.server import ConsoleServer

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_API_URL", "BotOptions", "GridBot", "StartupError", "run_bot", "serve"]


class StartupError(Exception):
    """The bot cannot start; the message is one Chinese sentence for the operator."""


class StartupAborted(Exception):
    """A stop was requested while start-up was still waiting for the Bot API."""


@dataclass(frozen=True, slots=True)
class BotOptions:
    """Tunables with production defaults; tests and the demo shorten the timings."""

    api_url: str | None = None
    poll_timeout: int = 25  # long-polling seconds per getUpdates
    request_timeout: float = 20.0
    outbox_idle_poll: float = 1.0
    scheduler_tick: float = 30.0  # seconds between scans of deadlines and schedules
    rate_limit: bool = True
    # Bot API unreachable at start (network down, server restarting): retry getMe after
    # connect_retry_first seconds, doubling up to connect_retry_max, until it answers.
    connect_retry_first: float = 1.0
    connect_retry_max: float = 60.0
    # Pause between getUpdates calls: under load each call then fetches a batch instead of
    # one or two updates (fewer requests and inbox commits), at ≤ this much latency.
    poll_interval: float = 0.05
    web: str | None = None  # serve the staff console on HOST:PORT (None: no console)
    web_url: str | None = None  # its public base URL (default http://<web>)
    # False: another poller feeds this bot's update queue (several communities sharing
    # one token, runtime/shared_token.py); everything else runs as usual.
    poll: bool = True
    # Several processes (see README "Several processes"): a standby retries the token
    # lease every lease_retry seconds; the holder checks it every lease_check seconds.
    lease_retry: float = 3.0
    lease_check: float = 2.0
    # Webhook mode instead of long polling: the public URL (its path is served on
    # ``listen``), the secret Telegram sends back, how often the holder scans the inbox.
    webhook_url: str | None = None
    listen: str | None = None
    webhook_secret: str | None = None
    inbox_poll: float = 0.2



class GridBot:
    """A running GridBot: ``await start()``, then ``await stop()``."""

    def __init__(
        self,
        config: CommunityConfig,
        token: str,
        db_path: str,
        *,
        clock: Clock | None = None,
        options: BotOptions | None = None,
        schema: str | None = None,
        limiter: SlidingWindowRateLimiter | None = None,
        lease: Lease | None = None,
    ) -> None:
        self.config = config
        self.token = token
        self.db_path = db_path
        self.schema = schema  # PostgreSQL: the community's schema (a deployment's key)
        self.clock = clock or SystemClock()
        self.options = options or BotOptions()
        self._shared_limiter = limiter  # one token's limits, shared by its communities
        self.application = self._build_application(token)
        self.services: Services | None = None
        self.scheduler: GridScheduler | None = None
        self.console: ConsoleServer | None = None
        #: The token lease (None: act unconditionally, as a single process does).
        self.lease = lease
        self.db: storage.Database | None = None
        self.webhook: WebhookReceiver | None = None
        self._keeper: LeaseKeeper | None = None
        self._pump: InboxPump | None = None
        self._app_used = False  # a shut-down Application is rebuilt for the next activation
        self._acting = False
        #: (monotonic time, "active" | "standby") each time the role changed.
        self.role_changes: list[tuple[float, str]] = []

    @property
    def active(self) -> bool:
        """True while this process acts for the token (polls, sends, schedules); False
        from the moment it starts standing down."""
        return self._acting

    def _build_application(self, token: str) -> GridApplication:
        base_url, base_file_url = bot_api_urls(self.options.api_url)
        timeout = self.options.request_timeout
        self.limiter = ((self._shared_limiter or SlidingWindowRateLimiter())
                        if self.options.rate_limit else None)
        bot = DurableBot(
            token=token,
            base_url=base_url,
            base_file_url=base_file_url,
            request=HTTPXRequest(
                connection_pool_size=16, read_timeout=timeout, write_timeout=timeout,
                connect_timeout=timeout, pool_timeout=timeout,
            ),
            get_updates_request=HTTPXRequest(
                read_timeout=self.options.poll_timeout + timeout, connect_timeout=timeout,
            ),
            # Retries are the outbox's job (it knows what is durable); the limiter only
            # paces requests: 30/s overall, 20/min per group, as sliding windows.
            rate_limiter=self.limiter,
        )
        application = (
            ApplicationBuilder()
            .application_class(GridApplication)
            .bot(bot)
            .context_types(CONTEXT_TYPES)
            .concurrent_updates(False)  # per-chat order matters: a report before its edit
            .build()
        )
        assert isinstance(application, GridApplication)
        handlers.register(application)
        return application

    @property
    def bot(self) -> DurableBot:
        bot = self.application.bot
        assert isinstance(bot, DurableBot)
        return bot

    async def start(self, stop: asyncio.Event | None = None) -> None:
        """Open storage; then, holding the token's lease (or without a lease), connect to
        the Bot API and start polling; otherwise stand by and retry the lease.

        An unreachable Bot API is retried with backoff (logged) until it answers or
        ``stop`` is set (then :class:`StartupAborted`); a rejected token raises
        :class:`StartupError` at once."""
        self.db = await self._open_database()
        try:
            if self.options.webhook_url is not None:
                await self._start_receiver(self.db)
            if self.lease is None:
                await self._activate(stop)
                return
            self._keeper = LeaseKeeper(
                self.lease, activate=lambda: self._activate(stop), deactivate=self._lost,
                retry=self.options.lease_retry, check=self.options.lease_check)
            await self._keeper.start()
        except BaseException:
            await self._close_all()
            raise

    async def _open_database(self) -> storage.Database:
        try:
            return await storage.open_database(self.db_path, clock=self.clock,
                                               timezone=self.config.timezone,
                                               schema=self.schema)
        except storage.SchemaTooNew as error:
            raise StartupError(
                f"数据库 {storage.printable(self.db_path)} 由更新版本的 GridBot 写入(结构版本 {error.found},"
                f"本版本支持到 {error.supported}),未做任何修改。请升级 GridBot 或换用备份。"
            ) from error
        except storage.NotAGridbotDatabase as error:
            raise StartupError(
                f"{storage.printable(self.db_path)} 不是 GridBot 的数据库,已拒绝打开(未做修改)。"
                "请检查 --db 路径。"
            ) from error
        except storage.DATABASE_ERRORS as error:
            raise StartupError(
                f"无法打开数据库 {storage.printable(self.db_path)}: {error}") from error

    async def _activate(self, stop: asyncio.Event | None = None) -> None:
        """Act for the token: seed the limiter, recover what was in flight, connect, start
        the sender, the scheduler and polling (or the webhook), replay pending updates."""
        db = self.db
        assert db is not None
        if self._app_used:  # an earlier activation shut its Application down
            self.application = self._build_application(self.token)
        self._app_used = True
        async with db.transaction() as uow:
            if self.limiter is not None:  # the limits hold across restarts
                now = self.clock.now()
                recent = await uow.outbox.recent_sends(now - timedelta(minutes=2))
                seeded = self.limiter.seed(
                    (chat, (now - at).total_seconds()) for chat, at in recent)
                if seeded:
                    log.info("rate limiter: %d send(s) of the last minute taken over", seeded)
            resent = await uow.outbox.recover_in_flight()
        if resent:
            log.warning("%d message(s) were being sent when the bot stopped; sending again",
                        resent)
        from learning.runtime import refresh_model, with_stored_categories

        self.config = await with_stored_categories(db, self.config)  # imported categories
        inbox = StorageInboxStore(db, self.clock)
        self.bot.attach_inbox(inbox)
        self.application.inbox = inbox
        dispatcher = OutboxDispatcher(
            self.bot, StorageDeliveryStore(db, self.clock), self.clock,
            idle_poll=self.options.outbox_idle_poll, limiter=self.limiter,
        )
        services = Services(
            config=self.config,
            db=db,
            clock=self.clock,
            lexicon=await asyncio.to_thread(ready_lexicon, self.config),
            presenter=ChatPresenter(self.config),
            dispatcher=dispatcher,
        )
        await refresh_model(db, services.lexicon)  # the community's active model, if any
        self.services = services
        self.application.bot_data.services = services
        try:
            await self._connect(stop)
        except BaseException:
            await self.bot.shutdown()
            self.services = None
            raise
        services.bot_username = self.bot.username or ""
        await handlers.publish_command_menus(self.application.bot, self.config)
        await sync_staff_menus(self.application.bot, db, self.config)
        await self._start_console(services)
        dispatcher.start()
        if self.options.scheduler_tick > 0:
            self.scheduler = GridScheduler(services, tick_seconds=self.options.scheduler_tick)
            self.scheduler.start()
        if self.options.webhook_url is not None:
            await self.application.start()
            self._pump = InboxPump(self.application, inbox, every=self.options.inbox_poll)
            if self.webhook is not None:
                self.webhook.on_stored = self._pump.wake
            self._pump.start()
            await self.bot.set_webhook(
                self.options.webhook_url, secret_token=self._webhook_secret(),
                allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
        else:
            await self.application.replay_pending()
            assert self.application.updater is not None
            if self.options.poll:  # False: a shared-token poller feeds the update queue
                await self.application.updater.start_polling(
                    timeout=self.options.poll_timeout,
                    poll_interval=self.options.poll_interval,
                    allowed_updates=Update.ALL_TYPES,
                    drop_pending_updates=False,
                    error_callback=_polling_error,
                )
            await self.application.start()
        self._acting = True
        self.role_changes.append((asyncio.get_running_loop().time(), "active"))
        log.info("GridBot @%s is running for %s%s", services.bot_username, self.config.name,
                 f" (lease {self.lease.key})" if self.lease is not None else "")

    async def _connect(self, stop: asyncio.Event | None) -> None:
        """``Application.initialize`` (getMe), retried while the Bot API is unreachable.

        Exit-2 failures are the ones a person must fix (a rejected token, a URL that is no
        Bot API); the messages never quote PTB's, which can contain the token."""
        delay = self.options.connect_retry_first
        attempt = 0
        while True:
            attempt += 1
            try:
                await self.application.initialize()
                if attempt > 1:
                    log.info("Bot API reachable again after %d attempt(s)", attempt)
                return
            except InvalidToken as error:
                raise StartupError(
                    "Telegram 拒绝了 TELEGRAM_BOT_TOKEN 中的令牌(或 --api-url 指向的不是 Bot API)。"
                    "请向 @BotFather 核对令牌后重新设置。") from error
            except BadRequest as error:
                raise StartupError("Bot API 拒绝了启动请求,请检查 --api-url 与令牌。") from error
            except (NetworkError, RetryAfter) as error:  # includes TimedOut and 5xx answers
                wait = delay
                if isinstance(error, RetryAfter):
                    retry_after = error.retry_after
                    wait = max(wait, retry_after if isinstance(retry_after, int | float)
                               else retry_after.total_seconds())
                log.warning("Bot API unreachable at start (attempt %d: %s: %s); "
                            "retrying in %.0f s", attempt, type(error).__name__, error, wait)
                delay = min(delay * 2, self.options.connect_retry_max)
            except TelegramError as error:  # Forbidden, Conflict…: not a passing blip
                raise StartupError(f"Bot API 拒绝了启动请求({type(error).__name__}),"
                                   "请检查 --api-url 与令牌。") from error
            if stop is None:
                await asyncio.sleep(wait)
                continue
            try:
                await asyncio.wait_for(stop.wait(), timeout=wait)
            except TimeoutError:
                continue
            log.info("stop requested while waiting for the Bot API; not started")
            raise StartupAborted

    async def _start_console(self, services: Services) -> None:
        """The staff console on this process's event loop (``--web``)."""
        if self.options.web is None:
            return
        from handlers.web_commands import publish_console_menu
        from web.server import ConsoleServer, default_url, deps_for_services, parse_address

        host, port = parse_address(self.options.web)
        public = self.options.web_url
        deps = deps_for_services(services, base_url=public or default_url(self.options.web),
                                 bot=self.bot, bot_token=self.bot.token)
        try:
            self.console = await ConsoleServer(deps, host, port).start()
        except OSError as error:
            # The bot matters more than the console: it keeps serving the groups; /web
            # then says the console is off.
            log.error("网格工作台无法监听 %s (%s);机器人照常运行,工作台未开启", self.options.web,
                      error)
            return
        services.console_url = (public or self.console.url).rstrip("/")
        await publish_console_menu(self.bot, self.config, services.console_url)

    async def until_idle(self, within: float = 10.0) -> None:
        """Wait until every received update is handled and nothing due is left to send
        (for tests, the demo and benchmarks). Raises TimeoutError."""
        services = self.services
        assert services is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            async with services.db.read() as uow:
                busy = bool(await uow.inbox.pending(limit=1))
                if not busy:
                    next_due = await uow.outbox.next_due_at()
                    busy = next_due is not None and next_due <= self.clock.now()
            if not busy and self.application.update_queue.empty():
                return
            if loop.time() > deadline:
                async with services.db.read() as uow:
                    inbox = [u.update_id for u in await uow.inbox.pending(limit=5)]
                    next_due = await uow.outbox.next_due_at()
                raise TimeoutError(f"GridBot did not become idle: unhandled updates {inbox}, "
                                   f"next message due {next_due} (now {self.clock.now()})")
            await asyncio.sleep(0.02)

    async def stop(self, *, drain_timeout: float = 5.0) -> None:
        """Stop cleanly; whatever is unfinished stays in the database for the next start.
        ``drain_timeout=0``: stop sending first and at once (a deployment's token lease was
        lost, see runtime/spread.py)."""
        if self._keeper is not None:
            await self._keeper.stop()  # no takeover from here on
            self._keeper = None
        await self._deactivate(drain_timeout=drain_timeout)
        await self._close_all()

    async def _lost(self) -> None:
        """The lease is gone: stop acting at once; another process takes over."""
        log.error("lease %s lost: stopping polling, sending and the scheduler; standing by",
                  self.lease.key if self.lease is not None else "?")
        await self._deactivate(drain_timeout=0.0)

    async def _deactivate(self, *, drain_timeout: float) -> None:
        """Stop polling (or the inbox pump), the console, the scheduler and the sender.
        With no time to drain (the lease was lost) the sender stops first."""
        self._acting = False
        app = self.application
        services = self.services
        if drain_timeout <= 0 and services is not None:
            await services.dispatcher.stop(drain_timeout=0.0)
        if self._pump is not None:
            await self._pump.stop()
            self._pump = None
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        if self.console is not None:
            await self.console.stop()
            self.console = None
        if services is not None:
            if self.scheduler is not None:
                await self.scheduler.stop()
                self.scheduler = None
            await services.dispatcher.stop(drain_timeout=drain_timeout)
            self.role_changes.append((asyncio.get_running_loop().time(), "standby"))
        await app.shutdown()
        self.services = None

    async def _close_all(self) -> None:
        if self.webhook is not None:
            await self.webhook.stop()
            self.webhook = None
        if self.lease is not None:
            await self.lease.release()
        if self.db is not None:
            await self.db.close()
            self.db = None

    def _webhook_secret(self) -> str:
        return self.options.webhook_secret or webhook_secret(self.token)

    async def _start_receiver(self, db: storage.Database) -> None:
        """Every process (standby too) stores webhook updates; the holder handles them."""
        assert self.options.webhook_url is not None
        listen = self.options.listen or "127.0.0.1:8443"
        receiver = WebhookReceiver(
            StorageInboxStore(db, self.clock), secret=self._webhook_secret(),
            path=webhook_path(self.options.webhook_url), listen=listen)
        try:
            await receiver.start()
        except OSError as error:
            raise StartupError(f"无法监听 --listen {listen}: {error}") from error
        self.webhook = receiver


def _polling_error(error: Exception) -> None:
    log.warning("polling: %s", error)


async def serve(bot: GridBot, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set (by a signal in production, by the caller in the demo)."""
    try:
        await bot.start(stop)
    except StartupAborted:
        return
    try:
        await stop.wait()
    finally:
        await bot.stop()


def run_bot(
    *, config: CommunityConfig, token: str, db_path: str, api_url: str | None = None,
    web: str | None = None, web_url: str | None = None, webhook: str | None = None,
    listen: str | None = None,
) -> None:
    """``gridbot run``: the real bot until SIGINT/SIGTERM. It acts for the token only while
    it holds the token's lease; started beside a holder it stands by."""
    import os

    from runtime.secrets import install_token_redaction

    level = os.environ.get("GRIDBOT_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level if level in logging.getLevelNamesMapping() else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs each request URL, which contains the token (redacted below anyway).
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
    install_token_redaction(token)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        options = BotOptions(api_url=api_url, web=web, web_url=web_url, webhook_url=webhook,
                             listen=listen)
        bot = GridBot(config, token, db_path, options=options,
                      lease=open_lease(db_path, token))
        await serve(bot, stop)

    asyncio.run(main())
