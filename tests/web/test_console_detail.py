"""The ticket detail page and its actions over real HTTP against the running bot: the
same use cases as the chat (the group card changes), role checks on every action,
other grids' tickets, forged numbers, oversized input, photos, and the agenda."""

from __future__ import annotations

from localapi import LocalBotApi
from runtime.app import GridBot
from tests.support.console_web import signed_in
from tests.support.e2e import GROUP_1, GROUP_2, POLICE, RESIDENT, SUPERVISOR, WORKER_1, WORKER_2, file_report
from web.detail import ACTIONS

LEAK = "3号楼楼道灯坏了好几天了 晚上看不见 电话13812345678"


async def state_of(bot: GridBot, number: str) -> tuple[str, str | None]:
    assert bot.services is not None
    async with bot.services.db.read() as r:
        ticket = await r.tickets.get_by_number(number)
    assert ticket is not None
    return str(ticket.state), ticket.assignee


async def test_accept_from_the_console_updates_the_group_card(
    server: LocalBotApi, console_bot: GridBot, browsers
) -> None:
    number = await file_report(server, console_bot, LEAK)
    [card] = await server.wait_sent(chat_id=GROUP_1, method="sendMessage")
    assert card.message is not None
    card_id = card.message.message_id
    worker = await signed_in(server, console_bot, browsers, WORKER_1)
    status, page = await worker.get(f"/tickets/{number}")
    assert status == 200
    assert "3号楼楼道灯坏了" in page and "13812345678" in page  # the assignee sees it all
    assert 'id="action-accept"' in page and 'id="action-reopen"' not in page
    assert server.token not in page
    status, page = await worker.post(f"/tickets/{number}/accept")
    assert status == 200 and "已接单。" in page
    assert await state_of(console_bot, number) == ("accepted", "王芳")
    await console_bot.until_idle()
    edits = [r for r in server.sent(chat_id=GROUP_1, method="editMessageText")
             if "已接单" in (r.text or "")]
    assert edits and edits[0].params["message_id"] == card_id
    # Progress, then done: the reporter is asked to rate, as after /done in the chat.
    status, page = await worker.post(f"/tickets/{number}/progress", {"note": "已报修,明天换灯"})
    assert status == 200 and "进展已记录" in page and "已报修,明天换灯" in page
    status, page = await worker.post(f"/tickets/{number}/resolve", {"note": "已更换灯泡"})
    assert status == 200 and "已办结" in page
    await console_bot.until_idle()
    assert any("评价" in (r.text or "") for r in server.sent(chat_id=GROUP_1))
    # A second accept now is refused with the lifecycle's Chinese sentence, not a 500.
    status, page = await worker.post(f"/tickets/{number}/accept")
    assert status == 409 and 'class="flash refused"' in page


async def test_other_grids_worker_sees_nothing_and_can_do_nothing(
    server: LocalBotApi, console_bot: GridBot, browsers
) -> None:
    number = await file_report(server, console_bot, LEAK)
    other = await signed_in(server, console_bot, browsers, WORKER_2)
    status, page = await other.get(f"/tickets/{number}")
    assert status == 403 and "无权查看" in page
    assert "楼道灯" not in page and "13812345678" not in page
    await other.get("/agenda")
    for action in ACTIONS:
        status, page = await other.post(f"/tickets/{number}/{action}",
                                        {"note": "x", "to_assignee": "李强"})
        assert status == 403, action
        assert "楼道灯" not in page
    assert await state_of(console_bot, number) == ("assigned", "王芳")


