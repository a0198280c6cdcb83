"""One console for a whole deployment (街道): each request is served by one community's
console, exactly as a single community's console serves it, and the street office gets
a comparison of all communities (``/street``) and a switcher between them.

Which community a request is for:

1. ``/login/<token>``: the community whose bot issued the link (the person it names is
   configured there; else the one whose secret signs it — a street office member can
   ask any community's bot for a link);
2. ``POST /miniapp/login``: the community whose bot token signs the init data (of those
   sharing that bot, the one the person belongs to);
3. otherwise the ``gridbot_community`` cookie set when the session began;
4. otherwise the first community.

A session lives in its community's database, so the cookie only selects: a secretary
who changes it to another community has no session there and must sign in (401).
Street office members (``[[street_staff]]``) may switch: ``/street/switch`` starts a
session for them in the chosen community (they see it as its secretary does).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from services import console_access as access
from services.console_access import InitDataRefused, LinkRefused
from services.street import community_row, total_row
from web.auth import COOKIE, Handler, read_form, set_session_cookie
from web.dashboard import parse_period
from web.deps import REQUEST_DEPS, ConsoleDeps
from web.keys import VIEWER
from web.render import render
from web.viewer import Viewer

log = logging.getLogger("gridbot.console.street")

COMMUNITY_COOKIE = "gridbot_community"
STREET_ONLY = "只有街道人员可以查看街道总览。"


@dataclass(frozen=True)
class CommunityConsole:
    key: str
    deps: ConsoleDeps

    @property
    def name(self) -> str:
        return self.deps.current_config().name


@dataclass(frozen=True)
class StreetConsole:
    """The deployment's communities, in the deployment file's order."""

    name: str
    communities: tuple[CommunityConsole, ...]

    def get(self, key: str | None) -> CommunityConsole | None:
        return next((c for c in self.communities if c.key == key), None)


STREET = web.AppKey("street_console", StreetConsole)
CURRENT = web.RequestKey("street_community", CommunityConsole)


async def _by_login_token(street: StreetConsole, token: str) -> CommunityConsole | None:
    uid = token.split(".", 1)[0]
    if uid.isascii() and uid.isdigit() and len(uid) < 20:
        for community in street.communities:
            if community.deps.current_config().person_by_telegram(int(uid)) is not None:
                return community
    for community in street.communities:
        try:
            await access.check_login_link(community.deps.db, community.deps.clock, token)
        except LinkRefused:
            continue
        return community
    return None


async def _by_init_data(street: StreetConsole, request: web.Request) -> CommunityConsole | None:
    form = await read_form(request)
    init_data = form.get("init_data", "")
    if not isinstance(init_data, str):
        return None
    signed: list[CommunityConsole] = []  # several when communities share the bot
    user_id: int | None = None
    for community in street.communities:
        deps = community.deps
        if deps.bot_token is None:
            continue
        try:
            user_id = access.check_init_data(init_data, deps.bot_token, deps.clock.now())
        except InitDataRefused:
            continue
        signed.append(community)
    mine = [c for c in signed if c.deps.current_config().person_by_telegram(user_id)]
    chosen = mine or signed
    return chosen[0] if chosen else None


async def _pick(request: web.Request, street: StreetConsole) -> CommunityConsole:
    found: CommunityConsole | None = None
    if request.path.startswith("/login/"):
        found = await _by_login_token(street, request.path.removeprefix("/login/"))
    elif request.path == "/miniapp/login" and request.method == "POST":
        found = await _by_init_data(street, request)
    return (found or street.get(request.cookies.get(COMMUNITY_COOKIE))
            or street.communities[0])


def _remember(response: web.StreamResponse, community: CommunityConsole) -> None:
    """A session began (its cookie is being set): remember its community."""
    started = COOKIE in response.cookies and response.cookies[COOKIE].value
    if started and COMMUNITY_COOKIE not in response.cookies:
        response.set_cookie(COMMUNITY_COOKIE, community.key, httponly=True,
                            samesite="Strict", secure=community.deps.secure_cookies, path="/")


@web.middleware
async def community_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: every other middleware and page then sees this community's deps."""
    community = await _pick(request, request.app[STREET])
    request[REQUEST_DEPS] = community.deps
    request[CURRENT] = community
    try:
        response = await handler(request)
    except web.HTTPException as redirect:  # the sign-ins answer with a raised 303
        _remember(redirect, community)
        raise
    _remember(response, community)
    return response


def navigation(request: web.Request) -> dict[str, Any] | None:
    """What base.html's switcher shows a street viewer (None outside a deployment)."""
    street = request.app.get(STREET)
    current = request.get(CURRENT)
    if street is None or current is None:
        return None
    return {"name": street.name, "current": current.key,
            "communities": [(c.key, c.name) for c in street.communities]}


def require_street_viewer(request: web.Request, refusal: str = STREET_ONLY) -> Viewer:
    viewer = request.get(VIEWER)
    if viewer is None or not viewer.street:
        raise web.HTTPForbidden(text=refusal)
    return viewer


def _local_path(value: str) -> str:
    """Where to go after switching: a path of this console, never another site."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 300:
        return "/"
    return value


async def street_page(request: web.Request) -> web.Response:
    """街道总览: one row per community for the period, and the street's total."""
    require_street_viewer(request)
    street = request.app[STREET]
    first = street.communities[0].deps
    tz = ZoneInfo(first.current_config().timezone)
    now = first.clock.now()
    kind, period = parse_period(request, now, tz)
    rows = await asyncio.gather(*(
        community_row(c.key, c.name, c.deps.db, period, now) for c in street.communities))
    return render(request, "street.html", rows=list(rows), total=total_row(list(rows)),
                  period=period, kind=kind, street_name=street.name)


async def switch(request: web.Request) -> web.StreamResponse:
    """A street viewer moves to another community (a session is started there)."""
    viewer = require_street_viewer(request)
    street = request.app[STREET]
    target = street.get(request.query.get("c"))
    if target is None:
        raise web.HTTPBadRequest(text="没有这个社区。")
    destination = _local_path(request.query.get("next", "/"))
    deps = target.deps
    session = await access.start_session(deps.db, deps.clock, viewer.telegram_id,
                                         viewer.person_key, "street")
    log.info("console: street member %s (%s) switched to community %s", viewer.name,
             viewer.telegram_id, target.key)
    response = web.HTTPSeeOther(destination)
    set_session_cookie(response, deps, session.cookie_value)
    response.set_cookie(COMMUNITY_COOKIE, target.key, httponly=True, samesite="Strict",
                        secure=deps.secure_cookies, path="/")
    raise response


def create_street_app(street: StreetConsole) -> web.Application:
    """The console app of the first community, serving each request for its community."""
    from web.app import create_console_app
    from web.street_list import add_street_list_routes

    app = create_console_app(street.communities[0].deps)
    app.middlewares.insert(0, community_middleware)
    app[STREET] = street
    app.router.add_get("/street", street_page)
    app.router.add_get("/street/switch", switch)
    add_street_list_routes(app)
    return app
