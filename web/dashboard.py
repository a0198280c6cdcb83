"""总览: ``/`` the dashboard for a period (本周 / 本月 / a month / custom days) and a grid,
within the viewer's scope. Figures come from ``services.dashboard``; charts are drawn
by ``static/dashboard.js`` with the vendored ECharts (no CDN)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from community.model import CommunityConfig
from services.dashboard import (
    Dashboard,
    Period,
    build_dashboard,
    custom_period,
    month_period,
    week_period,
)
from storage.console_repo import Scope
from ui.cards import category_label
from web.deps import deps_of
from web.list_pages import config_of, viewer_of
from web.render import render
from web.viewer import Viewer

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
MAX_CUSTOM_DAYS = 366


def parse_month(value: str) -> tuple[int, int]:
    """'2026-11' → (2026, 11); HTTPBadRequest (Chinese) otherwise."""
    match = MONTH_RE.match(value)
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) < 2100:
        raise web.HTTPBadRequest(text="月份格式不对：应为 2026-11 这样的年月")
    return int(match.group(1)), int(match.group(2))


def _day(value: str, name: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise web.HTTPBadRequest(text=f"日期格式不对：{name} 应为 2026-11-01 这样的日期") from None
    if not date(2000, 1, 1) <= day < date(2100, 1, 1):
        raise web.HTTPBadRequest(text=f"日期超出范围：{name}")
    return day


def _single(request: web.Request, key: str) -> str:
    values = request.query.getall(key, [])
    if len(values) > 1:
        raise web.HTTPBadRequest(text=f"参数 {key} 只能出现一次")
    value = values[0].strip() if values else ""
    if len(value) > 40:
        raise web.HTTPBadRequest(text=f"参数 {key} 太长")
    return value


def parse_period(request: web.Request, now: datetime, tz: ZoneInfo) -> tuple[str, Period]:
    kind = _single(request, "period") or "week"
    today = now.astimezone(tz).date()
    if kind == "week":
        return kind, week_period(today, tz)
    if kind == "month":
        raw = _single(request, "month")
        year, month = parse_month(raw) if raw else (today.year, today.month)
        return kind, month_period(year, month, tz)
    if kind == "custom":
        first = _day(_single(request, "from"), "from") if _single(request, "from") else None
        last = _day(_single(request, "to"), "to") if _single(request, "to") else today
        if first is None:
            raise web.HTTPBadRequest(text="自定义时段需要开始日期（from）")
        if first > last:
            raise web.HTTPBadRequest(text="开始日期晚于结束日期")
        if (last - first).days >= MAX_CUSTOM_DAYS:
            raise web.HTTPBadRequest(text="自定义时段最长一年")
        return kind, custom_period(first, last, tz)
    raise web.HTTPBadRequest(text="时段只能是 week（本周）、month（按月）或 custom（自定义）")


def parse_grid(request: web.Request, config: CommunityConfig, viewer: Viewer) -> str | None:
    grid = _single(request, "grid")
    if not grid:
        return None
    if config.grid(grid) is None:
        raise web.HTTPBadRequest(text=f"没有这个网格：{grid}")
    return grid


def chart_data(dash: Dashboard, config: CommunityConfig, tz: ZoneInfo) -> dict[str, Any]:
    """What dashboard.js draws (a JSON block in the page)."""
    top = sorted(dash.trend, key=lambda c: -sum(dash.trend[c]))
    return {
        "weeks": [w.astimezone(tz).strftime("%m-%d") for w in dash.weeks],
        "trend": [{"name": category_label(c, config), "data": dash.trend[c]} for c in top],
        "heatmaps": [
            {"compound": h.compound or "未注明小区",
             "buildings": [f"{b}号楼" if b.isdigit() else b for b in h.buildings],
             "categories": [category_label(c, config) for c in h.categories],
             "cells": [[j, i, n] for i, row in enumerate(h.counts)
                       for j, n in enumerate(row) if n],
             "max": max((n for row in h.counts for n in row), default=0)}
            for h in dash.heatmaps[:6]
        ],
    }


async def dashboard_page(request: web.Request) -> web.Response:
    viewer = viewer_of(request)
    config = config_of(request)
    deps = deps_of(request)
    tz = ZoneInfo(config.timezone)
    now = deps.clock.now()
    kind, period = parse_period(request, now, tz)
    grid = parse_grid(request, config, viewer)
    dash = await build_dashboard(deps.db, period, now, Scope.of_viewer(viewer), grid, tz)
    today = now.astimezone(tz).date()
    months = []
    first = today.replace(day=1)
    for _ in range(12):
        months.append(f"{first:%Y-%m}")
        first = (first - timedelta(days=1)).replace(day=1)
    grids = [g.name for g in config.grids if viewer.is_supervisor or g.name in viewer.grids]
    month_value = (f"{period.start.astimezone(tz):%Y-%m}" if kind == "month" else months[0])
    return render(
        request, "dashboard.html", dash=dash, kind=kind, grid=grid or "", grids=grids,
        months=months, month_value=month_value,
        period_from=period.start.astimezone(tz).date().isoformat(),
        period_to=(period.end.astimezone(tz) - timedelta(seconds=1)).date().isoformat(),
        previous_label=(f"{dash.previous.start.astimezone(tz):%m-%d} 至 "
                        f"{(dash.previous.end.astimezone(tz) - timedelta(seconds=1)):%m-%d}"),
        charts=chart_data(dash, config, tz),
        monthly_link=f"/export/monthly.xlsx?month={month_value}",
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", dashboard_page)
