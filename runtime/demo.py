"""``gridbot demo``: a day in a grid group, played offline against the local Bot API.

The demo starts GridBot's local Bot API server and the real bot (python-telegram-bot's
own HTTP stack, long polling) in one process, then plays residents, a worker and the
secretary. Time runs on a fast clock (``--speed``: real seconds to simulated seconds)
and jumps between scenes, so reminders, an escalation and the Thursday digest happen
within a minute. It prints a transcript (who said what, what the bot sent where) and a
summary, and exits 0 when the closed loop worked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from community import CommunityConfig, example_config_text, parse_config
from localapi import LocalBotApi, Message, Request
from runtime.app import BotOptions, GridBot
from scheduler.ladder import plan
from tickets.sla import WorkCalendar
from ui.mask import mask_phone

# Monday 2026-11-23 08:30 in Shanghai.
DEMO_START = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)


class DemoClock:
    """Simulated time: runs ``speed`` times faster than real time and can jump ahead."""

    def __init__(self, start: datetime, speed: float) -> None:
        self._base = start
        self._speed = speed
        self._real_start = time.monotonic()

    def now(self) -> datetime:
        return self._base + timedelta(seconds=(time.monotonic() - self._real_start) * self._speed)

    def advance(self, delta: timedelta) -> None:
        self._base += delta

    def real_time(self) -> None:
        """From now on run at real speed (the console after the demo: links last 10 min)."""
        self._base, self._real_start, self._speed = self.now(), time.monotonic(), 1.0


@dataclass
class Cast:
    worker: int = 1001
    worker_2: int = 1002
    secretary: int = 1000
    aunt_zhang: int = 2001
    old_li: int = 2002
    xiao_chen: int = 2003
    neighbours: tuple[int, ...] = (2004, 2005, 2006, 2007, 2008)
    group: int = -1001000000001
    group_2: int = -1001000000002


@dataclass
class Transcript:
    """Prints what people said and what the bot sent, in order."""

    server: LocalBotApi
    out: TextIO
    clock: DemoClock
    names: dict[int, str] = field(default_factory=dict)
    quiet: bool = False
    seen: int = 0

    def stamp(self) -> str:
        local = self.clock.now() + timedelta(hours=8)
        return f"{local:%m-%d %H:%M}"

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.out, flush=True)

    def scene(self, title: str) -> None:
        self.say(f"\n━━ {self.stamp()} {title} ━━")

    def person(self, chat: int, user: int, text: str) -> None:
        where = self.names.get(chat, str(chat)) if chat < 0 else "私聊"
        self.say(f"[{where}] {self.names.get(user, user)}: {text}")

    def flush(self) -> None:
        """Print the bot's requests since the last flush."""
        requests = self.server.sent()
        for request in requests[self.seen:]:
            self._bot_line(request)
        self.seen = len(requests)

    def _bot_line(self, request: Request) -> None:
        if request.method not in ("sendMessage", "editMessageText", "answerCallbackQuery"):
            return
        chat = request.chat_id
        where = self.names.get(int(chat), f"私聊 {self.names.get(int(chat), chat)}") if chat else ""
        if isinstance(chat, int | str) and int(chat) > 0:
            where = f"私聊→{self.names.get(int(chat), chat)}"
        text = (request.text or request.params.get("text") or "").strip()
        failed = "" if request.ok else f" ✗ {request.error}"
        if request.method == "answerCallbackQuery":
            self.say(f"    🤖 (按钮提示) {request.params.get('text', '')}")
            return
        verb = "✏️ 更新卡片" if request.method == "editMessageText" else "🤖"
        buttons = _buttons(request.params)
        body = text.replace("\n", "\n        ")
        self.say(f"    {verb} [{where}]{failed} {body}" + (f"\n        [{buttons}]" if buttons else ""))


def _buttons(params: dict[str, Any]) -> str:
    markup = params.get("reply_markup") or {}
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    return " ".join(f"〔{b['text']}〕" for row in rows for b in row)


def _callback(request: Request, prefix: str) -> str:
    markup = request.params.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if button["callback_data"].startswith(prefix):
                return str(button["callback_data"])
    raise LookupError(f"no button {prefix} in message")


def _number_of(server: LocalBotApi, group: int, category_word: str) -> str:
    """The ticket number on the group card whose text mentions ``category_word``."""
    for request in server.sent(chat_id=group, method="sendMessage"):
        text = request.text or ""
        if text.startswith("📋 工单 #") and category_word in text:
            return text.split("#", 1)[1].split(" ", 1)[0]
    raise LookupError(category_word)


def _demo_config() -> CommunityConfig:
    import tomllib

    config, problems = parse_config(tomllib.loads(example_config_text()))
    if problems:  # pragma: no cover - the shipped example is tested
        raise RuntimeError("; ".join(problems))
    return config


def _live(server: LocalBotApi, chat_id: int, request: Request) -> Message:
    """The message a send request created, as it is now."""
    live = (server.message(chat_id, request.message.message_id)
            if request.message is not None else None)
    if live is None:
        raise RuntimeError("the demo lost a message the bot sent")
    return live


