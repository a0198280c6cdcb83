"""Bad input: hypothesis throws junk at the real bot, over HTTP, through the local Bot API.

One :class:`LocalBotApi` and one :class:`GridBot` run for the whole module on their own
event loop in a background thread (hypothesis tests are synchronous; starting a bot per
example would cost seconds). Before the fuzzing, :class:`Harness` files three real
tickets and one pending "is this a report?" question:

- T1: grid 1, reported by RESIDENT (with a phone number and a room), assigned to 王芳;
- T2: grid 2, reported by RESIDENT_2, assigned to 李强;
- T3: grid 1, reported by RESIDENT, resolved by 王芳 and waiting for the reporter's rating;
- P:  a borderline message by RESIDENT, waiting for RESIDENT's "登记为工单" tap.

The fuzzers then act only as people who have no right over those four: the cross-grid
worker, the police officer (a specialist of another category), other residents, a
stranger — and, for commands that do not touch tickets, the secretary. After every
example these properties are checked:

- no log record at ERROR (the error handler ``handlers.guards.on_error`` logs every
  handler crash there) and no message the bot sends is refused by the Bot API;
- every callback query is answered; every command addressed to the bot gets a reply
  quoting it, in Chinese; a command for another bot (``/accept@otherbot``) gets none;
- the bot is still responsive: a normal report posted after the batch gets its card;
- nobody without the right acted: T1–T3 keep their state, assignee, grid and text, their
  only new events are residents' 附议, nobody but the reporter rated, P is unanswered; and
  across every ticket, the event log holds no worker, secretary or resident action the
  lifecycle rules forbid them;
- T1's phone number reaches no chat but the reporter's, its worker's and the
  secretary's private chats.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from community import CommunityConfig, example_config_text, parse_config
from handlers import COMMANDS
from localapi import LocalBotApi
from localapi.state import Message
from runtime.app import GridBot
from tests.support.e2e import (
    GROUP_1,
    GROUP_2,
    POLICE,
    RESIDENT,
    RESIDENT_2,
    RESIDENT_3,
    SUPERVISOR,
    TUESDAY_MORNING,
    WORKER_1,
    WORKER_2,
    borderline_example,
    fast_options,
)
from tickets.clock import FakeClock

T = TypeVar("T")

STRANGER = 2999  # a Telegram user the bot never saw before
PROBE = 2900  # posts the "is the bot still answering?" report after every batch
STAFF_IDS = frozenset({WORKER_1, WORKER_2, SUPERVISOR, POLICE})
T1_PHONE = "13900001111"
SETTLE_SECONDS = 8.0
# The bot's username in the local server (LocalBotApi's default).
BOT_USERNAME = "gridbot_test_bot"

# -- the bot in a background thread ------------------------------------------------------------


class ErrorRecords(logging.Handler):
    """Collects every ERROR (and worse) record, plus warnings that mean the Bot API
    refused one of the bot's messages (the dispatcher logs those at WARNING)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        refused = record.levelno == logging.WARNING and "refused by Telegram" in record.getMessage()
        if record.levelno >= logging.ERROR or refused:
            with self._lock:
                self.records.append(record)

    def since(self, mark: int) -> list[str]:
        with self._lock:
            found = self.records[mark:]
        return [f"{r.name} {r.levelname}: {r.getMessage()}"
                + (f"\n{logging.Formatter().formatException(r.exc_info)}" if r.exc_info else "")
                for r in found]

    def mark(self) -> int:
        with self._lock:
            return len(self.records)


@dataclass
class Setup:
    """The tickets and the prompt the fuzzers must not be able to touch."""

    snapshot: dict[int, tuple[object, ...]] = field(default_factory=dict)
    prompt_id: int = 0
    t1_source: Message | None = None
    card: dict[int, Message] = field(default_factory=dict)  # group chat id -> a bot card


