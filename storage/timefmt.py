"""How timestamps are stored: UTC text that sorts like the instants it names."""

from __future__ import annotations

from datetime import UTC, datetime

_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def to_db(when: datetime | None) -> str | None:
    """Aware datetime → 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC (None stays None)."""
    if when is None:
        return None
    if when.tzinfo is None:
        raise ValueError("naive datetimes are not stored; use an aware UTC time")
    return when.astimezone(UTC).strftime(_FORMAT)


def from_db(text: str | None) -> datetime | None:
    """Inverse of :func:`to_db`."""
    if text is None:
        return None
    # fromisoformat reads exactly this layout and is far faster than strptime (exports
    # turn hundreds of thousands of these into datetimes).
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def req(text: str) -> datetime:
    """:func:`from_db` for NOT NULL columns."""
    value = from_db(text)
    assert value is not None
    return value
