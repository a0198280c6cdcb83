"""SLA deadlines on China's working calendar.

Definitions (all in the community's timezone, results returned in UTC):

* A **working day** is a day that ``holidays.China`` says is a working day: Monday–Friday
  that is not a statutory holiday, plus the weekend make-up days (调休) such as the Sunday
  2026-09-20 and the Saturday 2026-10-10.
* **Working hours** are ``[start, end)`` from ``config.working_hours`` on a working day.
* The **anchor** of a report is its creation time when that falls inside working hours;
  otherwise the start of the next working hours (08:30 the next working day, or today
  08:30 when created before opening on a working day).
* **N working days** after the anchor is the same local time of day on the N-th following
  working day. A report at Wednesday 2026-09-30 10:00 (eve of National Day) with "1 working
  day" is due Thursday 2026-10-08 10:00, because 10-01..10-07 are off.
* Rules given as a plain ``timedelta`` (emergency, urgent) count wall-clock time from
  creation: emergencies ignore working time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from community.model import SlaPolicy, WorkingHours


@lru_cache(maxsize=64)
def _china(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year)


def is_china_working_day(day: date) -> bool:
    """True when ``day`` is a working day in mainland China (holidays and 调休 included)."""
    return bool(_china(day.year).is_working_day(day))


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """Working days and hours of one community."""

    timezone: str = "Asia/Shanghai"
    hours: WorkingHours = field(default_factory=WorkingHours)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date) -> bool:
        return is_china_working_day(day)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def in_working_hours(self, when: datetime) -> bool:
        local = when.astimezone(self.tz)
        return (
            self.is_working_day(local.date())
            and self.hours.start <= local.time().replace(tzinfo=None) < self.hours.end
        )

    def anchor(self, when: datetime) -> datetime:
        """``when`` if inside working hours, else the start of the next working hours (UTC)."""
        if self.in_working_hours(when):
            return when.astimezone(UTC)
        local = when.astimezone(self.tz)
        day = local.date()
        if not (self.is_working_day(day) and local.time() < self.hours.start):
            day = self.next_working_day(day)
        return self._at(day, self.hours.start)

    def add_working_days(self, when: datetime, days: int) -> datetime:
        """Anchor ``when``, then move to the same local time on the ``days``-th working day."""
        start = self.anchor(when).astimezone(self.tz)
        day = start.date()
        for _ in range(days):
            day = self.next_working_day(day)
        return self._at(day, start.time().replace(tzinfo=None))

    def _at(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self.tz).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Deadlines:
    accept_due: datetime | None
    resolve_due: datetime | None


def compute_deadlines(
    policy: SlaPolicy, calendar: WorkCalendar, urgency: str, start: datetime
) -> Deadlines:
    """Accept and resolve deadlines for a ticket of ``urgency`` created (or reopened) at
    ``start``. Working-day counts win over plain durations when both are configured."""
    rule = policy.rule(urgency)

    def due(delta: timedelta | None, working_days: int | None) -> datetime | None:
        if working_days is not None:
            return calendar.add_working_days(start, working_days)
        if delta is not None:
            return (start + delta).astimezone(UTC)
        return None

    return Deadlines(
        accept_due=due(rule.accept, rule.accept_working_days),
        resolve_due=due(rule.resolve, rule.resolve_working_days),
    )
