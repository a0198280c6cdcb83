"""One console for a deployment of two communities (two bots, two databases), through
real HTTP and a real Chromium: a secretary sees only their own community as today; the
street office signs in from either bot, compares the communities on /street and switches
between them; ticket numbers are shown with the community key."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

from localapi import LocalBotApi
from runtime.deployment import DeploymentRuntime
from runtime.street_console import open_street_console, street_server
from services.console_access import issue_login_link
from tests.support.console_web import Browser, init_data, login_link
from tests.support.deployment import (
    ANLE_GROUP,
    ANLE_WORKER,
    STREET_CHIEF,
    TOKEN_A,
    TOKEN_B,
    deployment_database,
    deployment_servers,
    running_deployment,
)
from tests.support.e2e import GROUP_1, RESIDENT, SUPERVISOR
from tickets.clock import FakeClock

DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
async def servers() -> AsyncIterator[dict[str, LocalBotApi]]:
    async with deployment_servers() as running:
        yield running


@pytest.fixture
async def street(tmp_path: Path, servers: dict[str, LocalBotApi], clock: FakeClock,
                 db_target: str) -> AsyncIterator[DeploymentRuntime]:
    async with running_deployment(tmp_path, servers, clock, web="127.0.0.1:0",
                                  database=deployment_database(db_target)) as running:
        for api, text, chat in ((servers[TOKEN_A], "3号楼楼道灯坏了好几天了 晚上看不见", GROUP_1),
                                (servers[TOKEN_B], "安乐苑5号楼门口的井盖丢了 很危险", ANLE_GROUP)):
            await api.post(chat, RESIDENT, text)
            await api.wait_consumed(timeout=10)
        await running.until_idle()
        yield running


def base(runtime: DeploymentRuntime) -> str:
    assert runtime.console is not None
    return runtime.console.url


async def sign_in(runtime: DeploymentRuntime, api: LocalBotApi, key: str, user: int,
                  make: Any) -> Browser:
    link = await login_link(api, runtime.bot(key), user)
    assert link.startswith(base(runtime) + "/login/"), "every bot links to the one console"
    browser: Browser = await make(base(runtime))
    path = link[link.index("/login/"):]
    status, page = await browser.get(path)
    assert status == 200 and "进入工作台" in page, page
    status, page = await browser.post(path)
    assert status == 200, page
    return browser


def numbers(page: str) -> list[str]:
    return re.findall(r'<a href="/tickets/([0-9-]+)"', page)


async def test_a_secretary_sees_only_their_own_community(
        street: DeploymentRuntime, servers: dict[str, LocalBotApi], browsers: Any) -> None:
    browser = await sign_in(street, servers[TOKEN_A], "xingfuli", SUPERVISOR, browsers)
    status, page = await browser.get("/tickets")
    assert status == 200 and "楼道灯" in page and "井盖" not in page
    assert "幸福里社区" in page and "community-switcher" not in page
    status, page = await browser.get("/street")
    assert status == 403 and "只有街道人员" in page
    status, _ = await browser.get("/street/switch?c=anle&next=/tickets")
    assert status == 403
    # The community cookie only selects: there is no session of hers in 安乐's database.
    browser.session.cookie_jar.update_cookies({"gridbot_community": "anle"},
                                              response_url=URL(base(street)))
    assert "anle" in [c.value for c in browser.session.cookie_jar]
    status, page = await browser.get("/tickets")
    assert status == 401 and "井盖" not in page


async def test_another_communitys_worker_sees_theirs(
        street: DeploymentRuntime, servers: dict[str, LocalBotApi], browsers: Any) -> None:
    browser = await sign_in(street, servers[TOKEN_B], "anle", ANLE_WORKER, browsers)
    status, page = await browser.get("/tickets")
    assert status == 200 and "井盖" in page and "楼道灯" not in page
    assert "安乐社区" in page


async def test_the_street_compares_and_switches(
        street: DeploymentRuntime, servers: dict[str, LocalBotApi], browsers: Any) -> None:
    browser = await sign_in(street, servers[TOKEN_B], "anle", STREET_CHIEF, browsers)
    status, page = await browser.get("/street")
    assert status == 200, page
    rows = re.findall(r'<tr data-community="(\w+)">(.*?)</tr>', page, re.S)
    assert [key for key, _ in rows] == ["xingfuli", "anle"]
    for _, row in rows:
        cells = re.findall(r'<td class="num[^"]*">([^<]*)', row)
        assert cells[:3] == ["1", "1", "0"], row  # new, open, overdue
    assert "全街道" in page

    status, page = await browser.get("/tickets")  # signed in through 安乐's bot
    assert status == 200 and "井盖" in page and "楼道灯" not in page
    assert 'id="community-switcher"' in page
    status, page = await browser.get("/street/switch?c=xingfuli&next=/tickets")
    assert status == 200 and "楼道灯" in page and "井盖" not in page
    [number] = numbers(page)
    assert f"xingfuli {number}</a>" in page, "the street sees numbers with the community key"
    status, page = await browser.get(f"/tickets/{number}")
    assert status == 200 and f"工单 xingfuli {number}" in page
    status, page = await browser.get("/street/switch?c=anle&next=//evil.example/")
    # Only paths of this console are followed: the dashboard of 安乐 instead.
    assert status == 200 and "<title>总览 · 安乐社区</title>" in page
    status, _ = await browser.get("/street/switch?c=nowhere")
    assert status == 400


async def test_street_console_in_chromium(
        street: DeploymentRuntime, servers: dict[str, LocalBotApi], chromium: Any,
        screenshot_dir: Path) -> None:
    link = await login_link(servers[TOKEN_A], street.bot("xingfuli"), STREET_CHIEF)
    context = await chromium.new_context(viewport=DESKTOP, locale="zh-CN")
    page = await context.new_page()
    await page.goto(link)
    await page.click("#enter")
    await page.wait_for_load_state()
    assert "赵主任" in await page.inner_text(".who")
    await page.click("nav a:text('街道总览')")
    await page.wait_for_url("**/street")
    rows = page.locator("#street-table tbody tr[data-community]")
    assert await rows.count() == 2
    await page.screenshot(path=str(screenshot_dir / "street-desktop.png"), full_page=True)
    await page.select_option("#switch-c", "anle")
    await page.click("#community-switcher button[type=submit]")
    await page.wait_for_url("**/tickets")
    assert "井盖" in await page.inner_text("main")
    assert "楼道灯" not in await page.inner_text("main")
    await page.screenshot(path=str(screenshot_dir / "street-list-desktop.png"), full_page=True)
    await context.close()


async def test_mini_app_sign_in_finds_the_community_of_the_signing_bot(
        street: DeploymentRuntime, browsers: Any, clock: FakeClock) -> None:
    browser: Browser = await browsers(base(street))
    signed = init_data(TOKEN_B, ANLE_WORKER, int(clock.now().timestamp()))
    status, page = await browser.post("/miniapp/login", {"init_data": signed})
    assert status == 200 and "<title>总览 · 安乐社区</title>" in page, page
    forged = init_data(TOKEN_A, ANLE_WORKER, int(clock.now().timestamp()))
    other: Browser = await browsers(base(street))
    status, _ = await other.post("/miniapp/login", {"init_data": forged})
    assert status == 403  # 幸福里's bot signed it, and she is no staff of 幸福里


async def test_the_console_alone_against_the_deployments_databases(
        tmp_path: Path, servers: dict[str, LocalBotApi], clock: FakeClock,
        browsers: Any, db_target: str) -> None:
    async with running_deployment(tmp_path, servers, clock,  # the databases made
                                  database=deployment_database(db_target)) as running:
        await servers[TOKEN_B].post(ANLE_GROUP, RESIDENT, "安乐苑5号楼门口的井盖丢了 很危险")
        await servers[TOKEN_B].wait_consumed(timeout=10)
        await running.until_idle()
        deployment = running.deployment
    street, opened, bots = await open_street_console(deployment, public="http://127.0.0.1",
                                                     clock=clock)
    assert bots == []  # no tokens given: no photos, no Mini App
    server = await street_server(street, "127.0.0.1", 0).start()
    try:
        anle = street.get("anle")
        assert anle is not None
        token = await issue_login_link(anle.deps.db, clock, STREET_CHIEF)
        browser: Browser = await browsers(server.url)
        status, page = await browser.get(f"/login/{token}")
        assert status == 200 and "进入工作台" in page
        status, page = await browser.post(f"/login/{token}")
        assert status == 200 and "安乐社区" in page
        status, page = await browser.get("/street")
        assert status == 200 and page.count("<tr data-community=") == 2
        status, page = await browser.get("/tickets")
        assert status == 200 and "井盖" in page
    finally:
        await server.stop()
        for db in opened:
            await db.close()
