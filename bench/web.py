"""Staff console latency on a large history: dashboard, filtered list pages, detail pages
(p95 over real HTTP to the console app in this process) and an xlsx export of ~100,000
rows (seconds, and the process's peak RSS growth while it runs).

Uses the database of ``bench/scale.py`` (built first when ``--db`` does not exist yet).

Usage: python -m bench.web [--db /tmp/gridbot-bench/scale.db] [--tickets 1000000]
                           [--runs 20] [--export-rows 100000] [--only dashboard]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import aiohttp
import psutil
from aiohttp import web

from bench.scale import CATEGORIES, GRIDS, NOW, WORKERS, build
from community.model import CategoryConfig, CommunityConfig, Grid, Person, Role
from services import TicketService
from services.console_access import start_session
from storage import open_database
from storage.timefmt import to_db
from tickets.clock import FakeClock
from web.app import create_console_app
from web.auth import COOKIE
from web.deps import ConsoleDeps

SECRETARY_ID = 1
TARGET_MS = 150.0
NEXT = re.compile(r'id="next-page" href="([^"]+)"')


def bench_config() -> CommunityConfig:
    """The community scale.py's data belongs to: grids 网格0..6, workers 员0..19."""
    grids = tuple(Grid(f"网格{g}", workers=tuple(f"员{w}" for w in range(WORKERS)
                                                 if w % GRIDS == g)) for g in range(GRIDS))
    people = [Person("书记", SECRETARY_ID, roles=frozenset({Role.SUPERVISOR}))]
    people += [Person(f"员{w}", 1000 + w, roles=frozenset({Role.WORKER}),
                      grids=(f"网格{w % GRIDS}",)) for w in range(WORKERS)]
    categories = tuple(CategoryConfig(f"cat{k}", f"类别{k}") for k in range(CATEGORIES))
    return CommunityConfig(name="bench", grids=grids, people=tuple(people),
                           categories=categories)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


async def timed_get(session: aiohttp.ClientSession, url: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    async with session.get(url) as response:
        body = await response.text()
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}: {body[:200]}")
    return (time.perf_counter() - t0) * 1000, body


