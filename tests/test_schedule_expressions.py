"""Schedule expressions staff write ("每周四 09:00", "每月3,13,23日 09:00", cron)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from services.schedules import ScheduleError, parse_schedule, schedule_error

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)


def next_fire(expression: str, after: datetime = MONDAY) -> datetime:
    fire = parse_schedule(expression).get_next_fire_time(None, after)
    assert fire is not None
    return fire.astimezone(TZ)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("每天 09:00", datetime(2026, 11, 24, 9, 0, tzinfo=TZ)),
        ("每日 18:30", datetime(2026, 11, 23, 18, 30, tzinfo=TZ)),
        ("每周四 09:00", datetime(2026, 11, 26, 9, 0, tzinfo=TZ)),
        ("每星期五 10:00", datetime(2026, 11, 27, 10, 0, tzinfo=TZ)),
        ("每周日 08:00", datetime(2026, 11, 29, 8, 0, tzinfo=TZ)),
        ("每周一、四 18:00", datetime(2026, 11, 23, 18, 0, tzinfo=TZ)),
        ("每月3,13,23日 09:00", datetime(2026, 12, 3, 9, 0, tzinfo=TZ)),
        ("每月23号 11:00", datetime(2026, 11, 23, 11, 0, tzinfo=TZ)),
        ("工作日 08:30", datetime(2026, 11, 24, 8, 30, tzinfo=TZ)),
        ("2026-12-01 09:00", datetime(2026, 12, 1, 9, 0, tzinfo=TZ)),
        ("2026年12月1日 09:00", datetime(2026, 12, 1, 9, 0, tzinfo=TZ)),
        ("cron: 0 9 * * 4", datetime(2026, 11, 26, 9, 0, tzinfo=TZ)),  # 4 = Thursday
        ("cron: 0 9 * * 0", datetime(2026, 11, 29, 9, 0, tzinfo=TZ)),  # 0 = Sunday
        ("每周四 ０９：００", datetime(2026, 11, 26, 9, 0, tzinfo=TZ)),  # full-width
    ],
)
def test_next_fire_time(expression: str, expected: datetime) -> None:
    assert next_fire(expression) == expected


@pytest.mark.parametrize(
    "expression", ["", "明天早上", "每天 25:00", "每周八 09:00", "每月32日 09:00",
                   "2026-02-30 09:00", "cron: 0 9 *", "cron: 99 9 * * *"],
)
def test_invalid_expressions_are_refused_with_a_reason(expression: str) -> None:
    with pytest.raises(ScheduleError):
        parse_schedule(expression)
    assert schedule_error(expression)


def test_one_off_date_fires_once() -> None:
    trigger = parse_schedule("2026-12-01 09:00")
    first = trigger.get_next_fire_time(None, MONDAY)
    assert trigger.get_next_fire_time(first, first) is None