class Harness:
    """The local Bot API server and a GridBot on an event loop in a daemon thread."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = str(db_path)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fuzz-bot",
                                        daemon=True)
        self._thread.start()
        self.errors = ErrorRecords()
        self.clock = FakeClock(TUESDAY_MORNING)
        self.server = LocalBotApi()
        self.bot: GridBot | None = None
        self.setup = Setup()
        self._probes = itertools.count()
        self._ro: sqlite3.Connection | None = None
        self.sent_mark = 0  # the server's request count when the current batch started

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the bot's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    # -- start / stop ------------------------------------------------------------------------

    def start(self) -> None:
        logging.getLogger().addHandler(self.errors)
        self.run(self._start(), timeout=60.0)

    async def _start(self) -> None:
        import tomllib

        config, problems = parse_config(tomllib.loads(example_config_text()))
        assert problems == []
        server = self.server
        await server.start()
        for uid, name, username in (
            (WORKER_1, "王芳", "wangfang_grid"), (WORKER_2, "李强", "liqiang_grid"),
            (SUPERVISOR, "张书记", "zhang_shuji"), (POLICE, "刘警官", None),
            (RESIDENT, "张阿姨", None), (RESIDENT_2, "老李", None),
            (RESIDENT_3, "小陈", "xiaochen"), (STRANGER, "\u202eنصار\u200d🙂", None),
            (PROBE, "巡查志愿者", None),
        ):
            server.user(uid, name, username=username)
        members = [WORKER_1, WORKER_2, SUPERVISOR, POLICE, RESIDENT, RESIDENT_2, RESIDENT_3,
                   STRANGER, PROBE]
        server.group(GROUP_1, "阳光花园一网格群", admins=[SUPERVISOR], members=members)
        server.group(GROUP_2, "翠苑二网格群", admins=[SUPERVISOR], members=members)
        self.bot = GridBot(config, server.token, self.db_path, clock=self.clock,
                           options=fast_options(server))
        await self.bot.start()
        for uid in (WORKER_1, WORKER_2, SUPERVISOR, POLICE, RESIDENT, RESIDENT_2):
            await server.start_private(uid)
        await self._create_tickets(config)

    async def _create_tickets(self, config: CommunityConfig) -> None:
        server, s = self.server, self.setup
        first = await server.post(GROUP_1, RESIDENT,
                                  f"3号楼2单元601室楼道灯坏了好几天了 晚上看不见 电话{T1_PHONE}")
        await server.post(GROUP_2, RESIDENT_2, "翠苑小区5号楼门口垃圾成堆了 好几天没人收")
        await server.post(GROUP_1, RESIDENT, "8号楼门口的下水道堵了 污水冒出来了")
        await server.post(GROUP_1, RESIDENT, borderline_example()[0])
        await self._settle()
        await server.command(GROUP_1, WORKER_1, "/done 3 已疏通")
        await self._settle()
        bot = self.bot
        assert bot is not None and bot.services is not None
        async with bot.services.db.read() as uow:
            tickets = [await uow.tickets.get(i) for i in (1, 2, 3)]
            prompt = await uow.prompts.get(1)
        t1, t2, t3 = tickets
        assert t1 is not None and t2 is not None and t3 is not None and prompt is not None
        assert (t1.grid, t1.assignee, t1.state, t1.category) == (
            "第一网格", "王芳", "assigned", "facilities")
        assert (t2.grid, t2.assignee, t2.state) == ("第二网格", "李强", "assigned")
        assert (t3.grid, t3.assignee, t3.state) == ("第一网格", "王芳", "resolved")
        assert prompt.author_id == RESIDENT and prompt.answered_at is None
        s.prompt_id = prompt.id
        for t, number in zip(tickets, NUMBERS.values(), strict=True):
            assert t is not None and t.id is not None and t.number == number
            s.snapshot[t.id] = self._identity(t)
        s.t1_source = first
        for chat in (GROUP_1, GROUP_2):
            card = next(m for m in server.bot_messages(chat) if "工单 #" in (m.text or ""))
            s.card[chat] = card

    @staticmethod
    def _identity(ticket: Any) -> tuple[object, ...]:
        """What no fuzzer may change about a setup ticket (as _check_rights reads it)."""
        return (str(ticket.state), ticket.assignee, ticket.grid, ticket.text,
                ticket.reporter_id, ticket.rating, ticket.escalation_level,
                ticket.accepted_at is not None)

    def stop(self) -> None:
        try:
            self.run(self._stop(), timeout=60.0)
        finally:
            logging.getLogger().removeHandler(self.errors)
            if self._ro is not None:
                self._ro.close()
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)

    async def _stop(self) -> None:
        if self.bot is not None:
            await self.bot.stop()
        await self.server.stop()

    # -- helpers -------------------------------------------------------------------------------

    def sql(self, query: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """Read the bot's database from the test thread (WAL: readers never block it)."""
        if self._ro is None:
            self._ro = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True,
                                       check_same_thread=False)
        return self._ro.execute(query, params).fetchall()

    async def _settle(self) -> None:
        """Wait until every queued update was fetched and handled (or failed: a failed
        update stays pending in the inbox and is reported through the error log, so it
        does not poison the next examples) and nothing due is left to send."""
        await self.server.wait_consumed(timeout=SETTLE_SECONDS)
        bot = self.bot
        assert bot is not None and bot.services is not None
        services = bot.services
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_SECONDS
        while True:
            async with services.db.read() as uow:
                waiting = await uow.inbox.pending(limit=1, max_attempts=1)
                due = await uow.outbox.next_due_at()
            busy = bool(waiting) or (due is not None and due <= self.clock.now())
            if not busy and bot.application.update_queue.empty():
                return
            if loop.time() > deadline:
                raise TimeoutError(f"bot not idle: inbox {waiting}, next message due {due}")
            await asyncio.sleep(0.01)

    async def probe(self) -> None:
        """A normal report must still get its card (a reply quoting it with a number).

        Each probe is a new problem (临江路 and these buildings appear in no fuzz text and
        in no setup ticket), so it cannot join an existing ticket as a silent 附议; once
        every combination was used, the clock skips the duplicate window."""
        n = next(self._probes)
        problems = ("楼道灯坏了 晚上看不见", "下水道堵了 污水冒出来了", "门口垃圾成堆了 好几天没人收",
                    "楼道里堆满了杂物 过不去", "楼顶漏雨 家里墙都湿了", "有人在楼道里给电动车充电")
        buildings = (2, 4, 5, 6)
        combos = len(buildings) * len(problems)
        if n and n % combos == 0:
            self.clock.advance(timedelta(days=4))
        building = buildings[n % combos // len(problems)]
        message = await self.server.post(GROUP_1, PROBE,
                                         f"临江路{building}幢{problems[n % len(problems)]}")
        await self.server.wait_for(
            lambda: [r for r in self.server.sent(chat_id=GROUP_1, method="sendMessage")
                     if _reply_to(r.params) == message.message_id and "工单 #" in (r.text or "")],
            timeout=SETTLE_SECONDS)


def _reply_to(params: dict[str, Any]) -> int | None:
    reply = params.get("reply_parameters")
    if isinstance(reply, dict):
        return reply.get("message_id")
    return params.get("reply_to_message_id")


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    h = Harness(tmp_path_factory.mktemp("fuzz") / "gridbot.db")
    h.start()
    try:
        yield h
    finally:
        h.stop()
    assert not h.server.internal_errors, h.server.internal_errors


# -- the inputs ------------------------------------------------------------------------------

# Telegram delivers valid UTF-8 only, so no lone surrogates (category Cs).
CHARS = st.characters(exclude_categories=("Cs",))
SPECIALS = (
    "\u202e8号楼漏水\u202c",  # right-to-left override
    "\u200f\u200e\u061c",  # RTL/LTR marks
    "\u200b\u200c\u200d\u2060\ufeff",  # zero-width characters
    "🔥🔥🔥🚒👨‍👩‍👧‍👦🏳️‍🌈",  # emoji, ZWJ sequences
    "\x00\x01\x07\x1b[31m\x7f",  # control characters
    "<b>8号楼</b> &amp; <a href='x'>漏水</a> <script>",  # HTML in text sent back as HTML
    "%s %d {0} {name} {{}} \\N{SNOWMAN}",  # format strings
    "e\u0301" * 40,  # combining characters
    "８号楼３单元６０１室 漏水 电话１３９００００１１１１",  # full-width digits
    "٨ رقم ١٢٣",  # Arabic-Indic digits
    "２６１１-０００１",
    "#",
    "@gridbot_test_bot",
    "/",
    "a" * 300,
)


def utf16_cut(text: str, limit: int = 4096) -> str:
    """Telegram's length limit counts UTF-16 code units (an emoji counts two)."""
    out, used = [], 0
    for ch in text:
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            break
        out.append(ch)
    return "".join(out)


def _visible(text: str) -> bool:
    return bool(text.strip())


junk_text = st.one_of(
    st.text(CHARS, min_size=1, max_size=200),
    st.sampled_from(SPECIALS),
    st.binary(min_size=1, max_size=200).map(lambda b: b.decode("latin-1")),
    st.binary(min_size=1, max_size=200).map(lambda b: b.decode("utf-8", "replace")),
    st.lists(st.sampled_from(SPECIALS), min_size=2, max_size=5).map(" ".join),
    st.text(st.sampled_from("🔥😀🙏👍💧🏠🚨"), min_size=1, max_size=50),  # only emoji
).filter(_visible)

long_text = st.builds(
    lambda unit, tail: utf16_cut(unit * 4096 + tail),
    st.sampled_from(["8号楼漏水 ", "🔥", "a", "楼", "x\u200b", "1", "<b>",
                     "8号楼3单元601室 电话13800138000 "]),
    st.text(CHARS, max_size=5),
)

message_text = st.one_of(junk_text, long_text, junk_text.map(lambda t: "8号楼漏水了 " + t))

RANDOM_POOL = (RESIDENT_3, STRANGER, POLICE)  # no rights over T1–T3 and P
CHATS = ("g1", "g2", "dm")


@dataclass(frozen=True)
class Post:
    chat: str
    user: int
    text: str | None  # None: a photo without caption
    photo: bool = False
    edit_to: str | None = None  # then edit the message to this text


@dataclass(frozen=True)
class Command:
    chat: str
    user: int
    text: str


@dataclass(frozen=True)
class Tap:
    chat: str  # the group whose ticket card is tapped
    user: int
    data: str


@dataclass(frozen=True)
class ForgedEdit:
    """An edited_message update claiming another user edited T1's report."""

    user: int
    text: str


posts = st.one_of(
    st.builds(Post, st.sampled_from(CHATS), st.sampled_from(RANDOM_POOL), message_text),
    st.builds(Post, st.sampled_from(CHATS), st.sampled_from(RANDOM_POOL), st.none(),
              st.just(True)),
    st.builds(Post, st.sampled_from(CHATS), st.sampled_from(RANDOM_POOL), junk_text,
              st.booleans()),
    st.builds(Post, st.sampled_from(CHATS), st.sampled_from(RANDOM_POOL), message_text,
              st.just(False), message_text),
)

MALFORMED = (
    "/accept", "/accept abc", "/accept 99999999999999999999", "/done -1",
    "/transfer 2611-0001", "/transfer 2611-0001 @nobody", "/transfer 2611-0001 第九网格",
    "/schedule add |", "/schedule add | |", "/schedule del", "/schedule del x", "/schedule del ²",
    "/bind", "/bind 第九网格", "/accept ２６１１-０００１", "/accept ٢٦١١-٠٠٠١",
    "/accept 2611-0001 2611-0002", "/done ¹", "/ticket", "/ticket #", "/ticket 0",
    "/ticket 9999-999999", "/ticket 2611-0001", "/cancel 2611-0001", "/cancel 0",
    "/progress 2611-0002", "/escalate 2611-0003", "/reject 2611-0001", "/report",
    "/broadcast", "/my", "/help", "/who", "/open", "/mine", "/stats", "/start",
    "/ACCEPT 1", "/accept #1", "/accept 1-1", "/accept ---", "/accept 🔥",
)
COMMAND_NAMES = tuple(COMMANDS)
NON_TICKET_COMMANDS = ("schedule", "bind", "who", "help", "my", "stats", "open", "mine", "ticket")

commands = st.one_of(
    st.builds(Command, st.sampled_from(CHATS), st.sampled_from(RANDOM_POOL),
              st.sampled_from(MALFORMED)),
    st.builds(Command, st.sampled_from(CHATS), st.sampled_from(RANDOM_POOL),
              st.builds(lambda n, a: utf16_cut(f"/{n} {a}"), st.sampled_from(COMMAND_NAMES),
                        junk_text)),
    st.builds(Command, st.sampled_from(CHATS), st.sampled_from(RANDOM_POOL),
              st.builds(lambda n, a: utf16_cut(f"/{n}@otherbot {a}"),
                        st.sampled_from(COMMAND_NAMES), junk_text)),
    st.builds(Command, st.sampled_from(CHATS), st.sampled_from(RANDOM_POOL),
              st.builds(lambda n, a: utf16_cut(f"/{n}@{BOT_USERNAME} {a}"),
                        st.sampled_from(COMMAND_NAMES), junk_text)),
    # The secretary may do anything to tickets, so only commands that do not touch them;
    # these reach the admin code paths (/schedule, /bind) with junk.
    st.builds(Command, st.sampled_from(("g1", "g2", "dm")), st.just(SUPERVISOR),
              st.builds(lambda n, a: utf16_cut(f"/{n} {a}"), st.sampled_from(NON_TICKET_COMMANDS),
                        st.one_of(junk_text, st.sampled_from(
                            ["add |", "add 每天 09:00 |", "del ٣", "del 0", "add 每周八 |x",
                             "list", "第九网格", ""])))),
)


def _ref_forms(number: str) -> list[str]:
    """Ways to name a ticket: its number, with '#', in full-width digits. (Not the short
    "this month's N": the probes move the clock on, and "1" would name another ticket.)"""
    full = number.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    return [number, f"#{number}", full, f" {number} "]


# Who has no right over which setup ticket (see the module docstring).
UNAUTHORIZED = {
    1: (WORKER_2, POLICE, RESIDENT_2, RESIDENT_3, STRANGER),
    2: (WORKER_1, POLICE, RESIDENT, RESIDENT_3, STRANGER),
    3: (WORKER_2, POLICE, RESIDENT_2, RESIDENT_3, STRANGER),
}
PEOPLE = ("王芳", "李强", "张书记", "刘警官", "阳光物业", "nobody", "王", "第二网格")


NUMBERS = {1: "2611-0001", 2: "2611-0002", 3: "2611-0003"}
FORGED_VERBS = (
    "/accept {r}", "/progress {r} 已处理", "/done {r}", "/done {r} 修好了",
    "/transfer {r} @liqiang_grid", "/transfer {r} @wangfang_grid", "/transfer {r} 第二网格",
    "/transfer {r} 第一网格", "/escalate {r} 需要协调", "/reject {r} 不是诉求",
    "/cancel {r}", "/ticket {r}",
)


def forged_payloads(ticket: int, user: int) -> list[str]:
    """Every button payload aimed at ``ticket`` (and at RESIDENT's prompt P)."""
    out = [f"t:{a}:{ticket}" for a in ("acc", "prg", "done", "xfer", "ret", "esc", "retok",
                                       "back")]
    out += [f"r:{score}:{ticket}" for score in (1, 2, 3, 4)]
    out += [f"x:{person}:{ticket}" for person in PEOPLE]
    out += ["q:yes:999", "q:no:999"] if user == RESIDENT else ["q:yes:1", "q:no:1"]
    return out


@st.composite
def forged_on_setup(draw: st.DrawFn) -> Tap | Command:
    """A tap or a command aimed at T1–T3 (or P) by someone with no right over it."""
    ticket = draw(st.sampled_from((1, 2, 3)))
    user = draw(st.sampled_from(UNAUTHORIZED[ticket]))
    if draw(st.booleans()):
        data = draw(st.sampled_from(forged_payloads(ticket, user)))
        return Tap(draw(st.sampled_from(("g1", "g2"))), user, data)
    ref = draw(st.sampled_from(_ref_forms(NUMBERS[ticket])))
    verb = draw(st.sampled_from(FORGED_VERBS))
    where = draw(st.sampled_from(("g1" if ticket in (1, 3) else "g2", "dm")))
    return Command(where, user, verb.format(r=ref))


random_taps = st.builds(
    Tap, st.sampled_from(("g1", "g2")), st.sampled_from(RANDOM_POOL),
    st.one_of(
        st.text(CHARS, max_size=64).filter(lambda s: len(s.encode()) <= 64),
        st.from_regex(r"[trqx]:[a-z0-9王李张]{0,6}:-?[0-9]{0,25}", fullmatch=True),
        st.sampled_from(["", ":", "::", "t::", "t:acc:", "t:acc:0", "t:acc:-1",
                         "t:acc:999999999999", "t:acc:9999999999999",
                         "t:acc:99999999999999999999", "r:5:1", "r:0:1", "r:١:1",
                         "q:maybe:1", "x::1", "x: :1", "x:王芳:1:2", "t:acc:١",
                         "t:ACC:1", "t:acc:1 ", " t:acc:1", "t:acc:+1", "t:acc:1e3",
                         "x:" + "王" * 20 + ":1"]),
    ),
)

forged_edits = st.builds(ForgedEdit, st.sampled_from((RESIDENT_2, RESIDENT_3, STRANGER, POLICE)),
                         message_text)

any_action = st.one_of(posts, commands, random_taps, forged_on_setup(), forged_edits)


# -- running a batch and checking the properties -------------------------------------------


@dataclass
class Expectations:
    replies: list[tuple[int, int, str]] = field(default_factory=list)  # chat, msg id, command
    silent: list[tuple[int, int, str]] = field(default_factory=list)
    queries: list[tuple[str, Tap]] = field(default_factory=list)


def _chat_id(chat: str, user: int) -> int:
    return {"g1": GROUP_1, "g2": GROUP_2}.get(chat, user)


_COMMAND_RE = re.compile(r"^/([A-Za-z0-9_]+)(@\w+)?(?:\s|$)")


async def _perform(h: Harness, action: object, exp: Expectations) -> None:
    server = h.server
    if isinstance(action, Post):
        chat = _chat_id(action.chat, action.user)
        if action.photo:
            message = await server.post(chat, action.user, action.text, photo=True)
        else:
            assert action.text is not None
            message = await server.post(chat, action.user, action.text)
        if action.edit_to is not None:
            await server.edit(message, action.edit_to)
    elif isinstance(action, Command):
        chat = _chat_id(action.chat, action.user)
        message = await server.command(chat, action.user, action.text)
        match = _COMMAND_RE.match(action.text)
        if match is None:
            return
        name, suffix = match.group(1).lower(), match.group(2)
        if suffix is not None and suffix[1:].lower() != BOT_USERNAME:
            exp.silent.append((chat, message.message_id, action.text))
        elif name in COMMANDS and _reply_due(name, action, chat):
            exp.replies.append((chat, message.message_id, action.text))
    elif isinstance(action, Tap):
        card = h.setup.card[GROUP_1 if action.chat == "g1" else GROUP_2]
        query = await server.tap(card, action.user, action.data, verify=False)
        exp.queries.append((query.id, action))
    elif isinstance(action, ForgedEdit):
        source = h.setup.t1_source
        assert source is not None
        payload = source.to_dict()
        payload["from"] = server.store.users[action.user].to_dict()
        payload["text"] = action.text
        payload.pop("entities", None)
        payload["edit_date"] = int(payload["date"]) + 60
        await server.inject_update({"edited_message": payload})
    else:  # pragma: no cover - the strategies make only the types above
        raise AssertionError(action)


def _reply_due(name: str, action: Command, chat: int) -> bool:
    """Whether the command must be answered with a reply quoting it."""
    args = action.text.split(None, 1)[1:]
    if name == "start" and chat > 0:
        return False  # the private greeting is not a quote
    if name == "broadcast" and args and args[0].strip():
        return False  # the confirmation is a plain message
    # A report is answered by its card, or joins an existing one silently (附议).
    return not (name == "report" and args and args[0].strip())


CJK = re.compile(r"[\u4e00-\u9fff]")


def _check(h: Harness, exp: Expectations, mark: int, event_mark: int) -> None:
    """Every property from the module docstring, for the batch just run."""
    errors = h.errors.since(mark)
    assert not errors, "errors logged:\n" + "\n".join(errors)
    server = h.server
    # "Not modified" is Telegram's answer to an edit that changes nothing; the dispatcher
    # takes it as delivered. Any other refusal means a message was lost.
    failed = [f"{r.method} -> {r.error}" for r in server.sent(include_failed=True)[h.sent_mark:]
              if not r.ok and r.method in ("sendMessage", "editMessageText")
              and "not modified" not in str(r.error)]
    assert not failed, f"the Bot API refused the bot's messages: {failed}"

    answered = {a.query_id: a for a in server.callback_answers}
    for query_id, tap in exp.queries:
        assert query_id in answered, f"callback {tap} was never answered"
        text = answered[query_id].text or ""
        assert CJK.search(text), f"callback {tap} answered without a Chinese toast: {text!r}"

    sent = server.sent(method="sendMessage")
    for chat, message_id, command in exp.replies:
        answers = [r.text or "" for r in sent
                   if _same_chat(r.chat_id, chat) and _reply_to(r.params) == message_id]
        assert answers, f"no reply to {command!r} in chat {chat}"
        assert any(CJK.search(a) for a in answers), f"reply to {command!r} not Chinese: {answers}"
    for chat, message_id, command in exp.silent:
        answers = [r.text for r in sent
                   if _same_chat(r.chat_id, chat) and _reply_to(r.params) == message_id]
        assert not answers, f"{command!r} was meant for another bot, yet answered: {answers}"

    _check_rights(h, event_mark)
    _check_privacy(h)


def _same_chat(value: object, chat: int) -> bool:
    try:
        return int(value) == chat  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


# Actions only staff may take; those a reporter may take on their own ticket; anyone's.
STAFF_ACTIONS = {"assign", "accept", "progress", "resolve", "transfer", "escalate", "reject",
                 "merge", "merge_in", "split", "split_off"}
# "detail": the reporter completing their ticket (a split report's place, a pin); the fuzz
# posts no replies, so nobody else may add one here.
REPORTER_ACTIONS = {"cancel", "edit", "photo", "rate", "reopen", "close", "detail"}
ANYONE_ACTIONS = {"create", "support"}


def _check_rights(h: Harness, event_mark: int) -> None:
    """Nobody acted without the right, judged on the events recorded since
    ``event_mark`` (so one bad example does not fail every later one)."""
    s = h.setup
    # The setup tickets: same state, owner, grid, text, rating; P unanswered.
    for ticket_id, before in s.snapshot.items():
        [row] = h.sql("SELECT state, assignee, grid, text, reporter_id, rating, "
                      "escalation_level, accepted_at IS NOT NULL FROM tickets WHERE id = ?",
                      (ticket_id,))
        now = (row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]))
        s.snapshot[ticket_id] = now
        assert now == before, f"setup ticket {ticket_id} changed: {before} -> {now}"
    events = h.run(_setup_events(h))
    for ticket_id, records in events.items():
        wrong = [(e.action, e.actor_id, e.actor_key) for e in records
                 if e.id > event_mark and not (e.action == "support"
                                               and e.actor_id not in STAFF_IDS)]
        assert not wrong, f"setup ticket {ticket_id} was acted on without the right: {wrong}"
    assert h.sql("SELECT count(*) FROM ratings WHERE ticket_id IN (1, 2, 3)")[0][0] == 0
    [(answered,)] = h.sql("SELECT answered_at FROM prompts WHERE id = ?", (s.prompt_id,))
    assert answered is None, "someone else answered RESIDENT's question"

    # Every ticket: the log holds no action by someone without the right to it.
    rows = h.sql(
        "SELECT e.id, e.ticket_id, e.action, e.actor_id, e.actor_key, t.reporter_id, "
        "t.category FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id "
        "WHERE e.id > ?", (event_mark,))
    for event_id, ticket_id, action, actor_id, actor_key, reporter_id, category in rows:
        where = f"event {event_id} ({action}) on ticket {ticket_id} by {actor_id}/{actor_key}"
        if actor_id is None or action in ANYONE_ACTIONS:
            continue  # the system (routing, scheduler), or a report / 附议
        assert actor_id not in (WORKER_1, WORKER_2, SUPERVISOR), (
            f"{where}: only forged or read-only actions were sent as this person")
        if action in REPORTER_ACTIONS and actor_id == reporter_id:
            continue
        assert actor_id == POLICE and action in STAFF_ACTIONS | {"photo"} and (
            category == "public_order"), f"{where}: acted without the right"


