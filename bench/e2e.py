"""End-to-end load test: the real bot (``bot.py run`` in a subprocess) against the local Bot
API server hosted in this process, under a mixed resident load.

For each rate (default 10, 50 and 200 messages/s, ``--seconds`` each) it starts a fresh
server (``enforce_limits=True``: every send beyond Telegram's limits is answered 429 and
counted), a fresh database and a fresh bot process, posts ~70% chatter and ~30% reports
(some of them the same problem reported by several residents) across six groups bound
to two grids, waits (bounded) for the bot to drain, and prints:

* offered and achieved input rate, input backlog at the end of the load;
* report → acknowledgement latency (post to the card reply for that message id):
  median, p95, p99, max; acknowledgements missing (still queued vs lost);
* tickets created vs expected (distinct problems), supporters (附议) vs expected;
* sends per group per minute (max over groups and rolling 60 s windows: ≤ 20) and
  overall sends per second (max rolling 1 s window: ≤ 30), successful and attempted;
  429s served;
* the bot's peak RSS and CPU seconds (psutil on the subprocess), errors in its log;

then a final table. Only 127.0.0.1 traffic; bounded in time and count; stops by itself.

``--communities N`` (2..6) runs ``gridbot run --deployment`` instead: N communities, each
with its own copy of the groups (its own chat ids), its own staff and database (a SQLite
file each, or a schema each in one PostgreSQL database); from three on, the last two share
one token, the others have one each. Every token gets its own local Bot API server (its
own limits), all behind one address (``--api-url``). The load goes across every
community's groups; the checks hold per community (every report one ticket in its own
database, none in another's; one acknowledgement each) and per token (limits, takeover
after ``--kill-one-after``: by which process, after how many seconds); a per-community
table follows the usual one. With ``--processes N`` the processes spread the tokens (a
lease per token, runtime/spread.py): the bench waits until every token is held (and, with
at least as many tokens as processes, every process holds one), SIGKILLs process 1 and
times the takeover of each token it held; every token's server counts getUpdates conflicts
(two processes polling one token), which must stay 0.

Usage: .venv/bin/python bench/e2e.py [--rates 10,50,200] [--seconds 20] [--quick]
       [--drain-timeout 900] [--groups 6] [--seed 7] [--keep DIR]
       [--backend sqlite|postgres] [--db URL] [--processes N [--kill-one-after S]]
       [--communities N]
Exit code: 0 when every run finished and the bot stayed healthy (no crash, no lost
ticket or acknowledgement, no duplicate acknowledgement); 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import storage  # noqa: E402
from localapi import LocalBotApi  # noqa: E402
from localapi.faults import SEND_METHODS  # noqa: E402
from localapi.router import TokenRouter  # noqa: E402
from localapi.state import Request, User  # noqa: E402
from storage.leases import lease_key  # noqa: E402
from storage.pg_database import DEFAULT_SCHEMA  # noqa: E402
from storage.timefmt import from_db  # noqa: E402
from tests.support import pg  # noqa: E402
from tests.support.backends import query  # noqa: E402
from tests.support.processes import held_tokens  # noqa: E402
from ui.texts import fold_card_numbers  # noqa: E402

GROUP_LIMIT_PER_MINUTE = 20  # Telegram: messages per minute into one group
GLOBAL_LIMIT_PER_SECOND = 30  # Telegram: messages per second overall
LIMITER_LOG = "AIORateLimiter: Rate limit hit"
ACK_P50_GOAL, ACK_P99_GOAL = 3.0, 10.0  # seconds, report → first acknowledgement
BRIEF_P99_GOAL = 5.0  # seconds a worker's private brief waits, at up to 50 msg/s

# --------------------------------------------------------------------------- community


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """A bench group: its chat id, grid and the buildings its residents live in.

    Each group gets its own buildings, so a problem (category + building + unit + room)
    is unique across the community and the expected ticket count is exact.
    """

    chat_id: int
    title: str
    grid: str
    compound: str
    buildings: tuple[int, ...]
    suffix: str  # how residents name a building there: 号楼 / 幢 / 栋


ALL_GROUPS: tuple[GroupSpec, ...] = (
    GroupSpec(-1001000000001, "阳光花园一期业主群", "第一网格", "阳光花园", (1, 2, 3, 4, 5, 6), "号楼"),
    GroupSpec(-1001000000002, "阳光花园三期业主群", "第二网格", "阳光花园",
              (13, 14, 15, 16, 17), "号楼"),
    GroupSpec(-1001000000011, "阳光花园二期邻里群", "第一网格", "阳光花园",
              (7, 8, 9, 10, 11, 12), "号楼"),
    GroupSpec(-1001000000012, "翠苑小区东区群", "第二网格", "翠苑小区", (1, 2, 3, 4, 5, 6, 7), "栋"),
    GroupSpec(-1001000000021, "临江路老小区群", "第一网格", "临江路", (2, 3, 4, 5, 6), "幢"),
    GroupSpec(-1001000000022, "翠苑小区西区群", "第二网格", "翠苑小区",
              (8, 9, 10, 11, 12, 18, 19, 20), "栋"),
)

STAFF = ((1001, "王芳", "wangfang_grid"), (1002, "李强", "liqiang_grid"),
         (1000, "张书记", "zhang_shuji"))


def config_text(groups: Sequence[GroupSpec], *, name: str = "幸福里社区(压测)",
                staff: Sequence[tuple[int, str, str]] = STAFF) -> str:
    """The bench community: the example's two grids and people, with the bench groups
    (``name`` and ``staff`` differ per community of a deployment)."""
    def chats(grid: str) -> str:
        return ", ".join(str(g.chat_id) for g in groups if g.grid == grid)

    (wang, wang_name, wang_user), (li, li_name, li_user), (zhang, zhang_name, zhang_user) = staff
    return f"""\
[community]
name = "{name}"
timezone = "Asia/Shanghai"

[[grids]]
name = "第一网格"
areas = [{{ compound = "阳光花园", buildings = "1-12" }}, {{ compound = "临江路", buildings = "2-6" }}]
chats = [{chats("第一网格")}]
workers = ["{wang_name}"]
backup = "{li_name}"

[[grids]]
name = "第二网格"
areas = [{{ compound = "阳光花园", buildings = "13-20" }}, {{ compound = "翠苑小区" }}]
chats = [{chats("第二网格")}]
workers = ["{li_name}"]
backup = "{wang_name}"

[[people]]
name = "{wang_name}"
telegram_id = {wang}
username = "{wang_user}"
roles = ["worker"]
grids = ["第一网格"]

[[people]]
name = "{li_name}"
telegram_id = {li}
username = "{li_user}"
roles = ["worker"]
grids = ["第二网格"]

[[people]]
name = "{zhang_name}"
telegram_id = {zhang}
username = "{zhang_user}"
roles = ["supervisor", "admin"]
"""


# ------------------------------------------------------------------------ deployment

COMMUNITY_NAMES = ("幸福里社区", "安乐社区", "和平社区", "永宁社区", "长青社区", "春晖社区")


@dataclass(frozen=True, slots=True)
class BenchCommunity:
    """One community of the bench deployment: its groups (chat ids of its own), staff
    (ids and usernames of its own: a person belongs to one community) and token."""

    key: str
    name: str
    groups: tuple[GroupSpec, ...]
    staff: tuple[tuple[int, str, str], ...]
    token: str
    token_env: str

    def config(self) -> str:
        return config_text(self.groups, name=self.name, staff=self.staff)


def bench_token(index: int) -> str:
    """A well-formed fake token for the bench's ``index``-th bot (1-based)."""
    return f"{7_000_000_100 + index}:" + f"AAFbench-deployment-token-{index:02d}".ljust(35, "0")


