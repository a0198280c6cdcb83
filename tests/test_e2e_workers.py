"""End to end for workers and the secretary: commands, fallbacks, permissions."""

from __future__ import annotations

from localapi import LocalBotApi
from runtime.app import GridBot
from tests.support.e2e import (
    GROUP_1,
    GROUP_2,
    RESIDENT,
    RESIDENT_2,
    RESIDENT_3,
    SUPERVISOR,
    WORKER_1,
    WORKER_2,
    file_report,
    texts_to,
)


async def test_worker_who_never_started_the_bot_is_mentioned_in_the_group(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    server.faults.forbid(WORKER_1)
    await file_report(server, gridbot, "5号楼2单元楼道有人给电动车充电 电线拉得到处都是")
    group = texts_to(server, GROUP_1)
    assert any("@wangfang_grid" in t and "/start" in t for t in group)
    failed = server.sent(chat_id=WORKER_1, include_failed=True)
    assert failed and not failed[0].ok


async def test_commands_accept_progress_done_and_refusals(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    number = await file_report(server, gridbot, "3号楼楼道灯坏了 晚上黑乎乎的")
    await server.command(GROUP_2, WORKER_2, f"/accept {number}")  # another grid's worker
    await server.command(GROUP_1, WORKER_1, f"/accept {number}")
    await server.command(GROUP_1, WORKER_1, f"/progress {number}")  # missing note
    await server.command(GROUP_1, WORKER_1, f"/progress {number} 已报修,明天换灯")
    await server.command(GROUP_1, WORKER_1, f"/done {number} 已更换灯泡")
    await server.command(GROUP_1, WORKER_1, "/done 9999")
    await server.wait_consumed()
    await gridbot.until_idle()
    grid2 = texts_to(server, GROUP_2)
    assert any("不属于您的网格" in t or "负责人" in t for t in grid2)
    group = texts_to(server, GROUP_1)
    assert any(f"已接单 #{number}" in t for t in group)
    assert any("请在命令后面写上内容" in t for t in group)
    assert any(f"已记录 #{number}" in t for t in group)
    assert any("已办结,已请居民评价" in t for t in group)
    assert any("请您评价" in t for t in group)
    assert any("找不到工单" in t for t in group)


async def test_transfer_escalate_and_reject(server: LocalBotApi, gridbot: GridBot) -> None:
    await server.start_private(WORKER_2)
    await server.start_private(SUPERVISOR)
    first = await file_report(server, gridbot, "8号楼门口的下水道堵了 污水冒出来了")
    await server.command(GROUP_1, WORKER_1, f"/transfer {first} @liqiang_grid 他负责管道")
    second = await file_report(server, gridbot, "9号楼有人在绿地上种菜", user=RESIDENT_2)
    await server.command(GROUP_1, WORKER_1, f"/escalate {second} 需要城管协调")
    third = await file_report(server, gridbot, "/report 有没有人要团购大米 8号楼自提",
                              user=RESIDENT_3)
    await server.command(GROUP_1, WORKER_1, f"/reject {third} 不是诉求")
    await server.wait_consumed()
    await gridbot.until_idle()
    group = texts_to(server, GROUP_1)
    assert any(f"#{first} 已转派给 李强" in t for t in group)
    assert any("转派给您的工单" in t for t in texts_to(server, WORKER_2))
    assert any("督办提醒" in t and "城管" in t for t in texts_to(server, SUPERVISOR))
    assert gridbot.services is not None
    async with gridbot.services.db.read() as uow:
        ticket = await uow.tickets.get_by_number(third)
    assert ticket is not None and ticket.state == "cancelled"


async def test_transfer_from_the_button_list(server: LocalBotApi, gridbot: GridBot) -> None:
    await server.start_private(WORKER_1)
    await server.wait_sent(chat_id=WORKER_1)
    await file_report(server, gridbot, "8号楼门口的下水道堵了 污水冒出来了")
    brief = next(r for r in server.sent(chat_id=WORKER_1) if "🆕 新工单" in (r.text or ""))
    message = server.message(WORKER_1, brief.message.message_id)
    ticket_id = brief.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[2]
    await server.tap(message, WORKER_1, f"t:xfer:{ticket_id}")
    picked = await server.wait_for(lambda: [r for r in server.sent(
        chat_id=WORKER_1, method="editMessageReplyMarkup") if "x:李强" in str(r.params)])
    assert picked
    await server.tap(message, WORKER_1, f"x:李强:{ticket_id}", verify=False)
    await server.wait_for(lambda: [a for a in server.callback_answers if "已转派" in a.text])
    await server.tap(message, RESIDENT, f"x:李强:{ticket_id}", verify=False)  # forged by a resident
    await server.wait_for(lambda: [a for a in server.callback_answers if "工作人员" in a.text])


async def test_lists_and_statistics(server: LocalBotApi, gridbot: GridBot) -> None:
    number = await file_report(server, gridbot, "8号楼楼道堆满了杂物 过不去")
    await server.command(GROUP_1, WORKER_1, "/open")
    await server.start_private(WORKER_1)
    await server.command(WORKER_1, WORKER_1, "/mine")
    await server.command(GROUP_1, WORKER_1, "/stats")
    await server.command(GROUP_1, RESIDENT, "/open")
    await server.command(GROUP_1, RESIDENT, "/my")
    await server.wait_consumed()
    await gridbot.until_idle()
    group = texts_to(server, GROUP_1)
    assert any("未办结工单 1 张" in t and number in t for t in group)
    assert any("近7天统计" in t and "新增 1" in t and "暂无评价" in t for t in group)
    assert any("只有社区工作人员" in t for t in group)
    assert any("您反映的问题" in t and number in t for t in group)
    assert any("待办" in t and number in t for t in texts_to(server, WORKER_1))


async def test_ticket_details_only_for_reporter_and_staff(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    number = await file_report(server, gridbot, "8号楼3单元602室楼上漏水 电话13900001111")
    await server.command(GROUP_1, RESIDENT_2, f"/ticket {number}")
    await server.start_private(RESIDENT)
    await server.command(RESIDENT, RESIDENT, f"/ticket {number}")
    await server.command(GROUP_1, RESIDENT_2, f"/cancel {number}")
    await server.command(RESIDENT, RESIDENT, f"/cancel {number}")
    await server.wait_consumed()
    await gridbot.until_idle()
    assert any("只有反映人" in t for t in texts_to(server, GROUP_1))
    private = texts_to(server, RESIDENT)
    assert any("处理记录" in t and "602" in t for t in private)
    assert any("已撤销" in t for t in private)
    assert any("只有反映问题的居民本人" in t for t in texts_to(server, GROUP_1))


async def test_reporting_in_private_chat(server: LocalBotApi, gridbot: GridBot) -> None:
    await server.start_private(RESIDENT)
    await server.post(RESIDENT, RESIDENT, "你好")
    await server.post(RESIDENT, RESIDENT, "阳光花园13号楼2单元电梯坏了 老人下不了楼")
    await server.wait_consumed()
    await gridbot.until_idle()
    private = texts_to(server, RESIDENT)
    assert any("直接描述给我" in t for t in private)
    assert any("已登记为工单" in t for t in private)
    # Elevators of 阳光花园 go to its property company, which has no private chat with the
    # bot: it is mentioned in the grid's group; the grid worker is told privately.
    assert any("@sunshine_wuye" in t for t in texts_to(server, GROUP_2))
    assert any("请关注工单" in t for t in texts_to(server, WORKER_2))


async def test_bind_who_broadcast_and_schedule(server: LocalBotApi, gridbot: GridBot) -> None:
    new_group = -1009999
    server.group(new_group, "新建的楼栋群", admins=[SUPERVISOR],
                 members=[SUPERVISOR, RESIDENT, WORKER_2])
    await server.post(new_group, RESIDENT, "翠苑小区3号楼门口垃圾成堆了")  # unbound: ignored
    await server.command(new_group, RESIDENT, "/bind 第二网格")
    await server.command(new_group, SUPERVISOR, "/bind 第九网格")
    await server.command(new_group, SUPERVISOR, "/bind 第二网格")
    await server.command(new_group, WORKER_2, "/who")
    await server.command(new_group, SUPERVISOR, "/broadcast 第二网格 明天上午停电检修")
    await server.command(new_group, SUPERVISOR, "/schedule add 每周八 09:00 | 测试")
    await server.command(new_group, SUPERVISOR, "/schedule add 每周五 10:00 | 给独居老人送饺子 | 第二网格")
    await server.command(new_group, SUPERVISOR, "/schedule list")
    await server.wait_consumed()
    await gridbot.until_idle()
    texts = texts_to(server, new_group)
    assert any("只有管理员" in t for t in texts)
    assert any("没有叫“第九网格”的网格" in t for t in texts)
    assert any("已把本群绑定到“第二网格”" in t for t in texts)
    assert any("网格员: 李强" in t for t in texts)
    assert any("社区通知" in t and "停电检修" in t for t in texts)
    assert any("社区通知" in t for t in texts_to(server, GROUP_2))
    assert not any("社区通知" in t for t in texts_to(server, GROUP_1))
    assert any("无法添加" in t for t in texts)
    assert any("已添加定时通知" in t for t in texts)
    assert any("给独居老人送饺子" in t and "第二网格" in t for t in texts)
    await server.post(new_group, RESIDENT, "翠苑小区3号楼门口垃圾成堆了 好几天没人收")
    card = await server.wait_for(lambda: [t for t in texts_to(server, new_group) if "工单 #" in t])
    assert "环境卫生" in card[0]


async def test_photos_reach_the_worker_and_a_fix_photo_is_filed(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    await server.start_private(WORKER_1)
    await server.post(GROUP_1, RESIDENT, photo=True, caption="8号楼门口路灯杆被撞歪了 很危险")
    await server.wait_consumed()
    await gridbot.until_idle()
    photos = server.sent(chat_id=WORKER_1, method="sendPhoto")
    assert photos and "居民发来的照片" in (photos[0].text or "")
    assert gridbot.services is not None
    async with gridbot.services.db.read() as uow:
        [ticket] = await uow.queries.of_reporter(RESIDENT, limit=1)
    await server.command(WORKER_1, WORKER_1, f"/done {ticket.number} 已扶正")
    await server.wait_consumed()
    await gridbot.until_idle()
    await server.post(WORKER_1, WORKER_1, photo=True)
    await server.wait_consumed()
    await gridbot.until_idle()
    assert any("照片已存入工单" in t for t in texts_to(server, WORKER_1))
    async with gridbot.services.db.read() as uow:
        assert len(await uow.tickets.photos(ticket.id or 0)) == 2