async def _setup_events(h: Harness) -> dict[int, list[Any]]:
    bot = h.bot
    assert bot is not None and bot.services is not None
    async with bot.services.db.read() as uow:
        return {tid: await uow.events.for_ticket(tid) for tid in h.setup.snapshot}


# Phone numbers and rooms in the setup and fuzz reports, as sent and as NFKC sees them.
PERSONAL = ("13900001111", "13800138000", "601室", "１３９００００１１１１", "６０１室")


def _check_privacy(h: Harness) -> None:
    """T1's phone number goes only to the reporter, its worker and the secretary; no
    phone number or room from a report reaches a group (the secretary's broadcasts say
    whatever the secretary wrote, so they are not judged)."""
    allowed = {RESIDENT, WORKER_1, SUPERVISOR}
    sent = h.server.sent(include_failed=True)[h.sent_mark:]
    leaks = [(r.chat_id, r.method) for r in sent
             if T1_PHONE in (r.text or "") and not any(_same_chat(r.chat_id, c) for c in allowed)]
    assert not leaks, f"T1's phone number was sent to {leaks}"
    shown = []
    for r in sent:
        chat = GROUP_1 if _same_chat(r.chat_id, GROUP_1) else (
            GROUP_2 if _same_chat(r.chat_id, GROUP_2) else None)
        text = r.text or ""
        if chat is None or text.startswith("📢"):
            continue
        quoted = h.server.message(chat, _reply_to(r.params) or 0)
        command = (quoted.text or "") if quoted else ""
        echoed = unicodedata.normalize("NFKC", command) if command.startswith("/") else ""
        # Quoting a command's own words back ("“601室”不是有效的工单编号") is fine; a card
        # replying to a report must still hide the report's room and phone.
        shown += [(chat, text) for p in PERSONAL
                  if p in text and unicodedata.normalize("NFKC", p) not in echoed]
    assert not shown, f"personal details shown in a group: {shown}"


