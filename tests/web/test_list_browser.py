"""The ticket list in a real Chromium: filtering through the form, and a new ticket of
the viewer's scope appearing at the top without a reload (the other grid's does not)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.console_data import T0, add_tickets, hours, make_ticket
from tests.support.console_http import (
    WORKER_1,
    Console,
)
from tickets.model import TicketState
from web import list_pages


async def test_filter_and_live_rows_in_a_browser(console: Console, chromium: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(list_pages, "POLL_MS", 200)
    await add_tickets(console.db,
                      make_ticket(grid="第一网格", text="3号楼漏水", created_at=T0),
                      make_ticket(grid="第一网格", text="路灯坏了", created_at=T0 + hours(1),
                                  state=TicketState.CLOSED))
    client = await console.client(WORKER_1)  # a session cookie for the browser
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))
    base = str(client.make_url("")).rstrip("/")
    context = await chromium.new_context(viewport={"width": 390, "height": 844})
    await context.add_cookies([{"name": name, "value": morsel.value, "url": base}
                               for name, morsel in cookie.items()])
    page = await context.new_page()
    await page.goto(base + "/tickets")
    assert await page.locator("#ticket-list a[href^='/tickets/']").count() == 2
    await page.select_option("#f-state", "open")
    await page.fill("#f-q", "漏水")
    await page.click("#filters button[type=submit]")
    await page.wait_for_url("**/tickets?*")
    assert "state=open" in page.url
    assert await page.locator("#ticket-list a[href^='/tickets/']").count() == 1
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    # New tickets: one in the worker's grid that matches, one in another grid.
    await page.goto(base + "/tickets?state=open")
    mine = make_ticket(grid="第一网格", text="刚报的：电梯困人", state=TicketState.NEW)
    other = make_ticket(grid="第二网格", assignee="李强", text="别的网格", state=TicketState.NEW)
    await add_tickets(console.db, other, mine)
    await page.wait_for_selector(f"#ticket-list tr.fresh a[href='/tickets/{mine.number}']")
    assert await page.locator(f"a[href='/tickets/{other.number}']").count() == 0
    first = page.locator("#ticket-list tbody tr").first
    assert mine.number in (await first.inner_text())
    assert "新到 1 件" in (await page.locator("#fresh-note").inner_text())
    await context.close()
