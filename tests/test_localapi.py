"""Tests for the local Bot API server, driven by python-telegram-bot's real Bot/Application."""

from __future__ import annotations

import asyncio
import datetime as dtm
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from localapi import LocalBotApi, Message
from localapi.client import ControlError, StandaloneServer
from localapi.formatting import parse_text
from localapi.testing import make_application, make_bot, running_server

KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton("接单", callback_data="accept:1"),
      InlineKeyboardButton("详情", url="https://example.org/t/1")]]
)


@pytest.fixture
async def server() -> AsyncIterator[LocalBotApi]:
    async with running_server() as srv:
        yield srv


@pytest.fixture
async def bot(server: LocalBotApi):  # type: ignore[no-untyped-def]
    async with make_bot(server) as b:
        yield b


def _people(server: LocalBotApi):  # type: ignore[no-untyped-def]
    alice = server.user(101, "王芳", "wangfang")
    bob = server.user(102, "李强", started=True)  # opened the private chat earlier
    group = server.group(-1001234567890, "幸福里小区居民群", admins=[alice])
    return alice, bob, group


# ------------------------------------------------------------------ basics & polling


async def test_get_me_bad_token_and_unknown_method(server: LocalBotApi, bot) -> None:
    me = await bot.get_me()
    assert me.username == "gridbot_test_bot" and me.is_bot and me.id == server.bot_user.id
    with pytest.raises(InvalidToken, match="rejected"):
        async with make_bot(server, token="1:wrong"):
            pass
    # Telegram answers unknown methods with 404; PTB maps that to InvalidToken, and
    # do_api_request re-raises it as EndPointNotFound.
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("frobnicate")
    assert (await bot.do_api_request("GETME"))["username"] == "gridbot_test_bot"


async def test_updates_are_redelivered_until_confirmed(server: LocalBotApi, bot) -> None:
    alice, _, group = _people(server)
    for text in ("一楼漏水", "路灯坏了", "/report 垃圾没清"):
        await server.post(group, alice, text)
    first = await bot.get_updates()
    assert [u.message.text for u in first] == ["一楼漏水", "路灯坏了", "/report 垃圾没清"]
    assert [u.update_id for u in await bot.get_updates()] == [u.update_id for u in first]
    assert [u.update_id for u in await bot.get_updates(offset=first[1].update_id)] == [
        first[1].update_id, first[2].update_id]
    assert server.pending_updates() == 2  # the first one is confirmed now
    assert await bot.get_updates(offset=first[-1].update_id + 1) == ()
    assert server.pending_updates() == 0
    assert server.confirmed_offset == first[-1].update_id + 1
    command = first[2].message
    assert command.entities[0].type == "bot_command" and command.entities[0].offset == 0
    assert command.chat.type == "supergroup" and command.from_user.username == "wangfang"


async def test_negative_offset_and_limit(server: LocalBotApi, bot) -> None:
    alice, _, group = _people(server)
    for i in range(5):
        await server.post(group, alice, f"消息{i}")
    assert [u.message.text for u in await bot.get_updates(limit=2)] == ["消息0", "消息1"]
    last_two = await bot.get_updates(offset=-2)
    assert [u.message.text for u in last_two] == ["消息3", "消息4"]
    # the earlier updates were forgotten
    assert [u.message.text for u in await bot.get_updates()] == ["消息3", "消息4"]


