"""The Thursday digest (public summary + 周四议事会 agenda) and the follow-up (回访) →
close-unrated path, driven by ``tick()`` with a FakeClock on a real database."""

from __future__ import annotations

from dataclasses import replace

from scheduler.digest import agenda_items
from tests.support.scheduler import Harness, harness, local, minutes
from tests.support.tickets import CHAT_A, CHAT_B, CHAT_C, CONFIG, GRID_B, person_actor
from tickets.model import Actor, Ticket, TicketState

T0 = local(2026, 9, 1, 10)  # Tuesday
THURSDAY = local(2026, 9, 3, 9)
WANG = person_actor("王芳")


async def seed(h: Harness) -> dict[str, Ticket]:
    """Tickets in 一网格: one long overdue, one overdue with supporters, two recent."""
    h.at(local(2026, 8, 20, 10))
    old = await h.new_ticket(text="12号楼门口路灯坏了", category="facilities", building="12",
                             unit=None, keywords=("路灯",))
    h.at(T0)
    await h.tick()  # the scheduler starts here
    done = await h.new_ticket(building="1", keywords=("漏水", "1号楼"))
    await h.services.tickets.accept(done.id or 0, WANG)
    h.at(T0 + minutes(60))
    await h.services.tickets.resolve(done.id or 0, WANG, "已修好")
    await h.services.tickets.rate(done.id or 0, Actor(user_id=5001, name="张阿姨"), 1)
    h.at(T0 + minutes(65))
    busy = await h.new_ticket(text="5号楼电动车楼道充电", category="ev_charging",
                              building="5", unit="2", room="301", keywords=("充电",))
    for reporter in (5002, 5003):
        await h.new_ticket(text="5号楼电动车楼道充电", category="ev_charging", building="5",
                           unit="2", room="301", keywords=("充电",), reporter=reporter)
    h.at(local(2026, 9, 2, 14))
    noisy = await h.new_ticket(text="7号楼晚上装修噪音", category="noise", building="7",
                               keywords=("噪音",))
    await h.new_ticket(text="7号楼晚上装修噪音", category="noise", building="7",
                       keywords=("噪音",), reporter=5004)
    h.at(local(2026, 9, 2, 15))
    fresh = await h.new_ticket(text="3号楼草坪杂草", category="greenery", building="3",
                               keywords=("杂草",))
    return {"old": old, "done": done, "busy": busy, "noisy": noisy, "fresh": fresh}


async def test_thursday_digest_summary_and_agenda(db_target: str) -> None:
    async with harness(db_target, CONFIG, T0) as h:
        t = await seed(h)
        assert (await h.ticket(t["busy"].id or 0)).supporters_count == 2
        await h.tick(THURSDAY - minutes(1))
        assert await h.rows("digest") == [] and await h.rows("agenda") == []
        await h.tick(THURSDAY)

        summaries = {r.message.chat_id: r.message.text for r in await h.rows("digest")}
        assert set(summaries) == {CHAT_A, CHAT_B, CHAT_C}
        text = summaries[CHAT_A]
        for line in ("一网格 本周小结", "8月27日—9月3日", "新反映: 4 件", "已办结: 1 件",
                     "未办结: 4 件", "按时办结率: 100%",
                     "居民评价: 满意率 100%(评价 1 件,不满意 0 件,没解决 0 件)"):
            assert line in text, line
        assert "张阿姨" not in text and "王芳" not in text and "301" not in text
        assert "新反映: 0 件" in summaries[CHAT_B] and "居民评价: 暂无评价" in summaries[CHAT_B]

        agendas = {r.message.chat_id: r.message.text for r in await h.rows("agenda")}
        # Workers and the backup of 一网格, 陈静 of 二网格, the supervisor's community copy.
        assert {101, 102, 103, 201, 900} <= set(agendas)
        wang = agendas[101]
        order = [wang.index(f"#{t[k].number}") for k in ("busy", "old", "noisy", "fresh")]
        assert order == sorted(order), wang  # overdue first, then supporters, then age
        assert f"#{t['done'].number}" not in wang
        lines = wang.splitlines()
        at = next(i for i, line in enumerate(lines) if f"#{t['old'].number}" in line)
        assert lines[at].startswith("🔴") and "长期超时" in lines[at + 1]
        assert "5号楼2单元" in wang and "301" not in wang  # building/unit, never the room
        assert "👥2" in wang and "王芳" in wang  # supporters and assignee shown
        assert "未办结 4 件,超时 2 件,长期超时 1 件" in wang

        boss = agendas[900]
        assert "幸福社区 本周小结" in boss and "【一网格】" in boss
        assert boss.index(f"#{t['busy'].number}") < boss.index(f"#{t['fresh'].number}")
        # 未登记员 has no Telegram id: a short mention in their group, no agenda there.
        fallback = [r.message for r in await h.rows("agenda_fallback")]
        assert [(m.chat_id, "/start" in m.text) for m in fallback] == [(CHAT_B, True)]

        count = len(await h.rows())
        await h.tick(THURSDAY + minutes(1))
        h.restart()
        await h.tick(THURSDAY + minutes(2))
        assert len(await h.rows()) == count


