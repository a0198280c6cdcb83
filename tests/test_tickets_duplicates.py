"""Duplicate detection (附议) and priority, as pure functions."""

from __future__ import annotations

from datetime import timedelta

from tests.support.tickets import T0, report
from tickets.duplicates import (
    Candidate,
    find_master,
    keyword_overlap,
    locations_compatible,
)
from tickets.model import Location, TicketState
from tickets.priority import is_overdue, priority_of

WINDOW = timedelta(days=3)
NOW = T0 + timedelta(hours=1)


def cand(tid: int = 1, *, category: str = "water_leak", compound: str | None = "阳光花园",
         building: str | None = "8", unit: str | None = "3", room: str | None = None,
         keywords: tuple[str, ...] = ("漏水", "顶楼"), chat: int = -1001,
         age: timedelta = timedelta(minutes=30),
         state: TicketState = TicketState.ASSIGNED) -> Candidate:
    return Candidate(tid, category, state, NOW - age, chat,
                     Location(compound, building, unit, room), keywords, 5001)


def find(rep, cands, chat: int = -1001):
    return find_master(rep, source_chat_id=chat, now=NOW, candidates=cands, window=WINDOW)


def test_same_category_and_place_joins() -> None:
    m = find(report(keywords=("滴水",)), [cand()])
    assert m is not None and m.rule == "same_place"


def test_other_category_or_closed_or_old_ticket_does_not_join() -> None:
    assert find(report(), [cand(category="noise")]) is None
    assert find(report(), [cand(state=TicketState.RESOLVED)]) is None
    assert find(report(), [cand(state=TicketState.CLOSED)]) is None
    assert find(report(), [cand(age=timedelta(days=4))]) is None


def test_compatible_place_with_overlapping_keywords_joins() -> None:
    # Report says building 8 without unit; ticket says 8-3: compatible, keywords overlap.
    m = find(report(unit=None, keywords=("漏水", "楼顶")), [cand()])
    assert m is not None and m.rule == "similar_place"
    # Compound missing on one side only is compatible too.
    assert find(report(compound=None, keywords=("漏水",)), [cand()]) is not None


def test_compatible_place_without_shared_keywords_does_not_join() -> None:
    assert find(report(unit=None, keywords=("墙裂",)), [cand()]) is None


def test_conflicting_units_or_rooms_do_not_join() -> None:
    assert find(report(unit="4"), [cand()]) is None
    assert find(report(room="502"), [cand(room="301")]) is None
    assert find(report(building="9"), [cand()]) is None
    assert find(report(compound="幸福家园"), [cand()]) is None


def test_location_less_report_joins_only_a_recent_ticket_of_the_same_chat() -> None:
    bare = report("停水了", "water_outage", compound=None, building=None, unit=None,
                  keywords=("停水",))
    same_chat = cand(category="water_outage", compound=None, building=None, unit=None,
                     keywords=("停水",), age=timedelta(minutes=5))
    assert find(bare, [same_chat]).rule == "burst"  # type: ignore[union-attr]
    assert find(bare, [same_chat], chat=-1002) is None
    assert find(bare, [cand(category="water_outage", keywords=("停水",),
                            age=timedelta(hours=3))]) is None
    assert find(bare, [cand(category="water_outage", keywords=("水压", "小"),
                            age=timedelta(minutes=5))]) is None


def test_burst_of_thirty_in_five_minutes_collapses_to_the_first() -> None:
    bare = report("停水了!!", "water_outage", compound=None, building=None, unit=None,
                  keywords=("停水",))
    open_tickets: list[Candidate] = []
    created = 0
    for i in range(30):
        now = T0 + timedelta(seconds=10 * i)
        if find_master(bare, source_chat_id=-1001, now=now, candidates=open_tickets,
                       window=WINDOW) is None:
            created += 1
            open_tickets.append(Candidate(i, "water_outage", TicketState.ASSIGNED, now, -1001,
                                          Location(), ("停水",), 7000 + i))
    assert created == 1


def test_best_match_wins_and_ties_go_to_the_oldest() -> None:
    similar = cand(1, unit=None, age=timedelta(hours=5))
    exact_new = cand(2, age=timedelta(minutes=5))
    exact_old = cand(3, age=timedelta(hours=2))
    assert find(report(), [similar, exact_new, exact_old]).ticket_id == 3  # type: ignore[union-attr]


def test_helpers() -> None:
    assert keyword_overlap(("a", "b"), ("b", "c", "d")) == 0.5
    assert keyword_overlap((), ("a",)) == 0.0
    assert locations_compatible(Location(building="8"), Location("阳光花园", "8", "3"))
    assert not locations_compatible(Location(compound="阳光花园"), Location(building="8"))


def test_priority_orders_urgency_supporters_escalation_and_overdue() -> None:
    normal = priority_of(urgency="normal", supporters=0)
    assert priority_of(urgency="emergency", supporters=0) > priority_of(
        urgency="urgent", supporters=0) > normal
    assert priority_of(urgency="normal", supporters=5) > normal
    # A burst cannot outweigh urgency.
    assert priority_of(urgency="normal", supporters=500) < priority_of(
        urgency="emergency", supporters=0)
    assert priority_of(urgency="normal", supporters=0, escalation_level=1) > normal
    assert priority_of(urgency="normal", supporters=0, overdue=True) > normal
    assert is_overdue(NOW, accepted=False, resolved=False, accept_due=NOW - timedelta(1),
                      resolve_due=None)
    assert not is_overdue(NOW, accepted=True, resolved=False, accept_due=NOW - timedelta(1),
                          resolve_due=NOW + timedelta(1))