def run_batch(h: Harness, actions: list[object]) -> None:
    """Send the actions, let the bot settle, check everything, then probe it."""
    mark = h.errors.mark()
    event_mark = h.sql("SELECT coalesce(max(id), 0) FROM ticket_events")[0][0]
    h.sent_mark = len(h.server.sent(include_failed=True))
    exp = Expectations()

    async def go() -> None:
        for action in actions:
            await _perform(h, action, exp)
        # A crash leaves its update pending and logs an ERROR: reported by _check below.
        with contextlib.suppress(TimeoutError):
            await h._settle()

    h.run(go(), timeout=60.0)
    _check(h, exp, mark, event_mark)
    h.run(h.probe(), timeout=30.0)
    h.run(h._settle(), timeout=30.0)
    errors = h.errors.since(mark)
    assert not errors, "errors logged around the probe:\n" + "\n".join(errors)


FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
    database=None,  # the bot's state carries over between examples; replays would mislead
    print_blob=True,
)


@settings(FUZZ, max_examples=60)
@given(st.lists(posts, min_size=1, max_size=4))
def test_arbitrary_messages_edits_and_photos(harness: Harness, actions: list[Post]) -> None:
    run_batch(harness, list(actions))


@settings(FUZZ, max_examples=60)
@given(st.lists(commands, min_size=1, max_size=4))
def test_malformed_commands_get_a_chinese_answer(harness: Harness,
                                                 actions: list[Command]) -> None:
    run_batch(harness, list(actions))


