"""The street office's comparison rows (services/street.py) on small datasets computed by
hand: one database per community, the same definitions as the dashboard, and the median
time to first response (odd and even counts, nothing accepted)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.dashboard import week_period
from services.street import community_row, total_row
from storage import Database, open_database
from tests.support.console_data import T0, add_rating, add_tickets, hours
from tests.support.console_data import make_ticket as mk
from tickets.clock import FakeClock
from tickets.model import TicketState

TZ = ZoneInfo("Asia/Shanghai")
NOW = T0 + timedelta(days=3)
WEEK = week_period(date(2026, 11, 4), TZ)


@pytest.fixture
async def two(db_target: str, db_targets: Callable[[], str]) -> AsyncIterator[list[Database]]:
    opened = [await open_database(target, clock=FakeClock(NOW))
              for target in (db_target, db_targets())]
    yield opened
    for database in opened:
        await database.close()


async def test_rows_per_community_and_the_street_total(two: list[Database]) -> None:
    a, b = two
    closed = TicketState.CLOSED
    a1 = mk(created_at=T0, accepted_at=T0 + hours(1), resolved_at=T0 + hours(5),
            resolve_due=T0 + hours(24), state=closed, closed_at=T0 + hours(6))
    a2 = mk(created_at=T0 + hours(1), accepted_at=T0 + hours(4), resolved_at=T0 + hours(40),
            resolve_due=T0 + hours(24), state=closed, closed_at=T0 + hours(41))
    a3 = mk(created_at=T0 + hours(2), accepted_at=T0 + hours(12),
            state=TicketState.ACCEPTED, resolve_due=T0 + hours(30))  # overdue by NOW
    await add_tickets(a, a1, a2, a3)
    await add_rating(a, a1, 1, T0 + hours(7))
    await add_rating(a, a2, 3, T0 + hours(42))
    b1 = mk(created_at=T0 + hours(3), accepted_at=T0 + hours(5), resolved_at=T0 + hours(8),
            resolve_due=T0 + hours(24), state=closed, closed_at=T0 + hours(9))
    b2 = mk(created_at=T0 + hours(4), state=TicketState.ASSIGNED, resolve_due=NOW + hours(5),
            accept_due=NOW + hours(1))
    await add_tickets(b, b1, b2)
    await add_rating(b, b1, 2, T0 + hours(10))

    row_a = await community_row("xingfuli", "幸福里社区", a, WEEK, NOW)
    row_b = await community_row("anle", "安乐社区", b, WEEK, NOW)
    assert (row_a.new, row_a.open, row_a.overdue, row_a.resolved) == (3, 1, 1, 2)
    assert row_a.on_time_rate == pytest.approx(1 / 2)
    assert (row_a.rated, row_a.satisfaction_rate) == (2, pytest.approx(1 / 2))
    assert row_a.median_accept_hours == pytest.approx(3.0)  # of 1, 3 and 10 hours
    assert (row_b.new, row_b.open, row_b.overdue, row_b.resolved) == (2, 1, 0, 1)
    assert (row_b.on_time_rate, row_b.satisfaction_rate) == (1.0, 1.0)
    assert row_b.median_accept_hours == pytest.approx(2.0)  # one accepted, one not yet

    total = total_row([row_a, row_b])
    assert (total.new, total.open, total.overdue, total.resolved, total.rated) == (5, 2, 1, 3, 3)
    assert total.on_time_rate == pytest.approx(2 / 3)  # weighted by what was resolved
    assert total.satisfaction_rate == pytest.approx(2 / 3)


async def test_the_median_of_an_even_count_and_of_nothing(two: list[Database]) -> None:
    a, b = two
    await add_tickets(a, *(mk(created_at=T0 + hours(i), accepted_at=T0 + hours(i + wait))
                           for i, wait in enumerate((1, 2, 6, 30))))
    row = await community_row("xingfuli", "幸福里社区", a, WEEK, NOW)
    assert row.median_accept_hours == pytest.approx(4.0)  # between 2 and 6
    empty = await community_row("anle", "安乐社区", b, WEEK, NOW)
    assert (empty.new, empty.median_accept_hours, empty.on_time_rate) == (0, None, None)
    assert total_row([empty]).satisfaction_rate is None