async def test_long_poll_wakes_up_on_post(server: LocalBotApi, bot) -> None:
    alice, _, group = _people(server)
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await server.wait_for(lambda: server.poll_count >= 1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await server.post(group, alice, "电梯停了")
    updates = await poll
    assert [u.message.text for u in updates] == ["电梯停了"]
    assert loop.time() - started < 1.0


async def test_concurrent_poll_conflicts_and_duplicate_injection(
    server: LocalBotApi, bot
) -> None:
    # A second bot instance polling (PTB's own get_updates pool holds one connection, so the
    # conflict needs two Bot objects, like two processes).
    async with make_bot(server) as other:
        first = asyncio.create_task(other.get_updates(timeout=5))
        await server.wait_for(lambda: server.poll_count >= 1)
        second = asyncio.create_task(bot.get_updates(timeout=5))
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await first
    assert server.poll_conflicts == 1  # counted: its client still waited for the answer
    alice, _, group = _people(server)
    message = await server.post(group, alice, "重复")
    (update,) = await second
    raw = {"update_id": update.update_id, "message": message.to_dict()}
    await bot.get_updates(offset=update.update_id + 1)
    await server.inject_update(raw)  # Telegram redelivering an update already processed
    again = await bot.get_updates()
    assert [u.update_id for u in again] == [update.update_id]


# --------------------------------------------------------------------- sending


async def test_send_message_with_reply_and_keyboard(server: LocalBotApi, bot) -> None:
    alice, _, group = _people(server)
    report = await server.post(group, alice, "3号楼电梯困人")
    sent = await bot.send_message(
        group.id, "<b>已受理</b> 工单 #12", parse_mode="HTML",
        reply_parameters=ReplyParameters(report.message_id), reply_markup=KEYBOARD,
        disable_notification=True,
    )
    assert sent.text == "已受理 工单 #12" and sent.entities[0].type == "bold"
    assert sent.reply_to_message.message_id == report.message_id
    assert sent.reply_markup == KEYBOARD
    (request,) = server.sent(group.id, "sendMessage")
    assert request.params["reply_parameters"] == {"message_id": report.message_id}
    assert request.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "accept:1"
    assert request.params["disable_notification"] is True
    stored = server.last_bot_message(group.id)
    assert stored is not None and stored.reply_to is report
    assert stored.callback_data == ["accept:1"]
    assert [m.message_id for m in server.messages_in(group.id)] == [1, 2]
    legacy = await bot.send_message(group.id, "ok", reply_to_message_id=report.message_id)
    assert legacy.reply_to_message.message_id == report.message_id
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(group.id, "x", reply_parameters=ReplyParameters(999))
    loose = await bot.send_message(
        group.id, "x", reply_parameters=ReplyParameters(999, allow_sending_without_reply=True))
    assert loose.reply_to_message is None


async def test_send_validation_errors(server: LocalBotApi, bot) -> None:
    _, _, group = _people(server)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(-100999, "hi")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(group.id, "温度 < 5 度", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)reserved"):
        await bot.send_message(group.id, "工单 12. 已完成!", parse_mode="MarkdownV2")
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(group.id, "x", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("长", callback_data="接" * 22)]]))
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(group.id, "字" * 4097)
    assert server.sent(group.id) == []
    assert len(server.sent(group.id, include_failed=True)) == 4  # + 1 to the unknown chat


async def test_edit_message_text_and_not_modified(server: LocalBotApi, bot) -> None:
    alice, _, group = _people(server)
    sent = await bot.send_message(group.id, "待处理", reply_markup=KEYBOARD)
    edited = await bot.edit_message_text("处理中", group.id, sent.message_id,
                                         reply_markup=KEYBOARD)
    assert edited.text == "处理中" and edited.edit_date is not None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("处理中", group.id, sent.message_id, reply_markup=KEYBOARD)
    # Like Telegram, editing the text without reply_markup removes the keyboard.
    await bot.edit_message_text("已完成", group.id, sent.message_id)
    assert server.message(group.id, sent.message_id).reply_markup is None  # type: ignore[union-attr]
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(group.id, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", group.id, 4242)
    theirs = await server.post(group, alice, "居民消息")
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("x", group.id, theirs.message_id)
    assert await bot.delete_message(group.id, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(group.id, sent.message_id)


# ------------------------------------------------------------ full application


async def test_application_polling_commands_and_callbacks(server: LocalBotApi) -> None:
    alice, bob, group = _people(server)

    async def accept(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            f"受理 {' '.join(context.args or [])}", reply_markup=KEYBOARD)

    async def tapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer(f"{query.from_user.first_name} 已接单")
        await query.edit_message_text("已接单")

    async def echo_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.edited_message is not None
        await update.edited_message.reply_text("已更新")

    app = make_application(server).build()
    app.add_handler(CommandHandler("accept", accept))
    app.add_handler(CallbackQueryHandler(tapped, pattern=r"^accept:"))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, echo_edit))
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(timeout=5, poll_interval=0)
    await app.start()
    try:
        await server.command(group, alice, "/accept@gridbot_test_bot 12")
        (reply,) = await server.wait_sent(group.id, method="sendMessage")
        assert reply.text == "受理 12"
        assert reply.message is not None
        await server.tap(reply.message, bob, "accept:1")
        await server.wait_for(lambda: server.callback_answers)
        assert server.callback_answers[0].text == "李强 已接单"
        await server.wait_sent(group.id, method="editMessageText")
        assert server.message(group.id, reply.message.message_id).text == "已接单"  # type: ignore[union-attr]
        with pytest.raises(ValueError, match="no button"):
            await server.tap(reply.message, bob, "accept:1")  # the edit removed the keyboard
        note = await server.post(group, alice, "楼道灯坏了")
        await server.edit(note, "楼道灯和电梯都坏了")
        replies = await server.wait_sent(group.id, method="sendMessage", count=2)
        assert replies[-1].text == "已更新"
        await server.wait_consumed()
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert server.pending_updates() == 0