@settings(FUZZ, max_examples=80)
@given(st.lists(st.one_of(forged_on_setup(), forged_on_setup(), random_taps, forged_edits),
                min_size=1, max_size=5))
def test_forged_callbacks_and_commands_are_refused(harness: Harness,
                                                   actions: list[object]) -> None:
    run_batch(harness, actions)


@settings(FUZZ, max_examples=30)
@given(st.lists(any_action, min_size=3, max_size=8))
def test_mixed_batches(harness: Harness, actions: list[object]) -> None:
    run_batch(harness, actions)


def test_every_malformed_command_once(harness: Harness) -> None:
    """The fixed list of malformed commands, each by a resident, the officer and (for
    commands that touch no ticket) the secretary, deterministically."""
    actions: list[object] = [Command(chat, user, text) for text in MALFORMED
                             for chat, user in (("g1", RESIDENT_3), ("dm", POLICE))]
    actions += [Command("g2", SUPERVISOR, f"/{text}") for text in
                ("schedule add |", "schedule del ٣", "schedule del 0", "bind 第九网格", "who")]
    for start in range(0, len(actions), 10):
        run_batch(harness, actions[start:start + 10])


def test_every_forged_action_on_the_setup_tickets(harness: Harness) -> None:
    """The whole matrix, deterministically: every button payload and every ticket command
    on T1–T3, by each person without the right, tapped in both groups / sent in the
    ticket's group and in private. (Hypothesis samples this space; this covers it.)"""
    actions: list[object] = []
    for ticket, users in UNAUTHORIZED.items():
        group = "g1" if ticket in (1, 3) else "g2"
        for user in users:
            actions += [Tap(group, user, data) for data in forged_payloads(ticket, user)]
            for i, verb in enumerate(FORGED_VERBS):
                ref = _ref_forms(NUMBERS[ticket])[i % 4]
                actions.append(Command((group, "dm")[i % 2], user, verb.format(r=ref)))
    for start in range(0, len(actions), 30):
        run_batch(harness, actions[start:start + 30])


