"""Duplicate detection (附议): does a new report belong to an open ticket?

Rules, in order of strength:

1. **Same place**: same category, and the same non-empty location (compound, building,
   unit, room) → join.
2. **Compatible place**: same category, both name the same building (or the same compound
   when neither names a building), no field that both name differs (different units or
   rooms are different problems), and the keywords overlap → join.
3. **Burst without a place**: a report with no location joins only an open ticket from the
   *same chat*, same category, created within ``BURST_WINDOW``, with strongly overlapping
   keywords. This makes "停水了" ×30 in one group within minutes a single ticket, while a
   lone "漏水了" a day later in another group opens its own.

Candidates must be open and created within ``sla.duplicate_window``; the best-scoring one
wins, ties going to the oldest (the master everybody already sees).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tickets.model import OPEN_STATES, Location, ReportInput, TicketState

BURST_WINDOW = timedelta(minutes=60)
#: Overlap coefficient |A∩B| / min(|A|,|B|) needed for the location-less burst rule.
STRONG_OVERLAP = 0.5
#: Overlap needed, with a compatible location, to call two reports the same problem.
SIMILAR_OVERLAP = 0.34


@dataclass(frozen=True, slots=True)
class Candidate:
    """What duplicate detection needs to know about an open ticket."""

    ticket_id: int
    category: str
    state: TicketState
    created_at: datetime
    source_chat_id: int
    location: Location
    keywords: tuple[str, ...]
    reporter_id: int


@dataclass(frozen=True, slots=True)
class Match:
    ticket_id: int
    score: int
    rule: str  # "same_place" | "similar_place" | "burst"


def keyword_overlap(a: Iterable[str], b: Iterable[str]) -> float:
    """Overlap coefficient of two keyword sets (0.0 when either is empty)."""
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / min(len(sa), len(sb))


def _place(loc: Location) -> tuple[str | None, ...]:
    return (loc.compound or loc.street, loc.building, loc.unit, loc.room)


def locations_compatible(a: Location, b: Location) -> bool:
    """No field named by both differs, and they share a building (or, with no building on
    either side, a compound)."""
    pa, pb = _place(a), _place(b)
    if any(x is not None and y is not None and x != y for x, y in zip(pa, pb, strict=True)):
        return False
    if pa[1] is not None or pb[1] is not None:
        return pa[1] is not None and pa[1] == pb[1]
    return pa[0] is not None and pa[0] == pb[0]


def match(
    report: ReportInput,
    *,
    source_chat_id: int,
    now: datetime,
    candidate: Candidate,
    window: timedelta,
    burst_window: timedelta = BURST_WINDOW,
) -> Match | None:
    """Score one candidate; None when the report does not belong to it."""
    if (
        candidate.category != report.category
        or candidate.state not in OPEN_STATES
        or candidate.created_at < now - window
    ):
        return None
    loc = report.location
    if loc.is_empty:
        if (
            candidate.source_chat_id == source_chat_id
            and candidate.created_at >= now - burst_window
            and keyword_overlap(report.keywords, candidate.keywords) >= STRONG_OVERLAP
        ):
            return Match(candidate.ticket_id, 10, "burst")
        return None
    if _place(loc) == _place(candidate.location):
        return Match(candidate.ticket_id, 30, "same_place")
    if (
        locations_compatible(loc, candidate.location)
        and keyword_overlap(report.keywords, candidate.keywords) >= SIMILAR_OVERLAP
    ):
        return Match(candidate.ticket_id, 20, "similar_place")
    return None


def find_master(
    report: ReportInput,
    *,
    source_chat_id: int,
    now: datetime,
    candidates: Iterable[Candidate],
    window: timedelta,
    burst_window: timedelta = BURST_WINDOW,
) -> Match | None:
    """The open ticket this report should support, or None to open a new ticket."""
    best: tuple[int, datetime, Match] | None = None
    for cand in candidates:
        m = match(report, source_chat_id=source_chat_id, now=now, candidate=cand,
                  window=window, burst_window=burst_window)
        if m is None:
            continue
        # Higher score first; among equals, the oldest ticket is the master.
        if best is None or (m.score, -cand.created_at.timestamp()) > (
            best[0], -best[1].timestamp()
        ):
            best = (m.score, cand.created_at, m)
    return best[2] if best else None
