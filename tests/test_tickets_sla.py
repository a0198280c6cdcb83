"""SLA deadlines on China's calendar: holidays, 调休 make-up days, working hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from community.model import SlaPolicy, SlaRule, WorkingHours
from tickets.sla import WorkCalendar, compute_deadlines, is_china_working_day

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar("Asia/Shanghai", WorkingHours(time(8, 30), time(17, 30)))
POLICY = SlaPolicy()


def at(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def local(dt: datetime | None) -> datetime:
    assert dt is not None and dt.tzinfo is UTC
    return dt.astimezone(SH)


@pytest.mark.parametrize(("day", "working"), [
    (date(2026, 9, 20), True),  # Sunday, make-up working day (调休)
    (date(2026, 10, 10), True),  # Saturday, make-up working day
    (date(2026, 9, 25), False),  # Friday, Mid-Autumn Festival
    (date(2026, 10, 1), False), (date(2026, 10, 7), False),  # National Day week
    (date(2026, 10, 8), True), (date(2026, 10, 11), False), (date(2026, 9, 30), True),
])
def test_calendar_comes_from_the_holidays_package(day: date, working: bool) -> None:
    assert is_china_working_day(day) is working


def test_normal_report_on_a_plain_weekday() -> None:
    d = compute_deadlines(POLICY, CAL, "normal", at(2026, 9, 1, 10))  # Tue
    assert local(d.accept_due) == at(2026, 9, 2, 10)
    assert local(d.resolve_due) == at(2026, 9, 4, 10)


def test_report_on_the_eve_of_national_day() -> None:
    # Wed 2026-09-30 is the last working day before 10-01..10-07.
    d = compute_deadlines(POLICY, CAL, "normal", at(2026, 9, 30, 15))
    assert local(d.accept_due) == at(2026, 10, 8, 15)  # Thu after the holiday
    # 10-08 Thu, 10-09 Fri, 10-10 Sat (调休 working day)
    assert local(d.resolve_due) == at(2026, 10, 10, 15)


def test_report_on_the_friday_before_the_holiday_week_which_is_mid_autumn() -> None:
    # Fri 2026-09-25 is itself a holiday: counting starts Mon 09-28 08:30.
    d = compute_deadlines(POLICY, CAL, "normal", at(2026, 9, 25, 11))
    assert local(d.accept_due) == at(2026, 9, 29, 8, 30)
    assert local(d.resolve_due) == at(2026, 10, 8, 8, 30)  # 29, 30, then 10-08


def test_report_on_a_make_up_saturday_counts_as_a_working_day() -> None:
    d = compute_deadlines(POLICY, CAL, "normal", at(2026, 10, 10, 9))
    assert local(d.accept_due) == at(2026, 10, 12, 9)  # Sunday 10-11 is off
    assert local(d.resolve_due) == at(2026, 10, 14, 9)


def test_report_on_an_ordinary_saturday_waits_for_monday_opening() -> None:
    d = compute_deadlines(POLICY, CAL, "normal", at(2026, 9, 5, 14))  # Sat
    assert local(d.accept_due) == at(2026, 9, 8, 8, 30)  # Mon 08:30 + 1 working day


@pytest.mark.parametrize(("created", "anchor"), [
    (at(2026, 9, 1, 7, 0), at(2026, 9, 1, 8, 30)),  # before opening: same day's opening
    (at(2026, 9, 1, 17, 30), at(2026, 9, 2, 8, 30)),  # at closing: next working day
    (at(2026, 9, 1, 23, 59), at(2026, 9, 2, 8, 30)),  # at night
    (at(2026, 9, 1, 8, 30), at(2026, 9, 1, 8, 30)),  # opening is inside
])
def test_outside_working_hours_counts_from_next_opening(created: datetime,
                                                         anchor: datetime) -> None:
    assert local(CAL.anchor(created)) == anchor
    d = compute_deadlines(POLICY, CAL, "normal", created)
    assert local(d.accept_due) == datetime.combine(
        CAL.next_working_day(anchor.date()), anchor.timetz())


def test_emergency_ignores_working_time() -> None:
    created = at(2026, 10, 3, 2, 0)  # 2 a.m. on a National Day holiday
    d = compute_deadlines(POLICY, CAL, "emergency", created)
    assert local(d.accept_due) == created + timedelta(minutes=15)
    assert local(d.resolve_due) == created + timedelta(hours=4)


def test_urgent_is_wall_clock_too() -> None:
    created = at(2026, 9, 5, 22, 0)
    d = compute_deadlines(POLICY, CAL, "urgent", created)
    assert local(d.accept_due) == created + timedelta(hours=2)
    assert local(d.resolve_due) == created + timedelta(days=1)


def test_unknown_urgency_uses_normal_and_missing_rule_means_no_deadline() -> None:
    policy = SlaPolicy(normal=SlaRule(accept=timedelta(hours=8), resolve=None))
    d = compute_deadlines(policy, CAL, "whatever", at(2026, 9, 1, 10))
    assert local(d.accept_due) == at(2026, 9, 1, 18)
    assert d.resolve_due is None


def test_working_hours_and_timezone_come_from_config() -> None:
    cal = WorkCalendar("Asia/Urumqi", WorkingHours(time(10, 0), time(19, 0)))
    created = datetime(2026, 9, 1, 9, 0, tzinfo=ZoneInfo("Asia/Urumqi"))
    assert cal.anchor(created) == datetime(2026, 9, 1, 10, 0, tzinfo=ZoneInfo("Asia/Urumqi"))
