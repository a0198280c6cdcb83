"""``/agenda``: the Thursday 议事清单 for one grid (``?grid=``) or the whole community,
ranked exactly as the weekly digest ranks it (:func:`scheduler.digest.agenda_items`:
overdue first, then supporters, then age), with the past week's figures. Printable."""

from __future__ import annotations

from aiohttp import web

from scheduler.digest import OPEN_LIMIT, PERIOD, agenda_items
from storage import Counts
from tickets.model import Ticket
from ui.cards import ticket_location
from ui.reminders import duration
from web.deps import deps_of
from web.render import render
from web.viewer import Viewer


async def agenda_page(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    config = request["config"]
    viewer: Viewer = request["viewer"]
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
        digest = await r.queries.digest(now - PERIOD, now)
    items = agenda_items(tickets, now, config.sla.long_overdue_after)
    if not wanted:
        items.sort(key=lambda i: (i.ticket.grid or "\uffff",))  # stable: keeps the ranking
    counts = digest.by_grid.get(wanted, Counts()) if wanted else digest.total
    title = wanted or config.name
    return render(
        request, "agenda.html", items=items, title=title, grid=wanted, choices=choices,
        counts=counts, start=now - PERIOD, now=now, duration=duration,
        where=lambda t: ticket_location(t, for_group=True),
        overdue_count=sum(1 for i in items if i.overdue_by is not None),
        long_count=sum(1 for i in items if i.long_overdue),
        grouped=not wanted)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/agenda", agenda_page)