# -- regressions: what the fuzzing and the security review found ------------------------------
# Each runs on its own bot (conftest's function-scoped fixtures), so a crash here cannot
# spill into the shared fuzzing bot above.


async def _answers_to(server: LocalBotApi, chat: int, message: Message) -> list[str]:
    """The bot's replies quoting ``message``, after giving it up to 3 seconds."""
    def found() -> list[str]:
        return [r.text or "" for r in server.sent(chat_id=chat, method="sendMessage")
                if _reply_to(r.params) == message.message_id]
    with contextlib.suppress(TimeoutError):
        await server.wait_for(found, timeout=3.0)
    return found()


@pytest.mark.parametrize("argument", ["²", "99999999999999999999"])
async def test_schedule_del_with_a_number_sqlite_or_int_cannot_take_is_answered(
    server: LocalBotApi, gridbot: GridBot, caplog: pytest.LogCaptureFixture, argument: str
) -> None:
    """``"²".isdigit()`` is True but ``int("²")`` raises; 20 digits overflow SQLite's
    INTEGER. Either way /schedule del must answer, not crash."""
    with caplog.at_level(logging.ERROR):
        message = await server.command(GROUP_2, SUPERVISOR, f"/schedule del {argument}")
        answers = await _answers_to(server, GROUP_2, message)
    crashes = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not crashes, f"/schedule del {argument} crashed the handler: {crashes}"
    assert answers and CJK.search(answers[0])


