"""Signing in to the console over real HTTP against the running bot: /web links (valid,
expired, reused, forged, another user's), the POST confirm, sessions (idle expiry,
/web logout, removal from the config), CSRF, and Mini App init data."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from localapi import LocalBotApi
from runtime.app import GridBot
from services import console_access
from tests.support.console_web import console_url, init_data, login_link, signed_in
from tests.support.e2e import RESIDENT, SUPERVISOR, WORKER_1, WORKER_2
from tickets.clock import FakeClock

SIGN_IN_HINT = "/web"


async def test_web_sends_a_one_time_link_that_signs_in_by_post(
    server: LocalBotApi, console_bot: GridBot, browsers, caplog
) -> None:
    link = await login_link(server, console_bot, WORKER_1)
    assert link.startswith(console_url(console_bot) + "/login/")
    path = link[link.index("/login/"):]
    browser = await browsers(console_url(console_bot))
    # A link preview (GET) does not spend the link and does not sign in.
    for _ in range(2):
        status, page = await browser.get(path)
        assert status == 200 and "进入工作台" in page
    status, page = await browser.get("/agenda")
    assert status == 401 and SIGN_IN_HINT in page
    status, page = await browser.post(path)
    assert status == 200 and "王芳" in page  # redirected to the dashboard, signed in
    cookie = next(c for c in browser.session.cookie_jar if c.key == "gridbot_console")
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert not cookie["secure"]  # plain http on 127.0.0.1
    status, page = await browser.get("/agenda")
    assert status == 200 and "议事清单" in page
    # Used once: a second browser cannot use it again.
    other = await browsers(console_url(console_bot))
    status, page = await other.get(path)
    assert status == 403 and "已经用过" in page
    status, page = await other.post(path)
    assert status == 403 and "已经用过" in page
    assert any("refused (used)" in r.getMessage() for r in caplog.records)  # logged
    status, _ = await other.get("/agenda")
    assert status == 401


async def test_link_preview_is_disabled_and_link_goes_only_to_the_sender(
    server: LocalBotApi, console_bot: GridBot
) -> None:
    await login_link(server, console_bot, WORKER_1)
    [request] = [r for r in server.sent(chat_id=WORKER_1, method="sendMessage")
                 if "/login/" in (r.text or "")]
    assert request.params.get("link_preview_options", {}).get("is_disabled") is True
    assert not [r for r in server.sent(method="sendMessage")
                if "/login/" in (r.text or "") and r.chat_id != WORKER_1]


async def test_expired_link_is_refused(server: LocalBotApi, console_bot: GridBot,
                                       clock: FakeClock, browsers, caplog) -> None:
    link = await login_link(server, console_bot, WORKER_1)
    clock.advance(minutes=10, seconds=1)
    browser = await browsers(console_url(console_bot))
    path = link[link.index("/login/"):]
    status, page = await browser.get(path)
    assert status == 403 and "已过期" in page
    status, page = await browser.post(path)
    assert status == 403 and "已过期" in page
    assert (await browser.get("/agenda"))[0] == 401
    refusals = [r.getMessage() for r in caplog.records if "refused (expired)" in r.getMessage()]
    assert refusals and f"user {WORKER_1}" in refusals[-1]  # failed logins are logged


async def test_forged_and_other_users_links_are_refused(
    server: LocalBotApi, console_bot: GridBot, browsers
) -> None:
    link = await login_link(server, console_bot, WORKER_1)
    path = link[link.index("/login/"):]
    uid, nonce, exp, sig = path.removeprefix("/login/").split(".")
    browser = await browsers(console_url(console_bot))
    flipped = sig[:-1] + ("A" if sig[-1] != "A" else "B")
    for forged in (
        f"{uid}.{nonce}.{exp}.{flipped}",  # signature changed
        f"{SUPERVISOR}.{nonce}.{exp}.{sig}",  # moved to another (more powerful) user
        f"{uid}.{nonce}.{int(exp) + 3600}.{sig}",  # lifetime stretched
        "garbage", "1.2.3", "x" * 500, "%00%00",
    ):
        status, page = await browser.post(f"/login/{forged}")
        assert 400 <= status < 500, (forged, status)
        assert "链接" in page or "非法字符" in page, (forged, page)
        assert (await browser.get("/agenda"))[0] == 401
    # The genuine link still works afterwards.
    status, page = await browser.post(path)
    assert status == 200 and "王芳" in page


async def test_residents_get_a_refusal_and_no_link(server: LocalBotApi,
                                                   console_bot: GridBot) -> None:
    await server.command(RESIDENT, RESIDENT, "/web")
    await server.wait_consumed()
    await console_bot.until_idle()
    texts = [r.text or "" for r in server.sent(chat_id=RESIDENT, method="sendMessage")]
    assert any("只对社区工作人员开放" in t for t in texts)
    assert not any("/login/" in t for t in texts)


async def test_session_expires_after_12_idle_hours(server: LocalBotApi, console_bot: GridBot,
                                                   clock: FakeClock, browsers) -> None:
    browser = await signed_in(server, console_bot, browsers, WORKER_1)
    clock.advance(hours=11, minutes=50)
    assert (await browser.get("/agenda"))[0] == 200  # used: the idle clock restarts
    clock.advance(hours=11, minutes=50)
    assert (await browser.get("/agenda"))[0] == 200
    clock.advance(hours=12, minutes=1)
    status, page = await browser.get("/agenda")
    assert status == 401 and SIGN_IN_HINT in page


async def test_web_logout_ends_all_sessions_of_that_person_only(
    server: LocalBotApi, console_bot: GridBot, browsers
) -> None:
    phone = await signed_in(server, console_bot, browsers, WORKER_1)
    desktop = await signed_in(server, console_bot, browsers, WORKER_1)
    colleague = await signed_in(server, console_bot, browsers, WORKER_2)
    await server.command(WORKER_1, WORKER_1, "/web logout")
    await server.wait_consumed()
    await console_bot.until_idle()
    assert any("已退出网格工作台" in (r.text or "")
               for r in server.sent(chat_id=WORKER_1, method="sendMessage"))
    assert (await phone.get("/agenda"))[0] == 401
    assert (await desktop.get("/agenda"))[0] == 401
    assert (await colleague.get("/agenda"))[0] == 200


async def test_logout_button_ends_this_session(server: LocalBotApi, console_bot: GridBot,
                                               browsers) -> None:
    browser = await signed_in(server, console_bot, browsers, WORKER_1)
    await browser.get("/agenda")
    status, page = await browser.post("/logout")
    assert status == 200 and "已退出" in page
    assert (await browser.get("/agenda"))[0] == 401


async def test_person_removed_from_config_is_locked_out_at_next_request(
    server: LocalBotApi, console_bot: GridBot, browsers
) -> None:
    browser = await signed_in(server, console_bot, browsers, WORKER_1)
    assert (await browser.get("/agenda"))[0] == 200
    assert console_bot.console is not None
    deps = console_bot.console.deps
    config = deps.config
    without = dataclasses.replace(
        config, people=tuple(p for p in config.people if p.telegram_id != WORKER_1))
    object.__setattr__(deps, "config_source", lambda: without)  # as a config reload does
    status, page = await browser.get("/agenda")
    assert status == 403 and "不是本社区配置的工作人员" in page
    object.__setattr__(deps, "config_source", None)
    assert (await browser.get("/agenda"))[0] == 401  # the session was ended, not paused


async def test_post_without_or_with_wrong_csrf_token_is_refused(
    server: LocalBotApi, console_bot: GridBot, browsers
) -> None:
    browser = await signed_in(server, console_bot, browsers, SUPERVISOR)
    await browser.get("/agenda")
    assert browser.csrf
    for token in ("", "wrong-token", browser.csrf + "x"):
        status, page = await browser.post("/logout", csrf=token)
        assert status == 403 and "安全校验" in page
    # Another session's token does not work either.
    other = await signed_in(server, console_bot, browsers, WORKER_1)
    await other.get("/agenda")
    status, _ = await browser.post("/logout", csrf=other.csrf)
    assert status == 403
    assert (await browser.get("/agenda"))[0] == 200  # still signed in
    # The header form works.
    async with browser.session.post(browser.base + "/logout",
                                    headers={"X-CSRF-Token": browser.csrf}) as response:
        assert response.status == 200
    assert (await browser.get("/agenda"))[0] == 401


async def test_mini_app_init_data_good_bad_and_stale(
    server: LocalBotApi, console_bot: GridBot, clock: FakeClock, browsers
) -> None:
    now = int(clock.now().timestamp())
    base = console_url(console_bot)
    good = await browsers(base)
    status, page = await good.get("/miniapp")
    assert status == 200 and "miniapp.js" in page
    status, page = await good.post("/miniapp/login",
                                   {"init_data": init_data(server.token, WORKER_1, now)})
    assert status == 200 and "王芳" in page
    assert (await good.get("/agenda"))[0] == 200

    cases = {
        "wrong bot token": init_data("123:other", WORKER_1, now),
        "stale": init_data(server.token, WORKER_1, now - 2 * 3600),
        "tampered": init_data(server.token, WORKER_1, now).replace(
            str(WORKER_1), str(SUPERVISOR)),
        "no hash": urlencode({"auth_date": now, "user": json.dumps({"id": WORKER_1})}),
        "junk": "%%%===&&&",
        "superscript date": init_data(server.token, WORKER_1, "²"),
        "huge date": init_data(server.token, WORKER_1, "9" * 40),
        "resident": init_data(server.token, RESIDENT, now),
    }
    for name, data in cases.items():
        bad = await browsers(base)
        status, page = await bad.post("/miniapp/login", {"init_data": data})
        assert status == 403, (name, status)
        assert "校验失败" in page or "不是本社区配置的工作人员" in page, name
        assert (await bad.get("/agenda"))[0] == 401, name


def test_init_data_check_matches_telegrams_algorithm() -> None:
    """The documented algorithm, checked on data signed here (independent of the server)."""
    from datetime import UTC, datetime

    now = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    data = init_data("42:secret", 1001, int(now.timestamp()) - 60, chat_type="private")
    assert console_access.check_init_data(data, "42:secret", now) == 1001
    assert console_access.check_init_data(
        data, "42:secret", now + timedelta(minutes=30)) == 1001
    with pytest.raises(console_access.InitDataRefused, match="stale"):
        console_access.check_init_data(data, "42:secret", now + timedelta(hours=2))
    with pytest.raises(console_access.InitDataRefused, match="bad hash"):
        console_access.check_init_data(data.replace("private", "group"), "42:secret", now)
    with pytest.raises(console_access.InitDataRefused, match="bad hash"):
        console_access.check_init_data(data, "42:other", now)


async def test_help_button_sends_a_login_link_to_staff(server: LocalBotApi,
                                                       console_bot: GridBot) -> None:
    await server.command(WORKER_1, WORKER_1, "/help")
    await server.wait_consumed()
    await console_bot.until_idle()
    help_message = server.last_bot_message(WORKER_1)
    assert help_message is not None
    assert "w:login:1" in str(help_message.reply_markup)
    await server.tap(help_message, WORKER_1, "w:login:1")
    await server.wait_consumed()
    await console_bot.until_idle()
    links = [r for r in server.sent(chat_id=WORKER_1, method="sendMessage")
             if "/login/" in (r.text or "")]
    assert len(links) == 1
    assert any("已私聊" in (a.text or "") for a in server.callback_answers)
    # Residents get neither the button nor, with forged data, a link.
    await server.command(RESIDENT, RESIDENT, "/help")
    await server.wait_consumed()
    await console_bot.until_idle()
    resident_help = server.last_bot_message(RESIDENT)
    assert resident_help is not None and "w:login" not in str(resident_help.reply_markup)
    await server.tap(resident_help, RESIDENT, "w:login:1", verify=False)
    await server.wait_consumed()
    await console_bot.until_idle()
    assert not [r for r in server.sent(chat_id=RESIDENT) if "/login/" in (r.text or "")]


async def test_https_console_url_sets_staff_menu_buttons_and_secure_cookies(
    server: LocalBotApi, community, clock: FakeClock, db_path: str
) -> None:
    from tests.support.e2e import fast_options

    bot = GridBot(community, server.token, db_path, clock=clock,
                  options=fast_options(server, web="127.0.0.1:0",
                                       web_url="https://grid.example.cn/"))
    await bot.start()
    try:
        buttons = server.sent(method="setChatMenuButton")
        staff_ids = {p.telegram_id for p in community.people if p.telegram_id and p.is_staff}
        assert {int(r.params["chat_id"]) for r in buttons} == staff_ids
        [url] = {json.loads(r.params["menu_button"])["web_app"]["url"]
                 if isinstance(r.params["menu_button"], str)
                 else r.params["menu_button"]["web_app"]["url"] for r in buttons}
        assert url == "https://grid.example.cn/miniapp"
        link = await login_link(server, bot, WORKER_1)
        assert link.startswith("https://grid.example.cn/login/")
        token = link.rsplit("/", 1)[1]
        import aiohttp

        async with aiohttp.ClientSession() as http, http.post(f"{console_url(bot)}/login/{token}",
                             allow_redirects=False) as response:
            assert response.status == 303
            cookie = response.cookies["gridbot_console"]
            assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Strict"
    finally:
        await bot.stop()


async def test_plain_http_console_sets_no_menu_button(server: LocalBotApi,
                                                      console_bot: GridBot) -> None:
    assert console_bot.console is not None
    assert not server.sent(method="setChatMenuButton")


async def test_web_in_a_group_asks_for_the_private_chat(server: LocalBotApi,
                                                        console_bot: GridBot) -> None:
    from tests.support.e2e import GROUP_1

    await server.command(GROUP_1, WORKER_1, "/web")
    await server.wait_consumed()
    await console_bot.until_idle()
    group = [r.text or "" for r in server.sent(chat_id=GROUP_1, method="sendMessage")]
    assert any("私聊" in t for t in group) and not any("/login/" in t for t in group)
    assert not [r for r in server.sent(chat_id=WORKER_1) if "/login/" in (r.text or "")]


async def test_export_token_urls_bypass_the_session_for_reading_only(
    server: LocalBotApi, console_bot: GridBot, browsers
) -> None:
    browser = await browsers(console_url(console_bot))
    for path in ("/export/tickets.xlsx?token=forged", "/export/monthly.xlsx?token="):
        status, page = await browser.get(path)
        assert status == 403, path  # refused by the export's own token check, not a 500
        heading = page.split("<h1>")[1].split("</h1>")[0]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in heading), heading  # in Chinese
    # Writing never bypasses the session and CSRF checks, token or not.
    status, _ = await browser.post("/export/tokens?token=forged", {"name": "x"}, csrf="")
    assert status == 401
