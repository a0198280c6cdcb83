"""The console's dashboard (总览) and the monthly report's figures, composed from the
SQL in ``storage.dashboard_repo``.

Definitions (also in the README):

* period figures are counted over ``[start, end)`` and compared (环比) with the period of
  the same length just before it;
* 按时办结率 = tickets resolved in the period by their resolve deadline / tickets resolved;
* 满意率 = ratings 满意 + 基本满意 / all ratings given in the period (not an average score);
* 平均接单时长 = mean of accepted − created over tickets created in the period and accepted;
* 平均办结时长 = mean of resolved − created over tickets resolved in the period;
* 重复投诉 = tickets reopened, or rated 没解决, in the period;
* 在办 / 逾期 / 24小时内到期 / 在办紧急 describe the queue at the period's end (or now, when
  the period has not ended), compared with the queue at the period's start; 24小时内到期
  counts the accept deadline of unaccepted tickets and the resolve deadline of all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from storage import Database
from storage.console_repo import Scope
from storage.dashboard_repo import Flow, Snapshot
from tickets.model import Ticket

TREND_WEEKS = 12


@dataclass(frozen=True, slots=True)
class Period:
    """``[start, end)`` in UTC, with the local dates it covers for display."""

    start: datetime
    end: datetime
    label: str
    month: bool = False  # a calendar month: compared with the calendar month before

    def previous(self) -> Period:
        if self.month and isinstance(self.start.tzinfo, ZoneInfo):
            year, month = self.start.year, self.start.month
            return month_period(year - (month == 1), (month - 2) % 12 + 1, self.start.tzinfo)
        length = self.end - self.start
        return Period(self.start - length, self.start, "上期")


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def week_period(today: date, tz: ZoneInfo) -> Period:
    monday = today - timedelta(days=today.weekday())
    return Period(_local_midnight(monday, tz), _local_midnight(monday + timedelta(7), tz),
                  f"本周（{monday:%m-%d} 起）")


def month_period(year: int, month: int, tz: ZoneInfo) -> Period:
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return Period(_local_midnight(first, tz), _local_midnight(nxt, tz), f"{year}年{month}月",
                  month=True)


def custom_period(first: date, last: date, tz: ZoneInfo) -> Period:
    """The local days ``first`` .. ``last`` inclusive."""
    return Period(_local_midnight(first, tz), _local_midnight(last + timedelta(1), tz),
                  f"{first:%Y-%m-%d} 至 {last:%Y-%m-%d}")


@dataclass(frozen=True, slots=True)
class Figure:
    """One tile: its value now and in the previous period (None: not defined, e.g. a
    rate with nothing to divide). ``unit``: '' (count), '%' (a share 0..1), 'h' (hours)."""

    key: str
    label: str
    value: float | None
    previous: float | None
    unit: str = ""
    higher_is_better: bool = True
    detail: str = ""

    @property
    def change(self) -> float | None:
        """环比: for counts and hours the relative change (0.25 = +25%); for shares the
        difference in percentage points (as a share, 0.05 = +5 个百分点)."""
        if self.value is None or self.previous is None:
            return None
        if self.unit == "%":
            return self.value - self.previous
        if self.previous == 0:
            return None
        return (self.value - self.previous) / self.previous

    @property
    def change_text(self) -> str:
        c = self.change
        if c is None:
            return "—"
        if self.unit == "%":
            return f"{c * 100:+.1f}个百分点"
        return f"{c * 100:+.0f}%"

    @property
    def value_text(self) -> str:
        return format_value(self.value, self.unit)

    @property
    def trend(self) -> str:
        """'good', 'bad' or '' (no change) — for colouring the change."""
        c = self.change
        if not c:
            return ""
        return "good" if (c > 0) == self.higher_is_better else "bad"


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{value * 100:.1f}%"
    if unit == "h":
        return f"{value:.1f} 小时"
    return f"{int(value)}"


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def satisfied(flow: Flow) -> int:
    return flow.ratings.get(1, 0) + flow.ratings.get(2, 0)


def rated(flow: Flow) -> int:
    return sum(flow.ratings.values())


def on_time_rate(flow: Flow) -> float | None:
    return _ratio(flow.resolved_on_time, flow.resolved)


def satisfaction_rate(flow: Flow) -> float | None:
    return _ratio(satisfied(flow), rated(flow))


def accept_hours(flow: Flow) -> float | None:
    return flow.accept_seconds / flow.accepted / 3600 if flow.accepted else None


def finish_hours(flow: Flow) -> float | None:
    return flow.finish_seconds / flow.resolved / 3600 if flow.resolved else None


def figures(now_flow: Flow, prev_flow: Flow, now_snap: Snapshot,
            prev_snap: Snapshot) -> list[Figure]:
    """The dashboard's tiles, in display order (pure)."""
    rating_detail = (f"已评价 {rated(now_flow)}，不满意 {now_flow.ratings.get(3, 0)}，"
                     f"没解决 {now_flow.ratings.get(4, 0)}")
    return [
        Figure("new", "新增工单", now_flow.new, prev_flow.new, higher_is_better=False),
        Figure("open", "在办", now_snap.open, prev_snap.open, higher_is_better=False),
        Figure("overdue", "逾期", now_snap.overdue, prev_snap.overdue, higher_is_better=False),
        Figure("due_24h", "24小时内到期", now_snap.due_24h, prev_snap.due_24h,
               higher_is_better=False),
        Figure("emergencies", "在办紧急", now_snap.emergencies, prev_snap.emergencies,
               higher_is_better=False),
        Figure("resolved", "办结", now_flow.resolved, prev_flow.resolved),
        Figure("on_time", "按时办结率", on_time_rate(now_flow), on_time_rate(prev_flow), "%",
               detail=f"按时 {now_flow.resolved_on_time} / 办结 {now_flow.resolved}"),
        Figure("satisfaction", "满意率", satisfaction_rate(now_flow),
               satisfaction_rate(prev_flow), "%", detail=rating_detail),
        Figure("accept_hours", "平均接单时长", accept_hours(now_flow), accept_hours(prev_flow),
               "h", higher_is_better=False),
        Figure("finish_hours", "平均办结时长", finish_hours(now_flow), finish_hours(prev_flow),
               "h", higher_is_better=False),
        Figure("repeat", "重复投诉", now_flow.repeat, prev_flow.repeat,
               higher_is_better=False, detail="重新打开或评价为没解决"),
    ]


