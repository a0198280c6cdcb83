"""Query latency with a large history: builds a database of ``--tickets`` tickets (default
1,000,000, spread over three years, ~1.5% still open) with two events each, ratings and
supporters, then times every read query the bot uses (median of ``--runs`` runs).

Usage: python -m bench.scale [--tickets 1000000] [--runs 7] [--db path]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import services as q
from community.model import CommunityConfig
from storage import open_database
from storage.timefmt import to_db
from tickets.clock import FakeClock

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
SPAN = timedelta(days=3 * 365)
WORKERS, GRIDS, CATEGORIES, RESIDENTS = 20, 7, 12, 50_000
# Report texts as residents write them ('@' = the building), so the console's Chinese
# search has realistic words to find (and 漏水 is in a tenth of them, not in all).
TEXTS = (
    "@号楼顶楼漏水了，楼下天花板都湿了", "@号楼楼道灯坏了好几天，晚上很黑",
    "@号楼电梯又坏了，老人上下楼不方便", "小区门口垃圾堆了好几天没人清",
    "@号楼下有人飞线充电，太危险了", "晚上广场舞声音太大，吵得睡不着",
    "@号楼地下室下水道堵了，污水往外冒", "车位被外来车辆占了",
    "@号楼外墙瓷砖掉落，差点砸到人", "楼上装修噪音太大，周末一大早就开始",
)
TEXTS_SQL = "CASE i % 10 " + " ".join(
    f"WHEN {k} THEN '{text}'" for k, text in enumerate(TEXTS)) + " END"


def build(path: Path, n: int) -> float:
    """Fill the (already migrated) database with synthetic history; returns seconds."""
    start = time.perf_counter()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    step = SPAN.total_seconds() / n
    open_from = int(n * 0.985)  # the newest 1.5% are still open or resolved
    base = to_db(NOW - SPAN)
    conn.execute("BEGIN")
    conn.execute(
        f"""
        WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n})
        INSERT INTO tickets (number, source_chat_id, source_message_id, reporter_id,
            reporter_name, text, category, urgency, compound, building, unit, grid, assignee,
            state, created_at, accepted_at, resolved_at, closed_at, accept_due, resolve_due,
            rating, keywords, priority)
        SELECT substr(c, 3, 2) || substr(c, 6, 2) || '-' || printf('%06d', i - 1),
            -1000 - i % {GRIDS}, i,
            100000 + (i * 7919) % {RESIDENTS}, '居民',
            replace({TEXTS_SQL}, '@', CAST(i % 40 AS TEXT)) || ' #' || i,
            'cat' || (i % {CATEGORIES}),
            CASE WHEN i % 50 = 0 THEN 'urgent' ELSE 'normal' END,
            '小区' || (i % {GRIDS}), CAST(i % 40 AS TEXT), '1', '网格' || (i % {GRIDS}),
            '员' || (i % {WORKERS}),
            CASE WHEN i < {open_from} THEN
                     CASE WHEN i % 97 = 0 THEN 'cancelled' ELSE 'closed' END
                 ELSE CASE i % 5 WHEN 0 THEN 'assigned' WHEN 1 THEN 'accepted'
                      WHEN 2 THEN 'in_progress' WHEN 3 THEN 'resolved' ELSE 'new' END END,
            c, strftime('%Y-%m-%d %H:%M:%f000', c, '+30 minutes'),
            CASE WHEN i < {open_from} OR i % 5 = 3
                 THEN strftime('%Y-%m-%d %H:%M:%f000', c, '+' || (i % 96) || ' hours') END,
            CASE WHEN i < {open_from}
                 THEN strftime('%Y-%m-%d %H:%M:%f000', c, '+5 days') END,
            strftime('%Y-%m-%d %H:%M:%f000', c, '+1 day'),
            strftime('%Y-%m-%d %H:%M:%f000', c, '+3 days'),
            CASE WHEN i < {open_from} AND i % 2 = 0 THEN 1 + i % 4 END, '["漏水"]', 100
        FROM (SELECT i, strftime('%Y-%m-%d %H:%M:%f000', '{base}',
                                 '+' || CAST(i * {step} AS INTEGER) || ' seconds') AS c
              FROM seq)
        """
    )
    # accepted_at is meaningless for new/assigned tickets.
    conn.execute("UPDATE tickets SET accepted_at = NULL WHERE state IN ('new', 'assigned')")
    conn.execute(
        """
        INSERT INTO ticket_events (ticket_id, at, actor_id, actor_key, action, from_state,
                                   to_state, note, data)
        SELECT id, created_at, reporter_id, NULL, 'create', NULL, 'assigned', NULL, '{}'
        FROM tickets
        UNION ALL
        SELECT id, coalesce(closed_at, resolved_at, accepted_at, created_at), 101, assignee,
               'close', 'resolved', state, NULL, '{}'
        FROM tickets
        """
    )
    conn.execute(
        "INSERT INTO ratings (ticket_id, user_id, score, at) "
        "SELECT id, reporter_id, rating, closed_at FROM tickets WHERE rating IS NOT NULL")
    conn.execute(
        "INSERT INTO supporters (ticket_id, user_id, user_name, source_chat_id, "
        "source_message_id, joined_at) SELECT id, reporter_id + 1, '邻居', source_chat_id, "
        "source_message_id + 100000000, created_at FROM tickets WHERE id % 10 = 0")
    conn.execute("UPDATE tickets SET supporters_count = 1 WHERE id % 10 = 0")
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - start


async def timed(runs: int, fn: Callable[[], Awaitable[object]]) -> tuple[float, object]:
    samples = []
    result: object = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = await fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", default=None, help="keep the database at this path")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "scale.db"
        clock = FakeClock(NOW)
        db = await open_database(path, clock=clock)
        await db.close()
        seconds = build(path, args.tickets)
        print(f"built {args.tickets:,} tickets (+{2 * args.tickets:,} events) "
              f"in {seconds:.1f} s; file {path.stat().st_size / 1e6:.0f} MB")
        t0 = time.perf_counter()
        db = await open_database(path, clock=clock)  # indexes the texts for search
        print(f"search index (jieba + FTS5) of the texts built in "
              f"{time.perf_counter() - t0:.1f} s")
        config = CommunityConfig(name="bench")
        newest = args.tickets
        async with db.read() as r:
            middle = await r.tickets.get(newest // 2)
        assert middle is not None and middle.number is not None
        middle_number = middle.number
        week = (NOW - timedelta(days=7), NOW)
        queries: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("my open tickets (assignee)", lambda: q.my_open_tickets(db, "员4")),
            ("grid open tickets by age", lambda: q.grid_open_tickets(db, "网格2")),
            ("overdue tickets", lambda: q.overdue_tickets(db, clock)),
            ("tickets of a reporter", lambda: q.tickets_of_reporter(db, 100_000 + 7919 % 50_000)),
            ("ticket by number", lambda: q.ticket_by_number(db, middle_number)),
            ("ticket timeline", lambda: q.timeline(db, newest // 2)),
            ("supporters of a ticket", lambda: q.supporters_of(db, newest // 2 // 10 * 10)),
            ("tickets needing follow-up", lambda: q.tickets_needing_followup(db, config, clock)),
            ("digest counts, one week", lambda: q.digest(db, *week)),
        ]
        print(f"{'query':32} {'median ms':>10} {'rows':>6}")
        for name, fn in queries:
            ms, result = await timed(args.runs, fn)
            rows = len(result) if isinstance(result, list) else 1
            flag = "" if ms < 20 else "  (over 20 ms)"
            print(f"{name:32} {ms:10.2f} {rows:6}{flag}")
        await db.close()


if __name__ == "__main__":
    asyncio.run(main())
