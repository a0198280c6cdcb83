"""街道工单: ``/street/tickets``, the tickets of every community (or a chosen few) in one
list with a 社区 column, and ``/street/export/tickets.xlsx``, the same rows as a
spreadsheet. Street office members only (403 for anyone else).

Each community's rows come from its own database (``services.street_list`` merges
them); a row links to the ticket in its own community through ``/street/switch``, which
starts the street member's session there, as the community switcher does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from services.street_list import Source, StreetPage, street_page
from storage.console_repo import SORTS, CursorError
from ui.cards import category_label
from ui.street_workbook import export_street_tickets
from web.exports import with_temp_file
from web.list_pages import PAGE_SIZE, row_of
from web.list_params import BadParameter, known_categories
from web.render import STATE_LABELS, URGENCY_LABELS, render
from web.street import STREET, StreetConsole, require_street_viewer
from web.street_params import BAD_CURSOR, StreetQuery, parse_street_query

STREET_LIST_ONLY = "只有街道人员可以查看全部社区的工单。"


def _query(request: web.Request, street: StreetConsole) -> StreetQuery:
    communities = [(c.key, c.deps.current_config()) for c in street.communities]
    try:
        return parse_street_query(request.query, communities,
                                  street.communities[0].deps.clock.now(), request.query_string)
    except BadParameter as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None


def _sources(street: StreetConsole, query: StreetQuery) -> list[Source]:
    return [Source(c.key, c.name, i, c.deps.db, c.deps.current_config(), query.filters[c.key])
            for i, c in enumerate(street.communities) if c.key in query.filters]


def _positions(street: StreetConsole) -> dict[str, int]:
    return {c.key: i for i, c in enumerate(street.communities)}


def _choices(street: StreetConsole) -> dict[str, Any]:
    categories: dict[str, str] = {}
    for community in street.communities:
        config = community.deps.current_config()
        for slug in known_categories(config):
            categories.setdefault(slug, category_label(slug, config))
    return {
        "communities": [(c.key, c.name) for c in street.communities],
        "states": [("open", "未办结"), *STATE_LABELS.items()],
        "categories": list(categories.items()),
        "urgencies": list(URGENCY_LABELS.items()),
        "sorts": [(s.name, s.label) for s in SORTS.values()],
    }


async def street_tickets_page(request: web.Request) -> web.Response:
    viewer = require_street_viewer(request, STREET_LIST_ONLY)
    street = request.app[STREET]
    query = _query(request, street)
    now = street.communities[0].deps.clock.now()
    try:
        page: StreetPage = await street_page(_sources(street, query), query.sort,
                                             query.cursor, _positions(street), PAGE_SIZE)
    except CursorError:
        raise web.HTTPBadRequest(text=BAD_CURSOR) from None
    rows = []
    for item in page.rows:
        config = item.source.config
        row = row_of(item.ticket, viewer, config, now, ZoneInfo(config.timezone))
        row["href"] = "/street/switch?" + urlencode(
            {"c": item.source.key, "next": f"/tickets/{item.ticket.number}"})
        rows.append({**row, "community": item.source.key, "community_name": item.source.name})
    base = {k: v for k, v in query.params.items() if k != "c"}
    counts = [{"key": s.key, "name": s.name, "count": n,
               "link": "/street/tickets?" + urlencode({"c": s.key, **base})}
              for s, n in page.counts]
    return render(
        request, "street_tickets.html", rows=rows, counts=counts, total=page.total,
        params=query.params, chosen=set(query.chosen), choices=_choices(street),
        street_name=street.name,
        next_link=query.link(after=page.next_cursor) if page.next_cursor else None,
        first_link=query.link() if query.cursor else None,
        export_link=query.link("/street/export/tickets.xlsx"),
    )


async def street_tickets_xlsx(request: web.Request) -> web.StreamResponse:
    viewer = require_street_viewer(request, STREET_LIST_ONLY)
    street = request.app[STREET]
    query = _query(request, street)
    first = street.communities[0].deps
    now = first.clock.now()
    local = now.astimezone(ZoneInfo(first.current_config().timezone))
    filename = f"{street.name}_街道工单_{local:%Y%m%d_%H%M}.xlsx"
    sources = _sources(street, query)

    async def fill(path: Path) -> object:
        return await export_street_tickets(
            sources, path, query.sort,
            lambda t: viewer.personal_for(t.grid, t.assignee, t.escalated_to), now,
            title=f"{street.name} 街道工单导出")

    return await with_temp_file(request, filename, fill)


def add_street_list_routes(app: web.Application) -> None:
    app.router.add_get("/street/tickets", street_tickets_page)
    app.router.add_get("/street/export/tickets.xlsx", street_tickets_xlsx)