async def _settle(server: LocalBotApi, transcript: Transcript, seconds: float = 0.4) -> None:
    """Let the bot read and answer, then print what it sent."""
    with contextlib.suppress(TimeoutError):
        await server.wait_consumed(timeout=5.0)
    await asyncio.sleep(seconds)
    transcript.flush()


async def play(server: LocalBotApi, bot: GridBot, clock: DemoClock, transcript: Transcript,
               cast: Cast) -> dict[str, Any]:
    """The script. Returns figures for the summary."""
    t = transcript

    async def post(chat: int, user: int, text: str, **kwargs: Any) -> Any:
        t.person(chat, user, text)
        message = await server.post(chat, user, text, **kwargs)
        await _settle(server, t)
        return message

    t.scene("早上,网格员和书记私聊机器人登记")
    await server.start_private(cast.worker)
    await server.start_private(cast.worker_2)  # the backup worker: emergencies reach him too
    await server.start_private(cast.secretary)
    await _settle(server, t)

    t.scene("居民在群里反映问题")
    leak = await post(cast.group, cast.aunt_zhang,
                      "8号楼3单元顶楼漏雨了 天花板一直在滴水 [图片] @wangfang_grid")
    await post(cast.group, cast.xiao_chen, "大家早上好呀☀️")
    await post(cast.group, cast.old_li, "5号楼2单元楼道里又有人给电动车充电 电线从窗户拉下来的 太危险了")
    await post(cast.group, cast.xiao_chen, "3單元好大的煤氣味!!!快來人看看")
    await post(cast.group, cast.old_li, "今天下午社区几点下班啊")

    t.scene("停水了:很多人同时在群里说")
    for index, neighbour in enumerate(cast.neighbours):
        text = ("7号楼停水了" if index == 0 else
                ["7号楼也没水了", "7栋停水了什么时候来水", "我家7号楼也停水了!!", "7号楼没水 做不了饭"][
                    (index - 1) % 4])
        await post(cast.group, neighbour, text)

    t.scene("网格员在私聊里点按钮处理漏水工单")
    briefs = [r for r in server.sent(chat_id=cast.worker, method="sendMessage")
              if "漏水" in (r.text or "") and "新工单" in (r.text or "")]
    leak_brief = briefs[0]
    message = _live(server, cast.worker, leak_brief)
    ticket_id = _callback(leak_brief, "t:acc:").split(":")[-1]
    t.say("[私聊] 王芳 点〔接单〕")
    await server.tap(message, cast.worker, _callback(leak_brief, "t:acc:"))
    await _settle(server, t)
    t.say("[私聊] 王芳 点〔处理中〕")
    await server.tap(message, cast.worker, f"t:prg:{ticket_id}", verify=False)
    await _settle(server, t)
    clock.advance(timedelta(hours=3))
    t.scene("三小时后,修好了")
    t.say("[私聊] 王芳 点〔办结〕")
    await server.tap(message, cast.worker, f"t:done:{ticket_id}", verify=False)
    await _settle(server, t)
    rating = [r for r in server.sent(chat_id=cast.group, method="sendMessage")
              if "请您评价" in (r.text or "")][-1]
    t.say("[阳光花园一网格群] 张阿姨 点〔满意〕")
    await server.tap(_live(server, cast.group, rating), cast.aunt_zhang, f"r:1:{ticket_id}")
    await _settle(server, t)

    if bot.services is not None and bot.scheduler is not None:
        async with bot.services.db.read() as uow:
            ebike = await uow.tickets.get_by_number(_number_of(server, cast.group, "电动车"))
        if ebike is not None:
            titles = {"remind": "接单时限快到了:提醒网格员(非紧急工单只在工作时间提醒)",
                      "overdue": "接单时限已过:超时提醒",
                      "escalate": "超时仍未接单:升级督办,群里卡片标注“已督办”"}
            calendar = WorkCalendar(bot.config.timezone, bot.config.working_hours)
            for step in plan(ebike, bot.config.sla, calendar):
                if step.kind.lower() not in titles:
                    continue
                when = step.at + timedelta(minutes=1)
                if clock.now() < when:
                    clock.advance(when - clock.now())
                t.scene(titles[step.kind.lower()])
                await asyncio.sleep(0.8)
                t.flush()
        target = datetime(2026, 11, 26, 1, 0, 30, tzinfo=UTC)
        if clock.now() < target:
            clock.advance(target - clock.now())
        t.scene("周四上午九点:周四议事会周报")
        await asyncio.sleep(1.0)
        t.flush()
    await _conversations(server, bot, t, cast, post, leak)

    assert bot.services is not None
    async with bot.services.db.read() as uow:
        counts = await uow.outbox.counts()
        digest = await uow.queries.digest(DEMO_START - timedelta(days=1),
                                          clock.now() + timedelta(days=1))
    return {"counts": counts, "digest": digest}


