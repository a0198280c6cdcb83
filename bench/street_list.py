"""The street ticket list (街道工单) of a deployment: time to render ``/street/tickets``
over real HTTP with several communities' databases (first page, later pages, filters,
search), one community's ``/tickets`` for comparison, and the street export.

Each community gets ``--tickets`` tickets written through the real repository (so the
search index is filled as in production), spread over 90 days, a tenth still open.

Usage: python -m bench.street_list [--communities 3] [--tickets 2000] [--runs 30]
                                   [--backend sqlite|postgres] [--dir /tmp/gridbot-street]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from community.deployment_model import StreetPerson
from community.model import CommunityConfig, Grid, Person, Role
from services import TicketService
from services.console_access import start_session
from storage import Database, open_database
from tickets.clock import FakeClock
from tickets.model import Ticket, TicketState
from ui.presenter import ChatPresenter
from web.auth import COOKIE
from web.deps import ConsoleDeps
from web.street import COMMUNITY_COOKIE, CommunityConsole, StreetConsole

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
CHIEF = 9001
TEXTS = ("{b}号楼顶楼漏水了", "{b}号楼楼道灯坏了", "{b}号楼门口垃圾没人清", "{b}号楼电梯困人",
         "{b}号楼楼下有人乱停车", "{b}号楼晚上装修太吵")
CATEGORIES = ("water_leak", "facilities", "sanitation", "elevator", "parking", "noise")
NEXT = re.compile(r'id="next-page" href="([^"]+)"')


def config(i: int) -> CommunityConfig:
    grids = tuple(Grid(f"网格{g}", workers=(f"员{i}-{g}",)) for g in range(4))
    people = [Person(f"书记{i}", 100 + i, roles=frozenset({Role.SUPERVISOR}))]
    people += [Person(f"员{i}-{g}", 1000 + 10 * i + g, roles=frozenset({Role.WORKER}),
                      grids=(f"网格{g}",)) for g in range(4)]
    return CommunityConfig(name=f"社区{i}", grids=grids, people=tuple(people))


async def fill(db: Database, i: int, n: int) -> None:
    span = timedelta(days=90) / n
    async with db.transaction() as uow:
        for k in range(n):
            created = NOW - timedelta(days=90) + span * k + timedelta(seconds=i)
            open_ = k >= n * 0.9
            state = (TicketState.ASSIGNED if k % 2 else TicketState.ACCEPTED) if open_ else (
                TicketState.CLOSED)
            await uow.tickets.add(Ticket(
                source_chat_id=-100 - i, source_message_id=k + 1, reporter_id=50000 + k,
                reporter_name="居民", text=TEXTS[k % len(TEXTS)].format(b=k % 30 + 1),
                category=CATEGORIES[k % len(CATEGORIES)],
                urgency="urgent" if k % 40 == 0 else "normal", created_at=created,
                state=state, grid=f"网格{k % 4}", assignee=f"员{i}-{k % 4}",
                accept_due=created + timedelta(days=1),
                resolve_due=created + timedelta(days=3),
                closed_at=None if open_ else created + timedelta(days=2)))


async def timed(http: aiohttp.ClientSession, url: str, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        async with http.get(url) as response:
            body = await response.read()
            assert response.status == 200, body[:300]
        samples.append((time.perf_counter() - start) * 1000)
    ordered = sorted(samples)
    return statistics.median(samples), ordered[max(0, round(0.95 * runs) - 1)]


async def main(args: argparse.Namespace) -> None:
    from runtime.street_console import street_server

    clock = FakeClock(NOW)
    root = Path(tempfile.mkdtemp(prefix="gridbot-street-", dir=args.dir))
    pg_server = None
    if args.backend == "postgres":
        from tests.support import pg

        pg_server = await asyncio.to_thread(pg.start)
        url = pg_server.url(pg_server.new_database(template=None))
    opened: list[Database] = []
    try:
        communities = []
        start = time.perf_counter()
        for i in range(args.communities):
            cfg = config(i)
            db = (await open_database(url, clock=clock, schema=f"c{i}") if pg_server else
                  await open_database(root / f"c{i}.db", clock=clock))
            opened.append(db)
            await fill(db, i, args.tickets)
            deps = ConsoleDeps(db=db, config=cfg, clock=clock,
                               service=TicketService(db, cfg, clock, ChatPresenter(cfg)),
                               street_staff=(StreetPerson("主任", CHIEF),))
            communities.append(CommunityConsole(f"c{i}", deps))
        print(f"seeded {args.communities} × {args.tickets} tickets ({args.backend}) in "
              f"{time.perf_counter() - start:.1f} s")
        street = StreetConsole("街道", tuple(communities))
        server = await street_server(street, "127.0.0.1", 0).start()
        session = await start_session(opened[0], clock, CHIEF, "主任(街道)", "bench")
        cookies = {COOKIE: session.cookie_value, COMMUNITY_COOKIE: "c0"}
        async with aiohttp.ClientSession(cookies=cookies) as http:
            base = server.url
            rows = [("/street/tickets", "first page (50 rows, newest)")]
            async with http.get(base + "/street/tickets") as r:
                page = await r.text()
            for _ in range(2, 6):
                match = NEXT.search(page)
                assert match, "no next page"
                link = match.group(1).replace("&amp;", "&")
                async with http.get(base + link) as r:
                    page = await r.text()
            rows.append((link, "page 5 (keyset cursor)"))
            rows += [("/street/tickets?state=open&sort=deadline", "open, by deadline"),
                     ("/street/tickets?overdue=1", "overdue"),
                     ("/street/tickets?q=漏水", "search 漏水"),
                     ("/street/tickets?c=c0", "one community chosen"),
                     ("/tickets", "one community's own /tickets (comparison)")]
            print(f"{'page':<48} {'median ms':>10} {'p95 ms':>8}")
            for path, label in rows:
                median, p95 = await timed(http, base + path, args.runs)
                print(f"{label:<48} {median:>10.1f} {p95:>8.1f}")
            start = time.perf_counter()
            async with http.get(base + "/street/export/tickets.xlsx") as r:
                size = len(await r.read())
            print(f"export of all {args.communities * args.tickets} tickets: "
                  f"{time.perf_counter() - start:.2f} s, {size / 1024:.0f} KiB")
        await server.stop()
    finally:
        for db in opened:
            await db.close()
        if pg_server is not None:
            pg_server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=3)
    parser.add_argument("--tickets", type=int, default=2000, help="per community")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--dir", default=None, help="where the SQLite files go (a temp dir)")
    sys.exit(asyncio.run(main(parser.parse_args())))
