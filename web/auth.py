"""Signing in and out of the console, and the middleware that finds the session.

- ``GET /login/<token>``: checks the link without spending it and shows a 进入工作台
  button; the button POSTs, which spends the link and starts a session. A link preview
  fetching the GET therefore cannot use the link up.
- ``POST /logout`` ends this browser's session.
- ``GET /miniapp`` is the Telegram Mini App's start page; its script posts the init data
  to ``POST /miniapp/login``, which checks it (HMAC, freshness) and starts a session.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from services import console_access as access
from services.console_access import InitDataRefused, LinkRefused
from storage.web_auth_repo import SessionRecord
from web.deps import ConsoleDeps, deps_of
from web.keys import CONFIG, SESSION, VIEWER
from web.render import render
from web.viewer import Viewer, street_viewer, viewer_for

log = logging.getLogger("gridbot.console.auth")

COOKIE = "gridbot_console"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

NOT_SIGNED_IN = "请先登录:在 Telegram 私聊机器人发送 /web,点收到的链接进入工作台。"
NOT_STAFF = "你不是本社区配置的工作人员,不能使用网格工作台。"
CSRF_FAILED = "表单已失效(安全校验未通过),请刷新页面后重试。"


def public(handler: Handler) -> Handler:
    """Mark a route handler as reachable without a session."""
    handler.__console_public__ = True  # type: ignore[attr-defined]
    return handler


def _is_public(request: web.Request) -> bool:
    if request.path.startswith("/static/"):
        return True
    if (request.method in ("GET", "HEAD") and request.path.startswith("/export/")
            and "token" in request.query):
        return True  # the read-only export feed checks its own revocable token
    handler = getattr(request.match_info, "handler", None)
    return bool(getattr(handler, "__console_public__", False))


def _client(request: web.Request) -> str:
    """For the log: the peer address, plus what a reverse proxy says it forwarded for
    (a header anyone can send without a proxy, so never instead of the peer)."""
    forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()[:64]
    peer = request.remote or "?"
    return f"{peer} (for {forwarded})" if forwarded else peer


async def _viewer_of(deps: ConsoleDeps, user_id: int) -> Viewer | None:
    config = deps.current_config()
    async with deps.db.read() as r:
        reg = await r.people.get(user_id)
    viewer = viewer_for(config, user_id, reg.person_key if reg else None)
    return viewer or street_viewer(deps.street_staff, user_id)


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Sets ``request[SESSION]``, ``request[VIEWER]`` and ``request[CONFIG]``; the
    viewer is rebuilt from the current config each time."""
    deps = deps_of(request)
    request[CONFIG] = deps.current_config()
    cookie = request.cookies.get(COOKIE, "")
    record: SessionRecord | None = None
    if cookie:
        record = await access.live_session(deps.db, deps.clock, cookie)
    if record is not None:
        viewer = await _viewer_of(deps, record.user_id)
        if viewer is None:
            log.warning("console: session of user %s refused: no longer staff in the config",
                        record.user_id)
            await access.end_session(deps.db, deps.clock, cookie)
            if not _is_public(request):
                raise web.HTTPForbidden(text=NOT_STAFF)
        else:
            request[SESSION] = record
            request[VIEWER] = viewer
    if VIEWER not in request and not _is_public(request):
        raise web.HTTPUnauthorized(text=NOT_SIGNED_IN)
    return await handler(request)


