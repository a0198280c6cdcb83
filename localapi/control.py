"""A small HTTP control API, so a driver in another process can act as people and inspect.

All routes live under ``/_control/`` and speak JSON:

* ``GET  /_control/info`` → ``{base_url, base_file_url, token, bot}``
* ``POST /_control/user`` ``{id, first_name, username?, language_code?}``
* ``POST /_control/group`` ``{id, title, type?, is_forum?, admins?: [ids], members?,
  bot_is_admin?}``
* ``POST /_control/post`` ``{chat_id, user_id?, text?, reply_to?, photo?, caption?, thread_id?,
  sender_chat_id?}`` → message (``/_control/command`` is the same with a ``/command`` text)
* ``POST /_control/start_private`` ``{user_id, payload?}`` → message
* ``POST /_control/edit`` ``{chat_id, message_id, text}`` → message
* ``POST /_control/tap`` ``{chat_id, message_id, user_id, data, verify?}`` → callback query
* ``POST /_control/migrate`` ``{chat_id}`` → ``{new_chat_id}``
* ``POST /_control/inject`` ``{update}`` → ``{update_id}``
* ``POST /_control/fault`` ``{kind, ...}``: kind is a :class:`~localapi.faults.Faults` knob
  (``forbid``, ``block``, ``unblock``, ``kick``, ``rate_limit``, ``fail``, ``delay``,
  ``drop_connection``, ``clear``); other keys are its keyword arguments
* ``GET  /_control/sent?chat_id=&method=&since=&include_failed=`` → calls made by the bot
* ``GET  /_control/wait?chat_id=&method=&count=&timeout=`` → like ``sent`` once ``count``
  calls match (408 on timeout)
* ``GET  /_control/messages?chat_id=`` → messages in the chat
* ``GET  /_control/state`` → pending updates, confirmed offset, counters, served faults
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from .server import LocalBotApi

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]
FAULT_KINDS = frozenset({"forbid", "block", "unblock", "kick", "rate_limit", "fail", "delay",
                         "drop_connection", "clear"})


def _opt_int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


def add_control_routes(app: web.Application, server: LocalBotApi) -> None:
    """Register the ``/_control/*`` routes for ``server`` on ``app``."""

    def route(handler: Callable[[JSON_], Awaitable[Any]]) -> Route:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            body: dict[str, Any] = dict(request.query)
            if request.can_read_body:
                body.update(await request.json())
            try:
                result = await handler(body)
            except TimeoutError as exc:
                return web.json_response({"error": str(exc)}, status=408)
            except (KeyError, ValueError, TypeError) as exc:
                return web.json_response({"error": f"{type(exc).__name__}: {exc}"}, status=400)
            return web.json_response(result)

        return wrapped

    def message_of(body: JSON_) -> Any:
        message = server.message(int(body["chat_id"]), int(body["message_id"]))
        if message is None:
            raise KeyError(f"no message {body['message_id']} in chat {body['chat_id']}")
        return message

    async def info(body: JSON_) -> Any:
        return {"base_url": server.base_url, "base_file_url": server.base_file_url,
                "token": server.token, "bot": server.bot_user.to_dict()}

    async def user(body: JSON_) -> Any:
        return server.user(int(body["id"]), body["first_name"], body.get("username"),
                           body.get("language_code", "zh-hans")).to_dict()

    async def group(body: JSON_) -> Any:
        return server.group(
            int(body["id"]), body["title"], body.get("type", "supergroup"),
            bool(body.get("is_forum", False)), [int(a) for a in body.get("admins", [])],
            members=[int(m) for m in body.get("members", [])],
            bot_is_admin=bool(body.get("bot_is_admin", False)),
        ).to_dict()

    async def post(body: JSON_) -> Any:
        user_id = body.get("user_id")
        message = await server.post(
            int(body["chat_id"]), int(user_id) if user_id is not None else None,
            body.get("text"), reply_to=_opt_int(body.get("reply_to")),
            photo=bool(body.get("photo", False)), caption=body.get("caption"),
            thread_id=_opt_int(body.get("thread_id")),
            sender_chat=_opt_int(body.get("sender_chat_id")),
        )
        return message.to_dict()

    async def start_private(body: JSON_) -> Any:
        return (await server.start_private(int(body["user_id"]), body.get("payload"))).to_dict()

    async def edit(body: JSON_) -> Any:
        return (await server.edit(message_of(body), body["text"])).to_dict()

    async def tap(body: JSON_) -> Any:
        query = await server.tap(message_of(body), int(body["user_id"]), body["data"],
                                 verify=bool(body.get("verify", True)))
        return query.to_dict()

    async def migrate(body: JSON_) -> Any:
        return {"new_chat_id": await server.migrate(int(body["chat_id"]))}

    async def inject(body: JSON_) -> Any:
        return {"update_id": await server.inject_update(body["update"])}

    async def fault(body: JSON_) -> Any:
        kind = body.pop("kind")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(FAULT_KINDS)}")
        getattr(server.faults, kind)(**body)
        return {"ok": True}

    def sent_list(body: JSON_) -> list[Any]:
        since = int(body.get("since", 0))
        include_failed = str(body.get("include_failed", "")).lower() in ("1", "true")
        return [r for r in server.sent(_opt_int(body.get("chat_id")), body.get("method"),
                                       include_failed=include_failed) if r.seq > since]

    async def sent(body: JSON_) -> Any:
        return [r.to_dict() for r in sent_list(body)]

    async def wait(body: JSON_) -> Any:
        count = int(body.get("count", 1))
        found = await server.wait_for(lambda: (lambda s: s if len(s) >= count else [])(
            sent_list(body)), float(body.get("timeout", 5.0)))
        return [r.to_dict() for r in found]

    async def messages(body: JSON_) -> Any:
        return [m.to_dict() for m in server.messages_in(int(body["chat_id"]))]

    async def state(body: JSON_) -> Any:
        return {
            "pending_updates": server.pending_updates(),
            "confirmed_offset": server.confirmed_offset,
            "poll_count": server.poll_count,
            "requests": len(server.store.requests),
            "served_faults": [asdict(f) for f in server.faults.served],
        }

    for name, handler in {"user": user, "group": group, "post": post, "command": post,
                          "start_private": start_private, "edit": edit, "tap": tap,
                          "migrate": migrate, "inject": inject, "fault": fault}.items():
        app.router.add_post(f"/_control/{name}", route(handler))
    for name, handler in {"info": info, "sent": sent, "wait": wait, "messages": messages,
                          "state": state}.items():
        app.router.add_get(f"/_control/{name}", route(handler))


JSON_ = dict[str, Any]
