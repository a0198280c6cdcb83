"""What the console's HTTP and browser tests share: the link flow through the real bot, a
cookie-keeping HTTP client, and Mini App init data signed as Telegram signs it."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from localapi import LocalBotApi
from runtime.app import GridBot

LINK_RE = re.compile(r"(https?://\S+/login/(\S+))")
CSRF_RE = re.compile(r'name="_csrf" value="([^"]+)"')


def console_url(bot: GridBot) -> str:
    assert bot.console is not None
    return bot.console.url


async def login_link(server: LocalBotApi, bot: GridBot, user_id: int) -> str:
    """Send /web in the user's private chat and return the link the bot sent back."""
    before = len(server.sent(chat_id=user_id, method="sendMessage"))
    await server.command(user_id, user_id, "/web")
    await server.wait_consumed()
    await bot.until_idle()
    sent = server.sent(chat_id=user_id, method="sendMessage")[before:]
    for request in reversed(sent):
        match = LINK_RE.search(request.text or "")
        if match:
            return match.group(1)
    raise AssertionError(f"no login link in {[r.text for r in sent]}")


@dataclass
class Browser:
    """A real HTTP client with its own cookies (one per simulated person)."""

    session: aiohttp.ClientSession
    base: str
    csrf: str = ""

    async def get(self, path: str, **kwargs: Any) -> tuple[int, str]:
        async with self.session.get(self.base + path, **kwargs) as response:
            text = await response.text()
            if match := CSRF_RE.search(text):
                self.csrf = match.group(1)
            return response.status, text

    async def post(self, path: str, data: dict[str, str] | None = None, *,
                   csrf: str | None = None, **kwargs: Any) -> tuple[int, str]:
        form = dict(data or {})
        token = self.csrf if csrf is None else csrf
        if token:
            form["_csrf"] = token
        async with self.session.post(self.base + path, data=form, **kwargs) as response:
            text = await response.text()
            if match := CSRF_RE.search(text):
                self.csrf = match.group(1)
            return response.status, text


async def signed_in(server: LocalBotApi, bot: GridBot, make: Any, user_id: int) -> Browser:
    """A browser signed in as ``user_id`` through the real link flow."""
    link = await login_link(server, bot, user_id)
    browser: Browser = await make(console_url(bot))
    path = link[link.index("/login/"):]
    status, page = await browser.get(path)
    assert status == 200 and "进入工作台" in page, page
    status, page = await browser.post(path)
    assert status == 200, page
    return browser


def init_data(token: str, user_id: int, auth_date: int | str, **extra: str) -> str:
    """Init data signed as Telegram signs it (the test's own implementation)."""
    fields = {"auth_date": str(auth_date), "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
              "user": json.dumps({"id": user_id, "first_name": "王芳"}, ensure_ascii=False),
              **extra}
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
    key = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(key, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)
