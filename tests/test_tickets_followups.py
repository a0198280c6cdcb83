"""tickets.followups and lifecycle.add_detail: what a message in a ticket's context does."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.tickets import GRID_A, T0, person_actor, resident
from tickets import lifecycle
from tickets.errors import TransitionRefused
from tickets.followups import Outcome, Reply, decide, fills_gaps, merge_places
from tickets.model import Location, Ticket, TicketState

S = TicketState
WINDOW = timedelta(days=7)
REPORTER, NEIGHBOUR = resident(5001), resident(5002)
SUPERVISOR = person_actor("周书记")


def ticket(state: TicketState = S.ASSIGNED, **fields: object) -> Ticket:
    t = Ticket(id=7, number="2609-0007", source_chat_id=-1001, source_message_id=1,
               reporter_id=5001, reporter_name="居民", text="8号楼顶楼漏水", category="water_leak",
               urgency="normal", created_at=T0, state=state, grid=GRID_A, assignee="王芳",
               building="8")
    if state in (S.RESOLVED, S.CLOSED):
        t.resolved_at = T0 + timedelta(hours=1)
    for name, value in fields.items():
        setattr(t, name, value)
    return t


SOON = T0 + timedelta(days=1)
LATE = T0 + timedelta(days=30)


@pytest.mark.parametrize(("kind", "state", "actor", "now", "outcome"), [
    (Reply.ADDITION, S.ASSIGNED, REPORTER, SOON, Outcome.ADD_DETAIL),
    (Reply.ADDITION, S.RESOLVED, REPORTER, SOON, Outcome.ADD_DETAIL),
    (Reply.ADDITION, S.CLOSED, REPORTER, SOON, Outcome.READ_ALONE),
    (Reply.ADDITION, S.IN_PROGRESS, NEIGHBOUR, SOON, Outcome.ADD_DETAIL),
    (Reply.NOT_FIXED, S.RESOLVED, REPORTER, SOON, Outcome.REOPEN),
    (Reply.NOT_FIXED, S.CLOSED, REPORTER, SOON, Outcome.REOPEN),
    (Reply.NOT_FIXED, S.CLOSED, REPORTER, LATE, Outcome.FOLLOW_UP),
    (Reply.NOT_FIXED, S.CLOSED, SUPERVISOR, LATE, Outcome.FOLLOW_UP),
    (Reply.NOT_FIXED, S.ACCEPTED, REPORTER, SOON, Outcome.ANSWER_PROGRESS),
    (Reply.NOT_FIXED, S.ACCEPTED, NEIGHBOUR, SOON, Outcome.SUPPORT),
    (Reply.NOT_FIXED, S.RESOLVED, NEIGHBOUR, SOON, Outcome.FOLLOW_UP),
    (Reply.ME_TOO, S.NEW, NEIGHBOUR, SOON, Outcome.SUPPORT),
    (Reply.ME_TOO, S.CLOSED, NEIGHBOUR, SOON, Outcome.FOLLOW_UP),
    (Reply.ME_TOO, S.NEW, REPORTER, SOON, Outcome.IGNORE),
    (Reply.PROGRESS_QUESTION, S.ASSIGNED, NEIGHBOUR, SOON, Outcome.ANSWER_PROGRESS),
    (Reply.PROGRESS_QUESTION, S.CLOSED, REPORTER, LATE, Outcome.ANSWER_PROGRESS),
    (Reply.THANKS, S.RESOLVED, REPORTER, SOON, Outcome.IGNORE),
    (Reply.CHATTER, S.ASSIGNED, NEIGHBOUR, SOON, Outcome.IGNORE),
    (Reply.NOT_FIXED, S.CANCELLED, REPORTER, SOON, Outcome.READ_ALONE),
    (Reply.PROGRESS_QUESTION, S.MERGED, REPORTER, SOON, Outcome.READ_ALONE),
])
def test_decide(kind: Reply, state: TicketState, actor: object, now: object,
                outcome: Outcome) -> None:
    assert decide(kind, ticket(state), actor, now, reopen_window=WINDOW) is outcome  # type: ignore[arg-type]


def test_an_addition_naming_another_problem_is_read_alone() -> None:
    t = ticket()
    assert decide(Reply.ADDITION, t, REPORTER, SOON, reopen_window=WINDOW,
                  category="street_light") is Outcome.READ_ALONE
    assert decide(Reply.ADDITION, t, REPORTER, SOON, reopen_window=WINDOW,
                  category="water_leak") is Outcome.ADD_DETAIL
    assert decide(Reply.ADDITION, t, REPORTER, SOON, reopen_window=WINDOW,
                  category="other") is Outcome.ADD_DETAIL


def test_add_detail_fills_only_empty_fields_from_the_reporter() -> None:
    t = ticket()
    [event] = lifecycle.add_detail(t, REPORTER, SOON, text="是3单元502",
                                   location=Location(building="8", unit="3", room="502"))
    assert (t.building, t.unit, t.room) == ("8", "3", "502")
    assert event.filled == ("unit", "room") and event.visible and event.note == "是3单元502"


def test_add_detail_never_overwrites_and_ignores_another_building() -> None:
    t = ticket(unit="2")
    [event] = lifecycle.add_detail(t, REPORTER, SOON, text="9号楼3单元",
                                   location=Location(building="9", unit="3"))
    assert (t.building, t.unit) == ("8", "2") and event.filled == ()


def test_a_neighbour_adds_a_note_but_not_their_room() -> None:
    t = ticket()
    [event] = lifecycle.add_detail(t, NEIGHBOUR, SOON, text="我家502也渗水",
                                   location=Location(room="502"))
    assert t.room is None and event.filled == () and not event.by_reporter
    assert not event.visible


def test_a_room_only_is_not_visible_on_the_card() -> None:
    t = ticket()
    [event] = lifecycle.add_detail(t, REPORTER, SOON, text="502", location=Location(room="502"))
    assert event.filled == ("room",) and not event.visible


def test_no_detail_on_a_closed_ticket() -> None:
    with pytest.raises(TransitionRefused):
        lifecycle.add_detail(ticket(S.CLOSED), REPORTER, SOON, text="x", location=Location())


def test_merge_places_completes_the_report_and_skips_conflicts() -> None:
    place, used = merge_places(Location(), [Location(building="8"), Location(unit="3")])
    assert (place.building, place.unit) == ("8", "3") and used == [0, 1]
    place, used = merge_places(Location(building="9"), [Location(building="8"),
                                                        Location(unit="3")])
    assert (place.building, place.unit) == ("9", "3") and used == [1]
    place, used = merge_places(Location(), [Location(building="5"), Location(building="8")])
    assert place.building == "8" and used == [1]  # the newest place wins


def test_fills_gaps() -> None:
    assert fills_gaps(Location(building="8"), Location(unit="3"))
    assert not fills_gaps(Location(building="8"), Location(building="8"))
    assert not fills_gaps(Location(building="8"), Location(building="9", unit="3"))
    assert fills_gaps(Location(), Location(street="临江路"))


def test_a_reopen_by_the_reporter_clears_the_old_rating_from_the_card() -> None:
    from tickets.sla import Deadlines

    t = ticket(S.CLOSED, rating=1)
    deadlines = Deadlines(SOON + timedelta(hours=1), SOON + timedelta(days=1))
    lifecycle.reopen(t, REPORTER, SOON, window=WINDOW, deadlines=deadlines, note="又漏了")
    assert t.state is S.ASSIGNED and t.rating is None and t.reopen_count == 1