async def test_role_checks_on_every_action(server: LocalBotApi, console_bot: GridBot,
                                           browsers) -> None:
    """A public-order ticket goes to the police specialist. The grid's worker sees it and
    may escalate it, but not progress, resolve, transfer or reopen what is not theirs; the
    police officer cannot even see a grid ticket outside their category; the supervisor
    may transfer."""
    number = await file_report(server, console_bot, "6号楼楼下有人聚众赌博 天天吵到半夜")
    assert await state_of(console_bot, number) == ("assigned", "刘警官")
    worker = await signed_in(server, console_bot, browsers, WORKER_1)
    status, page = await worker.get(f"/tickets/{number}")
    assert status == 200 and 'id="action-escalate"' in page
    assert 'id="action-resolve"' not in page and 'id="action-transfer"' not in page
    for action in ("resolve", "transfer", "progress", "reopen"):
        status, page = await worker.post(f"/tickets/{number}/{action}",
                                         {"note": "试试", "to_assignee": "王芳"})
        assert status == 409 and 'class="flash refused"' in page, action
    assert await state_of(console_bot, number) == ("assigned", "刘警官")

    lamp = await file_report(server, console_bot, LEAK)
    police = await signed_in(server, console_bot, browsers, POLICE)
    status, page = await police.get(f"/tickets/{lamp}")
    assert status == 403 and "楼道灯" not in page
    status, _ = await police.post(f"/tickets/{lamp}/accept")
    assert status == 403

    boss = await signed_in(server, console_bot, browsers, SUPERVISOR)
    await boss.get(f"/tickets/{number}")
    status, page = await boss.post(f"/tickets/{number}/transfer",
                                   {"to_assignee": "王芳", "note": "请网格员先去看看"})
    assert status == 200 and "已转派" in page
    assert await state_of(console_bot, number) == ("assigned", "王芳")
    assert "→ 王芳" in page  # the timeline says where it went
    status, page = await boss.post(f"/tickets/{number}/transfer", {"to_assignee": "没这个人"})
    assert status == 409 and 'class="flash refused"' in page


async def test_forged_numbers_and_bad_input_get_chinese_4xx(
    server: LocalBotApi, console_bot: GridBot, browsers
) -> None:
    number = await file_report(server, console_bot, LEAK)
    worker = await signed_in(server, console_bot, browsers, WORKER_1)
    await worker.get(f"/tickets/{number}")
    cases = {
        "/tickets/abc": 400, "/tickets/2611-9999": 404, "/tickets/1" * 3: 404,
        f"/tickets/{'9' * 300}": 400, "/tickets/2611-0001%27%3B--": 400,
        f"/tickets/{number}/photos/0": 404, f"/tickets/{number}/photos/x": 400,
        f"/tickets/{number}/photos/{'9' * 40}": 400, f"/tickets/{number}/photos/²": 400,
        "/tickets/２６１１-０００１": 400, "/tickets/٢٦١١-٠٠٠١": 400,
        "/agenda?grid=" + "网" * 100: 400, "/agenda?grid=没有的网格": 404,
        "/agenda?grid=第二网格": 403, "/tickets?" + "q=" + "x" * 5000: 400,
        "/nowhere": 404,
    }
    for path, expected in cases.items():
        status, page = await worker.get(path)
        assert status == expected, (path, status)
        assert "<h1>" in page and any("\u4e00" <= ch <= "\u9fff" for ch in page), path
    for action, data, expected in (
        ("progress", {}, 400), ("progress", {"note": "长" * 501}, 400),
        ("escalate", {"note": "  "}, 400), ("reject", {}, 400), ("fly", {}, 404),
        ("transfer", {}, 400),
    ):
        status, page = await worker.post(f"/tickets/{number}/{action}", data)
        assert status == expected, (action, status)
        assert "请" in page or "没有" in page or "太长" in page
    # An oversized body is refused before it is read.
    status, page = await worker.post(f"/tickets/{number}/progress", {"note": "长" * 40000})
    assert status == 413 and "过长" in page
    assert await state_of(console_bot, number) == ("assigned", "王芳")


async def test_photos_are_served_through_the_console_without_the_token(
    server: LocalBotApi, console_bot: GridBot, browsers
) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"GRIDBOT-TEST-PHOTO" * 20
    await server.post(GROUP_1, RESIDENT, "5号楼门口垃圾堆了三天没人清理", photo=jpeg)
    await server.wait_consumed()
    await console_bot.until_idle()
    assert console_bot.services is not None
    async with console_bot.services.db.read() as r:
        [ticket] = await r.queries.of_reporter(RESIDENT, limit=1)
    worker = await signed_in(server, console_bot, browsers, WORKER_1)
    status, page = await worker.get(f"/tickets/{ticket.number}")
    assert status == 200 and f"/tickets/{ticket.number}/photos/0" in page and "居民拍摄" in page
    assert server.token not in page
    async with worker.session.get(f"{worker.base}/tickets/{ticket.number}/photos/0") as resp:
        assert resp.status == 200 and resp.content_type == "image/jpeg"
        assert await resp.read() == jpeg
    calls = len(server.sent(method="getFile"))
    async with worker.session.get(f"{worker.base}/tickets/{ticket.number}/photos/0") as resp:
        assert await resp.read() == jpeg
    assert len(server.sent(method="getFile")) == calls  # served from the cache
    other = await signed_in(server, console_bot, browsers, WORKER_2)
    async with other.session.get(f"{other.base}/tickets/{ticket.number}/photos/0") as resp:
        assert resp.status == 403
    # A console without the bot token (gridbot web without TELEGRAM_BOT_TOKEN) says so.
    assert console_bot.console is not None
    object.__setattr__(console_bot.console.deps, "fetch_file", None)
    status, page = await worker.get(f"/tickets/{ticket.number}")
    assert status == 200 and "共 1 张照片" in page and "<img" not in page


