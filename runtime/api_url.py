"""``--api-url`` as people write it → the two URLs PTB wants.

PTB appends the token to ``base_url`` (``https://api.telegram.org/bot`` + token), so a
server root such as ``http://127.0.0.1:8081`` would become ``http://127.0.0.1:8081123:ABC…``
(an "invalid port" that quotes the token). Accepted forms, with or without a trailing
slash: the server root, ``…/bot`` and ``…/bot{token}``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

DEFAULT_API_URL = "https://api.telegram.org/bot"
_TOKEN_PLACEHOLDER = re.compile(r"\{(?:bot[_-]?)?token\}", re.IGNORECASE)


class ApiUrlError(ValueError):
    """The URL cannot be a Bot API server; the message is one Chinese sentence."""


def bot_api_urls(url: str | None) -> tuple[str, str]:
    """(base_url, base_file_url) for PTB, both ending in ``/bot`` / ``/file/bot``."""
    text = (url or DEFAULT_API_URL).strip()
    text = _TOKEN_PLACEHOLDER.sub("", text).rstrip("/")
    parts = urlsplit(text)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ApiUrlError(
            "--api-url 不是有效的 Bot API 地址(应形如 https://api.telegram.org 或 "
            "http://127.0.0.1:8081/bot)。")
    if parts.query or parts.fragment:
        raise ApiUrlError("--api-url 不应带查询参数或 # 片段。")
    root = text[: -len("/bot")] if parts.path.endswith("/bot") else text
    return root + "/bot", root + "/file/bot"
