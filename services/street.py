"""The street office's comparison of its communities (街道总览): one row of figures per
community over a period, each read from that community's own database, with the same
definitions as the community dashboard (``services.dashboard``):

* 新增工单 = tickets created in the period; 在办 / 逾期 = the queue at the period's end
  (or now, while it runs);
* 按时办结率 = resolved in the period by the resolve deadline / resolved in the period;
* 满意率 = 满意 + 基本满意 / all ratings given in the period;
* 首次响应中位数 = the median of created → accepted over the tickets created in the
  period and accepted (a median: one ticket left for days does not hide how quickly
  the rest are taken up).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.dashboard import Period, on_time_rate, rated, satisfaction_rate
from storage import Database
from storage.console_repo import Scope
from storage.dashboard_repo import Flow, Snapshot


@dataclass(frozen=True, slots=True)
class CommunityRow:
    """One community's figures for the period."""

    key: str
    name: str
    new: int
    open: int
    overdue: int
    resolved: int
    on_time_rate: float | None
    rated: int
    satisfaction_rate: float | None
    median_accept_hours: float | None


async def community_row(key: str, name: str, db: Database, period: Period,
                        now: datetime) -> CommunityRow:
    """The figures of one community (all of its tickets: the street sees everything)."""
    everything = Scope.everyone()
    at = min(period.end, now + timedelta(microseconds=1))
    async with db.read() as uow:
        flow = (await uow.dashboard.flows(period.start, period.end, everything)).get("")
        snap = (await uow.dashboard.snapshots(at, everything)).get("")
        median = await uow.dashboard.median_accept_seconds(period.start, period.end)
    flow = flow or Flow()
    snap = snap or Snapshot()
    return CommunityRow(
        key=key, name=name, new=flow.new, open=snap.open, overdue=snap.overdue,
        resolved=flow.resolved, on_time_rate=on_time_rate(flow), rated=rated(flow),
        satisfaction_rate=satisfaction_rate(flow),
        median_accept_hours=None if median is None else median / 3600)


def total_row(rows: list[CommunityRow]) -> CommunityRow:
    """The whole street: counts added up; the rates over the summed parts are not
    recoverable from rates alone, so they are weighted by each community's base."""
    resolved = sum(r.resolved for r in rows)
    on_time = sum((r.on_time_rate or 0) * r.resolved for r in rows)
    rated_total = sum(r.rated for r in rows)
    satisfied = sum((r.satisfaction_rate or 0) * r.rated for r in rows)
    return CommunityRow(
        key="", name="全街道", new=sum(r.new for r in rows), open=sum(r.open for r in rows),
        overdue=sum(r.overdue for r in rows), resolved=resolved,
        on_time_rate=on_time / resolved if resolved else None, rated=rated_total,
        satisfaction_rate=satisfied / rated_total if rated_total else None,
        median_accept_hours=None)
