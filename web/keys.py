"""Typed keys of what the session middleware stores on each request (aiohttp ≥ 3.14's
``RequestKey``): pages read ``request[VIEWER]``, ``request[CONFIG]``, ``request[SESSION]``."""

from __future__ import annotations

from aiohttp import web

from community.model import CommunityConfig
from storage.web_auth_repo import SessionRecord
from web.viewer import Viewer

#: The signed-in person, rebuilt from the current config at every request.
VIEWER = web.RequestKey("viewer", Viewer)
#: The config as of this request (``gridbot web`` re-reads an edited file).
CONFIG = web.RequestKey("config", CommunityConfig)
#: The database session behind the cookie.
SESSION = web.RequestKey("session", SessionRecord)
