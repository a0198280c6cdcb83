"""The console's aiohttp application: middlewares, routes, static files.

Middleware order (outermost first): errors → limits → session → CSRF. The error
middleware turns every 4xx into a Chinese page (the message is the exception's ``text``
when it is Chinese) and every unexpected exception into a logged 500 page without
details; the limits middleware refuses oversized query strings; the session middleware
finds the viewer; CSRF checks every POST.
"""

from __future__ import annotations

import importlib
import logging
import re
import warnings

from aiohttp import web

from web import agenda, auth, detail
from web.auth import Handler
from web.deps import CONSOLE_DEPS, ConsoleDeps
from web.render import STATIC, error_page

log = logging.getLogger("gridbot.console")

# Pages read request[VIEWER], request[SESSION] and request[CONFIG] (set by the
# session middleware) by name; aiohttp's advice to use typed RequestKeys instead would
# only add noise to the logs here.
warnings.filterwarnings("ignore", category=web.NotAppKeyWarning, module=r"web(\.|$)")

MAX_QUERY = 2048  # characters of query string
MAX_BODY = 64 * 1024  # bytes of a form post
_CJK = re.compile(r"[\u4e00-\u9fff]")

DEFAULT_MESSAGES = {
    400: "请求参数有误,请检查后重试。",
    401: auth.NOT_SIGNED_IN,
    403: "你没有权限查看或操作这项内容。",
    404: "找不到这个页面或工单。",
    405: "不支持这种请求方式。",
    413: "提交的内容过长。",
    414: "请求地址过长。",
}

#: Content-Security-Policy: only our own scripts and styles; Telegram may frame the Mini App.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
       "object-src 'none'; frame-ancestors 'self' https://web.telegram.org "
       "https://*.telegram.org")


def _message(error: web.HTTPException) -> str:
    text = error.text or ""
    if _CJK.search(text):
        return text
    return DEFAULT_MESSAGES.get(error.status, "请求未能完成。")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return error_page(request, error.status, _message(error))
    except Exception:
        log.exception("console: error on %s %s", request.method, request.path)
        return error_page(request, 500, "服务器出错了,请稍后重试;如果反复出现,请联系管理员。")
    return response


@web.middleware
async def limits_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if len(request.query_string) > MAX_QUERY:
        raise web.HTTPBadRequest(text="查询参数过长。")
    if "\x00" in request.path or "\x00" in request.query_string:
        raise web.HTTPBadRequest(text="请求地址含有非法字符。")
    return await handler(request)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")


def _data_routes(app: web.Application) -> None:
    """The list, dashboard and export pages (web/list_pages.py, web/dashboard.py,
    web/exports.py), each with ``add_routes(app)``."""
    for name in ("web.list_pages", "web.dashboard", "web.exports"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as missing:
            if missing.name != name:
                raise
            log.warning("console: %s is not installed; its pages are missing", name)
            continue
        module.add_routes(app)


async def _home_fallback(request: web.Request) -> web.StreamResponse:
    """``/`` while the dashboard module is absent: the agenda is the next best overview."""
    raise web.HTTPSeeOther("/agenda")


def _has_route(app: web.Application, path: str) -> bool:
    return any(r.canonical == path for r in app.router.resources())


def create_console_app(deps: ConsoleDeps) -> web.Application:
    app = web.Application(
        middlewares=[error_middleware, limits_middleware, auth.session_middleware,
                     auth.csrf_middleware],
        client_max_size=MAX_BODY,
    )
    app[CONSOLE_DEPS] = deps
    auth.add_routes(app)
    detail.add_routes(app)
    agenda.add_routes(app)
    _data_routes(app)
    if not _has_route(app, "/"):
        app.router.add_get("/", _home_fallback)
    app.router.add_static("/static/", STATIC, append_version=False)
    app.on_response_prepare.append(_security_headers)
    return app