async def test_grid_digest_override_and_html_escaping(db_target: str) -> None:
    grids = tuple(replace(g, digest="每周一 08:00") if g.name == GRID_B else g
                  for g in CONFIG.grids)
    config = replace(CONFIG, grids=grids, name="幸福<社区>")
    async with harness(db_target, config, T0) as h:
        await h.tick()
        await h.tick(THURSDAY)
        chats = {r.message.chat_id for r in await h.rows("digest")}
        assert chats == {CHAT_A, CHAT_C}
        boss = next(r.message.text for r in await h.rows("agenda") if r.message.chat_id == 900)
        assert "幸福&lt;社区&gt;" in boss
        await h.tick(local(2026, 9, 7, 8))
        assert CHAT_B in {r.message.chat_id for r in await h.rows("digest")}


def test_agenda_ranking_is_pure() -> None:
    def ticket(n: int, created: int, supporters: int, due_h: int) -> Ticket:
        return Ticket(source_chat_id=CHAT_A, source_message_id=n, reporter_id=1,
                      reporter_name="x", text="x", category="other", urgency="normal",
                      created_at=T0 + minutes(created), state=TicketState.ASSIGNED, id=n,
                      accept_due=T0 + minutes(60 * due_h), supporters_count=supporters)
    now = T0 + minutes(60 * 10)
    items = agenda_items([ticket(1, 0, 0, 20), ticket(2, 5, 3, 20), ticket(3, 1, 0, 1),
                          ticket(4, 2, 1, 2)], now, minutes(60 * 5))
    assert [i.ticket.id for i in items] == [4, 3, 2, 1]
    assert [i.long_overdue for i in items] == [True, True, False, False]


async def test_followup_then_close_unrated(db_target: str) -> None:
    async with harness(db_target, CONFIG, T0) as h:
        await h.tick()
        t = await h.new_ticket()
        await h.services.tickets.accept(t.id or 0, WANG)
        h.at(T0 + minutes(30))
        await h.services.tickets.resolve(t.id or 0, WANG, "已修好")
        await h.tick(local(2026, 9, 2, 10, 29))
        assert await h.rows("followup") == []
        await h.tick(local(2026, 9, 2, 10, 30))
        [row] = await h.rows("followup")
        msg = row.message
        assert msg.chat_id == CHAT_A and msg.reply_to_message_id == t.source_message_id
        assert "回访" in msg.text and f"#{t.number}" in msg.text
        assert [b.data for line in msg.buttons for b in line]  # the rating buttons
        await h.tick(local(2026, 9, 2, 11))
        h.restart()
        await h.tick(local(2026, 9, 3, 10))
        assert len(await h.rows("followup")) == 1
        assert (await h.ticket(t.id or 0)).state is TicketState.RESOLVED
        report = await h.tick(local(2026, 9, 4, 10, 30))
        assert report.followups.closed == [t.id]
        assert (await h.ticket(t.id or 0)).state is TicketState.CLOSED
        await h.tick(local(2026, 9, 4, 11))
        assert len(await h.rows("followup")) == 1


async def test_private_report_followup_is_private_and_waits_for_daytime(
        db_target: str) -> None:
    async with harness(db_target, CONFIG, local(2026, 9, 1, 19)) as h:
        await h.tick()
        t = await h.new_ticket(chat_id=5001)
        await h.services.tickets.accept(t.id or 0, WANG)
        h.at(local(2026, 9, 1, 20))
        await h.services.tickets.resolve(t.id or 0, WANG)
        await h.tick(local(2026, 9, 2, 20))  # one day later, but evening: waits
        assert await h.rows("followup") == []
        await h.tick(local(2026, 9, 3, 8, 30))
        [row] = await h.rows("followup")
        assert row.message.chat_id == 5001 and row.message.reply_to_message_id is None


async def test_rated_ticket_gets_no_followup(db_target: str) -> None:
    async with harness(db_target, CONFIG, T0) as h:
        await h.tick()
        t = await h.new_ticket()
        await h.services.tickets.accept(t.id or 0, WANG)
        await h.services.tickets.resolve(t.id or 0, WANG)
        await h.services.tickets.rate(t.id or 0, Actor(user_id=5001, name="张阿姨"), 2)
        report = await h.tick(local(2026, 9, 5, 10))
        assert await h.rows("followup") == [] and report.followups.closed == []