class RssSampler:
    """Samples this process's RSS every few milliseconds in a thread (peak growth)."""

    def __init__(self) -> None:
        self._proc = psutil.Process()
        self.baseline = self._proc.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            self._stop.wait(0.005)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="/tmp/gridbot-bench/scale.db")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--only", choices=("dashboard", "list", "detail"),
                        help="time one group of pages and skip the export")
    args = parser.parse_args()
    path = Path(args.db)
    clock = FakeClock(NOW)
    if not await asyncio.to_thread(path.exists):
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await open_database(path, clock=clock)
        await db.close()
        print(f"building {args.tickets:,} tickets … ", end="", flush=True)
        print(f"{build(path, args.tickets):.1f} s")
    t0 = time.perf_counter()
    db = await open_database(path, clock=clock)
    size_mb = (await asyncio.to_thread(path.stat)).st_size / 1e6
    print(f"opened (search index up to date) in {time.perf_counter() - t0:.1f} s; "
          f"file {size_mb:.0f} MB")
    config = bench_config()
    service = TicketService(db, config, clock, cast(Any, None))  # read-only bench: no sends
    app = create_console_app(ConsoleDeps(db=db, config=config, clock=clock, service=service))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"

    async def client(user_id: int, key: str) -> aiohttp.ClientSession:
        session = await start_session(db, clock, user_id, key, "bench")
        jar = aiohttp.CookieJar(unsafe=True)
        jar.update_cookies({COOKIE: session.cookie_value}, response_url=aiohttp.client.URL(base))
        return aiohttp.ClientSession(cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=600))

    boss = await client(SECRETARY_ID, "书记")
    worker = await client(1003, "员3")
    async with db.read() as r:
        rows = await r.tickets._all("SELECT number FROM tickets WHERE id % 997 = 0")
    numbers = [row[0] for row in rows]
    rng = random.Random(7)

    cases: list[tuple[str, str, aiohttp.ClientSession, Callable[[], str]]] = []

    def fixed(url: str) -> Callable[[], str]:
        return lambda: url

    def case(group: str, name: str, who: aiohttp.ClientSession,
             url: str | Callable[[], str]) -> None:
        cases.append((group, name, who, url if callable(url) else fixed(url)))

    case("dashboard", "本周, 全社区 (书记)", boss, "/")
    case("dashboard", "按月 2026-10, 全社区", boss, "/?period=month&month=2026-10")
    case("dashboard", "按月, 一个网格", boss, "/?period=month&grid=网格3")
    case("dashboard", "本周, 网格员 (scope)", worker, "/")
    case("list", "全部, 最新", boss, "/tickets")
    case("list", "网格", boss, "/tickets?grid=网格3")
    case("list", "未办结", boss, "/tickets?state=open")
    case("list", "逾期", boss, "/tickets?overdue=1")
    case("list", "搜索 漏水", boss, "/tickets?q=漏水")
    case("list", "搜索 电梯 坏", boss, "/tickets?q=电梯 坏")
    case("list", "搜索 + 网格 + 月份", boss, "/tickets?q=漏水&grid=网格2&from=2025-03-01&to=2025-03-31")
    case("list", "类别 + 紧急程度", boss, "/tickets?category=cat5&urgency=urgent")
    case("list", "负责人", boss, "/tickets?worker=员4")
    case("list", "负责人未办结, 按期限", boss, "/tickets?worker=员4&state=open&sort=deadline")
    case("list", "负责人全部, 按期限", boss, "/tickets?worker=员4&sort=deadline")
    case("list", "按附议", boss, "/tickets?sort=supporters")
    case("list", "按紧急程度", boss, "/tickets?sort=urgency")
    case("list", "一个月", boss, "/tickets?from=2025-01-01&to=2025-01-31")
    case("list", "网格员, 全部 (scope)", worker, "/tickets")
    case("list", "网格员, 搜索 (scope)", worker, "/tickets?q=漏水")
    case("list", "新工单轮询", boss, f"/api/tickets/new?since={args.tickets}")
    _, first = await timed_get(boss, base + "/tickets?grid=网格3")
    page2 = NEXT.search(first)
    assert page2 is not None
    case("list", "网格, 第 2 页", boss, page2.group(1).replace("&amp;", "&"))
    case("detail", "工单详情 (书记)", boss, lambda: f"/tickets/{rng.choice(numbers)}")

    print(f"\n{'page':34} {'median ms':>10} {'p95 ms':>8}")
    worst: dict[str, float] = {}
    for group, name, who, url in cases:
        if args.only and group != args.only:
            continue
        await timed_get(who, base + url())  # warm-up
        samples = [(await timed_get(who, base + url()))[0] for _ in range(args.runs)]
        q95 = p95(samples)
        worst[group] = max(worst.get(group, 0.0), q95)
        flag = "" if q95 < TARGET_MS else f"  (over {TARGET_MS:.0f} ms)"
        print(f"{group + ': ' + name:34} {statistics.median(samples):10.1f} {q95:8.1f}{flag}")
    print("worst p95: " + ", ".join(f"{g} {ms:.0f} ms" for g, ms in worst.items()))
    if args.only:
        await boss.close()
        await worker.close()
        await runner.cleanup()
        await db.close()
        return

    # An export of about --export-rows tickets: the newest days holding that many.
    async with db.read() as r:
        row = await r.tickets._one(
            "SELECT created_at FROM tickets ORDER BY created_at DESC LIMIT 1 OFFSET ?",
            (args.export_rows - 1,))
    assert row is not None
    start = str(row[0])[:10]
    local = datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(config.timezone))
    async with db.read() as r:
        expected = await r.tickets._scalar(
            "SELECT count(*) FROM tickets WHERE created_at >= ?", (to_db(local),))
    export_url = f"{base}/export/tickets.xlsx?from={start}"
    with RssSampler() as rss:
        t0 = time.perf_counter()
        async with boss.get(export_url) as response:
            assert response.status == 200, await response.text()
            size = 0
            async for chunk in response.content.iter_chunked(256 * 1024):
                size += len(chunk)
        seconds = time.perf_counter() - t0
    growth = (rss.peak - rss.baseline) / 2**20
    print(f"\nxlsx export from {start}: ~{expected:,} rows, {size / 1e6:.1f} MB in "
          f"{seconds:.1f} s; peak RSS growth {growth:.0f} MiB "
          f"(targets < 10 s, < 100 MiB)")
    await boss.close()
    await worker.close()
    await runner.cleanup()
    await db.close()


if __name__ == "__main__":
    asyncio.run(main())
