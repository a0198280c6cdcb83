"""The console in a real Chromium (Debian's, driven by Playwright): sign in through the
/web link, find a ticket, open it, accept it, and see the group card change on the local
Bot API; screenshots of the dashboard at phone and desktop widths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from localapi import LocalBotApi
from runtime.app import GridBot
from tests.support.console_web import console_url, init_data, login_link
from tests.support.e2e import GROUP_1, GROUP_2, RESIDENT, RESIDENT_2, SUPERVISOR, WORKER_1, file_report

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


async def test_worker_signs_in_opens_a_ticket_and_accepts_it(
    server: LocalBotApi, console_bot: GridBot, chromium: Any, screenshot_dir: Path
) -> None:
    lamp = await file_report(server, console_bot, "3号楼楼道灯坏了好几天了 晚上看不见")
    await file_report(server, console_bot, "翠苑小区2号楼电梯坏了 老人下不了楼",
                      user=RESIDENT_2, chat=GROUP_2)
    [card] = await server.wait_sent(chat_id=GROUP_1, method="sendMessage")
    assert card.message is not None
    card_id = card.message.message_id
    link = await login_link(server, console_bot, WORKER_1)

    context = await chromium.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    await page.goto(console_url(console_bot) + "/tickets")
    assert "/web" in await page.inner_text("main")  # not signed in: how to get in
    await page.screenshot(path=str(screenshot_dir / "signed-out-phone.png"))
    await page.goto(link)
    assert "进入工作台" in await page.inner_text("#enter")
    await page.screenshot(path=str(screenshot_dir / "login-phone.png"))
    await page.click("#enter")
    await page.wait_for_load_state()
    assert "王芳" in await page.inner_text(".who")

    await page.goto(console_url(console_bot) + "/agenda")
    rows = page.locator("#agenda-table tbody tr")
    assert await rows.count() == 1  # the other grid's ticket is not on her agenda

    # The list: filter by a search word and a state, then open the ticket from it.
    await page.click("nav a:text('工单')")
    await page.wait_for_url("**/tickets")
    await page.fill("#f-q", "楼道灯")
    await page.select_option("#f-state", "assigned")
    await page.click("#filters button[type=submit]")
    await page.wait_for_url("**/tickets?*q=*")
    rows = page.locator("#ticket-list tbody tr")
    assert await rows.count() == 1
    await page.screenshot(path=str(screenshot_dir / "list-phone.png"), full_page=True)
    assert lamp in await rows.first.inner_text()
    await page.click(f"#ticket-list a:text('{lamp}')")
    await page.wait_for_url(f"**/tickets/{lamp}")
    assert "3号楼楼道灯坏了" in await page.inner_text(".report-text")
    assert await page.inner_text("#ticket-state") == "待接单"
    await page.screenshot(path=str(screenshot_dir / "ticket-phone.png"), full_page=True)

    await page.click("#action-accept button[type=submit]")
    await page.wait_for_url(f"**/tickets/{lamp}?ok=accept")
    assert await page.inner_text("#ticket-state") == "已接单"
    assert "已接单" in await page.inner_text(".flash.ok")

    await console_bot.until_idle()
    edits = [r for r in server.sent(chat_id=GROUP_1, method="editMessageText")
             if r.params.get("message_id") == card_id]
    assert edits and "已接单" in (edits[-1].text or "")
    live = server.message(GROUP_1, card_id)
    assert live is not None and "已接单" in (live.text or "")

    # A progress note through the form, then the refusal of a repeated accept is shown.
    await page.fill("#note-progress", "已报修,明天上午换灯")
    await page.click("#action-progress button[type=submit]")
    await page.wait_for_url(f"**/tickets/{lamp}?ok=progress")
    assert "已报修,明天上午换灯" in await page.inner_text("#timeline")
    await context.close()


async def test_dashboard_screenshots_at_phone_and_desktop_width(
    server: LocalBotApi, console_bot: GridBot, chromium: Any, screenshot_dir: Path
) -> None:
    for text, user, chat in (
        ("3号楼楼道灯坏了好几天了 晚上看不见", RESIDENT, GROUP_1),
        ("8号楼3单元楼上漏水 天花板都湿了", RESIDENT_2, GROUP_1),
        ("翠苑小区2号楼电梯坏了 老人下不了楼", RESIDENT, GROUP_2),
    ):
        await file_report(server, console_bot, text, user=user, chat=chat)
    link = await login_link(server, console_bot, SUPERVISOR)
    context = await chromium.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    await page.goto(link)
    await page.click("#enter")
    await page.wait_for_load_state("networkidle")
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(viewport)
        await page.goto(console_url(console_bot) + "/")
        await page.wait_for_load_state("networkidle")
        assert "张书记" in await page.inner_text(".who")
        target = screenshot_dir / f"dashboard-{name}.png"
        await page.screenshot(path=str(target), full_page=True)
        assert target.stat().st_size > 10_000
        # Nothing wider than the screen except inside the scrollable tables.
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        wide = await page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
                    && !e.closest('.table-wrap'))
            .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)""")
        assert overflow <= 0, f"{name}: page is {overflow}px wider than the screen: {wide}"
        await page.goto(console_url(console_bot) + "/agenda")
        await page.screenshot(path=str(screenshot_dir / f"agenda-{name}.png"), full_page=True)
        await page.emulate_media(media="print")
        assert not await page.is_visible(".topbar")
        assert await page.is_visible("#agenda-table th.print-only")  # a column for decisions
        await page.screenshot(path=str(screenshot_dir / f"agenda-print-{name}.png"),
                              full_page=True)
        await page.emulate_media(media="screen")
    await context.close()


async def test_mini_app_page_signs_in_from_telegramsinit_data(
    server: LocalBotApi, console_bot: GridBot, chromium: Any, clock: Any
) -> None:
    from urllib.parse import quote


    init = init_data(server.token, WORKER_1, int(clock.now().timestamp()))
    context = await chromium.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    # Telegram opens the Mini App with the signed data in the URL fragment.
    await page.goto(console_url(console_bot)
                    + f"/miniapp#tgWebAppData={quote(init)}&tgWebAppVersion=8.0")
    await page.wait_for_selector(".who")
    assert "王芳" in await page.inner_text(".who")
    # Opened outside Telegram (no init data): an explanation, no session.
    other = await chromium.new_context(viewport=PHONE, locale="zh-CN")
    bare = await other.new_page()
    await bare.goto(console_url(console_bot) + "/miniapp")
    assert "/web" in await bare.inner_text("#miniapp-status")
    await other.close()
    await context.close()
