"""Server-side HTML: one Jinja2 environment (autoescaped) over ``web/templates``.

:func:`render` always passes ``viewer``, ``csrf_token``, ``community``, ``nav`` and
``path`` to the template, plus the filters registered below (``dt``, ``state``,
``category``, ``urgency``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from community.model import CommunityConfig
from ui import texts
from ui.cards import category_label
from web.deps import deps_of
from web.keys import CONFIG, SESSION, VIEWER

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

#: (label, href) of the top navigation; 退出 is a POST form rendered by base.html.
NAV: tuple[tuple[str, str], ...] = (("总览", "/"), ("工单", "/tickets"), ("议事清单", "/agenda"))

STATE_LABELS = {
    "new": "待派单", "assigned": "待接单", "accepted": "已接单", "in_progress": "处理中",
    "resolved": "已办结", "closed": "已关闭", "cancelled": "已撤销", "merged": "已合并",
}
URGENCY_LABELS = {"emergency": "紧急", "urgent": "加急", "normal": "一般"}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def nav_for(viewer: Any) -> tuple[tuple[str, str], ...]:
    if viewer is not None and viewer.street:
        return (("街道总览", "/street"), ("街道工单", "/street/tickets"), *NAV,
                ("导出令牌", "/export/tokens"))
    if viewer is not None and viewer.is_supervisor:
        return (*NAV, ("导出令牌", "/export/tokens"))
    return NAV


def active_nav(path: str, nav: tuple[tuple[str, str], ...]) -> str | None:
    """The href of the navigation entry the page belongs to: the longest one that is the
    path or a folder of it (``/street/tickets`` is 街道工单, not 街道总览)."""
    hits = [href for _, href in nav
            if path == href or (href != "/" and path.startswith(href.rstrip("/") + "/"))]
    return max(hits, key=len, default=None)


def street_nav(request: web.Request) -> Any:
    """For a street office viewer in a deployment's console: the communities to switch
    between and the current one (web/street.py); None otherwise."""
    viewer = request.get(VIEWER)
    if viewer is None or not viewer.street:
        return None
    from web.street import navigation

    return navigation(request)


def environment() -> jinja2.Environment:
    return _env


def _format_time(value: datetime | None, tz: ZoneInfo, fmt: str = "%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(tz).strftime(fmt)


def template_context(request: web.Request) -> dict[str, Any]:
    """What every page gets."""
    deps = deps_of(request)
    config: CommunityConfig = request.get(CONFIG) or deps.current_config()
    tz = ZoneInfo(config.timezone)
    session = request.get(SESSION)
    return {
        "viewer": request.get(VIEWER),
        "csrf_token": session.csrf_token if session is not None else "",
        "community": config.name,
        "nav": nav_for(request.get(VIEWER)),
        "active": active_nav(request.path, nav_for(request.get(VIEWER))),
        "street": street_nav(request),
        "path": request.path,
        "dt": lambda value, fmt="%m-%d %H:%M": _format_time(value, tz, fmt),
        "state_label": lambda state: STATE_LABELS.get(str(state), str(state)),
        "category_label": lambda slug: category_label(slug, config),
        "urgency_label": lambda u: URGENCY_LABELS.get(str(u), str(u)),
        "action_label": lambda a: texts.ACTION_LABELS.get(str(a), str(a)),
    }


def render_html(request: web.Request, name: str, **context: Any) -> str:
    return _env.get_template(name).render({**template_context(request), **context})


def render(request: web.Request, name: str, *, status: int = 200,
           headers: dict[str, str] | None = None, **context: Any) -> web.Response:
    """The template ``name`` as an HTML response (``status`` for error pages)."""
    return web.Response(text=render_html(request, name, **context), status=status,
                        content_type="text/html", charset="utf-8", headers=headers)


def error_page(request: web.Request, status: int, message: str) -> web.Response:
    """A clear Chinese message page for any 4xx (and the rare 5xx)."""
    return render(request, "error.html", status=status, message=message, status_code=status)