async def test_agenda_ranks_like_the_digest_and_respects_grids(
    server: LocalBotApi, console_bot: GridBot, browsers
) -> None:
    first = await file_report(server, console_bot, LEAK)
    second = await file_report(server, console_bot, "翠苑小区2号楼电梯坏了 老人下不了楼",
                               user=RESIDENT, chat=GROUP_2)
    boss = await signed_in(server, console_bot, browsers, SUPERVISOR)
    status, page = await boss.get("/agenda")
    assert status == 200 and first in page and second in page and "全社区" in page
    assert "新增 2 件" in page  # the week's figures include what was just filed
    status, page = await boss.get("/agenda?grid=第二网格")
    assert status == 200 and second in page and first not in page
    worker = await signed_in(server, console_bot, browsers, WORKER_1)
    status, page = await worker.get("/agenda")
    assert status == 200 and first in page and second not in page
    assert "@media print" in (await worker.get("/static/console.css"))[1]


async def test_agenda_exports_the_same_rows_as_csv(server: LocalBotApi, console_bot: GridBot,
                                                   browsers) -> None:
    first = await file_report(server, console_bot, LEAK)
    second = await file_report(server, console_bot, "翠苑小区2号楼电梯坏了 老人下不了楼",
                               user=RESIDENT, chat=GROUP_2)
    boss = await signed_in(server, console_bot, browsers, SUPERVISOR)
    async with boss.session.get(boss.base + "/agenda.csv") as response:
        assert response.status == 200 and response.content_type == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        body = (await response.read()).decode("utf-8")
    assert body.startswith("\ufeff序号,网格,编号")
    rows = body.strip().splitlines()[1:]
    assert len(rows) == 2 and first in body and second in body
    assert "13812345678" not in body  # no report text, no phone
    worker = await signed_in(server, console_bot, browsers, WORKER_2)
    async with worker.session.get(worker.base + "/agenda.csv?grid=第一网格") as response:
        assert response.status == 403
    async with worker.session.get(worker.base + "/agenda.csv") as response:
        body = (await response.read()).decode("utf-8")
    assert second in body and first not in body


async def test_specialist_sharing_the_category_sees_phone_and_room_masked(
    server: LocalBotApi, console_bot: GridBot, browsers
) -> None:
    number = await file_report(
        server, console_bot, "6号楼602室楼下有人聚众赌博 天天吵到半夜 我电话13812345678")
    boss = await signed_in(server, console_bot, browsers, SUPERVISOR)
    await boss.get(f"/tickets/{number}")
    status, page = await boss.post(f"/tickets/{number}/transfer", {"to_assignee": "王芳"})
    assert status == 200 and "13812345678" in page  # the secretary sees everything
    police = await signed_in(server, console_bot, browsers, POLICE)
    status, page = await police.get(f"/tickets/{number}")
    assert status == 200 and "聚众赌博" in page
    assert "13812345678" not in page and "138****5678" in page
    assert "602" not in page
    worker = await signed_in(server, console_bot, browsers, WORKER_1)
    status, page = await worker.get(f"/tickets/{number}")
    assert "13812345678" in page and "602" in page  # now hers: as in her private brief


