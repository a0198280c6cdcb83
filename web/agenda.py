"""``/agenda``: the Thursday 议事清单 for one grid (``?grid=``) or the whole community,
ranked exactly as the weekly digest ranks it (:func:`scheduler.digest.agenda_items`:
overdue first, then supporters, then age), with the past week's figures. Printable."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from scheduler.digest import OPEN_LIMIT, PERIOD, agenda_items
from storage import Counts
from tickets.model import Ticket
from ui.cards import category_label, ticket_location
from ui.reminders import AgendaItem, duration
from web.deps import deps_of
from web.keys import CONFIG, VIEWER
from web.render import URGENCY_LABELS, render
from web.viewer import Viewer


@dataclass(frozen=True, slots=True)
class Agenda:
    items: list[AgendaItem]
    title: str
    grid: str
    choices: list[str]
    counts: Counts
    now: datetime


async def build_agenda(request: web.Request) -> Agenda:
    """The agenda the viewer asked for (``?grid=``), or a 4xx."""
    deps = deps_of(request)
    config = request[CONFIG]
    viewer: Viewer = request[VIEWER]
    grid_names = [g.name for g in config.grids]
    wanted = request.query.get("grid", "")
    if len(wanted) > 64:
        raise web.HTTPBadRequest(text="网格名称过长。")
    if wanted and wanted not in grid_names:
        raise web.HTTPNotFound(text=f"没有名为“{wanted}”的网格。")
    choices = grid_names if viewer.is_supervisor else [g for g in grid_names if g in viewer.grids]
    if not wanted and not viewer.is_supervisor:
        wanted = choices[0] if choices else ""
    if wanted and wanted not in choices:
        raise web.HTTPForbidden(text=f"你不负责{wanted},不能查看它的议事清单。")
    now = deps.clock.now()
    grids = [wanted] if wanted else grid_names
    tickets: list[Ticket] = []
    async with deps.db.read() as r:
        for grid in grids:
            tickets += await r.queries.open_in_grid(grid, OPEN_LIMIT)
        if not wanted:  # tickets outside any grid are routed to a supervisor
            for person in config.supervisors():
                tickets += [t for t in await r.queries.open_for_assignee(person.key, OPEN_LIMIT)
                            if t.grid is None]
        if not viewer.is_supervisor and not wanted:
            tickets = [t for t in tickets if viewer.can_see(t)]
        # [start, end) excludes end: include what happened at this very instant too.
        digest = await r.queries.digest(now - PERIOD, now + timedelta(microseconds=1))
    items = agenda_items(tickets, now, config.sla.long_overdue_after)
    if not wanted:
        items.sort(key=lambda i: (i.ticket.grid or "\uffff",))  # stable: keeps the ranking
    counts = digest.by_grid.get(wanted, Counts()) if wanted else digest.total
    return Agenda(items, wanted or config.name, wanted, choices, counts, now)


async def agenda_page(request: web.Request) -> web.StreamResponse:
    a = await build_agenda(request)
    return render(
        request, "agenda.html", items=a.items, title=a.title, grid=a.grid, choices=a.choices,
        counts=a.counts, start=a.now - PERIOD, now=a.now, duration=duration,
        where=lambda t: ticket_location(t, for_group=True),
        overdue_count=sum(1 for i in a.items if i.overdue_by is not None),
        long_count=sum(1 for i in a.items if i.long_overdue),
        grouped=not a.grid, csv_query=urlencode({"grid": a.grid}) if a.grid else "")


async def agenda_csv(request: web.Request) -> web.StreamResponse:
    """The agenda as CSV (UTF-8 with BOM, so Excel opens the Chinese correctly): the same
    rows, in the same order, as the page."""
    a = await build_agenda(request)
    config = request[CONFIG]
    tz = ZoneInfo(config.timezone)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["序号", "网格", "编号", "分类", "紧急程度", "位置", "附议", "负责人",
                     "登记时间", "超时"])
    for n, item in enumerate(a.items, 1):
        t = item.ticket
        late = ""
        if item.overdue_by is not None:
            late = ("长期超时 " if item.long_overdue else "") + duration(item.overdue_by)
        writer.writerow([n, t.grid or "未划入", t.number, category_label(t.category, config),
                         URGENCY_LABELS.get(t.urgency, t.urgency),
                         ticket_location(t, for_group=True), t.supporters_count,
                         t.assignee or "待派", t.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                         late])
    name = quote(f"议事清单-{a.title}-{a.now.astimezone(tz):%Y%m%d}.csv")
    return web.Response(
        body=("\ufeff" + out.getvalue()).encode("utf-8"), content_type="text/csv",
        charset="utf-8", headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/agenda", agenda_page)
    app.router.add_get("/agenda.csv", agenda_csv)
