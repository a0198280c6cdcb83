"""The HTTP server: Bot API routes, file downloads, lifecycle and the test-facing API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import BodyPartReader, web

from .actors import ActorsMixin
from .errors import NOT_FOUND, UNAUTHORIZED, ApiError
from .faults import Faults
from .methods import BotApiMethods
from .state import JSON, CallbackAnswer, Message, Request, Store, User, scope_key
from .webhook import WebhookPusher

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_TOKEN = "7000000001:AAFlocalapi-gridbot-test-token-000000"

#: Parameters whose form value is a plain string and must not be JSON-decoded
#: (PTB sends str values verbatim and JSON-dumps everything else).
STRING_PARAMS = frozenset({
    "text", "caption", "parse_mode", "callback_query_id", "url", "description",
    "short_description", "name", "language_code", "action", "file_id", "inline_message_id",
    "emoji", "question", "business_connection_id", "secret_token", "photo", "document",
    "title", "custom_title", "message_effect_id", "ip_address",
})


def decode_param(name: str, value: str) -> Any:
    """Decode one form field the way the Bot API does: JSON for complex values."""
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class LocalBotApi(ActorsMixin):
    """A local Telegram Bot API server for tests, demos and benchmarks.

    Use ``async with LocalBotApi() as server:`` and configure PTB with
    ``base_url(server.base_url)`` / ``base_file_url(server.base_file_url)``.

    Options: ``enforce_limits`` answers 429 beyond Telegram's send limits (20 messages a
    minute per group, 30 a second overall); ``privacy_mode`` delivers only commands,
    mentions and replies to the bot from groups; ``strict_private`` (on by default, as on
    Telegram) answers 403 "bot can't initiate conversation with a user" to sends to users
    who never opened the private chat (``start_private``); pass ``strict_private=False``
    only where a test is about something else and says so; ``clock`` supplies message dates.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "gridbot_test_bot",
        bot_first_name: str = "网格助手",
        host: str = "127.0.0.1",
        port: int = 0,
        enforce_limits: bool = False,
        privacy_mode: bool = False,
        strict_private: bool = True,
        control: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        bot_id = int(token.split(":", 1)[0])
        self.token = token
        self.host = host
        self.port = port
        self.privacy_mode = privacy_mode
        self.store = Store(User(bot_id, bot_first_name, bot_username, is_bot=True,
                                language_code=None), clock)
        self.store.on_change = self._notify
        self.faults = Faults(self.store, enforce_limits=enforce_limits,
                             strict_private=strict_private)
        self.methods = BotApiMethods(self.store, self._wait_change, lambda: self._closing)
        #: Webhook mode: updates are POSTed to the URL given by setWebhook.
        self.webhook = WebhookPusher(self.store, self._wait_change)
        self.methods.on_webhook_set = self.webhook.ensure_running
        #: unexpected exceptions raised while serving (should stay empty)
        self.internal_errors: list[BaseException] = []
        self.poll_count = 0
        #: getUpdates calls ended by another getUpdates (409) while their client still
        #: waited: two pollers on the token at once.
        self.poll_conflicts = 0
        self._changed = asyncio.Event()
        self._closing = False
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self.app = web.Application(client_max_size=60 * 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        if control:
            from .control import add_control_routes

            add_control_routes(self.app, self)

    # ================================================================ lifecycle
    async def start(self) -> LocalBotApi:
        """Start listening (``port=0`` picks a free port)."""
        self._closing = False
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5,
                                     handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = site._server.sockets if site._server is not None else []  # type: ignore[attr-defined]
        self.port = sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Answer pending long polls with ``[]`` and stop listening."""
        self._closing = True
        self._notify()
        await self.webhook.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LocalBotApi:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Root URL of the server, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder.base_url`` (``…/bot``; PTB appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder.base_file_url`` (``…/file/bot``)."""
        return f"{self.url}/file/bot"

    @property
    def bot_user(self) -> User:
        """The bot's own account."""
        return self.store.bot

    # ============================================================ notification
    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _wait_change(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), seconds)

    # ================================================================ HTTP API
    async def _read_params(self, request: web.Request) -> tuple[JSON, dict[str, bytes]]:
        params: JSON = {k: decode_param(k, v) for k, v in request.query.items()}
        files: dict[str, bytes] = {}
        ctype = request.content_type
        if ctype == "application/json":
            body = await request.json() if request.can_read_body else {}
            params.update(body or {})
        elif ctype == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    files[part.name] = bytes(await part.read())
                else:
                    params[part.name] = decode_param(part.name, await part.text())
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    params[key] = decode_param(key, value)
                elif isinstance(value, web.FileField):
                    files[key] = value.file.read()
                else:
                    files[key] = bytes(value)
        return params, files

    @staticmethod
    def _reply(status: int, body: JSON) -> web.Response:
        return web.Response(status=status, text=json.dumps(body, ensure_ascii=False),
                            content_type="application/json")

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._reply(401, UNAUTHORIZED.to_body())
        method = request.match_info["method"]
        handler = self.methods.get(method)
        if handler is None:
            return self._reply(404, NOT_FOUND.to_body())
        try:
            params, files = await self._read_params(request)
        except (ValueError, json.JSONDecodeError):
            return self._reply(400, {"ok": False, "error_code": 400,
                                     "description": "Bad Request: can't parse request"})
        polling = method.lower() == "getupdates"
        record = None
        if polling:
            self.poll_count += 1
        else:
            self._seq += 1
            record = Request(self._seq, method, params, files, time.time())
        decision = self.faults.decide(method, params)
        if decision.delay:
            self._notify()  # a call is held: waiters on ``FaultRule.applied`` see it now
            await asyncio.sleep(decision.delay)
        if decision.drop:
            if record is not None:
                record.error = ApiError(0, "connection dropped by fault injection")
                self._record(record)
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError  # aiohttp drops the connection without a response
        if decision.error is not None:
            self.faults.record(method, params.get("chat_id"), decision.error, decision.reason)
            return self._fail(record, decision.error)
        try:
            result, message = await handler(params, files)
        except ApiError as error:
            if (polling and error.status == 409 and "other getUpdates" in error.description
                    and request.transport is not None and not request.transport.is_closing()):
                self.poll_conflicts += 1  # not a call its client already gave up
            return self._fail(record, error)
        except Exception as exc:  # a bug in the emulator: report it loudly
            log.exception("localapi: %s failed", method)
            self.internal_errors.append(exc)
            return self._fail(record, ApiError(500, "Internal Server Error"))
        if record is not None:
            record.result, record.message = result, message
            self._record(record)
        return self._reply(200, {"ok": True, "result": result})

    def _fail(self, record: Request | None, error: ApiError) -> web.Response:
        if record is not None:
            record.error = error
            self._record(record)
        return self._reply(error.status, error.to_body())

    def _record(self, record: Request) -> None:
        self.store.requests.append(record)
        self._notify()

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._reply(401, UNAUTHORIZED.to_body())
        stored = self.store.files_by_path.get(request.match_info["path"])
        if stored is None:
            return self._reply(404, NOT_FOUND.to_body())
        return web.Response(body=stored.data, content_type="application/octet-stream")

    # ============================================================== inspection
    def sent(
        self,
        chat_id: int | None = None,
        method: str | None = None,
        *,
        include_failed: bool = False,
    ) -> list[Request]:
        """Calls the bot made (except getUpdates), oldest first; by default only successful
        ones. ``method`` is case-insensitive."""
        wanted = method.lower() if method else None
        out = []
        for record in self.store.requests:
            if not include_failed and not record.ok:
                continue
            if wanted and record.method.lower() != wanted:
                continue
            if chat_id is not None and not _same_id(record.chat_id, chat_id):
                continue
            out.append(record)
        return out

    def clear_sent(self) -> None:
        """Forget the recorded calls (messages and other state are kept)."""
        self.store.requests.clear()

    def messages_in(self, chat_id: int) -> list[Message]:
        """All live messages in a chat (people's and the bot's), oldest first."""
        return self.store.messages_in(chat_id)

    def bot_messages(self, chat_id: int) -> list[Message]:
        """The bot's live messages in a chat, oldest first."""
        return [m for m in self.messages_in(chat_id)
                if m.from_user is not None and m.from_user.id == self.store.bot.id]

    def last_bot_message(self, chat_id: int) -> Message | None:
        """The bot's most recent live message in a chat."""
        mine = self.bot_messages(chat_id)
        return mine[-1] if mine else None

    def message(self, chat_id: int, message_id: int) -> Message | None:
        """A stored live message."""
        return self.store.message(chat_id, message_id)

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        """Every answerCallbackQuery the bot made."""
        return self.store.callback_answers

    def commands(self, scope: Any = None, language_code: str = "") -> list[JSON]:
        """Commands set by the bot for a scope (a dict, a PTB BotCommandScope or ``None`` for
        the default scope) and language, as ``[{"command": ..., "description": ...}]``."""
        if scope is not None and hasattr(scope, "to_dict"):
            scope = scope.to_dict()
        return list(self.store.commands.get((scope_key(scope), language_code), []))

    def pending_updates(self) -> int:
        """Number of updates not yet confirmed by the bot."""
        return len(self.store.updates)

    @property
    def confirmed_offset(self) -> int:
        """Highest ``offset`` the bot confirmed with (0 if none yet)."""
        return self.store.confirmed_offset

    @property
    def updates(self) -> list[JSON]:
        """Unconfirmed updates (raw dicts)."""
        return list(self.store.updates)

    # ================================================================= waiting
    async def wait_for(
        self, predicate: Callable[[], T], timeout: float = 5.0  # noqa: ASYNC109
    ) -> T:
        """Wait until ``predicate()`` is truthy, re-checking on every state change (requests,
        updates, confirmations); returns its value or raises ``TimeoutError``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = [f"{r.method}({r.chat_id}) ok={r.ok}" for r in self.store.requests[-8:]]
                raise TimeoutError(
                    f"condition not met within {timeout}s; last calls: {recent}; "
                    f"pending updates: {self.pending_updates()}"
                )
            await self._wait_change(remaining)

    async def wait_sent(
        self,
        chat_id: int | None = None,
        count: int = 1,
        method: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        include_failed: bool = False,
    ) -> list[Request]:
        """Wait until at least ``count`` matching calls were made in total; returns them all."""
        def check() -> list[Request]:
            found = self.sent(chat_id, method, include_failed=include_failed)
            return found if len(found) >= count else []

        return await self.wait_for(check, timeout)

    async def wait_consumed(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot confirmed every queued update (fetched them and polled again)."""
        await self.wait_for(lambda: not self.store.updates, timeout)


def _same_id(value: Any, wanted: int) -> bool:
    try:
        return int(value) == wanted
    except (TypeError, ValueError):
        return False