def make_communities(count: int, groups: Sequence[GroupSpec]) -> list[BenchCommunity]:
    """``count`` communities, each with ``groups`` (chat ids shifted per community) and its
    three staff; from three communities on, the last two share one token (one poller routes
    by chat), the others have a token each. One community is the bench's classic one."""
    out = []
    for c in range(count):
        shared = count >= 3 and c == count - 1
        token_index = c if shared else c + 1
        out.append(BenchCommunity(
            key="xingfuli" if count == 1 else f"community{c + 1}",
            name=f"{COMMUNITY_NAMES[c]}(压测)",
            groups=tuple(replace(g, chat_id=g.chat_id - c * 10_000_000,
                                 title=g.title if c == 0 else f"{COMMUNITY_NAMES[c]}·{g.title}")
                         for g in groups),
            staff=tuple((uid + 100 * c, name, username if c == 0 else f"{username}_c{c + 1}")
                        for uid, name, username in STAFF),
            token=bench_token(token_index), token_env=f"BENCH_BOT{token_index}_TOKEN"))
    return out


def deployment_text(communities: Sequence[BenchCommunity], database: str) -> str:
    """The deployment file: every community inline; SQLite files under ``database`` (a
    directory) or one PostgreSQL database, a schema per community."""
    parts = [f'[deployment]\nname = "幸福街道(压测)"\ndatabase = "{database}"\n']
    for community in communities:
        body = community.config()
        for section in ("community", "grids", "people"):
            body = body.replace(f"[[{section}]]", f"[[communities.{section}]]").replace(
                f"[{section}]", f"[communities.{section}]")
        parts.append(f'\n[[communities]]\nkey = "{community.key}"\n'
                     f'token_env = "{community.token_env}"\n{body}')
    return "".join(parts)


# ------------------------------------------------------------------------------ corpus

#: Per category: how the first resident reports it, and how neighbours report the same
#: problem again. ``{p}`` is the place (compound, building, unit, room).
REPORTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "water_leak": (
        ("{p}楼上漏水了,卫生间天花板一直在滴水,麻烦尽快来看看",
         "我家住{p},厨房顶上渗水好几天了,墙皮都泡起来了"),
        ("{p}也漏水,天花板在滴水,我家也一样", "+1 {p}这边天花板漏水还没人管"),
    ),
    "facilities": (
        ("{p}楼道的灯坏了好几天了,晚上黑漆漆的老人下楼很危险",),
        ("{p}楼道灯确实坏了,晚上灯不亮", "同问,{p}的灯坏了什么时候修"),
    ),
    "sanitation": (
        ("{p}门口垃圾好几天没人清运了,味道很大,苍蝇到处飞",),
        ("{p}的垃圾还是没人清,太臭了",),
    ),
    "elevator": (
        ("{p}电梯又坏了,困在里面十分钟才出来,请物业赶紧修",),
        ("{p}电梯又坏了,我刚才也困在里面",),
    ),
    "ev_charging": (
        ("{p}楼下有人在楼道里给电动车充电,太危险了,请管一管",
         "{p}又有人把电动车推进楼道充电,电线拖了一地"),
        ("{p}楼道里电动车充电还在,没人管吗",),
    ),
    "noise": (
        ("{p}楼上每天半夜装修电钻声,吵得根本睡不着",),
        ("{p}半夜电钻太吵了,睡不着,我也要反映",),
    ),
    "drainage": (
        ("{p}下水道堵了,污水都漫到楼道里了",),
        ("{p}下水道还是堵的,污水味道很重",),
    ),
    "utilities": (
        ("{p}停水了,从早上到现在都没有水,什么时候能恢复?",),
        ("{p}我家也停水了",),
    ),
}