async def test_open_in_a_group_does_not_show_where_a_sensitive_ticket_is(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    """The card of an elderly-care report shows no place in the group; the worker's /open
    list in the same group must not show it either."""
    await server.post(GROUP_1, RESIDENT, "8号楼独居的王奶奶好几天没见了 敲门也没人应")
    [card] = await server.wait_sent(chat_id=GROUP_1, method="sendMessage")
    assert "8号楼" not in (card.text or "")
    for command in ("/open", "/mine"):
        message = await server.command(GROUP_1, WORKER_1, command)
        [listing] = await _answers_to(server, GROUP_1, message)
        assert "2611-0001" in listing or command == "/mine"
        assert "8号楼" not in listing, f"{command} in the group shows the place: {listing!r}"


async def test_a_button_tap_without_rights_does_not_put_buttons_on_a_group_card(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    """Transfer/return/back taps only show buttons, so they check nothing but "is staff".
    Forged on a group card by staff without any right over the ticket (the officer, for a
    lighting report), they must not hang the worker's keyboard on the group's card."""
    await server.post(GROUP_1, RESIDENT, "3号楼楼道灯坏了好几天了 晚上看不见")
    [card] = await server.wait_sent(chat_id=GROUP_1, method="sendMessage")
    message = server.message(GROUP_1, card.message.message_id)
    assert message is not None
    for data in ("t:back:1", "t:xfer:1", "t:ret:1"):
        await server.tap(message, POLICE, data, verify=False)
    await server.wait_for(lambda: len(server.callback_answers) >= 3)
    await gridbot.until_idle()
    keyboards = [r.params.get("reply_markup") for r in server.sent(
        chat_id=GROUP_1, method="editMessageReplyMarkup")]
    assert not [k for k in keyboards if k and k.get("inline_keyboard")], (
        f"buttons put on the group card by a forged tap: {keyboards}")


async def test_a_configured_username_does_not_make_another_account_that_person(
    server: LocalBotApi, gridbot: GridBot
) -> None:
    """王芳 is configured by Telegram id 1001 *and* username. Another account that holds
    the username (she changed hers and someone took it) must stay a resident."""
    await server.post(GROUP_1, RESIDENT, "3号楼楼道灯坏了好几天了 晚上看不见")
    await server.wait_sent(chat_id=GROUP_1, method="sendMessage")
    impostor = server.user(7777, "王芳", username="wangfang_grid")
    message = await server.command(GROUP_1, impostor.id, "/accept 2611-0001")
    answers = await _answers_to(server, GROUP_1, message)
    await gridbot.until_idle()
    assert gridbot.services is not None
    async with gridbot.services.db.read() as uow:
        ticket = await uow.tickets.get(1)
    assert ticket is not None
    assert ticket.state == "assigned", f"the impostor accepted it: {answers}"


async def test_the_done_note_is_masked_in_the_group(server: LocalBotApi, gridbot: GridBot) -> None:
    """The "已办结" notice in the group quotes the worker's /done note; phone numbers and
    rooms in it must be masked like every other note shown in a group."""
    await server.post(GROUP_1, RESIDENT, "3号楼楼道灯坏了好几天了 晚上看不见")
    await server.wait_sent(chat_id=GROUP_1, method="sendMessage")
    await server.command(WORKER_1, WORKER_1, "/done 2611-0001 已联系业主13912345678,601室门口的灯也换了")
    notice = await server.wait_for(lambda: [r.text or "" for r in server.sent(
        chat_id=GROUP_1, method="sendMessage") if "请您评价" in (r.text or "")])
    assert "13912345678" not in notice[0] and "601室" not in notice[0], notice[0]