def total_flow(parts: dict[str, Flow]) -> Flow:
    """The sum of per-slice flows (every figure of a flow is additive)."""
    out = Flow()
    for f in parts.values():
        out.new += f.new
        out.accepted += f.accepted
        out.accept_seconds += f.accept_seconds
        out.resolved += f.resolved
        out.resolved_on_time += f.resolved_on_time
        out.finish_seconds += f.finish_seconds
        out.repeat += f.repeat
        for score, n in f.ratings.items():
            out.ratings[score] = out.ratings.get(score, 0) + n
    return out


def total_snapshot(parts: dict[str, Snapshot]) -> Snapshot:
    out = Snapshot()
    for s in parts.values():
        out.open += s.open
        out.overdue += s.overdue
        out.due_24h += s.due_24h
        out.emergencies += s.emergencies
    return out


@dataclass(frozen=True, slots=True)
class SliceRow:
    """One row of a per-worker / per-category / per-grid table."""

    key: str
    new: int
    open: int
    overdue: int
    resolved: int
    on_time_rate: float | None
    rated: int
    satisfaction_rate: float | None
    repeat: int


def slice_rows(flows: dict[str, Flow], snaps: dict[str, Snapshot]) -> list[SliceRow]:
    """A table from grouped flows and snapshots, busiest first (pure)."""
    rows = []
    for key in sorted(set(flows) | set(snaps)):
        f, s = flows.get(key, Flow()), snaps.get(key, Snapshot())
        rows.append(SliceRow(key, f.new, s.open, s.overdue, f.resolved, on_time_rate(f),
                             rated(f), satisfaction_rate(f), f.repeat))
    rows.sort(key=lambda r: (-(r.open + r.resolved + r.new), r.key))
    return rows


@dataclass(frozen=True, slots=True)
class Heatmap:
    """Buildings × categories of one compound: ``counts[i][j]`` for building i, category j."""

    compound: str
    buildings: list[str]
    categories: list[str]
    counts: list[list[int]]


def heatmaps(cells: list[tuple[str, str, str, int]], limit: int = 30) -> list[Heatmap]:
    """One heatmap per compound, the ``limit`` busiest buildings each (pure)."""
    by_compound: dict[str, dict[tuple[str, str], int]] = {}
    for compound, building, category, n in cells:
        by_compound.setdefault(compound, {})[(building, category)] = n
    out = []
    for compound in sorted(by_compound, key=lambda c: -sum(by_compound[c].values())):
        grid = by_compound[compound]
        totals: dict[str, int] = {}
        cats: dict[str, int] = {}
        for (b, c), n in grid.items():
            totals[b] = totals.get(b, 0) + n
            cats[c] = cats.get(c, 0) + n
        buildings = sorted(totals, key=lambda b: (-totals[b], _building_order(b)))[:limit]
        buildings.sort(key=_building_order)
        categories = sorted(cats, key=lambda c: -cats[c])
        counts = [[grid.get((b, c), 0) for c in categories] for b in buildings]
        out.append(Heatmap(compound, buildings, categories, counts))
    return out


