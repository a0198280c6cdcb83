"""Driving a standalone server (``python -m localapi``) from another process.

Example::

    async with StandaloneServer() as server:       # spawns python -m localapi --json
        bot_env = {"BOT_API_BASE_URL": server.base_url, ...}
        control = server.control
        await control.user(101, "王芳")
        await control.group(-100123, "幸福里", admins=[101])
        await control.post(-100123, 101, "/report 漏水")
        calls = await control.wait(chat_id=-100123, method="sendMessage")
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

JSON = dict[str, Any]
PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])


class ControlError(RuntimeError):
    """The control API rejected a call (bad arguments or a wait that timed out)."""


class ControlClient:
    """Async client for the ``/_control/*`` routes (see :mod:`localapi.control`)."""

    def __init__(self, control_url: str, session: aiohttp.ClientSession | None = None) -> None:
        self.control_url = control_url.rstrip("/")
        self._session = session
        self._own_session = session is None

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> ControlClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def call(self, verb: str, name: str, body: JSON | None = None) -> Any:
        """Call one control route; raise :class:`ControlError` on a non-200 answer."""
        http = await self._http()
        url = f"{self.control_url}/{name}"
        if verb == "GET":
            query = {k: str(v) for k, v in (body or {}).items() if v is not None}
            request = http.get(url, params=query)
        else:
            request = http.post(url, json=body or {})
        async with request as response:
            data = await response.json()
            if response.status != 200:
                raise ControlError(f"{name}: HTTP {response.status}: {data.get('error')}")
            return data

    async def info(self) -> JSON:
        """Base URLs, token and the bot's user."""
        return await self.call("GET", "info")

    async def user(self, id: int, first_name: str, username: str | None = None,
                   language_code: str = "zh-hans") -> JSON:
        """Create a user."""
        return await self.call("POST", "user", {"id": id, "first_name": first_name,
                                                "username": username,
                                                "language_code": language_code})

    async def group(self, id: int, title: str, type: str = "supergroup",
                    is_forum: bool = False, admins: list[int] | None = None,
                    **extra: Any) -> JSON:
        """Create a group the bot is in (``members``, ``bot_is_admin`` via ``extra``)."""
        return await self.call("POST", "group", {"id": id, "title": title, "type": type,
                                                 "is_forum": is_forum, "admins": admins or [],
                                                 **extra})

    async def post(self, chat_id: int, user_id: int | None, text: str | None = None,
                   **extra: Any) -> JSON:
        """Post as a user (``reply_to``, ``photo``, ``caption``, ``thread_id``,
        ``sender_chat_id`` via ``extra``); returns the message."""
        return await self.call("POST", "post", {"chat_id": chat_id, "user_id": user_id,
                                                "text": text, **extra})

    async def start_private(self, user_id: int, payload: str | None = None) -> JSON:
        """The user sends ``/start [payload]`` in the private chat."""
        return await self.call("POST", "start_private", {"user_id": user_id,
                                                         "payload": payload})

    async def edit(self, chat_id: int, message_id: int, text: str) -> JSON:
        """The author edits a message."""
        return await self.call("POST", "edit", {"chat_id": chat_id,
                                                "message_id": message_id, "text": text})

    async def tap(self, chat_id: int, message_id: int, user_id: int, data: str,
                  verify: bool = True) -> JSON:
        """The user taps an inline button; returns the callback query."""
        return await self.call("POST", "tap", {"chat_id": chat_id, "message_id": message_id,
                                               "user_id": user_id, "data": data,
                                               "verify": verify})

    async def migrate(self, chat_id: int) -> int:
        """Upgrade a basic group; returns the new supergroup id."""
        return int((await self.call("POST", "migrate", {"chat_id": chat_id}))["new_chat_id"])

    async def inject(self, update: JSON) -> int:
        """Queue a raw update; returns its update_id."""
        return int((await self.call("POST", "inject", {"update": update}))["update_id"])

    async def fault(self, kind: str, **kwargs: Any) -> None:
        """Arm a fault, e.g. ``fault("rate_limit", retry_after=2, count=1)``."""
        await self.call("POST", "fault", {"kind": kind, **kwargs})

    async def sent(self, chat_id: int | None = None, method: str | None = None,
                   since: int = 0, include_failed: bool = False) -> list[JSON]:
        """Calls made by the bot (``since``: only those with a larger ``seq``)."""
        return await self.call("GET", "sent", {
            "chat_id": chat_id, "method": method, "since": since,
            "include_failed": "true" if include_failed else None})

    async def wait(self, chat_id: int | None = None, method: str | None = None,
                   count: int = 1, timeout: float = 5.0, since: int = 0) -> list[JSON]:  # noqa: ASYNC109
        """Wait until ``count`` matching calls exist (after ``since``); returns them."""
        return await self.call("GET", "wait", {
            "chat_id": chat_id, "method": method, "count": count, "timeout": timeout,
            "since": since})

    async def messages(self, chat_id: int) -> list[JSON]:
        """Messages in a chat."""
        return await self.call("GET", "messages", {"chat_id": chat_id})

    async def state(self) -> JSON:
        """Pending updates, confirmed offset, counters, served faults."""
        return await self.call("GET", "state")


class StandaloneServer:
    """Spawn ``python -m localapi`` as a subprocess; stop it with SIGTERM on exit."""

    def __init__(self, *args: str, python: str = sys.executable) -> None:
        self.args = list(args)
        self.python = python
        self.process: asyncio.subprocess.Process | None = None
        self.base_url = ""
        self.base_file_url = ""
        self.token = ""
        self.control: ControlClient = ControlClient("http://invalid")

    async def start(self) -> StandaloneServer:
        """Launch the process and read its announcement line."""
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (PACKAGE_ROOT, os.environ.get("PYTHONPATH", "")) if p)}
        self.process = await asyncio.create_subprocess_exec(
            self.python, "-m", "localapi", "--json", *self.args,
            stdout=asyncio.subprocess.PIPE, env=env,
        )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 15)
        if not line:
            raise RuntimeError("python -m localapi exited before announcing its URL")
        info = json.loads(line)
        self.base_url, self.base_file_url = info["base_url"], info["base_file_url"]
        self.token = info["token"]
        self.control = ControlClient(info["control_url"])
        return self

    async def stop(self) -> int | None:
        """SIGTERM the process and wait for it; returns its exit code."""
        await self.control.close()
        if self.process is None or self.process.returncode is not None:
            return None if self.process is None else self.process.returncode
        self.process.terminate()
        try:
            return await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            return await self.process.wait()

    async def __aenter__(self) -> StandaloneServer:
        return await self.start()

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()