async def test_change_category_updates_the_card_and_is_logged(
    server: LocalBotApi, console_bot: GridBot, browsers
) -> None:
    number = await file_report(server, console_bot, LEAK)
    [card] = await server.wait_sent(chat_id=GROUP_1, method="sendMessage")
    assert card.message is not None
    card_id = card.message.message_id
    worker = await signed_in(server, console_bot, browsers, WORKER_1)
    status, page = await worker.get(f"/tickets/{number}")
    assert 'id="action-recategorize"' in page
    for data, expected in (({"category": "no_such"}, 400), ({}, 400),
                           ({"category": "facilities"}, 400)):  # unchanged
        status, _ = await worker.post(f"/tickets/{number}/recategorize", data)
        assert status == expected, data
    status, page = await worker.post(f"/tickets/{number}/recategorize",
                                     {"category": "public_space", "note": "是公共区域照明"})
    assert status == 200 and "分类已更改" in page and "改分类" in page
    assert "公共设施 → " in page  # old → new in the timeline
    assert console_bot.services is not None
    async with console_bot.services.db.read() as r:
        ticket = await r.tickets.get_by_number(number)
        assert ticket is not None and ticket.category == "public_space"
        events = await r.events.for_ticket(ticket.id or 0)
    assert events[-1].action == "correct"
    assert (events[-1].data["old_category"], events[-1].data["new_category"]) == (
        "facilities", "public_space")
    await console_bot.until_idle()
    edits = [r for r in server.sent(chat_id=GROUP_1, method="editMessageText")
             if r.params.get("message_id") == card_id]
    assert edits and "公共" in (edits[-1].text or "")
    other = await signed_in(server, console_bot, browsers, WORKER_2)
    status, _ = await other.post(f"/tickets/{number}/recategorize", {"category": "noise"})
    assert status == 403


async def test_report_text_and_notes_are_escaped(server: LocalBotApi, console_bot: GridBot,
                                                 browsers) -> None:
    number = await file_report(
        server, console_bot, '3号楼楼道灯坏了 <script>alert("x")</script><img src=x onerror=alert(1)>')
    worker = await signed_in(server, console_bot, browsers, WORKER_1)
    await worker.get(f"/tickets/{number}")
    await worker.post(f"/tickets/{number}/accept")
    status, page = await worker.post(f"/tickets/{number}/progress",
                                     {"note": "<b onmouseover=alert(2)>已报修</b>"})
    assert status == 200
    assert "<script>alert" not in page and "<img src=x" not in page and "<b onmouseover" not in page
    assert "&lt;script&gt;" in page and "&lt;b onmouseover" in page
    csp = ""
    async with worker.session.get(f"{worker.base}/tickets/{number}") as response:
        csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


async def test_unparseable_form_bodies_get_400_not_500(server: LocalBotApi,
                                                       console_bot: GridBot, browsers) -> None:
    number = await file_report(server, console_bot, LEAK)
    worker = await signed_in(server, console_bot, browsers, WORKER_1)
    await worker.get(f"/tickets/{number}")
    bodies = (("multipart/form-data", b"garbage"),
              ("multipart/form-data; boundary=xx", b"--xx\r\nbroken"),
              ("application/x-www-form-urlencoded", b"\xff\xfe%%%=&&"))
    for ctype, body in bodies:
        for headers in ({"Content-Type": ctype},
                        {"Content-Type": ctype, "X-CSRF-Token": worker.csrf}):
            async with worker.session.post(f"{worker.base}/tickets/{number}/progress",
                                           data=body, headers=headers) as response:
                page = await response.text()
                assert response.status == 400, (ctype, headers, response.status)
                assert "无法解析" in page
    assert await state_of(console_bot, number) == ("assigned", "王芳")


NASTY = ("", " ", "0", "-1", "²", "٢٦١١-٠٠٠١", "2611-0001\x00", "%00", "%FF%FE", "..%2F..%2Fetc",
         "<script>", "'; DROP TABLE tickets;--", "9" * 300, "网格" * 50, "\u200b", "a/b",
         "2611-00001", "9999-999999")


async def test_no_input_on_the_consoles_own_routes_gives_a_500(
    server: LocalBotApi, console_bot: GridBot, browsers
) -> None:
    number = await file_report(server, console_bot, LEAK)
    worker = await signed_in(server, console_bot, browsers, WORKER_1)
    await worker.get(f"/tickets/{number}")
    paths = []
    for bad in NASTY:
        paths += [f"/tickets/{bad}", f"/tickets/{number}/photos/{bad}", f"/agenda?grid={bad}",
                  f"/agenda.csv?grid={bad}", f"/login/{bad}", f"/tickets/{number}?ok={bad}"]
    for path in paths:
        status, page = await worker.get(path)
        assert status < 500, (path, status)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in page), path
    for bad in NASTY:
        for action in ("progress", "transfer", "recategorize", "escalate"):
            status, _ = await worker.post(
                f"/tickets/{number}/{action}",
                {"note": bad, "to_assignee": bad, "to_grid": bad, "category": bad})
            assert status < 500, (action, bad, status)
        status, _ = await worker.post(f"/tickets/{bad}/accept")
        assert status < 500, bad
    assert (await state_of(console_bot, number))[0] in ("assigned", "accepted", "in_progress")
