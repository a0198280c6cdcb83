"""Time as a dependency: every "now" in GridBot comes from a :class:`Clock`.

Tests drive a :class:`FakeClock`; production uses :class:`SystemClock`. Nothing else in
the project calls ``datetime.now()``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Source of the current time, always timezone-aware UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real wall clock (UTC)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to; for tests and benchmarks."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 9, 1, 1, 0, tzinfo=UTC)
        self._now = _require_aware(start)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (aware; converted to UTC)."""
        self._now = _require_aware(when)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move forward by ``delta`` or ``timedelta(**kwargs)``; returns the new now."""
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now


def _require_aware(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("FakeClock needs an aware datetime")
    return when.astimezone(UTC)