CHATTER = (
    "大家早上好!", "谢谢网格员的帮助", "收到", "收到,谢谢通知", "好的,谢谢", "辛苦了!",
    "明天团购的鸡蛋几点到?", "团购的水果到了,请到3号门领取", "今晚团购车厘子,要的接龙",
    "有没有人知道快递驿站几点关门", "今天天气真好,带孩子去公园了", "哈哈哈 是的", "👍👍👍",
    "晚上广场舞几点开始呀", "有人一起拼车去机场吗", "周末社区有义诊活动吗?", "早", "新年快乐",
    "请问疫苗接种在哪里登记", "我家猫找到了,谢谢大家", "这个月的物业费在哪里交",
    "谢谢王芳,上次的事处理得很快", "楼下新开的面馆挺好吃的", "孩子的校服在哪里买?",
    "明天几点开业主大会?", "晚安各位", "感谢社区送来的月饼🥮", "好的收到👌",
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("阿姨", "大爷", "师傅", "姐", "哥", "奶奶", "老师", "先生", "女士")


def place(group: GroupSpec, index: int) -> str:
    """The ``index``-th distinct place in a group: building, unit 1-6, room floor 1-18
    door 01-04 (over 2,000 places per group, none shared with another group)."""
    n = len(group.buildings)
    building = group.buildings[index % n]
    unit = 1 + index // n % 6
    rest = index // (n * 6)
    floor, door = 1 + rest % 18, 1 + rest // 18 % 4
    return f"{group.compound}{building}{group.suffix}{unit}单元{floor}{door:02d}"


@dataclass(slots=True)
class Planned:
    """One message of the load plan."""

    at: float  # seconds after the start of the load
    group: GroupSpec
    user_id: int
    text: str
    kind: str  # "chat" | "report" (a new problem) | "support" (the same problem again)
    problem: int | None = None


@dataclass(slots=True)
class Problem:
    group: GroupSpec
    reporter: int
    category: str
    place: str
    voices: set[int] = field(default_factory=set)


def make_plan(rate: float, seconds: float, groups: Sequence[GroupSpec], rng: random.Random,
              *, report_share: float = 0.30, support_share: float = 0.25,
              residents: int = 3000) -> tuple[list[Planned], list[Problem]]:
    """The whole load, decided up front so the expected outcome is known exactly.

    ``report_share`` of messages are reports; of those, ``support_share`` repeat one of the
    group's 15 most recent problems from a resident who has not reported it yet.
    """
    total = round(rate * seconds)
    problems: list[Problem] = []
    recent: dict[int, deque[int]] = {g.chat_id: deque(maxlen=15) for g in groups}
    next_place: dict[int, int] = defaultdict(int)
    categories = sorted(REPORTS)
    plan: list[Planned] = []
    for i in range(total):
        group = rng.choice(groups)
        user = 300_000 + rng.randrange(residents)
        at = i / rate
        if rng.random() >= report_share:
            plan.append(Planned(at, group, user, rng.choice(CHATTER), "chat"))
            continue
        pool = recent[group.chat_id]
        if pool and rng.random() < support_share:
            pid = rng.choice(pool)
            problem = problems[pid]
            while user in problem.voices:
                user = 300_000 + rng.randrange(residents)
            problem.voices.add(user)
            text = rng.choice(REPORTS[problem.category][1]).format(p=problem.place)
            plan.append(Planned(at, group, user, text, "support", pid))
            continue
        category = rng.choice(categories)
        where = place(group, next_place[group.chat_id])
        next_place[group.chat_id] += 1
        problems.append(Problem(group, user, category, where, {user}))
        pool.append(len(problems) - 1)
        text = rng.choice(REPORTS[category][0]).format(p=where)
        plan.append(Planned(at, group, user, text, "report", len(problems) - 1))
    return plan, problems


def check_corpus(config_path: Path, groups: Sequence[GroupSpec]) -> None:
    """Fail fast if the bot's reader disagrees with the bench's ground truth: every report
    template must read as a non-borderline report of its category at its place, every
    repeat as the same problem, every chatter line as no report and no question. Otherwise
    'tickets vs expected' would measure the corpus, not the bot."""
    from community import check_config
    from nlp import parse
    from runtime.lexicon import lexicon_from_config

    config, problems = check_config(str(config_path))
    if config is None:
        raise SystemExit(f"bench config invalid: {problems}")
    lexicon = lexicon_from_config(config)
    bad: list[str] = []
    for group in groups:
        for index in (0, 7, 250, 1999):
            where = place(group, index)
            for category, (first, again) in REPORTS.items():
                keys = set()
                for template in (*first, *again):
                    text = template.format(p=where)
                    r = parse(text, lexicon)
                    if not r.is_report or r.borderline or r.category != category:
                        bad.append(f"{text!r}: report={r.is_report} borderline={r.borderline} "
                                   f"category={r.category}")
                    loc = r.location
                    keys.add((loc.compound or loc.street, loc.building, loc.unit, loc.room))
                if len(keys) != 1:
                    bad.append(f"{category} at {where}: places read differently: {keys}")
    for text in CHATTER:
        r = parse(text, lexicon)
        if r.is_report or r.borderline:
            bad.append(f"chatter {text!r}: report={r.is_report} borderline={r.borderline}")
    if bad:
        raise SystemExit("bench corpus disagrees with nlp.parse:\n  " + "\n  ".join(bad[:20]))


# ------------------------------------------------------------------------------ measuring


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def max_in_window(times: Iterable[float], window: float) -> int:
    """Most events in any rolling window of ``window`` seconds (half-open, as the
    server's limiter counts)."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(ordered):
        while t - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def max_per_calendar_minute(times: Iterable[float], origin: float) -> int:
    """Most events in one whole minute counted from ``origin`` (what a dashboard shows)."""
    buckets: dict[int, int] = defaultdict(int)
    for t in times:
        buckets[int((t - origin) // 60)] += 1
    return max(buckets.values(), default=0)


def reply_target(request: Request) -> int | None:
    """The message id a sendMessage replied to (``reply_parameters`` or the legacy field)."""
    params = request.params.get("reply_parameters")
    if isinstance(params, dict) and params.get("message_id") is not None:
        return int(params["message_id"])
    legacy = request.params.get("reply_to_message_id")
    return int(legacy) if legacy is not None else None


def chat_of(request: Request) -> int | None:
    try:
        return int(request.chat_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


class ProcessWatch:
    """Samples a process's RSS (and keeps its CPU times) while it runs; the kernel's
    high-water mark (VmHWM) is used when readable, so short peaks are not missed."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        self.process = psutil.Process(pid)
        self.every = every
        self.peak_rss = 0
        self.cpu = 0.0
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        with contextlib.suppress(psutil.Error):
            with self.process.oneshot():
                self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
                times = self.process.cpu_times()
                self.cpu = times.user + times.system
            self.peak_rss = max(self.peak_rss, _vm_hwm(self.process.pid))

    async def _loop(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.every)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _vm_hwm(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _rows(db: Path | str, sql: str, schema: str | None = None) -> list[tuple[object, ...]]:
    """Rows read from the bot's database by a second client, on either backend (SQLite
    read-only through WAL; PostgreSQL through its own connection); [] when unreadable."""
    target = str(db)
    if not storage.is_postgres_url(target) and not Path(target).exists():
        return []
    with contextlib.suppress(Exception):
        return query(target, sql, schema=schema or DEFAULT_SCHEMA)
    return []


def db_counts(db: Path | str, schema: str | None = None) -> dict[str, int]:
    """Counts read from the bot's database while it runs."""
    queries = {
        "tickets": "SELECT count(*) FROM tickets",
        "supporters": "SELECT count(*) FROM supporters",
        "outbox_pending": "SELECT count(*) FROM outbox WHERE status = 'pending'",
        "outbox_failed": "SELECT count(*) FROM outbox WHERE status = 'failed'",
        "inbox_unprocessed": "SELECT count(*) FROM inbox WHERE processed_at IS NULL",
        "resent": "SELECT count(*) FROM outbox WHERE suspect_since IS NOT NULL",
    }
    out = dict.fromkeys(queries, -1)
    for name, sql in queries.items():
        rows = _rows(db, sql, schema)
        if rows:
            out[name] = int(rows[0][0])  # type: ignore[call-overload]
    return out


def staff_brief_delays(db: Path | str, schema: str | None = None) -> list[float]:
    """Seconds each private brief to a worker/secretary waited in the outbox (queued →
    sent). Private chats have no per-chat limit, so this shows whether group throttling
    holds them up."""
    rows = _rows(db, "SELECT created_at, sent_at FROM outbox "
                     "WHERE status = 'sent' AND kind = 'staff' AND chat_id > 0", schema)
    delays = []
    for created, sent in rows:
        a, b = from_db(created), from_db(sent)  # type: ignore[arg-type]
        if a is not None and b is not None:
            delays.append((b - a).total_seconds())
    return delays


def ticket_sources(db: Path | str, schema: str | None = None) -> dict[str, tuple[int, int]]:
    """Ticket number → (chat, message) of its report (combined messages name tickets by
    number, not by replying to the report)."""
    rows = _rows(db, "SELECT number, source_chat_id, source_message_id FROM tickets", schema)
    return {str(n): (int(a), int(b)) for n, a, b in rows}  # type: ignore[call-overload]


def pending_card_sources(db: Path | str, schema: str | None = None) -> set[tuple[int, int]]:
    """(chat, message) of reports whose ticket card is still waiting in the outbox."""
    rows = _rows(db, "SELECT t.source_chat_id, t.source_message_id FROM outbox o "
                     "JOIN tickets t ON t.id = o.card_ticket_id WHERE o.status = 'pending'",
                 schema)
    return {(int(a), int(b)) for a, b in rows}  # type: ignore[call-overload]


# ------------------------------------------------------------------------------- one run


@dataclass
class RunResult:
    """Figures of one rate."""

    rate: float
    seconds: float
    posted: int = 0
    achieved: float = 0.0
    backlog_at_end: int = 0
    reports: int = 0
    problems: int = 0
    supports: int = 0
    tickets: int = -1
    supporters: int = -1
    latencies: list[float] = field(default_factory=list)
    acks_missing_queued: int = 0
    acks_missing_lost: int = 0
    duplicate_acks: int = 0
    group_minute_max: int = 0
    group_minute_attempted: int = 0
    group_calendar_minute_max: int = 0
    sends_second_max: int = 0
    sends_second_attempted: int = 0
    group_sends: int = 0
    edits: int = 0
    private_sends: int = 0
    served_429: int = 0
    served_429_groups: int = 0
    brief_delays: list[float] = field(default_factory=list)
    drained: bool = False
    drain_seconds: float = 0.0
    peak_rss: int = 0
    cpu_startup: float = 0.0
    cpu_run: float = 0.0
    exit_code: int | None = None
    log_errors: list[str] = field(default_factory=list)
    limiter_log_lines: int = 0
    outbox_failed: int = 0
    folded_messages: int = 0
    processes: int = 1
    killed: str = ""  # "process 1 (pid N) after S s"
    takeover: str = ""  # "process 2 after S s" / "none"
    takeover_seconds: float = -1.0
    resent: int = 0  # rows on the wire at the kill, sent again (at least once)
    community: str = ""  # a community's share of a run (its key), "" for the whole run
    token: str = ""  # the label of its token (T1, T2, …)
    foreign_tickets: int = 0  # tickets whose report was posted in another community's group
    parts: list[RunResult] = field(default_factory=list)  # per community
    token_takeovers: dict[str, tuple[int, float]] = field(default_factory=dict)  # → process, s
    #: Deployments on several processes: token label → the process (1-based) holding it
    #: before the kill, and the labels the killed process held (to be taken over).
    spread: dict[str, int] = field(default_factory=dict)
    victim_tokens: set[str] = field(default_factory=set)
    affected: bool = True  # a community's part: its token was on the killed process
    #: getUpdates of a token ended by another process's getUpdates (409): two pollers.
    poll_conflicts: int = 0
    token_sends: dict[str, tuple[int, int]] = field(default_factory=dict)  # → max/s, 429s

    @property
    def cpu_ms_per_message(self) -> float:
        """The bot's CPU time during load + drain per message posted."""
        return 1000 * self.cpu_run / max(self.posted, 1)

    def goals_missed(self) -> list[str]:
        """Issue 15's goals: acknowledgement p50 ≤ 3 s and p99 ≤ 10 s, briefs p99 ≤ 5 s at
        up to 50 msg/s, every report acknowledged once, 0 × 429, nothing lost or doubled."""
        tag = f"{self.rate:g}/s"
        missed = []
        if not self.healthy:
            missed.append(f"{tag} unhealthy")
        if self.latencies:
            p50, p99 = statistics.median(self.latencies), percentile(self.latencies, 99)
            if p50 > ACK_P50_GOAL:
                missed.append(f"{tag} ack p50 {p50:.1f} s > {ACK_P50_GOAL:g} s")
            if p99 > ACK_P99_GOAL:
                missed.append(f"{tag} ack p99 {p99:.1f} s > {ACK_P99_GOAL:g} s")
        missing = self.acks_missing_queued + self.acks_missing_lost
        if missing:
            missed.append(f"{tag} {missing} report(s) unacknowledged")
        if self.duplicate_acks > self.resent:
            missed.append(f"{tag} {self.duplicate_acks} acknowledged twice "
                          f"(only {self.resent} on the wire at the kill)")
        if self.served_429:
            missed.append(f"{tag} {self.served_429} × 429")
        if self.poll_conflicts:
            missed.append(f"{tag} {self.poll_conflicts} getUpdates conflict(s): a token "
                          "polled by two processes at once")
        for label, (per_second, _) in self.token_sends.items():
            if per_second > GLOBAL_LIMIT_PER_SECOND:
                missed.append(f"{tag} token {label} {per_second} sends/s > "
                              f"{GLOBAL_LIMIT_PER_SECOND}")
        if self.group_minute_max > GROUP_LIMIT_PER_MINUTE:
            missed.append(f"{tag} {self.group_minute_max} sends/min into one group > "
                          f"{GROUP_LIMIT_PER_MINUTE}")
        if len(self.parts) > 1:
            for part in self.parts:
                missed += [f"{tag} {part.community}: {why}" for why in part.community_faults()]
        if self.rate <= 50 and self.brief_delays:
            b99 = percentile(self.brief_delays, 99)
            if b99 > BRIEF_P99_GOAL:
                missed.append(f"{tag} briefs p99 {b99:.1f} s > {BRIEF_P99_GOAL:g} s")
        return missed

    def community_faults(self) -> list[str]:
        """What went wrong for one community's share of a run (empty: none)."""
        faults = []
        if self.tickets != self.problems:
            faults.append(f"tickets {self.tickets}/{self.problems}")
        if self.foreign_tickets:
            faults.append(f"{self.foreign_tickets} ticket(s) from another community's groups")
        if self.supporters != self.supports:
            faults.append(f"supporters {self.supporters}/{self.supports}")
        if self.acks_missing_queued + self.acks_missing_lost:
            faults.append(f"{self.acks_missing_queued + self.acks_missing_lost} unacknowledged")
        if self.duplicate_acks > self.resent:
            faults.append(f"{self.duplicate_acks} acknowledged twice ({self.resent} resent)")
        if self.outbox_failed:
            faults.append(f"{self.outbox_failed} outbox row(s) failed")
        if self.killed and self.affected and self.takeover_seconds < 0:
            faults.append(f"token {self.token} not taken over")
        if self.group_minute_max > GROUP_LIMIT_PER_MINUTE:
            faults.append(f"{self.group_minute_max} sends/min into one group")
        return faults

    @property
    def healthy(self) -> bool:
        """No crash, nothing lost or doubled, no error logged, drained in time. (429s are
        reported as figures, not failures: the outbox recovers from them by design.)"""
        return (self.exit_code == 0 and self.drained and self.acks_missing_lost == 0
                and self.duplicate_acks <= self.resent and self.tickets == self.problems
                and (not self.killed or not self.affected or self.takeover_seconds >= 0)
                and self.supporters == self.supports and not self.log_errors
                and self.outbox_failed == 0 and self.foreign_tickets == 0
                and self.poll_conflicts == 0
                and all(not part.community_faults() for part in self.parts))


def latency_cells(values: Sequence[float]) -> tuple[str, str, str, str]:
    if not values:
        return ("-", "-", "-", "-")
    return (f"{statistics.median(values):.2f}", f"{percentile(values, 95):.2f}",
            f"{percentile(values, 99):.2f}", f"{max(values):.2f}")


async def wait_bot_ready(server: LocalBotApi, proc: asyncio.subprocess.Process,
                         within: float) -> None:
    """The bot is ready once it long-polls; fail early if it died instead."""
    deadline = time.monotonic() + within
    while server.poll_count == 0:
        if proc.returncode is not None:
            raise RuntimeError(f"the bot exited with code {proc.returncode} during start-up")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the bot did not start polling within {within:.0f} s")
        await asyncio.sleep(0.05)


def log_has(log: Path, needle: bytes) -> bool:
    return log.exists() and needle in log.read_bytes()


async def wait_standby(proc: asyncio.subprocess.Process, log: Path, within: float) -> None:
    """A second process is ready once it says it stands by (the lease is held)."""
    deadline = time.monotonic() + within
    while not log_has(log, b"standby"):
        if proc.returncode is not None:
            raise RuntimeError(f"a standby bot exited with code {proc.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"a second bot did not stand by within {within:.0f} s")
        await asyncio.sleep(0.1)


async def wait_spread(procs: Sequence[asyncio.subprocess.Process], logs: Sequence[Path],
                      keys: dict[str, str], within: float) -> dict[str, int]:
    """Processes of one deployment have spread its tokens (runtime/spread.py): every token
    held, and — with at least as many tokens as processes — every process holding one.
    ``keys``: label → lease key. Returns label → the process (1-based) holding it."""
    deadline = time.monotonic() + within
    while True:
        held = [held_tokens(read_log(log)) for log in logs]
        owner = {label: index for label, key in keys.items()
                 for index, mine in enumerate(held, start=1) if key in mine}
        enough = len(keys) < len(logs) or all(held)
        if len(owner) == len(keys) and sum(map(len, held)) == len(keys) and enough:
            return owner
        for proc in procs:
            if proc.returncode is not None:
                raise RuntimeError(f"a bot exited with code {proc.returncode} while spreading")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the tokens were not spread within {within:.0f} s: {held}")
        await asyncio.sleep(0.1)


TAKEOVER_LOG = b"is running for"  # logged by a process once it acts for the token
EXPECTED_AFTER_KILL = "in flight at restart"


async def kill_holder(holder: asyncio.subprocess.Process,
                      others: Sequence[asyncio.subprocess.Process], logs: Sequence[Path],
                      after: float, result: RunResult, say: Callable[[str], None],
                      tokens: Callable[[], dict[str, list[bytes]]]) -> None:
    """SIGKILL process 1 ``after`` seconds into the load, then time the takeover of each
    token it held (``tokens()``, asked just before the kill: label → the lines a survivor
    logs once it acts for that token, all of which must appear after the kill)."""
    await asyncio.sleep(after)
    wanted = tokens()
    offsets = [log.stat().st_size if log.exists() else 0 for log in logs]
    holder.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    result.killed = f"process 1 (pid {holder.pid}) after {after:g} s"
    result.victim_tokens = set(wanted)
    say(f"SIGKILL {result.killed}, holding {', '.join(sorted(wanted))}")
    waiting = dict(wanted)
    while waiting:
        for label, needles in list(waiting.items()):
            for index, log in enumerate(logs[1:], start=2):
                text = log.read_bytes()[offsets[index - 1]:] if log.exists() else b""
                if all(needle in text for needle in needles):
                    seconds = time.monotonic() - killed_at
                    result.token_takeovers[label] = (index, seconds)
                    say(f"token {label} taken over by process {index} "
                        f"(pid {others[index - 2].pid}) after {seconds:.1f} s")
                    del waiting[label]
                    break
        if not waiting:
            break
        if time.monotonic() - killed_at > 60 or not others:
            break
        await asyncio.sleep(0.05)
    if waiting or not wanted:
        result.takeover = f"none within 60 s ({', '.join(waiting)})"
        return
    index, seconds = max(result.token_takeovers.values(), key=lambda t: t[1])
    result.takeover_seconds = seconds
    result.takeover = f"process {index} (pid {others[index - 2].pid}) after {seconds:.1f} s"


async def stop_bot(proc: asyncio.subprocess.Process, within: float = 20.0) -> int | None:
    """SIGTERM (the production stop path), then SIGKILL if it hangs (returns None)."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(proc.wait(), within)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return None


async def run_rate(rate: float, seconds: float, groups: Sequence[GroupSpec], workdir: Path,
                   *, seed: int, drain_timeout: float, quiet: bool,
                   profiled: bool = False, processes: int = 1,
                   kill_after: float | None = None, db_url: str | None = None,
                   communities: int = 1) -> RunResult:
    """One rate: fresh server(s), database(s) and bot process(es); load; drain; measure.

    One community: ``gridbot run --config`` on one token (the classic bench). Several:
    ``gridbot run --deployment`` with a local Bot API server per token behind one address."""
    result = RunResult(rate=rate, seconds=seconds, processes=processes)
    rng = random.Random(f"{seed}:{rate}")
    bench = make_communities(communities, groups)
    all_groups = [g for c in bench for g in c.groups]
    plan, problems = make_plan(rate, seconds, all_groups, rng)
    result.reports = sum(p.kind != "chat" for p in plan)
    result.problems = len(problems)
    result.supports = sum(p.kind == "support" for p in plan)
    run_dir = workdir / f"rate{rate:g}"
    run_dir.mkdir(parents=True, exist_ok=True)
    sqlite_db, config = run_dir / "bench.db", run_dir / "bench.toml"
    deployment_file, data_dir = run_dir / "deployment.toml", run_dir / "data"
    deployed = communities > 1
    dbs: dict[str, tuple[Path | str, str | None]] = {}
    for community in bench:
        if not deployed:
            dbs[community.key] = (db_url or sqlite_db, None)
        elif db_url:
            dbs[community.key] = (db_url, community.key)
        else:
            dbs[community.key] = (data_dir / f"{community.key}.db", None)
    logs = [run_dir / (f"bot{i + 1}.log" if processes > 1 else "bot.log")
            for i in range(processes)]
    config.write_text(config_text(groups), encoding="utf-8")
    deployment_file.write_text(deployment_text(bench, db_url or "data"), encoding="utf-8")
    for stale in (sqlite_db, sqlite_db.with_name(sqlite_db.name + "-wal"),
                  sqlite_db.with_name(sqlite_db.name + "-shm"), *logs):
        stale.unlink(missing_ok=True)  # a kept directory from an earlier run
    shutil.rmtree(data_dir, ignore_errors=True)
    by_token: dict[str, list[BenchCommunity]] = defaultdict(list)
    for community in bench:
        by_token[community.token].append(community)
    labels = {token: f"T{i + 1}" for i, token in enumerate(by_token)}
    lease_keys = {labels[token]: lease_key(token) for token in by_token}

    def say(text: str) -> None:
        if not quiet:
            print(f"  [{rate:g}/s] {text}", flush=True)

    def all_counts() -> list[dict[str, int]]:
        return [db_counts(db, schema) for db, schema in dbs.values()]

    async with contextlib.AsyncExitStack() as stack:
        servers: dict[str, LocalBotApi] = {}
        for index, token in enumerate(by_token, start=1):
            server = (LocalBotApi(token, enforce_limits=True,
                                  bot_username=f"gridbot_bench{index}_bot")
                      if deployed else LocalBotApi(enforce_limits=True))
            servers[token] = await stack.enter_async_context(server)
        server_of = {c.key: servers[c.token] for c in bench}
        chat_server = {g.chat_id: server_of[c.key] for c in bench for g in c.groups}
        staff: dict[str, list[User | int]] = {}
        for community in bench:
            server = server_of[community.key]
            staff[community.key] = [server.user(uid, name, username)
                                    for uid, name, username in community.staff]
            for spec in community.groups:
                server.group(spec.chat_id, spec.title, admins=[staff[community.key][2]],
                             members=staff[community.key][:2])
        residents: dict[tuple[int, int], User] = {}

        def resident(server: LocalBotApi, uid: int) -> User:
            if (id(server), uid) not in residents:
                residents[(id(server), uid)] = server.user(
                    uid, SURNAMES[uid % len(SURNAMES)] + GIVEN[uid // 7 % len(GIVEN)])
            return residents[(id(server), uid)]

        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("TELEGRAM_API_URL", None)
        if deployed:
            router = await stack.enter_async_context(TokenRouter(servers))
            api_url = router.base_url
            env.update({c.token_env: c.token for c in bench})
            target: tuple[str, ...] = ("--deployment", str(deployment_file))
        else:
            [only] = servers.values()
            api_url = only.base_url
            env["TELEGRAM_BOT_TOKEN"] = only.token
            target = ("--config", str(config), "--db", str(dbs[bench[0].key][0]))

        async def spawn(log_file: Path) -> asyncio.subprocess.Process:
            with log_file.open("ab") as log:
                profile = ("-m", "cProfile", "-o", str(run_dir / "bot.prof")) if profiled else ()
                return await asyncio.create_subprocess_exec(
                    sys.executable, *profile, str(ROOT / "bot.py"), "run", "--no-web",
                    *target, "--api-url", api_url,
                    cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=log,
                    stderr=log)

        proc = await spawn(logs[0])  # the first takes the lease; the others stand by
        others: list[asyncio.subprocess.Process] = []
        watch = ProcessWatch(proc.pid)
        watch.start()
        killer: asyncio.Task[None] | None = None
        originals: dict[tuple[int, int], float] = {}
        load_start_wall = time.time()
        try:
            for server in servers.values():
                await wait_bot_ready(server, proc, within=60)
            for log_file in logs[1:]:
                others.append(await spawn(log_file))
            if deployed and processes > 1:  # a lease per token: they spread the tokens
                result.spread = await wait_spread((proc, *others), logs, lease_keys, within=90)
                say("tokens spread: " + "; ".join(
                    f"P{i} " + ",".join(sorted(lb for lb, o in result.spread.items() if o == i))
                    for i in range(1, processes + 1)))
            else:
                for other, log_file in zip(others, logs[1:], strict=True):
                    await wait_standby(other, log_file, within=60)
            # Staff open their private chats first, as the README asks, so briefs go to
            # them privately instead of as mentions in the groups.
            for community in bench:
                for person in staff[community.key]:
                    await server_of[community.key].start_private(person)
            for server in servers.values():
                await server.wait_for(partial(_no_pending, server), timeout=30)
            watch.sample()
            result.cpu_startup = watch.cpu
            say(f"bot ready (pid {proc.pid}); {len(plan)} messages, {result.reports} reports, "
                f"{result.problems} distinct problems"
                + (f"; {communities} communities on {len(servers)} tokens" if deployed else ""))

            loop = asyncio.get_running_loop()
            posted: list[tuple[Planned, int, float]] = []  # plan item, message id, wall time
            load_start_wall = time.time()
            start = loop.time()
            if kill_after is not None:
                def victim_tokens() -> dict[str, list[bytes]]:
                    if not (deployed and processes > 1):  # process 1 holds the one token
                        return {labels[token]: [f"is running for {c.name}".encode()
                                                for c in members]
                                for token, members in by_token.items()}
                    mine = held_tokens(read_log(logs[0]))
                    return {label: [f"token {key} taken".encode()]
                            for label, key in lease_keys.items() if key in mine}

                killer = asyncio.create_task(
                    kill_holder(proc, others, logs, kill_after, result, say, victim_tokens))
            for item in plan:
                delay = start + item.at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                if proc.returncode is not None and kill_after is None:
                    break
                wall = time.time()
                server = chat_server[item.group.chat_id]
                message = await server.post(item.group.chat_id,
                                            resident(server, item.user_id), item.text)
                posted.append((item, message.message_id, wall))
            load_seconds = loop.time() - start
            result.posted = len(posted)
            result.achieved = len(posted) / max(load_seconds, 1e-9)
            result.backlog_at_end = sum(s.pending_updates() for s in servers.values()) + sum(
                max(0, c["inbox_unprocessed"]) for c in await asyncio.to_thread(all_counts))
            say(f"posted {len(posted)} in {load_seconds:.1f} s; input backlog "
                f"{result.backlog_at_end}; draining (up to {drain_timeout:.0f} s)")

            originals = {(p.group.chat_id, mid): wall for p, mid, wall in posted
                         if p.kind == "report"}
            drain_start = loop.time()
            last_note = drain_start
            while True:
                counts = await asyncio.to_thread(all_counts)
                idle = (all(s.pending_updates() == 0 for s in servers.values())
                        and all(c["inbox_unprocessed"] == 0 and c["outbox_pending"] == 0
                                for c in counts))
                if killer is not None and not killer.done():
                    idle = False  # the takeover is still to be seen
                alive = [p for p in (proc, *others) if p.returncode is None]
                if idle or not alive:
                    result.drained = idle
                    break
                if loop.time() - drain_start > drain_timeout:
                    break
                if loop.time() - last_note > 30:
                    last_note = loop.time()
                    say(f"draining: {loop.time() - drain_start:.0f} s, outbox pending "
                        f"{sum(max(0, c['outbox_pending']) for c in counts)}, 429s "
                        f"{sum(len(s.faults.served_429) for s in servers.values())}")
                await asyncio.sleep(0.25)
            result.drain_seconds = loop.time() - drain_start
            watch.sample()
            result.cpu_run = watch.cpu - result.cpu_startup
        finally:
            if killer is not None and not killer.done():
                killer.cancel()
            codes = [await stop_bot(p) for p in (proc, *others)]
            # The killed process's -9 is the point of the run; every other must exit 0.
            kept = [c for p, c in zip((proc, *others), codes, strict=True)
                    if not (result.killed and p is proc)]
            result.exit_code = next((c for c in kept if c != 0), 0)
            await watch.stop()
        result.peak_rss = watch.peak_rss

        for community in bench:
            db, schema = dbs[community.key]
            mine = [p for p in problems if p.group in community.groups]
            chats = {g.chat_id for g in community.groups}
            part = RunResult(rate=rate, seconds=seconds, processes=processes,
                             community=community.key, token=labels[community.token])
            part.problems = len(mine)
            part.supports = sum(len(p.voices) - 1 for p in mine)
            part.reports = sum(1 for item in plan if item.kind != "chat" and item.group.chat_id in chats)
            stored = db_counts(db, schema)
            part.tickets, part.supporters = stored["tickets"], stored["supporters"]
            part.outbox_failed = max(0, stored["outbox_failed"])
            part.resent = max(0, stored["resent"])
            part.brief_delays = staff_brief_delays(db, schema)
            numbers = ticket_sources(db, schema)
            part.foreign_tickets = sum(1 for chat, _ in numbers.values() if chat not in chats)
            mine_originals = {k: v for k, v in originals.items() if k[0] in chats}
            _measure(part, server_of[community.key], mine_originals, load_start_wall,
                     pending_card_sources(db, schema), numbers,
                     chats=chats | {uid for uid, _, _ in community.staff})
            result.parts.append(part)
        for token, server in servers.items():
            whole = RunResult(rate=rate, seconds=seconds)
            _measure(whole, server, {}, load_start_wall, set(), {})
            result.token_sends[labels[token]] = (whole.sends_second_max, whole.served_429)
            result.poll_conflicts += server.poll_conflicts
            result.sends_second_max = max(result.sends_second_max, whole.sends_second_max)
            result.sends_second_attempted = max(result.sends_second_attempted,
                                                whole.sends_second_attempted)
            result.served_429 += whole.served_429
            result.served_429_groups += whole.served_429_groups
            result.group_sends += whole.group_sends
            result.private_sends += whole.private_sends
            result.edits += whole.edits
            result.folded_messages += whole.folded_messages
            result.group_minute_max = max(result.group_minute_max, whole.group_minute_max)
            result.group_minute_attempted = max(result.group_minute_attempted,
                                                whole.group_minute_attempted)
            result.group_calendar_minute_max = max(result.group_calendar_minute_max,
                                                   whole.group_calendar_minute_max)
        for part in result.parts:
            part.exit_code, part.drained = result.exit_code, result.drained
            part.killed = result.killed
            taken = result.token_takeovers.get(part.token)
            part.takeover_seconds = taken[1] if taken else -1.0
            part.affected = not result.spread or part.token in result.victim_tokens
            result.tickets = max(result.tickets, 0) + part.tickets
            result.supporters = max(result.supporters, 0) + part.supporters
            result.outbox_failed += part.outbox_failed
            result.resent += part.resent
            result.brief_delays += part.brief_delays
            result.latencies += part.latencies
            result.acks_missing_queued += part.acks_missing_queued
            result.acks_missing_lost += part.acks_missing_lost
            result.duplicate_acks += part.duplicate_acks
            result.foreign_tickets += part.foreign_tickets

    text = "\n".join(read_log(log) for log in logs)
    errors = [line for line in text.splitlines() if (" ERROR " in line or " CRITICAL " in line)
              and not (result.killed and EXPECTED_AFTER_KILL in line)]
    # PTB's AIORateLimiter logs every 429 it passes on as an ERROR with a traceback; the
    # outbox then waits retry_after and resends. Those are counted as 429s, not as faults.
    limiter = [line for line in errors if LIMITER_LOG in line]
    result.limiter_log_lines = len(limiter)
    result.log_errors = [line for line in errors if LIMITER_LOG not in line]
    return result


def _no_pending(server: LocalBotApi) -> bool:
    return server.pending_updates() == 0


def read_log(log: Path) -> str:
    return log.read_text("utf-8", errors="replace") if log.exists() else ""


def _acks(server: LocalBotApi, originals: dict[tuple[int, int], float],
          numbers: dict[str, tuple[int, int]]) -> dict[tuple[int, int], list[float]]:
    """Acknowledgements of each original report, (chat, message id) → times: a card
    replying to it, or its ticket's line in a combined message (``numbers`` maps ticket
    numbers to reports)."""
    acks: dict[tuple[int, int], list[float]] = defaultdict(list)
    for request in server.sent(method="sendMessage"):
        chat, target = chat_of(request), reply_target(request)
        if chat is None or chat >= 0:
            continue
        if target is not None and (chat, target) in originals:
            acks[(chat, target)].append(request.time)
        for number in fold_card_numbers(request.text or ""):
            source = numbers.get(number)
            if source is not None and source[0] == chat and source in originals:
                acks[source].append(request.time)
    return acks


def _measure(result: RunResult, server: LocalBotApi, originals: dict[tuple[int, int], float],
             origin: float, queued_cards: set[tuple[int, int]],
             numbers: dict[str, tuple[int, int]], *, chats: set[int] | None = None) -> None:
    """Fill ``result`` from what ``server`` saw; ``chats``: only sends to these chats (one
    community's groups and staff on a token it may share)."""
    def ours(request: Request) -> bool:
        return chats is None or chat_of(request) in chats

    acks = _acks(server, originals, numbers)
    result.folded_messages = sum(
        1 for r in server.sent(method="sendMessage")
        if r.time >= origin and fold_card_numbers(r.text or "") and ours(r))
    for key, posted_at in originals.items():
        times = acks.get(key)
        if times:
            result.latencies.append(min(times) - posted_at)
            result.duplicate_acks += len(times) > 1
        elif key in queued_cards:
            result.acks_missing_queued += 1
        else:
            result.acks_missing_lost += 1

    def sends(include_failed: bool) -> list[Request]:
        return [r for r in server.sent(include_failed=include_failed)
                if r.method.lower() in SEND_METHODS and r.time >= origin and ours(r)]

    by_group: dict[int, list[float]] = defaultdict(list)
    by_group_attempted: dict[int, list[float]] = defaultdict(list)
    for request in sends(include_failed=False):
        chat = chat_of(request)
        if chat is not None and chat < 0:
            by_group[chat].append(request.time)
            result.group_sends += 1
        else:
            result.private_sends += 1
    for request in sends(include_failed=True):
        chat = chat_of(request)
        if chat is not None and chat < 0:
            by_group_attempted[chat].append(request.time)
    result.edits = sum(1 for r in server.sent() if r.method.lower() == "editmessagetext"
                       and r.time >= origin and ours(r))
    result.group_minute_max = max((max_in_window(t, 60) for t in by_group.values()), default=0)
    result.group_minute_attempted = max(
        (max_in_window(t, 60) for t in by_group_attempted.values()), default=0)
    result.group_calendar_minute_max = max(
        (max_per_calendar_minute(t, origin) for t in by_group.values()), default=0)
    result.sends_second_max = max_in_window((r.time for r in sends(False)), 1.0)
    result.sends_second_attempted = max_in_window((r.time for r in sends(True)), 1.0)
    served = [f for f in server.faults.served_429
              if chats is None or _chat_in(f.chat_id, chats)]
    result.served_429 = len(served)
    result.served_429_groups = sum(1 for f in served if _negative(f.chat_id))


def _chat_in(chat_id: object, chats: set[int]) -> bool:
    try:
        return int(chat_id) in chats  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def _negative(chat_id: object) -> bool:
    try:
        return int(chat_id) < 0  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


# ------------------------------------------------------------------------------ printing


def print_result(r: RunResult) -> None:
    p50, p95, p99, worst = latency_cells(r.latencies)
    print(f"\n== {r.rate:g} msg/s for {r.seconds:g} s ==")
    print(f"input: offered {r.rate:g}/s, achieved {r.achieved:.1f}/s ({r.posted} posted); "
          f"backlog at end of load {r.backlog_at_end} updates")
    print(f"report → card latency (s), {len(r.latencies)} acked: median {p50}, p95 {p95}, "
          f"p99 {p99}, max {worst}")
    if r.brief_delays:
        b50, b95, b99, bmax = latency_cells(r.brief_delays)
        print(f"worker briefs (private, {len(r.brief_delays)}): outbox wait median {b50} s, "
              f"p95 {b95} s, p99 {b99} s, max {bmax} s")
    print(f"combined acknowledgements: {r.folded_messages} message(s)")
    print(f"acks missing: {r.acks_missing_queued + r.acks_missing_lost} "
          f"({r.acks_missing_queued} still queued in the outbox, {r.acks_missing_lost} lost); "
          f"duplicate acks: {r.duplicate_acks}")
    print(f"tickets: {r.tickets} created / {r.problems} expected (distinct problems); "
          f"supporters (附议): {r.supporters} / {r.supports} expected; "
          f"reports posted {r.reports}")
    print(f"sends per group per minute: max {r.group_minute_max} (rolling 60 s; limit "
          f"{GROUP_LIMIT_PER_MINUTE}), {r.group_calendar_minute_max} per calendar minute, "
          f"{r.group_minute_attempted} attempted incl. refused")
    overall = "overall" if len(r.token_sends) <= 1 else "per token (the busiest)"
    print(f"sends per second {overall}: max {r.sends_second_max} (rolling 1 s; limit "
          f"{GLOBAL_LIMIT_PER_SECOND}), {r.sends_second_attempted} attempted; "
          f"429s served: {r.served_429} ({r.served_429_groups} on group chats)")
    print(f"traffic: {r.group_sends} group sends, {r.edits} card edits, "
          f"{r.private_sends} private sends; outbox failed rows: {r.outbox_failed}")
    if r.killed:
        print(f"processes: {r.processes}; killed {r.killed}; token taken over by "
              f"{r.takeover}; {r.resent} send(s) on the wire at the kill sent again "
              f"(at least once), {r.duplicate_acks} acknowledgement(s) doubled")
        if len(r.token_sends) > 1:
            print("takeover per token: " + "; ".join(
                f"{label} by process {index} after {seconds:.1f} s"
                for label, (index, seconds) in sorted(r.token_takeovers.items())))
    if r.spread:
        print("tokens before the kill: " + "; ".join(
            f"P{i} " + ",".join(sorted(lb for lb, o in r.spread.items() if o == i))
            for i in range(1, r.processes + 1)))
    if len(r.token_sends) > 1:
        print("per token (limit 30/s each): " + "; ".join(
            f"{label} max {per_second} sends/s, {served} × 429"
            for label, (per_second, served) in r.token_sends.items()))
    print(f"getUpdates conflicts (a token polled by two processes at once): "
          f"{r.poll_conflicts}")
    if r.foreign_tickets:
        print(f"tickets in the wrong community's database: {r.foreign_tickets}")
    drain = "drained" if r.drained else "NOT drained"
    print(f"{drain} {r.drain_seconds:.1f} s after the load; bot peak RSS "
          f"{r.peak_rss / 2**20:.0f} MiB, CPU {r.cpu_run:.1f} s during load+drain "
          f"(+{r.cpu_startup:.1f} s start-up), {r.cpu_ms_per_message:.2f} ms per message; "
          f"exit code {r.exit_code}")
    print(f"bot log: {len(r.log_errors)} error line(s) besides {r.limiter_log_lines} "
          f"'{LIMITER_LOG}' lines (one per 429)")
    for line in r.log_errors[:3]:
        print(f"  {line[:200]}")


def print_table(results: Sequence[RunResult]) -> None:
    head = ("rate/s", "achieved", "tickets", "supp.", "missing", "p50 s", "p95 s", "p99 s",
            "max s", "brief p99", "grp/min", "sends/s", "429s", "drain s", "RSS MiB", "CPU s",
            "CPU ms/msg", "ok")
    rows = []
    for r in results:
        rows.append((
            f"{r.rate:g}", f"{r.achieved:.1f}", f"{r.tickets}/{r.problems}",
            f"{r.supporters}/{r.supports}", str(r.acks_missing_queued + r.acks_missing_lost),
            *latency_cells(r.latencies), latency_cells(r.brief_delays)[2],
            str(r.group_minute_max), str(r.sends_second_max),
            str(r.served_429), f"{r.drain_seconds:.0f}", f"{r.peak_rss / 2**20:.0f}",
            f"{r.cpu_run:.1f}", f"{r.cpu_ms_per_message:.2f}", "yes" if r.healthy else "NO",
        ))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    print("\n| " + " | ".join(h.rjust(w) for h, w in zip(head, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |")


def print_communities(results: Sequence[RunResult]) -> None:
    """One row per community of each run: its tickets, acknowledgements, limits, token."""
    head = ("rate/s", "community", "token", "tickets", "foreign", "supp.", "missing", "dup/resent",
            "p50 s", "p99 s", "grp/min", "token sends/s", "429s", "takeover", "ok")
    rows = []
    for r in results:
        for part in r.parts:
            p50, _, p99, _ = latency_cells(part.latencies)
            per_second, served = r.token_sends.get(part.token, (0, 0))
            taken = r.token_takeovers.get(part.token)
            takeover = (f"P{taken[0]} {taken[1]:.1f} s" if taken
                        else f"kept by P{r.spread[part.token]}"
                        if r.killed and part.token not in r.victim_tokens and r.spread
                        else "none" if r.killed else "-")
            rows.append((
                f"{r.rate:g}", part.community, part.token, f"{part.tickets}/{part.problems}",
                str(part.foreign_tickets), f"{part.supporters}/{part.supports}",
                str(part.acks_missing_queued + part.acks_missing_lost),
                f"{part.duplicate_acks}/{part.resent}", p50, p99, str(part.group_minute_max),
                str(per_second), str(served), takeover,
                "yes" if not part.community_faults() else "NO"))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    print("\n| " + " | ".join(h.rjust(w) for h, w in zip(head, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |")


# ---------------------------------------------------------------------------------- main


async def main_async(args: argparse.Namespace) -> int:
    groups = ALL_GROUPS[: args.groups]
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="gridbot-e2e-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        config = workdir / "corpus-check.toml"
        config.write_text(config_text(groups), encoding="utf-8")
        check_corpus(config, groups)
        print(f"e2e bench: rates {','.join(f'{r:g}' for r in args.rates)} msg/s, "
              f"{args.seconds:g} s each, {len(groups)} groups over 2 grids, "
              f"~30% reports (25% of them repeats), seed {args.seed}", flush=True)
        print(f"backend {args.backend}, {args.processes} gridbot run process(es)"
              + (f", SIGKILL of the lease holder {args.kill_one_after:g} s into each load"
                 if args.kill_one_after is not None else "")
              + (f"; {args.communities} communities in one deployment (gridbot run "
                 f"--deployment), {len({c.token for c in make_communities(args.communities, groups)})}"
                 " tokens, each community with its own groups and staff"
                 if args.communities > 1 else ""), flush=True)
        results = []
        pg_server: pg.PgServer | None = None
        if args.backend == "postgres" and args.db is None:
            pg_server = await asyncio.to_thread(pg.start)  # as the tests start it
            print(f"throwaway PostgreSQL on port {pg_server.port}", flush=True)
        try:
            for rate in args.rates:
                db_url = args.db
                if pg_server is not None:
                    db_url = pg_server.url(pg_server.new_database(template=None))
                result = await run_rate(rate, args.seconds, groups, workdir, seed=args.seed,
                                        drain_timeout=args.drain_timeout, quiet=args.quiet,
                                        profiled=args.profile, processes=args.processes,
                                        kill_after=args.kill_one_after, db_url=db_url,
                                        communities=args.communities)
                print_result(result)
                results.append(result)
        finally:
            if pg_server is not None:
                await asyncio.to_thread(pg_server.stop)
        print_table(results)
        if args.communities > 1:
            print_communities(results)
        bad = [r for r in results if not r.healthy]
        if bad:
            print(f"\nunhealthy runs: {', '.join(f'{r.rate:g}/s' for r in bad)}"
                  + ("" if args.keep else " (rerun with --keep DIR for the bot logs)"))
        missed = [reason for r in results for reason in r.goals_missed()]
        print("overall: ok" if not missed else f"overall: FAILED ({'; '.join(missed)})")
        return 1 if bad else 0
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="10,50,200",
                        help="comma-separated input rates in messages/s (default 10,50,200)")
    parser.add_argument("--seconds", type=float, default=20.0, help="load seconds per rate")
    parser.add_argument("--drain-timeout", type=float, default=900.0,
                        help="seconds to wait for the bot to drain after each load")
    parser.add_argument("--groups", type=int, default=6, choices=range(2, 7), metavar="2..6",
                        help="number of bench groups (default 6, half per grid)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 3 s at 10 and 50 msg/s, drain bounded to 60 s")
    parser.add_argument("--keep", metavar="DIR", help="keep configs, databases and bot logs")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--profile", action="store_true",
                        help="run the bot under cProfile (bot.prof next to its log; use "
                             "with --keep); slows it down, so figures are not comparable")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite",
                        help="database backend (postgres without --db: a throwaway server "
                             "started as the tests start it)")
    parser.add_argument("--db", metavar="postgresql://…",
                        help="an existing PostgreSQL database (implies --backend postgres; "
                             "each rate's run adds to it, so give one rate)")
    parser.add_argument("--processes", type=int, default=1, metavar="N",
                        help="gridbot run processes on one token and database (default 1)")
    parser.add_argument("--kill-one-after", type=float, metavar="S",
                        help="SIGKILL the lease holder S seconds into each load; check the "
                             "takeover and that nothing was lost or doubled")
    parser.add_argument("--communities", type=int, default=1, metavar="N",
                        help="communities in one deployment (default 1: gridbot run --config; "
                             "2..6: gridbot run --deployment, each community with its own "
                             "groups and staff; from 3 on the last two share a token)")
    args = parser.parse_args(argv)
    if not 1 <= args.communities <= len(COMMUNITY_NAMES):
        parser.error(f"--communities must be in 1..{len(COMMUNITY_NAMES)}")
    if args.db is not None:
        if not storage.is_postgres_url(args.db):
            parser.error("--db takes a postgresql:// URL (SQLite runs use a fresh file)")
        args.backend = "postgres"
    if not 1 <= args.processes <= 8:
        parser.error("--processes must be in 1..8")
    if args.kill_one_after is not None and (args.processes < 2 or args.kill_one_after <= 0):
        parser.error("--kill-one-after needs --processes 2 or more and a positive S")
    if args.quick:
        args.rates, args.seconds = "10,50", 3.0
        args.drain_timeout = min(args.drain_timeout, 60.0)
    try:
        args.rates = [float(x) for x in args.rates.split(",") if x.strip()]
    except ValueError:
        parser.error("--rates takes numbers, e.g. 10,50,200")
    if not args.rates or any(r <= 0 or r > 1000 for r in args.rates):
        parser.error("rates must be in (0, 1000]")
    if not 0 < args.seconds <= 600:
        parser.error("--seconds must be in (0, 600]")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