# ----------------------------------------------------------------------- faults


async def test_forbidden_and_blocked(server: LocalBotApi, bot) -> None:
    alice, _, _ = _people(server)
    server.faults.forbid(alice.id)
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(alice.id, "您好")
    start = await server.start_private(alice, "ticket_12")
    assert start.text == "/start ticket_12" and start.chat.type == "private"
    assert (await bot.send_message(alice.id, "您好")).chat.id == alice.id
    await server.block(alice)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(alice.id, "在吗")
    updates = await bot.get_updates()
    assert updates[-1].my_chat_member.new_chat_member.status == "kicked"
    await server.start_private(alice)
    await bot.send_message(alice.id, "欢迎回来")
    assert [f.reason for f in server.faults.served] == ["forbidden", "blocked"]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_rate_limit_server_error_drop_and_delay(server: LocalBotApi, bot) -> None:
    _, _, group = _people(server)
    server.faults.rate_limit(retry_after=3, count=1, methods=["sendMessage"])
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(group.id, "a")
    assert caught.value.retry_after in (3, dtm.timedelta(seconds=3))
    await bot.send_message(group.id, "a")  # count=1: the retry goes through
    assert len(server.faults.served_429) == 1
    server.faults.fail(500, count=1)
    with pytest.raises(NetworkError):
        await bot.send_message(group.id, "b")
    server.faults.drop_connection(count=1, methods="sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(group.id, "c")
    assert [m.text for m in server.bot_messages(group.id)] == ["a"]
    server.faults.delay(0.5, methods="getChat", count=1)
    with pytest.raises(TimedOut):
        await bot.get_chat(group.id, read_timeout=0.1)
    assert (await bot.get_chat(group.id)).title == "幸福里小区居民群"


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_ptb_rate_limiter_retries_after_429(server: LocalBotApi) -> None:
    app = make_application(server, rate_limiter=AIORateLimiter(max_retries=2)).build()
    await app.initialize()
    try:
        _, _, group = _people(server)
        server.faults.rate_limit(retry_after=1, count=1, methods="sendMessage")
        assert (await app.bot.send_message(group.id, "通知")).text == "通知"
        calls = server.sent(group.id, "sendMessage", include_failed=True)
        assert [c.ok for c in calls] == [False, True]
        assert calls[0].error is not None and calls[0].error.parameters == {"retry_after": 1}
    finally:
        await app.shutdown()


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_enforced_group_limit() -> None:
    async with running_server(enforce_limits=True) as server, make_bot(server) as bot:
        _, _, group = _people(server)
        for i in range(20):
            await bot.send_message(group.id, f"通知 {i}")
        with pytest.raises(RetryAfter):
            await bot.send_message(group.id, "第21条")
        assert len(server.faults.served_429) == 1
        assert server.faults.served_429[0].reason == "limit"


async def test_migration_to_supergroup(server: LocalBotApi, bot) -> None:
    alice = server.user(101, "王芳")
    old = server.group(-4001, "老群", type="group", admins=[alice])
    new_id = await server.migrate(old)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(old.id, "hi")
    assert caught.value.new_chat_id == new_id
    updates = await bot.get_updates()
    assert updates[0].message.migrate_to_chat_id == new_id
    assert updates[1].message.migrate_from_chat_id == old.id
    assert (await bot.send_message(new_id, "迁移完成")).chat.type == "supergroup"


async def test_forum_topics(server: LocalBotApi, bot) -> None:
    alice = server.user(101, "王芳")
    forum = server.group(-1005550001, "网格工作群", is_forum=True, admins=[alice])
    thread = await server.create_topic(forum, alice, "维修")
    post = await server.post(forum, alice, "水管爆了", thread_id=thread)
    updates = await bot.get_updates()
    message = updates[-1].message
    assert message.message_thread_id == thread and message.is_topic_message
    assert message.reply_to_message.forum_topic_created.name == "维修"
    reply = await bot.send_message(forum.id, "已派单", message_thread_id=thread)
    assert reply.message_thread_id == thread and reply.is_topic_message
    answer = await bot.send_message(forum.id, "收到", reply_parameters=ReplyParameters(
        post.message_id))
    assert answer.message_thread_id == thread
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(forum.id, "x", message_thread_id=9999)


async def test_commands_per_scope(server: LocalBotApi, bot) -> None:
    _, _, group = _people(server)
    await bot.set_my_commands([BotCommand("start", "开始"), BotCommand("report", "报事")])
    await bot.set_my_commands([BotCommand("accept", "接单")],
                              scope=BotCommandScopeAllGroupChats(), language_code="zh")
    await bot.set_my_commands([BotCommand("stats", "统计")], scope=BotCommandScopeChat(group.id))
    assert [c["command"] for c in server.commands()] == ["start", "report"]
    assert server.commands(BotCommandScopeAllGroupChats(), "zh") == [
        {"command": "accept", "description": "接单"}]
    assert server.commands(BotCommandScopeAllGroupChats()) == []
    fetched = await bot.get_my_commands(scope=BotCommandScopeChat(group.id))
    assert [c.command for c in fetched] == ["stats"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    await bot.delete_my_commands()
    assert server.commands() == []


async def test_photos_files_and_members(server: LocalBotApi, bot) -> None:
    alice, bob, group = _people(server)
    await server.post(group, alice, "看这个裂缝", photo=True)
    (update,) = await bot.get_updates()
    photo = update.message.photo
    assert len(photo) == 3 and update.message.caption == "看这个裂缝"
    data = await (await bot.get_file(photo[-1].file_id)).download_as_bytearray()
    assert bytes(data).startswith(b"\xff\xd8")
    forwarded = await bot.send_photo(bob.id, photo[-1].file_id, caption="转给您")
    assert forwarded.caption == "转给您" and forwarded.photo[-1].file_id != photo[-1].file_id
    uploaded = await bot.send_photo(group.id, b"\xff\xd8custom\xff\xd9")
    upload_file = await bot.get_file(uploaded.photo[-1].file_id)
    assert bytes(await upload_file.download_as_bytearray()) == b"\xff\xd8custom\xff\xd9"
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(group.id, "nonexistent-file-id")
    assert await bot.send_chat_action(group.id, "typing")
    assert (await bot.get_chat_member(group.id, alice.id)).status == "creator"
    assert (await bot.get_chat_member(group.id, bob.id)).status == "left"
    admins = await bot.get_chat_administrators(group.id)
    assert [a.user.id for a in admins] == [alice.id]


async def test_webhook_and_privacy_mode() -> None:
    async with running_server(privacy_mode=True) as server, make_bot(server) as bot:
        alice, _, group = _people(server)
        await bot.set_webhook("https://example.org/hook")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        assert (await bot.get_webhook_info()).url == "https://example.org/hook"
        await bot.delete_webhook()
        await server.post(group, alice, "闲聊")
        await server.post(group, alice, "/report 路灯")
        await server.post(group, alice, "@gridbot_test_bot 请看一下")
        assert [u.message.text for u in await bot.get_updates()] == [
            "/report 路灯", "@gridbot_test_bot 请看一下"]


def test_formatting_offsets_are_utf16() -> None:
    text, entities = parse_text("👷 <b>张师傅</b> /accept", "HTML")
    assert text == "👷 张师傅 /accept"
    assert entities[0] == {"type": "bold", "offset": 3, "length": 3}
    assert entities[1]["type"] == "bot_command" and entities[1]["offset"] == 7
    plain, md = parse_text(r"*工单* \#12 已完成\!", "MarkdownV2")
    assert plain == "工单 #12 已完成!" and md[0]["type"] == "bold"


# ----------------------------------------------------------- out of process


async def test_control_api(server: LocalBotApi, bot) -> None:
    control = f"{server.url}/_control"
    async with aiohttp.ClientSession() as http:
        await http.post(f"{control}/user", json={"id": 7, "first_name": "赵六"})
        await http.post(f"{control}/group", json={"id": -1007, "title": "测试群"})
        async with http.post(f"{control}/post", json={"chat_id": -1007, "user_id": 7,
                                                      "text": "/help"}) as resp:
            assert (await resp.json())["entities"][0]["type"] == "bot_command"
        (update,) = await bot.get_updates()
        await update.message.reply_text("帮助", reply_markup=KEYBOARD)
        async with http.get(f"{control}/wait", params={"chat_id": "-1007",
                                                       "method": "sendMessage"}) as resp:
            (call,) = await resp.json()
        assert call["params"]["text"] == "帮助"
        message_id = call["result"]["message_id"]
        async with http.post(f"{control}/tap", json={"chat_id": -1007, "message_id": message_id,
                                                     "user_id": 7, "data": "accept:1"}) as resp:
            assert (await resp.json())["data"] == "accept:1"
        async with http.post(f"{control}/fault", json={"kind": "fail", "status": 502}) as resp:
            assert resp.status == 200
        with pytest.raises(NetworkError):
            await bot.get_me()
        async with http.get(f"{control}/state") as resp:
            state = await resp.json()
        assert state["pending_updates"] == 2 and state["served_faults"][0]["status"] == 502


async def test_standalone_process_with_control_client() -> None:
    async with StandaloneServer() as standalone:
        assert standalone.base_url.startswith("http://127.0.0.1:")
        assert standalone.base_url.endswith("/bot")
        control = standalone.control
        await control.user(5, "钱七")
        await control.group(-1005, "远程群", admins=[5])
        await control.post(-1005, 5, "/status")
        async with Bot(standalone.token, base_url=standalone.base_url,
                       base_file_url=standalone.base_file_url) as remote:
            (update,) = await remote.get_updates()
            assert update.message.text == "/status"
            await update.message.reply_text("正常")
        (call,) = await control.wait(chat_id=-1005, method="sendMessage")
        assert call["params"]["text"] == "正常"
        assert (await control.state())["pending_updates"] == 1
        with pytest.raises(ControlError, match="HTTP 408"):
            await control.wait(chat_id=-1005, count=5, timeout=0.1)
        process = standalone.process
    assert process is not None and process.returncode == 0


async def test_strict_private_chats() -> None:
    async with running_server() as server, make_bot(server) as bot:  # Telegram's default
        alice = server.user(101, "王芳")
        with pytest.raises(Forbidden, match="can't initiate conversation"):
            await bot.send_message(alice.id, "您好")
        await server.start_private(alice)
        assert (await bot.send_message(alice.id, "您好")).text == "您好"
        bob = server.user(102, "李强", started=True)
        assert (await bot.send_message(bob.id, "您好")).text == "您好"
    async with running_server(strict_private=False) as server, make_bot(server) as bot:
        carol = server.user(103, "陈")  # the kind mode, for tests about something else
        assert (await bot.send_message(carol.id, "您好")).text == "您好"


def test_message_objects_round_trip_through_ptb() -> None:
    server = LocalBotApi()
    alice = server.user(1, "A")
    chat = server.group(-100, "G")
    message = server.store.add_message(chat, from_user=alice, text="x")
    assert isinstance(message, Message)
    assert Update.de_json({"update_id": 1, "message": message.to_dict()}, None).message.text == "x"

