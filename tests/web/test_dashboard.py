"""/ (总览) over real HTTP: figures within the viewer's scope, parameters validated,
charts from the vendored ECharts."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.console_data import T0, add_rating, add_tickets, hours, make_ticket
from tests.support.console_http import (
    SECRETARY,
    WORKER_1,
    Console,
)
from tickets.model import TicketState


def tile(page: str, key: str) -> str:
    match = re.search(rf'data-key="{key}">\s*<div class="label">[^<]*</div>\s*'
                      r'<div class="value">([^<]*)</div>', page)
    assert match, key
    return match.group(1)


async def seed(console: Console) -> None:
    a = make_ticket(grid="第一网格", assignee="王芳", category="water_leak", building="8",
                    compound="阳光花园", created_at=T0, state=TicketState.CLOSED,
                    resolved_at=T0 + hours(5), resolve_due=T0 + hours(24),
                    closed_at=T0 + hours(6), supporters_count=3)
    b = make_ticket(grid="第二网格", assignee="李强", category="noise", building="2",
                    compound="翠苑", created_at=T0 + hours(1), state=TicketState.ASSIGNED,
                    resolve_due=T0 + hours(2))
    await add_tickets(console.db, a, b)
    await add_rating(console.db, a, 2, T0 + hours(6))


async def test_dashboard_shows_figures_of_the_viewers_scope(console: Console) -> None:
    await seed(console)
    boss = await console.client(SECRETARY)
    response = await boss.get("/?period=week")
    page = await response.text()
    assert response.status == 200, page
    assert tile(page, "new") == "2" and tile(page, "overdue") == "1"
    assert tile(page, "satisfaction") == "100.0%" and tile(page, "on_time") == "100.0%"
    assert '<script src="/static/vendor/echarts.min.js">' in page and "cdn" not in page.lower()
    data = json.loads(re.search(r'id="dashboard-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert {h["compound"] for h in data["heatmaps"]} == {"阳光花园", "翠苑"}
    assert len(data["weeks"]) == 12
    worker = await console.client(WORKER_1)
    page = await (await worker.get("/")).text()
    assert tile(page, "new") == "1" and tile(page, "overdue") == "0"
    assert "翠苑" not in page and "李强" not in page
    grid = await (await boss.get("/?grid=第二网格&period=custom&from=2026-11-01&to=2026-11-03"))\
        .text()
    assert tile(grid, "new") == "1" and tile(grid, "open") == "1"
    month = await (await boss.get("/?period=month&month=2026-10")).text()
    assert tile(month, "new") == "0"


async def test_vendored_echarts_is_served(console: Console) -> None:
    boss = await console.client(SECRETARY)
    response = await boss.get("/static/vendor/echarts.min.js")
    assert response.status == 200
    assert len(await response.read()) > 500_000


@pytest.mark.parametrize("query", [
    "period=year", "period=month&month=2026-13", "period=month&month=11-2026",
    "period=custom", "period=custom&from=2026-11-05&to=2026-11-01",
    "period=custom&from=2024-01-01&to=2026-01-01", "grid=nope", "period=week&period=month",
    "period=custom&from=abc",
])
async def test_bad_dashboard_parameters_answer_400(console: Console, query: str) -> None:
    boss = await console.client(SECRETARY)
    response = await boss.get(f"/?{query}")
    text = await response.text()
    assert response.status == 400, (query, text[:300])
    assert re.search(r"[\u4e00-\u9fff]", text)
