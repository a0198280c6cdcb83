"""Dashboard and monthly-report figures on a small dataset computed by hand."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.dashboard import (
    Dashboard,
    Figure,
    Flow,
    build_dashboard,
    build_monthly_report,
    heatmaps,
    month_period,
    week_period,
)
from storage import Database, open_database
from storage.console_repo import Scope
from tests.support.console_data import T0, FakeViewer, add_rating, add_reopen, add_tickets, hours
from tests.support.console_data import make_ticket as mk
from tickets.clock import FakeClock
from tickets.model import Ticket, TicketState

TZ = ZoneInfo("Asia/Shanghai")
NOW = T0 + timedelta(days=3)
D = timedelta(days=1)


@pytest.fixture
async def db(db_target: str) -> AsyncIterator[Database]:
    database = await open_database(db_target, clock=FakeClock(NOW))
    yield database
    await database.close()


async def seed(db: Database) -> None:
    """This week (from Monday T0's local midnight): t1..t4; the week before: p1..p4."""
    closed = TicketState.CLOSED
    t1 = mk(created_at=T0, accepted_at=T0 + hours(2), resolved_at=T0 + hours(10),
            resolve_due=T0 + hours(24), state=closed, closed_at=T0 + hours(12),
            category="water", compound="阳光小区", building="8", supporters_count=5)
    t2 = mk(created_at=T0 + hours(1), accepted_at=T0 + hours(5),
            resolved_at=T0 + hours(49), resolve_due=T0 + hours(24), state=closed,
            closed_at=T0 + hours(50), category="water", compound="阳光小区", building="8")
    t3 = mk(created_at=T0 + hours(2), state=TicketState.NEW, urgency="emergency",
            accept_due=T0 + hours(4), grid="二网格", assignee=None, category="water",
            compound="阳光小区", building="8")
    t4 = mk(created_at=T0 + hours(3), state=TicketState.ASSIGNED, assignee="李强",
            resolve_due=NOW + hours(5), accept_due=NOW + hours(1), grid="二网格",
            category="lighting", compound="阳光小区", building="3", supporters_count=2)
    p1 = mk(created_at=T0 - 3 * D, accepted_at=T0 - 3 * D + hours(1),
            resolved_at=T0 - 3 * D + hours(20), resolve_due=T0 - 3 * D + hours(24),
            state=closed, closed_at=T0 - 2 * D)
    p2 = mk(created_at=T0 - 2 * D, accepted_at=T0 - 2 * D + hours(2),
            resolved_at=T0 - D, resolve_due=T0 - 2 * D + hours(10), state=closed,
            closed_at=T0 - D + hours(1))
    p3 = mk(created_at=T0 - D, state=closed, closed_at=T0 - D + hours(5))
    p4 = mk(created_at=T0 - D, accepted_at=T0 - D + hours(3), resolved_at=T0 + D,
            resolve_due=T0 + 2 * D, state=closed, closed_at=T0 + D + hours(1),
            urgency="urgent")
    await add_tickets(db, t1, t2, t3, t4, p1, p2, p3, p4)
    await add_rating(db, t1, 1, T0 + hours(12))
    await add_rating(db, t2, 3, T0 + hours(50))
    await add_reopen(db, t2, T0 + hours(51))
    await add_rating(db, p1, 2, T0 - 2 * D)
    await add_rating(db, p2, 4, T0 - D + hours(1))
    await add_rating(db, p3, 1, T0 - D + hours(5))


def by_key(dash: Dashboard) -> dict[str, Figure]:
    return {f.key: f for f in dash.figures}


async def test_week_figures_and_their_change(db: Database) -> None:
    await seed(db)
    period = week_period(date(2026, 11, 4), TZ)
    dash = await build_dashboard(db, period, NOW, Scope.everyone(), tz=TZ)
    f = by_key(dash)
    expected = {
        "new": (4, 4), "open": (2, 1), "overdue": (1, 0), "due_24h": (1, 0),
        "emergencies": (1, 0), "resolved": (3, 2), "repeat": (1, 1),
    }
    for key, (value, previous) in expected.items():
        assert (f[key].value, f[key].previous) == (value, previous), key
    assert f["on_time"].value == pytest.approx(2 / 3)
    assert f["on_time"].previous == pytest.approx(1 / 2)
    assert f["satisfaction"].value == pytest.approx(1 / 2)
    assert f["satisfaction"].previous == pytest.approx(2 / 3)
    assert f["satisfaction"].detail == "已评价 2，不满意 1，没解决 0"
    assert f["accept_hours"].value == pytest.approx(3.0)
    assert f["accept_hours"].previous == pytest.approx(2.0)
    assert f["finish_hours"].value == pytest.approx((10 + 48 + 48) / 3)
    assert f["finish_hours"].previous == pytest.approx(22.0)
    # 环比: relative for counts, percentage points for shares.
    assert f["open"].change == pytest.approx(1.0) and f["open"].change_text == "+100%"
    assert f["resolved"].change_text == "+50%" and f["new"].change_text == "+0%"
    assert f["satisfaction"].change == pytest.approx(1 / 2 - 2 / 3)
    assert f["satisfaction"].change_text == "-16.7个百分点"
    assert f["satisfaction"].trend == "bad" and f["on_time"].trend == "good"
    assert f["overdue"].change is None  # nothing to compare with
    assert f["repeat"].change == 0 and f["repeat"].trend == ""
    assert dash.ratings == {1: 1, 3: 1}


async def test_week_tables_trend_heatmap_and_hot(db: Database) -> None:
    await seed(db)
    dash = await build_dashboard(db, week_period(date(2026, 11, 8), TZ), NOW,
                                 Scope.everyone(), tz=TZ)
    workers = {w.key: w for w in dash.workers}
    assert set(workers) == {"王芳", "李强"}
    wf = workers["王芳"]
    assert (wf.new, wf.open, wf.overdue, wf.resolved, wf.rated) == (2, 0, 0, 3, 2)
    assert wf.on_time_rate == pytest.approx(2 / 3) and wf.satisfaction_rate == 0.5
    lq = workers["李强"]
    assert (lq.new, lq.open, lq.overdue, lq.resolved, lq.on_time_rate) == (1, 1, 0, 0, None)
    assert dash.trend["water"][-1] == 3 and dash.trend["lighting"][-1] == 1
    assert dash.trend["lighting"][-2] == 4 and len(dash.trend["water"]) == 12
    assert dash.weeks[-1].astimezone(TZ).date() == date(2026, 11, 2)
    [heat] = dash.heatmaps
    assert heat.compound == "阳光小区" and heat.buildings == ["3", "8"]
    assert heat.categories == ["water", "lighting"]
    assert heat.counts == [[0, 1], [3, 0]]
    assert [t.supporters_count for t in dash.hottest] == [5, 2]


async def test_grid_and_scope_narrow_every_figure(db: Database) -> None:
    await seed(db)
    period = week_period(date(2026, 11, 4), TZ)
    grid2 = by_key(await build_dashboard(db, period, NOW, Scope.everyone(), "二网格", TZ))
    assert (grid2["new"].value, grid2["open"].value, grid2["overdue"].value) == (2, 2, 1)
    assert grid2["resolved"].value == 0 and grid2["on_time"].value is None
    worker = Scope.of_viewer(FakeViewer("李强", 1, grids=frozenset({"三网格"})))
    mine = by_key(await build_dashboard(db, period, NOW, worker, tz=TZ))
    assert (mine["new"].value, mine["open"].value, mine["satisfaction"].value) == (1, 1, None)


async def test_monthly_report_compares_with_the_calendar_month_before(db: Database) -> None:
    await seed(db)
    report = await build_monthly_report(db, month_period(2026, 11, TZ), NOW, Scope.everyone())
    f = {x.key: x for x in report.figures}
    # November (local) holds t1..t4 and p3 (created 11-01 09:00 local); October p1, p2, p4?
    # p4 was created 11-01 09:00 local too: November.
    assert f["new"].value == 6 and f["new"].previous == 2
    assert report.period.previous().label == "2026年10月"
    cats = {row.key: row for row in report.by_category}
    assert cats["water"].new == 3 and cats["lighting"].new == 3
    grids = {row.key: row for row in report.by_grid}
    assert grids["二网格"].open == 2 and grids["一网格"].new == 4
    assert {row.key for row in report.by_worker} == {"王芳", "李强"}


def test_figure_texts_and_pure_helpers() -> None:
    f = Figure("x", "满意率", 0.8, None, "%")
    assert f.value_text == "80.0%" and f.change_text == "—"
    hrs = Figure("h", "平均办结时长", 30.0, 20.0, "h", higher_is_better=False)
    assert hrs.value_text == "30.0 小时" and hrs.change_text == "+50%" and hrs.trend == "bad"
    assert Flow().ratings == {}
    maps = heatmaps([("A", "10", "water", 1), ("A", "2", "water", 5), ("B", "1", "noise", 9)])
    assert [m.compound for m in maps] == ["B", "A"]
    assert maps[1].buildings == ["2", "10"]


async def test_a_ticket_filed_this_instant_is_in_the_queue(db: Database) -> None:
    # The clock does not move between filing and looking (as in the bot's tests).
    await add_tickets(db, mk(created_at=NOW, state=TicketState.ASSIGNED,
                             accept_due=NOW + hours(2), resolve_due=NOW + hours(72)))
    dash = await build_dashboard(db, week_period(date(2026, 11, 5), TZ), NOW,
                                 Scope.everyone(), tz=TZ)
    f = by_key(dash)
    assert (f["new"].value, f["open"].value, f["due_24h"].value) == (1, 1, 1)
    assert {w.key: w.open for w in dash.workers} == {"王芳": 1}


async def test_period_flows_match_a_direct_count_on_random_tickets(db: Database) -> None:
    """The flow queries (durations read from the covering indexes' generated columns,
    ungrouped totals without GROUP BY, ratings without the join when nothing narrows
    them) against the definitions computed in Python, on random tickets, some of them
    accepted / resolved / reassigned by a later update."""
    rng = random.Random(11)
    workers = ["王芳", "李强", "赵敏", None]
    grids = ["一网格", "二网格", "三网格"]

    def moment(lo: float, hi: float) -> timedelta:
        return timedelta(seconds=rng.uniform(lo, hi) * 86400, microseconds=rng.randrange(10**6))

    start = T0 - 14 * D
    tickets = []
    for _ in range(160):
        created = start + moment(0, 21)
        accepted = created + moment(0, 2) if rng.random() < 0.7 else None
        resolved = (accepted or created) + moment(0, 4) if rng.random() < 0.5 else None
        tickets.append(mk(
            created_at=created, accepted_at=accepted, resolved_at=resolved,
            resolve_due=created + moment(0, 3) if rng.random() < 0.8 else None,
            state=TicketState.RESOLVED if resolved else TicketState.ASSIGNED,
            assignee=rng.choice(workers), grid=rng.choice(grids),
            category=rng.choice(["water", "lighting"])))
    await add_tickets(db, *tickets)
    ratings: list[tuple[int, int, datetime]] = []
    reopens: list[tuple[int, datetime]] = []
    for t in tickets:
        if t.resolved_at is not None and rng.random() < 0.6:
            at = t.resolved_at + moment(0, 2)
            score = rng.randint(1, 4)
            await add_rating(db, t, score, at)
            ratings.append((t.id or 0, score, at))
        if t.resolved_at is not None and rng.random() < 0.2:
            at = t.resolved_at + moment(0, 3)
            await add_reopen(db, t, at)
            reopens.append((t.id or 0, at))
    # Later writes: some tickets get accepted, resolved or reassigned.
    changed = {}
    for t in rng.sample(tickets, 40):
        accepted = t.accepted_at or t.created_at + moment(0, 1)
        new = replace(t, accepted_at=accepted, assignee=rng.choice(workers),
                      resolved_at=t.resolved_at or accepted + moment(0, 1))
        changed[t.id] = new
    async with db.transaction() as uow:
        for new in changed.values():
            await uow.tickets.update(new)
    final = [changed.get(t.id, t) for t in tickets]

    def expected(lo: datetime, hi: datetime, keep: Callable[[Ticket], bool],
                 key: Callable[[Ticket], str]) -> dict[str, Flow]:
        out: dict[str, Flow] = {}
        for t in final:
            if not keep(t):
                continue
            k = key(t)
            if lo <= t.created_at < hi:
                f = out.setdefault(k, Flow())
                f.new += 1
                if t.accepted_at is not None:
                    f.accepted += 1
                    f.accept_seconds += (t.accepted_at - t.created_at).total_seconds()
            if t.resolved_at is not None and lo <= t.resolved_at < hi:
                f = out.setdefault(k, Flow())
                f.resolved += 1
                f.resolved_on_time += t.resolve_due is None or t.resolved_at <= t.resolve_due
                f.finish_seconds += (t.resolved_at - t.created_at).total_seconds()
            rated = [s for i, s, at in ratings if i == t.id and lo <= at < hi]
            for s in rated:
                f = out.setdefault(k, Flow())
                f.ratings[s] = f.ratings.get(s, 0) + 1
            if (any(i == t.id and lo <= at < hi for i, at in reopens)
                    or 4 in rated):
                out.setdefault(k, Flow()).repeat += 1
        return out

    worker = FakeViewer("李强", 1, grids=frozenset({"三网格"}))
    cases = [
        (Scope.everyone(), None, lambda t: True),
        (Scope.everyone(), "二网格", lambda t: t.grid == "二网格"),
        (Scope.of_viewer(worker), None,
         lambda t: t.grid == "三网格" or t.assignee == "李强" or t.reporter_id == 1),
    ]
    keys: dict[str | None, Callable[[Ticket], str]] = {
        None: lambda t: "", "assignee": lambda t: t.assignee or "",
            "grid": lambda t: t.grid or ""}
    checked = 0
    # Before ANALYZE the per-worker figures come from the covering indexes; after it,
    # from the skip-scanned assignee-led ones (SQLite's planner: PostgreSQL plans itself).
    for analyzed in (False, True):
        if analyzed:
            async with db.transaction() as uow:
                await uow.tickets._exec("ANALYZE")
        async with db.read() as r:
            assert await r.dashboard._skip_scan_ready() is (analyzed and db.backend == "sqlite")
        for lo, hi in [(start, start + 7 * D), (start + 7 * D, start + 21 * D),
                       (start + 3 * D + hours(5), start + 30 * D)]:
            for scope, grid, keep in cases:
                for group_by, key in keys.items():
                    async with db.read() as r:
                        got = await r.dashboard.flows(lo, hi, scope, grid, group_by)
                    want = expected(lo, hi, keep, key)
                    assert set(got) == set(want)
                    for k, w in want.items():
                        g = got[k]
                        assert (g.new, g.accepted, g.resolved, g.resolved_on_time, g.ratings,
                                g.repeat) == (w.new, w.accepted, w.resolved,
                                              w.resolved_on_time, w.ratings, w.repeat)
                        assert g.accept_seconds == pytest.approx(w.accept_seconds, abs=0.01)
                        assert g.finish_seconds == pytest.approx(w.finish_seconds, abs=0.01)
                        checked += w.new + w.resolved
    assert checked > 600