async def _conversations(server: LocalBotApi, bot: GridBot, t: Transcript, cast: Cast,
                         post: Any, leak: Any) -> None:
    """Messages read together: a reply under a card reopens it, a progress question is
    answered, a report split over three quick messages becomes one ticket."""
    card = next(r for r in server.sent(chat_id=cast.group, method="sendMessage")
                if r.params.get("reply_parameters", {}).get("message_id") == leak.message_id)
    assert card.message is not None
    card_message = server.message(cast.group, card.message.message_id)
    t.scene("张阿姨在漏水工单卡片下回复:又漏了")
    await post(cast.group, cast.aunt_zhang, "还没修好啊,今天早上又漏了", reply_to=card_message)
    await post(cast.group, cast.old_li, "什么时候再来修?", reply_to=card_message)
    t.scene("老李分三条消息说一件事")
    for text in ("12号楼", "2单元", "楼道灯坏了 晚上黑乎乎的"):  # typed in quick succession
        t.person(cast.group, cast.old_li, text)
        await server.post(cast.group, cast.old_li, text)
    await _settle(server, t, seconds=1.0)
    # The group has used up Telegram's 20 messages a minute: wait for the last answers.
    with contextlib.suppress(TimeoutError):
        await bot.until_idle(within=90.0)
    t.flush()


async def _serve_console(bot: GridBot, clock: DemoClock, cast: Cast, out: TextIO) -> None:
    """``--web``: keep the bot and its console running on the demo's data until SIGINT or
    SIGTERM, after printing a login link for the demo's secretary."""
    from runtime.console import wait_for_signal
    from services.console_access import issue_login_link

    assert bot.services is not None and bot.console is not None
    clock.real_time()
    token = await issue_login_link(bot.services.db, bot.services.clock, cast.secretary)
    print(f"console: {bot.console.url}/login/{token}", file=out, flush=True)
    await wait_for_signal()


async def _run(speed: float, keep_db: str | None, quiet: bool, out: TextIO,
               web: str | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    cast = Cast()
    workdir = Path(tempfile.mkdtemp(prefix="gridbot-demo-"))
    db_path = workdir / "demo.db"
    clock = DemoClock(DEMO_START, speed)
    async with LocalBotApi() as server:
        names = {cast.group: "阳光花园一网格群", cast.group_2: "翠苑二网格群"}
        people = [(cast.worker, "王芳", "wangfang_grid"), (cast.worker_2, "李强", "liqiang_grid"),
                  (cast.secretary, "张书记", "zhang_shuji"), (cast.aunt_zhang, "张阿姨", None),
                  (cast.old_li, "老李", None), (cast.xiao_chen, "小陈", "xiaochen")]
        people += [(n, f"邻居{i + 1}", None) for i, n in enumerate(cast.neighbours)]
        for user_id, name, username in people:
            server.user(user_id, name, username=username)
            names[user_id] = name
        members = [p[0] for p in people]
        server.group(cast.group, names[cast.group], admins=[cast.secretary], members=members)
        server.group(cast.group_2, names[cast.group_2], admins=[cast.secretary], members=members)
        transcript = Transcript(server, out, clock, names, quiet)
        # No rate limiter: the story's clock runs hundreds of times faster than real time,
        # and the limiter's real seconds would hold back messages the story sends hours
        # apart (a group's allowance, and combined acknowledgements, are not shown here).
        options = BotOptions(api_url=server.base_url, poll_timeout=1, outbox_idle_poll=0.05,
                             scheduler_tick=0.2, rate_limit=False, web=web)
        bot = GridBot(_demo_config(), server.token, str(db_path), clock=clock, options=options)
        await bot.start()
        try:
            figures = await play(server, bot, clock, transcript, cast)
            if web is not None:
                _summary(out, figures, server)
                await _serve_console(bot, clock, cast, out)
        finally:
            await bot.stop()
    if web is None:
        _summary(out, figures, server)
    if keep_db:
        shutil.copyfile(db_path, keep_db)
        print(f"\n演示数据库已保存到 {keep_db}", file=out)
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _summary(out: TextIO, figures: dict[str, Any], server: LocalBotApi) -> None:
    digest = figures["digest"]
    counts = figures["counts"]
    sent = [r for r in server.sent() if r.method in ("sendMessage", "editMessageText")]
    print("\n━━ 汇总 ━━", file=out)
    print(f"工单: 新增 {digest.total.new},办结 {digest.total.resolved},"
          f"评价 {digest.total.ratings} 条", file=out)
    print(f"机器人发送/编辑消息 {len(sent)} 条;发件箱: 已发 {counts['sent']},"
          f"合并 {counts['superseded']},待发 {counts['pending']},失败 {counts['failed']}",
          file=out)
    print(mask_phone("演示结束。"), file=out)


def run_demo(*, speed: float = 600.0, keep_db: str | None = None, quiet: bool = False,
             out: TextIO | None = None, web: str | None = None) -> int:
    """Entry point of ``gridbot demo``; returns the exit code. ``web`` (HOST:PORT) keeps
    the staff console open on the demo's data afterwards, until interrupted."""
    return asyncio.run(_run(speed, keep_db, quiet, out or sys.stdout, web))
