"""What the console needs from the rest of GridBot, built once and stored on the app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from aiohttp import web

from community.deployment_model import StreetPerson
from community.model import CommunityConfig
from services.service import TicketService
from storage import Database
from tickets.clock import Clock

#: Downloads a Telegram file by file id (through the Bot API, server side) → its bytes.
FileFetcher = Callable[[str], Awaitable[bytes]]


@dataclass(frozen=True)
class ConsoleDeps:
    """The console's dependencies.

    ``config`` is the configuration the app started with; :meth:`current_config` is what
    every request uses (``config_source`` lets ``gridbot web`` re-read an edited file, so a
    person removed from the config loses access at the next request).
    ``wake`` nudges the outbox sender after an action (the bot process passes its
    dispatcher's ``wake``; a standalone console leaves it to the bot's idle poll).
    """

    db: Database
    config: CommunityConfig
    clock: Clock
    service: TicketService
    base_url: str = "http://127.0.0.1:8080"
    secure_cookies: bool = False
    fetch_file: FileFetcher | None = None
    bot_token: str | None = field(default=None, repr=False)  # Mini App init data check only
    config_source: Callable[[], CommunityConfig] | None = None
    wake: Callable[[], None] | None = None
    photo_cache_dir: str | None = None  # None: a bounded in-memory cache
    # A deployment's street office (community/deployment.py): signed in, they see this
    # community as its secretary does (web/street.py switches between communities).
    street_staff: tuple[StreetPerson, ...] = ()

    def current_config(self) -> CommunityConfig:
        return self.config_source() if self.config_source is not None else self.config

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.config.timezone)


CONSOLE_DEPS: web.AppKey[ConsoleDeps] = web.AppKey("console_deps", ConsoleDeps)
#: A deployment's console serves several communities: the one this request is for
#: (set by web/street.py's middleware) overrides the app's.
REQUEST_DEPS = web.RequestKey("community_deps", ConsoleDeps)


def deps_of(request: web.Request) -> ConsoleDeps:
    return request.get(REQUEST_DEPS) or request.app[CONSOLE_DEPS]
