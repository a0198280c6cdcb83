"""街道工单 (/street/tickets and its xlsx export) over real HTTP, on a deployment of three
communities (幸福里 from its own file, 安乐 and 和平 inline; SQLite files, or one
PostgreSQL database with a schema per community), each holding tickets reported
through the real intake use case at known times: the merged order (including two
tickets with equal sort keys in two communities), keyset pages across communities, the
filters, the per-community counts, the export's rows and columns, and 403 for anyone
but the street office."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import aiohttp
import openpyxl
import pytest
from yarl import URL

from community.deployment import load_deployment
from runtime.street_console import open_street_console, street_server
from services.console_access import start_session
from tests.support.console_data import T0
from tests.support.console_web import Browser
from tests.support.deployment import (
    ENVIRON,
    STREET_CHIEF,
    deployment_database,
    inline_community,
    write_deployment,
)
from tickets.clock import FakeClock
from tickets.model import Actor, Location, ReportInput
from web import street_list
from web.auth import COOKIE
from web.server import ConsoleServer
from web.street import COMMUNITY_COOKIE, CommunityConsole, StreetConsole

HEPING_INLINE = inline_community("heping", "和平社区", "ANLE_BOT_TOKEN", compound="和平里",
                                 chat=-1003000000001, worker=("钱伟", 4001),
                                 supervisor=("吴主任", 4000), supervisor_roles='"supervisor"')
SECRETARY = 1000  # 幸福里's 张书记 (community/example.toml)
ROW = re.compile(r'<tr data-community="(\w+)"[^>]*>.*?<a href="/street/switch\?c=\w+&amp;'
                 r'next=%2Ftickets%2F([0-9-]+)">', re.S)
NEXT = re.compile(r'id="next-page" href="([^"]+)"')
NAMES = {"xingfuli": "幸福里社区", "anle": "安乐社区", "heping": "和平社区"}


@dataclass
class Street:
    console: StreetConsole
    server: ConsoleServer
    clock: FakeClock
    tickets: dict[str, tuple[str, str]]  # label → (community key, number)

    def community(self, key: str) -> CommunityConsole:
        found = self.console.get(key)
        assert found is not None
        return found


# (label, community, hours after T0, text, category, urgency, compound, building)
REPORTS = [
    ("X1", "xingfuli", 0, "阳光花园3号楼楼道灯坏了", "facilities", "normal", "阳光花园", "3"),
    ("A1", "anle", 1, "安乐苑5号楼门口的井盖丢了", "public_space", "urgent", "安乐苑", "5"),
    ("H3", "heping", 1, "和平里2号楼楼下停车乱", "parking", "normal", "和平里", "2"),
    ("H1", "heping", 2, "和平里1号楼垃圾没人清", "sanitation", "normal", "和平里", "1"),
    ("X2", "xingfuli", 3, "阳光花园8号楼顶楼漏水", "water_leak", "urgent", "阳光花园", "8"),
    ("A2", "anle", 4, "安乐苑2号楼厨房漏水", "water_leak", "normal", "安乐苑", "2"),
    ("H2", "heping", 5, "和平里6号楼电梯困人了", "elevator", "emergency", "和平里", "6"),
    ("X3", "xingfuli", 6, "阳光花园5号楼电梯坏了", "elevator", "emergency", "阳光花园", "5"),
]
#: Newest first; A1 and H3 share (created_at, id = 1): the earlier community comes first.
NEWEST = ["X3", "H2", "A2", "X2", "H1", "A1", "H3", "X1"]
OLDEST = ["X1", "A1", "H3", "H1", "X2", "A2", "H2", "X3"]
NOW = T0 + timedelta(hours=30)  # Tuesday 15:00 in Shanghai


async def report(community: CommunityConsole, clock: FakeClock, label: str, hours: int,
                 text: str, category: str, urgency: str, compound: str, building: str,
                 message_id: int) -> str:
    clock.set(T0 + timedelta(hours=hours))
    config = community.deps.current_config()
    chat = config.grids[0].chats[0]
    result = await community.deps.service.report_received(
        source_chat_id=chat, source_message_id=message_id, reporter_id=5000 + message_id,
        reporter_name="居民", report=ReportInput(
            text=text, category=category, urgency=urgency,
            location=Location(compound=compound, building=building),
            duplicate_key=f"{label}|{category}", parse_json='{"is_report": true}'))
    assert result.created and result.ticket.number
    return result.ticket.number


@pytest.fixture
async def street(tmp_path: Path, db_target: str) -> AsyncIterator[Street]:
    clock = FakeClock(T0)
    (tmp_path / "data").mkdir()
    path = write_deployment(tmp_path, HEPING_INLINE, database=deployment_database(db_target))
    deployment = load_deployment(path, environ=ENVIRON)
    console, opened, _ = await open_street_console(deployment, public="http://127.0.0.1",
                                                   clock=clock)
    server = await street_server(console, "127.0.0.1", 0).start()
    try:
        made = Street(console, server, clock, {})
        for i, (label, key, hours, *rest) in enumerate(REPORTS):
            number = await report(made.community(key), clock, label, hours, *rest,
                                  message_id=100 + i)  # type: ignore[misc]
            made.tickets[label] = (key, number)
        # 幸福里's emergency elevator is accepted and resolved: no longer open.
        xingfuli = made.community("xingfuli").deps
        boss = xingfuli.current_config().person("张书记")
        assert boss is not None
        actor = Actor(user_id=SECRETARY, person=boss, name="张书记")
        x3 = made.tickets["X3"][1]
        clock.set(T0 + timedelta(hours=7))
        await xingfuli.service.accept(x3, actor)
        await xingfuli.service.resolve(x3, actor, "已修好")
        # 安乐's and 和平's workers accepted one each in time: not overdue on Tuesday.
        for label, worker, user in (("A2", "孙丽", 3001), ("H1", "钱伟", 4001)):
            deps = made.community(made.tickets[label][0]).deps
            person = deps.current_config().person(worker)
            assert person is not None
            await deps.service.accept(made.tickets[label][1],
                                      Actor(user_id=user, person=person, name=worker))
        clock.set(NOW)
        yield made
    finally:
        await server.stop()
        for db in opened:
            await db.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def signed_in(street: Street, session: aiohttp.ClientSession, user: int, key: str,
                    community: str = "xingfuli") -> Browser:
    deps = street.community(community).deps
    started = await start_session(deps.db, street.clock, user, key, "test")
    session.cookie_jar.update_cookies({COOKIE: started.cookie_value,
                                       COMMUNITY_COOKIE: community},
                                      response_url=URL(street.server.url))
    return Browser(session, street.server.url)


async def chief(street: Street, session: aiohttp.ClientSession) -> Browser:
    return await signed_in(street, session, STREET_CHIEF, "赵主任(街道)")


def labels(street: Street, page: str) -> list[str]:
    by_ticket = {v: k for k, v in street.tickets.items()}
    return [by_ticket[(key, number)] for key, number in ROW.findall(page)]


async def listed(street: Street, browser: Browser, query: str = "") -> list[str]:
    status, page = await browser.get("/street/tickets" + (f"?{query}" if query else ""))
    assert status == 200, page[:300]
    return labels(street, page)


async def test_one_list_across_communities_in_the_merged_order(
        street: Street, http: aiohttp.ClientSession) -> None:
    browser = await chief(street, http)
    status, page = await browser.get("/street/tickets")
    assert status == 200, page[:300]
    assert labels(street, page) == NEWEST
    # Each row names its community, shows the number with the key, links to the ticket
    # in its own community through the switch.
    number = street.tickets["A1"][1]
    assert '<td data-label="社区">安乐社区</td>' in page
    assert f">anle {number}</a>" in page
    assert re.search(r'id="street-total">8<', page)
    counts = dict(re.findall(r'data-community="(\w+)"><a [^>]+>[^<]+</a> <strong>(\d+)<', page))
    assert counts == {"xingfuli": "3", "anle": "2", "heping": "3"}
    assert await listed(street, browser, "sort=old") == OLDEST
    assert await listed(street, browser, "sort=urgency") == [
        "X3", "H2", "X2", "A1", "A2", "H1", "H3", "X1"]


async def test_keyset_pages_walk_every_ticket_once(
        street: Street, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch) -> None:
    browser = await chief(street, http)
    for size, sort, expected in ((1, "new", NEWEST), (3, "new", NEWEST),
                                 (2, "old", OLDEST)):
        monkeypatch.setattr(street_list, "PAGE_SIZE", size)
        seen: list[str] = []
        path: str | None = f"/street/tickets?sort={sort}"
        pages = 0
        while path:
            status, page = await browser.get(path)
            assert status == 200, page[:300]
            rows = labels(street, page)
            assert len(rows) <= size
            seen += rows
            match = NEXT.search(page)
            path = match.group(1).replace("&amp;", "&") if match else None
            pages += 1
        assert seen == expected, (size, sort)
        assert pages == -(-len(expected) // size)


async def test_filters_and_counts(street: Street, http: aiohttp.ClientSession) -> None:
    browser = await chief(street, http)
    assert await listed(street, browser, "state=open") == [
        x for x in NEWEST if x != "X3"]
    assert await listed(street, browser, "state=resolved") == ["X3"]
    assert await listed(street, browser, "category=water_leak") == ["A2", "X2"]
    assert await listed(street, browser, "urgency=emergency") == ["X3", "H2"]
    assert await listed(street, browser, "q=漏水") == ["A2", "X2"]
    assert await listed(street, browser, "q=电梯&state=open") == ["H2"]
    # Communities chosen as a comma list or as the form's checkboxes.
    assert await listed(street, browser, "c=anle,heping") == ["H2", "A2", "H1", "A1", "H3"]
    assert await listed(street, browser, "c=xingfuli&c=heping&category=elevator") == [
        "X3", "H2"]
    # Registration dates, each community's own days: Monday 09:00–11:00 local.
    assert await listed(street, browser, "from=2026-11-02&to=2026-11-02&sort=old") == OLDEST
    assert await listed(street, browser, "from=2026-11-03") == []
    # Overdue at NOW (Tuesday 15:00): open and unaccepted past the accept deadline.
    assert await listed(street, browser, "overdue=1") == ["H2", "X2", "A1", "H3", "X1"]
    assert await listed(street, browser, "state=accepted") == ["A2", "H1"]
    status, page = await browser.get("/street/tickets?c=anle&category=water_leak")
    assert status == 200 and re.search(r'id="street-total">1<', page)
    counts = dict(re.findall(r'data-community="(\w+)"><a [^>]+>[^<]+</a> <strong>(\d+)<', page))
    assert counts == {"anle": "1"}
    # A number matches in every community; written as the list shows it, in one.
    a1, h3 = street.tickets["A1"][1], street.tickets["H3"][1]
    assert a1 == h3 == street.tickets["X1"][1]  # each community's first of the month
    assert await listed(street, browser, f"q={a1}") == ["A1", "H3", "X1"]
    assert await listed(street, browser, f"q=heping+{h3}") == ["H3"]
    assert await listed(street, browser, f"q=heping+{h3}&c=anle") == []
    # A community's own grid or person means nothing street-wide: ignored, not refused.
    assert await listed(street, browser, "grid=第一网格") == NEWEST


@pytest.mark.parametrize("query", [
    "c=nowhere", "c=anle,bogus", "state=done", "category=%3Cscript%3E", "urgency=high",
    "overdue=yes", "from=2026-13-01", "from=2026-11-05&to=2026-11-01", "q=" + "漏" * 51,
    "sort=random", "after=%%%", "after=eyJ4IjoxfQ", "sort=new&sort=old", "q=%00abc",
])
async def test_bad_parameters_answer_400_in_chinese(
        street: Street, http: aiohttp.ClientSession, query: str) -> None:
    browser = await chief(street, http)
    for path in ("/street/tickets", "/street/export/tickets.xlsx"):
        status, text = await browser.get(f"{path}?{query}")
        assert status == 400, (path, query, text[:200])
        assert re.search(r"[\u4e00-\u9fff]", text), text[:200]


async def test_a_row_opens_the_ticket_in_its_own_community(
        street: Street, http: aiohttp.ClientSession) -> None:
    browser = await chief(street, http)
    status, page = await browser.get("/street/tickets?c=heping")
    assert status == 200
    number = street.tickets["H2"][1]
    href = f"/street/switch?c=heping&amp;next=%2Ftickets%2F{number}"
    assert href in page
    status, page = await browser.get(href.replace("&amp;", "&"))
    assert status == 200 and f"工单 heping {number}" in page and "电梯困人" in page
    assert "<title>" in page and "和平社区" in page


async def test_the_export_has_the_same_rows_with_the_community(
        street: Street, http: aiohttp.ClientSession) -> None:
    browser = await chief(street, http)
    status, page = await browser.get("/street/tickets?q=漏水")
    assert status == 200 and 'href="/street/export/tickets.xlsx?q=%E6%BC%8F%E6%B0%B4"' in page
    for query, expected in (("", NEWEST), ("q=漏水", ["A2", "X2"]),
                            ("c=heping,anle&sort=old", ["A1", "H3", "H1", "A2", "H2"])):
        async with http.get(f"{street.server.url}/street/export/tickets.xlsx?{query}") as r:
            assert r.status == 200, await r.text()
            body = await r.read()
            disposition = r.headers["Content-Disposition"]
        assert "幸福街道_街道工单_" in unquote(disposition)
        sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True).active
        assert sheet is not None
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert rows[0][:3] == ["社区", "编号", "登记时间"] and len(rows[0]) == 21
        got = [(row[0], row[1]) for row in rows[1:]]
        assert got == [(NAMES[street.tickets[x][0]], street.tickets[x][1]) for x in expected]
        texts = {row[1]: row[11] for row in rows[1:] if row[0] == "和平社区"}
        if "H2" in expected:
            assert "电梯困人" in texts[street.tickets["H2"][1]]


async def test_only_the_street_office(street: Street, http: aiohttp.ClientSession) -> None:
    anonymous = Browser(http, street.server.url)
    status, _ = await anonymous.get("/street/tickets")
    assert status == 401
    browser = await signed_in(street, http, SECRETARY, "张书记")
    for path in ("/street/tickets", "/street/export/tickets.xlsx", "/street/tickets?c=anle"):
        status, page = await browser.get(path)
        assert status == 403 and "只有街道人员可以查看" in page, (path, page[:200])
        assert "井盖" not in page
    status, page = await browser.get("/tickets")  # her own list, as before
    assert status == 200 and "街道工单" not in page


async def test_linked_from_the_street_page_and_the_navigation(
        street: Street, http: aiohttp.ClientSession) -> None:
    browser = await chief(street, http)
    status, page = await browser.get("/street")
    assert status == 200
    assert 'href="/street/tickets"' in page and 'href="/street/export/tickets.xlsx"' in page
    assert 'href="/street/tickets?c=anle&amp;state=open"' in page
    status, page = await browser.get("/street/tickets")
    assert re.search(r'<a href="/street/tickets" class="active"[^>]*>街道工单</a>', page)
    assert '<a href="/street">街道总览</a>' in page


async def test_the_street_list_in_chromium(street: Street, http: aiohttp.ClientSession,
                                           chromium: Any, screenshot_dir: Path) -> None:
    browser = await chief(street, http)
    base = street.server.url
    cookies = [{"name": c.key, "value": c.value, "url": base} for c in browser.session.cookie_jar]
    for width, height, name in ((1280, 900, "desktop"), (390, 844, "phone")):
        context = await chromium.new_context(viewport={"width": width, "height": height},
                                             locale="zh-CN", accept_downloads=True)
        await context.add_cookies(cookies)
        page = await context.new_page()
        await page.goto(base + "/street")
        await page.screenshot(path=str(screenshot_dir / f"street-{name}.png"))
        await page.click("#street-tickets-link")
        await page.wait_for_url("**/street/tickets")
        rows = page.locator("#street-ticket-list tbody tr")
        assert await rows.count() == 8
        assert "幸福里社区" in await rows.first.inner_text()
        assert await page.evaluate("document.documentElement.scrollWidth") <= width
        await page.screenshot(path=str(screenshot_dir / f"street-tickets-{name}.png"),
                              full_page=name == "desktop")
        # Choose two communities and open tickets through the form.
        await page.click("#filters summary")
        await page.check("#filters input[name=c][value=anle]")
        await page.check("#filters input[name=c][value=heping]")
        await page.select_option("#f-state", "open")
        await page.click("#filters button[type=submit]")
        await page.wait_for_url("**/street/tickets?*")
        assert await rows.count() == 5
        assert {await r.get_attribute("data-community") for r in await rows.all()} == {
            "anle", "heping"}
        assert "共 5 件" in (await page.inner_text("#street-counts")).replace("\n", " ")
        await page.screenshot(path=str(screenshot_dir / f"street-tickets-{name}-filtered.png"),
                              full_page=name == "desktop")
        async with page.expect_download() as download:
            await page.click("#export-link")
        assert (await download.value).suggested_filename.startswith("幸福街道_街道工单_")
        # A row opens its ticket in its own community.
        await rows.first.locator("a").first.click()
        await page.wait_for_url("**/tickets/*")
        assert "电梯困人" in await page.inner_text("main")
        await context.close()