def _building_order(name: str) -> tuple[int, str]:
    digits = "".join(ch for ch in name if ch.isdigit())
    return (int(digits) if digits and len(digits) < 9 else 1 << 30, name)


def _instant(end: datetime, now: datetime) -> datetime:
    """When a period's queue is read: its end, or just after now (a ticket filed at this
    very instant is already in the queue) while the period runs."""
    return min(end, now + timedelta(microseconds=1))


@dataclass(slots=True)
class Dashboard:
    period: Period
    previous: Period
    snapshot_at: datetime
    figures: list[Figure]
    weeks: list[datetime]  # the start of each trend week (local)
    trend: dict[str, list[int]]  # category → new tickets per week
    heatmaps: list[Heatmap]
    hottest: list[Ticket]
    workers: list[SliceRow]
    ratings: dict[int, int] = field(default_factory=dict)


async def build_dashboard(db: Database, period: Period, now: datetime, scope: Scope,
                          grid: str | None = None, tz: ZoneInfo | None = None) -> Dashboard:
    """Everything the dashboard shows for ``period`` (and ``grid``), within ``scope``."""
    tz = tz or ZoneInfo("Asia/Shanghai")
    previous = period.previous()
    snapshot_at, prev_at = _instant(period.end, now), _instant(previous.end, now)
    end_week = period.end.astimezone(tz)
    last_monday = (end_week - timedelta(microseconds=1)).date()
    last_monday -= timedelta(days=last_monday.weekday())
    first_week = _local_midnight(last_monday - timedelta(weeks=TREND_WEEKS - 1), tz)
    async with db.read() as r:
        d = r.dashboard
        # The per-worker figures add up to the totals: read them once, by worker.
        worker_flows = await d.flows(period.start, period.end, scope, grid, "assignee")
        worker_snaps = await d.snapshots(snapshot_at, scope, grid, "assignee")
        prev_flow = (await d.flows(previous.start, previous.end, scope, grid)).get("", Flow())
        prev_snap = (await d.snapshots(prev_at, scope, grid)).get("", Snapshot())
        trend = await d.weekly_by_category(first_week, TREND_WEEKS, scope, grid)
        cells = await d.building_heatmap(period.start, period.end, scope, grid)
        hottest = await d.hottest(period.start, period.end, scope, grid)
    now_flow, now_snap = total_flow(worker_flows), total_snapshot(worker_snaps)
    workers = [row for row in slice_rows(worker_flows, worker_snaps) if row.key]
    weeks = [first_week + timedelta(weeks=i) for i in range(TREND_WEEKS)]
    return Dashboard(period, previous, snapshot_at,
                     figures(now_flow, prev_flow, now_snap, prev_snap), weeks, trend,
                     heatmaps(cells), hottest, workers, dict(now_flow.ratings))


@dataclass(slots=True)
class MonthlyReport:
    """月报: the dashboard's figures for a month plus per-category/grid/worker tables."""

    period: Period
    figures: list[Figure]
    ratings: dict[int, int]
    by_category: list[SliceRow]
    by_grid: list[SliceRow]
    by_worker: list[SliceRow]
    hottest: list[Ticket]


async def build_monthly_report(db: Database, period: Period, now: datetime,
                               scope: Scope) -> MonthlyReport:
    previous = period.previous()
    snapshot_at, prev_at = _instant(period.end, now), _instant(previous.end, now)
    async with db.read() as r:
        d = r.dashboard
        prev_flow = (await d.flows(previous.start, previous.end, scope)).get("", Flow())
        prev_snap = (await d.snapshots(prev_at, scope)).get("", Snapshot())
        tables = {}
        for group in ("category", "grid", "assignee"):
            flows = await d.flows(period.start, period.end, scope, None, group)
            snaps = await d.snapshots(snapshot_at, scope, None, group)
            if group == "category":
                now_flow, now_snap = total_flow(flows), total_snapshot(snaps)
            tables[group] = slice_rows(flows, snaps)
        hottest = await d.hottest(period.start, period.end, scope)
    return MonthlyReport(period, figures(now_flow, prev_flow, now_snap, prev_snap),
                         dict(now_flow.ratings), tables["category"], tables["grid"],
                         [row for row in tables["assignee"] if row.key], hottest)
