"""工单 list: ``/tickets`` (filters as query parameters, keyset "下一页") and the poll
``/api/tickets/new`` that lets new tickets appear without a reload.

Both read through ``storage.console_repo`` with the viewer's scope, so another grid's
tickets can never be listed. Bad parameters answer 400 with a Chinese message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from community.model import CommunityConfig, Role
from storage.console_repo import SORTS, CursorError, Scope
from tickets.model import Ticket
from tickets.priority import ticket_overdue
from ui.cards import category_label
from ui.mask import mask_for_group
from web.deps import deps_of
from web.keys import CONFIG, VIEWER
from web.list_params import (
    FILTER_KEYS,
    NO_GRID,
    BadParameter,
    ListQuery,
    known_categories,
    parse_list_query,
)
from web.render import STATE_LABELS, URGENCY_LABELS, render
from web.viewer import Viewer

PAGE_SIZE = 50
POLL_LIMIT = 20
POLL_MS = 15_000  # how often the open list asks for new tickets
TEXT_PREVIEW = 60


def config_of(request: web.Request) -> CommunityConfig:
    return request.get(CONFIG) or deps_of(request).current_config()


def viewer_of(request: web.Request) -> Viewer:
    viewer = request.get(VIEWER)
    if viewer is None:
        raise web.HTTPForbidden(text="请先登录工作台。")
    return viewer


def list_query(request: web.Request, config: CommunityConfig) -> ListQuery:
    try:
        return parse_list_query(request.query, config, deps_of(request).clock.now(),
                                request.query_string)
    except BadParameter as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None



def row_of(ticket: Ticket, viewer: Viewer, config: CommunityConfig, now: datetime,
           tz: ZoneInfo) -> dict[str, Any]:
    """What one list row shows (the template and the poll's JSON use the same)."""
    personal = viewer.personal_for(ticket.grid, ticket.assignee, ticket.escalated_to)
    text = ticket.text if personal else mask_for_group(ticket.text)
    place = "".join(p for p in (ticket.compound, ticket.building and f"{ticket.building}号楼",
                                ticket.unit and f"{ticket.unit}单元",
                                (ticket.room if personal else "**") if ticket.room else None)
                    if p)
    return {
        "id": ticket.id,
        "number": ticket.number,
        "href": f"/tickets/{ticket.number}",
        "created": ticket.created_at.astimezone(tz).strftime("%m-%d %H:%M"),
        "state": str(ticket.state),
        "state_label": STATE_LABELS.get(str(ticket.state), str(ticket.state)),
        "category": category_label(ticket.category, config),
        "urgency": ticket.urgency,
        "urgency_label": URGENCY_LABELS.get(ticket.urgency, ticket.urgency),
        "grid": ticket.grid or "未划入",
        "place": place,
        "text": text if len(text) <= TEXT_PREVIEW else text[:TEXT_PREVIEW] + "…",
        "assignee": ticket.assignee or "待派",
        "supporters": ticket.supporters_count,
        "due": (ticket.resolve_due.astimezone(tz).strftime("%m-%d %H:%M")
                if ticket.resolve_due else ""),
        "overdue": ticket_overdue(ticket, now),
    }


def filter_choices(config: CommunityConfig, viewer: Viewer) -> dict[str, Any]:
    grids = [g.name for g in config.grids
             if viewer.is_supervisor or g.name in viewer.grids]
    workers = [p.key for p in config.people
               if p.has(Role.WORKER) or p.has(Role.SPECIALIST)]
    return {
        "grids": grids,
        "no_grid": NO_GRID if viewer.is_supervisor else None,
        "states": [("open", "未办结"), *STATE_LABELS.items()],
        "categories": [(slug, category_label(slug, config))
                       for slug in known_categories(config)],
        "urgencies": list(URGENCY_LABELS.items()),
        "workers": workers,
        "sorts": [(s.name, s.label) for s in SORTS.values()],
    }


async def tickets_page(request: web.Request) -> web.Response:
    viewer = viewer_of(request)
    config = config_of(request)
    deps = deps_of(request)
    query = list_query(request, config)
    now = deps.clock.now()
    tz = ZoneInfo(config.timezone)
    scope = Scope.of_viewer(viewer)
    try:
        async with deps.db.read() as r:
            page = await r.console.page(query.filter, scope, query.sort, query.cursor,
                                        PAGE_SIZE)
            since = await r.console.max_id()
    except CursorError:
        raise web.HTTPBadRequest(text="翻页参数无效，请从第一页重新打开列表。") from None
    rows = [row_of(t, viewer, config, now, tz) for t in page.tickets]
    poll_params = {k: v for k, v in query.params.items()}
    return render(
        request, "tickets.html", rows=rows, params=query.params,
        choices=filter_choices(config, viewer),
        next_link=query.link(after=page.next_cursor) if page.next_cursor else None,
        first_link=query.link() if query.cursor else None,
        export_link=query.link("/export/tickets.xlsx"),
        list_config={"poll": query.link("/api/tickets/new", **poll_params), "since": since,
                     "live": query.cursor is None and query.sort.name == "new",
                     "every": POLL_MS},
        filter_keys=FILTER_KEYS,
    )


async def new_tickets(request: web.Request) -> web.Response:
    """JSON for the live list: tickets matching the filters with an id above ``since``."""
    viewer = viewer_of(request)
    config = config_of(request)
    deps = deps_of(request)
    query = list_query(request, config)
    raw = request.query.get("since", "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise web.HTTPBadRequest(text="参数 since 应为数字。")
    now = deps.clock.now()
    async with deps.db.read() as r:
        fresh = await r.console.newer_than(query.filter, Scope.of_viewer(viewer), int(raw),
                                           POLL_LIMIT)
    tz = ZoneInfo(config.timezone)
    rows = [row_of(t, viewer, config, now, tz) for t in fresh]
    since = max([int(raw), *(t.id or 0 for t in fresh)])
    return web.json_response({"rows": rows, "since": since},
                             headers={"Cache-Control": "no-store"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/tickets", tickets_page)
    app.router.add_get("/api/tickets/new", new_tickets)
