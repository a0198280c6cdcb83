"""Several communities on one bot token: one poller, updates routed by community.

Telegram allows one ``getUpdates`` consumer per token, so the communities sharing a
token get one :class:`TokenPoller`. Each community still has its own
:class:`~runtime.app.GridBot` (database, handlers, outbox sender, scheduler), started
with ``poll=False`` and sharing the token's rate limiter (the limits are per token). The
poller stores every batch in the inbox of the community each update belongs to *before*
Telegram's offset moves on (the durable-inbox rule of runtime/inbox.py), then hands the
update to that community's Application, which handles and marks it as for a token of its
own. A crash leaves unhandled updates in their community's inbox; its GridBot replays
them at the next start.

Where an update goes (:class:`TokenRouter`):

1. a group listed in a community's config, or bound there by ``/bind`` → that community;
2. otherwise the sender, when they are staff of a community (``gridbot check`` ensures a
   person is in one community): an admin's ``/bind`` in a new group reaches their own;
3. a private chat of a resident → the community that saw them last: their latest
   report, or their latest ``/start`` (the ``people`` table), in each community's database;
4. anything else → the first community sharing the token (logged).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder
from telegram.request import HTTPXRequest

from runtime.api_url import bot_api_urls
from runtime.app import BotOptions, GridBot, StartupError
from runtime.inbox import DurableBot, InboxStore

log = logging.getLogger(__name__)


class TokenRouter:
    """Which community (key) an update of a shared token belongs to."""

    def __init__(self, bots: dict[str, GridBot]) -> None:
        self.bots = bots
        self.first = next(iter(bots))
        self._chats: dict[int, str] = {}  # configured and (once seen) bound groups
        self._people: dict[int, str] = {}
        self._usernames: dict[str, str] = {}
        for key, bot in bots.items():
            for grid in bot.config.grids:
                for chat in grid.chats:
                    self._chats.setdefault(chat, key)
            for person in bot.config.people:
                if person.telegram_id is not None:
                    self._people.setdefault(person.telegram_id, key)
                elif person.username:
                    self._usernames.setdefault(person.username.lower(), key)

    async def route(self, update: Update) -> str:
        chat, user = update.effective_chat, update.effective_user
        if chat is not None and chat.type != "private":
            key = self._chats.get(chat.id) or await self._bound(chat.id)
            if key is not None:
                return key
        if user is not None:
            key = self._people.get(user.id)
            if key is None and user.username:
                key = self._usernames.get(user.username.lower())
            if key is None and (chat is None or chat.type == "private"):
                key = await self._last_seen(user.id)
            if key is not None:
                return key
        log.info("update %d (chat %s) belongs to no community sharing the token; "
                 "handled by %s, the first of them", update.update_id,
                 chat.id if chat is not None else "-", self.first)
        return self.first

    async def _bound(self, chat_id: int) -> str | None:
        """A group bound by /bind in one community's database (remembered once found;
        an unbound group is asked again next time, as it may be bound meanwhile)."""
        for key, bot in self.bots.items():
            services = bot.services
            if services is None:
                continue
            async with services.db.read() as uow:
                if await uow.chats.grid_of(chat_id) is not None:
                    self._chats[chat_id] = key
                    return key
        return None

    async def _last_seen(self, user_id: int) -> str | None:
        latest: tuple[Any, str] | None = None
        for key, bot in self.bots.items():
            services = bot.services
            if services is None:
                continue
            async with services.db.read() as uow:
                seen = await uow.people.get(user_id)
                reports = await uow.queries.of_reporter(user_id, limit=1)
            times = [t for t in (seen.last_seen_at if seen is not None else None,
                                 reports[0].created_at if reports else None) if t is not None]
            if times and (latest is None or max(times) > latest[0]):
                latest = (max(times), key)
        return latest[1] if latest is not None else None


class RoutingInbox:
    """The poller's inbox: each update stored in its community's inbox."""

    def __init__(self, router: TokenRouter, bot: DurableBot) -> None:
        self.router = router
        self.bot = bot
        self.routes: dict[int, str] = {}  # update id → community key, until handed over

    def _store(self, key: str) -> InboxStore:
        inbox = self.router.bots[key].application.inbox
        assert inbox is not None, "the community's bot is started before the poller"
        return inbox

    async def save_updates(self, updates: Sequence[tuple[int, str]]) -> int | None:
        batches: dict[str, list[tuple[int, str]]] = {}
        for update_id, payload in updates:
            update = Update.de_json(json.loads(payload), self.bot)
            key = await self.router.route(update)
            batches.setdefault(key, []).append((update_id, payload))
        new: int | None = 0
        for key, batch in batches.items():
            stored = await self._store(key).save_updates(batch)
            new = None if stored is None or new is None else new + stored
        for key, batch in batches.items():
            for update_id, _ in batch:
                self.routes[update_id] = key
        return new

    async def is_processed(self, update_id: int) -> bool:
        key = self.routes.get(update_id)
        return key is not None and await self._store(key).is_processed(update_id)

    async def mark_processed(self, update_id: int) -> None:
        key = self.routes.get(update_id)
        if key is not None:
            await self._store(key).mark_processed(update_id)

    async def mark_failed(self, update_id: int, error: str) -> None:
        key = self.routes.get(update_id)
        if key is not None:
            await self._store(key).mark_failed(update_id, error)

    async def pending_updates(self) -> list[tuple[int, str]]:
        return []  # each community's bot replays its own at its start


class RoutingApplication(Application):
    """The poller's Application: no handlers; each update goes to its community's
    Application (rebuilt for that community's bot), in arrival order."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.routing: RoutingInbox | None = None

    async def process_update(self, update: object) -> None:
        if not isinstance(update, Update) or self.routing is None:
            return
        bot = self.bot
        if isinstance(bot, DurableBot):
            bot.take_fresh(update.update_id)  # the community's Application checks its inbox
        try:
            key = self.routing.routes.pop(update.update_id, None)
            if key is None:
                key = await self.routing.router.route(update)
            target = self.routing.router.bots[key].application
            await target.update_queue.put(Update.de_json(update.to_dict(), target.bot))
        except Exception:  # stored in the community's inbox: replayed at its next start
            log.exception("update %d could not be handed to its community", update.update_id)


class TokenPoller:
    """Polls one token for several communities' bots (started with ``poll=False``)."""

    def __init__(self, token: str, bots: dict[str, GridBot], options: BotOptions) -> None:
        self.options = options
        self.router = TokenRouter(bots)
        base_url, base_file_url = bot_api_urls(options.api_url)
        timeout = options.request_timeout
        bot = DurableBot(
            token=token, base_url=base_url, base_file_url=base_file_url,
            request=HTTPXRequest(connect_timeout=timeout, read_timeout=timeout,
                                 write_timeout=timeout, pool_timeout=timeout),
            get_updates_request=HTTPXRequest(read_timeout=options.poll_timeout + timeout,
                                             connect_timeout=timeout),
        )
        application = (ApplicationBuilder().application_class(RoutingApplication).bot(bot)
                       .concurrent_updates(False).build())
        assert isinstance(application, RoutingApplication)
        self.application = application
        self.bot = bot

    async def start(self) -> None:
        """After every community's bot has started (their inboxes are open)."""
        routing = RoutingInbox(self.router, self.bot)
        self.bot.attach_inbox(routing)
        self.application.routing = routing
        try:
            await self.application.initialize()
        except Exception as error:  # the bots sharing the token just reached the API
            raise StartupError(f"共用令牌的轮询无法启动({type(error).__name__})。") from error
        assert self.application.updater is not None
        await self.application.updater.start_polling(
            timeout=self.options.poll_timeout, poll_interval=self.options.poll_interval,
            allowed_updates=Update.ALL_TYPES, drop_pending_updates=False,
            error_callback=lambda error: log.warning("polling: %s", error))
        await self.application.start()
        log.info("one poller for communities %s (shared token)", "、".join(self.router.bots))

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
