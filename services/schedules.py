"""Schedules staff write: the expressions ("每周四 09:00" → an APScheduler trigger) and the
/schedule use cases (list, add, remove).

Schedule expressions as community staff write them, turned into APScheduler triggers.

Accepted forms (spaces optional, full-width digits and colons tolerated):

- ``每天 09:00``                      every day
- ``工作日 08:30``                    Monday to Friday (calendar holidays are not skipped here)
- ``每周四 09:00``, ``每周一、四 18:00`` weekly on the named weekdays (周日/周天/星期日 too)
- ``每月3,13,23日 09:00``             monthly on those days
- ``2026-12-01 09:00``                 once
- ``cron: 0 9 * * 4``                  a standard 5-field crontab (0 or 7 = Sunday)

:func:`parse_schedule` returns a trigger; :func:`schedule_error` returns a Chinese
explanation of what is wrong, or ``None``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from storage import Database, Schedule

_WEEKDAYS = {"一": "mon", "二": "tue", "三": "wed", "四": "thu", "五": "fri", "六": "sat",
             "日": "sun", "天": "sun", "七": "sun"}
_CRON_DOW = {"0": "sun", "1": "mon", "2": "tue", "3": "wed", "4": "thu", "5": "fri",
             "6": "sat", "7": "sun"}
_TIME = r"(\d{1,2}):(\d{2})"


class ScheduleError(ValueError):
    """The expression is not one of the accepted forms; the message is Chinese."""


def _normalise(expression: str) -> str:
    text = unicodedata.normalize("NFKC", expression).strip()
    return re.sub(r"\s+", " ", text)


def _clock(hour: str, minute: str) -> tuple[int, int]:
    h, m = int(hour), int(minute)
    if h > 23 or m > 59:
        raise ScheduleError(f"时间 {hour}:{minute} 不存在")
    return h, m


def _cron_dow(field: str) -> str:
    """Translate standard crontab weekday numbers (0 = Sunday) into names."""
    def one(token: str) -> str:
        return _CRON_DOW.get(token, token)

    parts = []
    for item in field.split(","):
        step = ""
        if "/" in item:
            item, step = item.split("/", 1)
            step = "/" + step
        if "-" in item:
            low, high = item.split("-", 1)
            parts.append(f"{one(low)}-{one(high)}{step}")
        else:
            parts.append(one(item) + step)
    return ",".join(parts)


def parse_schedule(expression: str, timezone: tzinfo | str = "Asia/Shanghai") -> BaseTrigger:
    """Turn an expression into an APScheduler trigger in ``timezone``.

    Raises :class:`ScheduleError` with a Chinese message when the expression is invalid.
    """
    tz = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    text = _normalise(expression)
    if not text:
        raise ScheduleError("时间表达式为空")
    try:
        return _parse(text, tz)
    except ScheduleError:
        raise
    except ValueError as error:  # APScheduler's own field validation
        raise ScheduleError(f"无法理解 {expression!r}: {error}") from error


def _parse(text: str, tz: tzinfo) -> BaseTrigger:
    if text.lower().startswith("cron:"):
        fields = text[5:].split()
        if len(fields) != 5:
            raise ScheduleError("cron 需要 5 个字段: 分 时 日 月 周")
        cron_minute, cron_hour, cron_day, cron_month, cron_dow = fields
        return CronTrigger(minute=cron_minute, hour=cron_hour, day=cron_day, month=cron_month,
                           day_of_week=_cron_dow(cron_dow), timezone=tz)
    if match := re.fullmatch(r"(?:每天|每日) ?" + _TIME, text):
        hour, minute = _clock(*match.groups())
        return CronTrigger(hour=hour, minute=minute, timezone=tz)
    if match := re.fullmatch(r"(?:工作日|每个工作日) ?" + _TIME, text):
        hour, minute = _clock(*match.groups())
        return CronTrigger(day_of_week="mon-fri", hour=hour, minute=minute, timezone=tz)
    if match := re.fullmatch(r"每(?:周|星期|礼拜)([一二三四五六日天七、,和及 ]+) ?" + _TIME, text):
        names = [_WEEKDAYS[ch] for ch in match.group(1) if ch in _WEEKDAYS]
        if not names:
            raise ScheduleError("没有写星期几")
        hour, minute = _clock(match.group(2), match.group(3))
        return CronTrigger(day_of_week=",".join(dict.fromkeys(names)), hour=hour,
                           minute=minute, timezone=tz)
    if match := re.fullmatch(r"每月 ?([\d,、 ]+)[日号] ?" + _TIME, text):
        days = [int(d) for d in re.split(r"[,、 ]+", match.group(1)) if d]
        if not days or any(not 1 <= d <= 31 for d in days):
            raise ScheduleError("每月的日期应在 1 到 31 之间")
        hour, minute = _clock(match.group(2), match.group(3))
        return CronTrigger(day=",".join(str(d) for d in sorted(set(days))), hour=hour,
                           minute=minute, timezone=tz)
    if match := re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日? ?" + _TIME, text):
        year, month, day = (int(x) for x in match.groups()[:3])
        hour, minute = _clock(match.group(4), match.group(5))
        try:
            when = datetime(year, month, day, hour, minute, tzinfo=tz)
        except ValueError as error:
            raise ScheduleError(f"日期 {year}-{month}-{day} 不存在") from error
        return DateTrigger(run_date=when, timezone=tz)
    raise ScheduleError(
        "看不懂这个时间。可写: 每天 09:00 / 每周四 09:00 / 每月3,13,23日 09:00 / "
        "2026-12-01 09:00 / cron: 0 9 * * 4"
    )


def schedule_error(expression: str) -> str | None:
    """``None`` when the expression is valid, else the reason in Chinese."""
    try:
        parse_schedule(expression)
    except ScheduleError as error:
        return str(error)
    return None


async def active_schedules(db: Database) -> list[Schedule]:
    """/schedule list."""
    async with db.read() as uow:
        return await uow.schedules.active()


async def add_schedule(db: Database, expression: str, text: str, grids: tuple[str, ...],
                       created_by: int) -> int:
    """/schedule add (the expression already checked with :func:`schedule_error`)."""
    async with db.transaction() as uow:
        return await uow.schedules.add(expression, text, grids, created_by=created_by)


async def remove_schedule(db: Database, schedule_id: int) -> bool:
    """/schedule del: False when there is no such active schedule."""
    async with db.transaction() as uow:
        return await uow.schedules.deactivate(schedule_id)
