"""/tickets over real HTTP: filters, scope, keyset pages, bad parameters → 400 in
Chinese, and the poll that brings new tickets without a reload."""

from __future__ import annotations

import re

import pytest

from tests.support.console_data import T0, add_tickets, hours, make_ticket
from tests.support.console_http import (
    POLICE,
    SECRETARY,
    WORKER_1,
    Console,
)
from tickets.model import Ticket, TicketState

ROW_LINK = re.compile(r'<td data-label="编号"><a href="/tickets/([^"]+)">')
NEXT = re.compile(r'id="next-page" href="([^"]+)"')


async def seed(console: Console) -> list[Ticket]:
    tickets = [
        make_ticket(grid="第一网格", assignee="王芳", category="water_leak",
                    text="8号楼顶楼漏水了，电话13812345678", room="1201", building="8",
                    created_at=T0),
        make_ticket(grid="第二网格", assignee="李强", category="water_leak",
                    text="5号楼地下室漏水", created_at=T0 + hours(1)),
        make_ticket(grid="第二网格", assignee="李强", category="public_order",
                    text="晚上有人在楼下吵闹", created_at=T0 + hours(2)),
        make_ticket(grid="第一网格", assignee="王芳", category="noise", urgency="emergency",
                    state=TicketState.NEW, text="电梯困人了", created_at=T0 + hours(3)),
    ]
    return await add_tickets(console.db, *tickets)


async def numbers_on(client, path: str) -> list[str]:  # type: ignore[no-untyped-def]
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return ROW_LINK.findall(await response.text())


async def test_filters_and_search_over_http(console: Console) -> None:
    t = await seed(console)
    boss = await console.client(SECRETARY)
    assert await numbers_on(boss, "/tickets") == [x.number for x in reversed(t)]
    assert await numbers_on(boss, "/tickets?grid=第二网格") == [t[2].number, t[1].number]
    assert await numbers_on(boss, "/tickets?q=漏水&sort=old") == [t[0].number, t[1].number]
    assert await numbers_on(boss, "/tickets?urgency=emergency&state=open") == [t[3].number]
    assert await numbers_on(boss, "/tickets?category=public_order") == [t[2].number]
    assert await numbers_on(boss, "/tickets?worker=王芳&from=2026-11-02&to=2026-11-02") == [
        t[3].number, t[0].number]
    assert await numbers_on(boss, "/tickets?from=2026-11-03") == []
    page = await (await boss.get("/tickets")).text()
    assert "13812345678" in page  # the secretary sees personal details


async def test_a_worker_never_sees_another_grid(console: Console) -> None:
    t = await seed(console)
    worker = await console.client(WORKER_1)
    assert await numbers_on(worker, "/tickets") == [t[3].number, t[0].number]
    assert await numbers_on(worker, "/tickets?grid=第二网格") == []
    assert await numbers_on(worker, f"/tickets?q={t[1].number}") == []
    police = await console.client(POLICE)  # a specialist: his category only, masked
    assert await numbers_on(police, "/tickets") == [t[2].number]
    page = await (await police.get("/tickets")).text()
    assert "吵闹" in page and "13812345678" not in page
    anonymous = await console.client(None)
    response = await anonymous.get("/tickets")
    assert response.status == 401


async def test_masking_for_viewers_without_personal_rights(console: Console) -> None:
    await add_tickets(console.db, make_ticket(
        grid="第一网格", assignee="王芳", category="public_order",
        text="3号楼502有人吵，电话13812345678", building="3", room="502"))
    police = await console.client(POLICE)
    page = await (await police.get("/tickets")).text()
    assert "138****5678" in page and "13812345678" not in page and "502" not in page
    worker = await console.client(WORKER_1)
    page = await (await worker.get("/tickets")).text()
    assert "13812345678" in page and "502" in page


async def test_keyset_pages_over_http(console: Console) -> None:
    tickets = [make_ticket(created_at=T0 + hours(i // 2), grid="第一网格") for i in range(120)]
    await add_tickets(console.db, *tickets)
    boss = await console.client(SECRETARY)
    seen: list[str] = []
    path: str | None = "/tickets?grid=第一网格"
    pages = 0
    while path:
        response = await boss.get(path)
        text = await response.text()
        assert response.status == 200
        seen += ROW_LINK.findall(text)
        match = NEXT.search(text)
        path = match.group(1).replace("&amp;", "&") if match else None
        pages += 1
    assert pages == 3
    assert sorted(seen) == sorted(t.number or "" for t in tickets) and len(set(seen)) == 120


@pytest.mark.parametrize("query", [
    "grid=不存在的网格", "state=done", "state=open,bogus", "category=%3Cscript%3E",
    "urgency=high", "overdue=yes", "worker=nobody", "from=2026-13-01", "to=yesterday",
    "from=2026-11-05&to=2026-11-01", "q=" + "漏" * 51, "sort=random", "after=%%%",
    "after=eyJ4IjoxfQ", "grid=第一网格&grid=第二网格", "q=%00abc", "from=1900-01-01",
    "x=" + "a" * 3000,
])
async def test_bad_parameters_answer_400_in_chinese(console: Console, query: str) -> None:
    boss = await console.client(SECRETARY)
    for path in ("/tickets", "/api/tickets/new"):
        response = await boss.get(f"{path}?since=0&{query}")
        text = await response.text()
        assert response.status == 400, (path, query, text[:200])
        assert re.search(r"[\u4e00-\u9fff]", text), text[:200]


async def test_poll_brings_new_tickets_of_the_viewer_only(console: Console) -> None:
    await seed(console)
    worker = await console.client(WORKER_1)
    page = await (await worker.get("/tickets?state=open")).text()
    since = int(re.search(r'"since": (\d+)', page).group(1))  # type: ignore[union-attr]
    mine = make_ticket(grid="第一网格", assignee="王芳", state=TicketState.NEW, text="新来的")
    other = make_ticket(grid="第二网格", assignee="李强", state=TicketState.NEW)
    closed = make_ticket(grid="第一网格", assignee="王芳", state=TicketState.CLOSED)
    await add_tickets(console.db, mine, other, closed)
    response = await worker.get(f"/api/tickets/new?state=open&since={since}")
    data = await response.json()
    assert [r["number"] for r in data["rows"]] == [mine.number]
    assert data["rows"][0]["href"] == f"/tickets/{mine.number}"
    assert data["since"] == mine.id
    again = await (await worker.get(f"/api/tickets/new?state=open&since={data['since']}")).json()
    assert again["rows"] == []
    for since in ("abc", "²", "٢", "1" * 13):
        bad = await worker.get(f"/api/tickets/new?since={since}")
        assert bad.status == 400