async def read_form(request: web.Request) -> MultiDictProxy[Any]:
    """The posted form, or 400 when the body cannot be parsed as one (bad encoding, a
    broken multipart body)."""
    try:
        return await request.post()
    except web.HTTPException:  # e.g. 413 for an oversized body: keep its status
        raise
    except Exception as error:  # aiohttp's parsers raise ValueError, InvalidHeader, …
        raise web.HTTPBadRequest(text="提交的表单内容无法解析。") from error


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every POST from a signed-in page carries the session's CSRF token (form field
    ``_csrf`` or header ``X-CSRF-Token``). Public POSTs (login confirm, Mini App sign-in)
    carry their own proof instead."""
    if request.method in ("GET", "HEAD", "OPTIONS") or _is_public(request):
        return await handler(request)
    session: SessionRecord | None = request.get(SESSION)
    given = request.headers.get("X-CSRF-Token", "")
    if not given and request.content_type in ("application/x-www-form-urlencoded",
                                               "multipart/form-data"):
        form = await read_form(request)
        value = form.get("_csrf", "")
        given = value if isinstance(value, str) else ""
    if session is None or not given or not hmac.compare_digest(given, session.csrf_token):
        log.warning("console: CSRF check failed for %s %s from %s", request.method,
                    request.path, _client(request))
        raise web.HTTPForbidden(text=CSRF_FAILED)
    return await handler(request)


def set_session_cookie(response: web.StreamResponse, deps: ConsoleDeps, value: str) -> None:
    response.set_cookie(COOKIE, value, httponly=True, samesite="Strict",
                        secure=deps.secure_cookies, path="/")


@public
async def login_page(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    token = request.match_info["token"]
    try:
        claims = await access.check_login_link(deps.db, deps.clock, token)
    except LinkRefused as refused:
        log.warning("console: login link refused (%s) for user %s from %s",
                    refused.reason.value, refused.user_id, _client(request))
        return render(request, "login.html", status=403, token=None, message=refused.text)
    return render(request, "login.html", token=token, message=None,
                  expires=claims.expires_at)


@public
async def login_confirm(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    token = request.match_info["token"]
    try:
        user_id = await access.spend_login_link(deps.db, deps.clock, token)
    except LinkRefused as refused:
        log.warning("console: login refused (%s) for user %s from %s",
                    refused.reason.value, refused.user_id, _client(request))
        return render(request, "login.html", status=403, token=None, message=refused.text)
    viewer = await _viewer_of(deps, user_id)
    if viewer is None:
        log.warning("console: login refused for user %s: not staff", user_id)
        raise web.HTTPForbidden(text=NOT_STAFF)
    session = await access.start_session(deps.db, deps.clock, user_id, viewer.person_key,
                                         "link")
    response = web.HTTPSeeOther("/")
    set_session_cookie(response, deps, session.cookie_value)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    await access.end_session(deps.db, deps.clock, request.cookies.get(COOKIE, ""))
    response = render(request, "login.html", token=None,
                      message="已退出工作台。需要时在 Telegram 私聊机器人发送 /web 重新登录。")
    response.del_cookie(COOKIE, path="/")
    return response


@public
async def miniapp_page(request: web.Request) -> web.StreamResponse:
    return render(request, "miniapp.html")


@public
async def miniapp_login(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    if deps.bot_token is None:
        raise web.HTTPNotFound(text="这个部署没有开启 Telegram 小程序登录。")
    if request.content_length is not None and request.content_length > 8192:
        raise web.HTTPRequestEntityTooLarge(max_size=8192, actual_size=request.content_length,
                                            text="登录数据过长。")
    form = await read_form(request)
    init_data = form.get("init_data", "")
    try:
        user_id = access.check_init_data(init_data if isinstance(init_data, str) else "",
                                         deps.bot_token, deps.clock.now())
    except InitDataRefused as refused:
        log.warning("console: Mini App sign-in refused (%s) from %s", refused, _client(request))
        raise web.HTTPForbidden(text="Telegram 登录数据校验失败或已过期,请关闭后重新打开工作台。"
                                ) from refused
    viewer = await _viewer_of(deps, user_id)
    if viewer is None:
        log.warning("console: Mini App sign-in refused for user %s: not staff", user_id)
        raise web.HTTPForbidden(text=NOT_STAFF)
    session = await access.start_session(deps.db, deps.clock, user_id, viewer.person_key,
                                         "miniapp")
    response = web.HTTPSeeOther("/")
    set_session_cookie(response, deps, session.cookie_value)
    raise response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/login/{token}", login_page)
    app.router.add_post("/login/{token}", login_confirm)
    app.router.add_post("/logout", logout)
    app.router.add_get("/miniapp", miniapp_page)
    app.router.add_post("/miniapp/login", miniapp_login)
