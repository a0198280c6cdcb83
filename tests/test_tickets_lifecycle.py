"""The state machine: every action × state × kind of actor, checked against expectations
written out here from the rules in the issue (not read back from TRANSITIONS)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from community.model import Person, Role
from tests.test_tickets_helpers import CONFIG, GRID_A, T0, person_actor, resident
from tickets import lifecycle
from tickets.errors import RefusalCode, TransitionRefused
from tickets.lifecycle import Action
from tickets.model import Actor, Ticket, TicketState
from tickets.sla import Deadlines

S = TicketState
NOW = T0 + timedelta(hours=5)
DEADLINES = Deadlines(NOW + timedelta(hours=1), NOW + timedelta(days=1))
REPORTER_ID = 5001

ACTORS: dict[str, Actor] = {
    "reporter": resident(REPORTER_ID),
    "other_resident": resident(5002),
    "assignee": person_actor("王芳"),  # worker of GRID_A and the assignee
    "grid_worker": person_actor("李强"),  # worker of GRID_A, not assignee
    "other_grid_worker": person_actor("陈静"),  # worker of GRID_B
    "specialist_in_cat": person_actor("水务老钱"),  # water_leak specialist
    "specialist_other_cat": person_actor("张经理"),  # property/elevator specialist
    "supervisor": person_actor("周书记"),
    "admin": person_actor("孙管理"),
    "system": Actor.system(),
}

OPEN = {S.NEW, S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS}
FINAL = {S.CLOSED, S.CANCELLED, S.MERGED}

# Where each action may start (from the rules).
FROM = {
    Action.ASSIGN: {S.NEW},
    Action.ACCEPT: {S.NEW, S.ASSIGNED},
    Action.PROGRESS: {S.ACCEPTED, S.IN_PROGRESS},
    Action.RESOLVE: {S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS},
    Action.CLOSE: {S.RESOLVED},
    Action.RATE: {S.RESOLVED},
    Action.REOPEN: {S.RESOLVED, S.CLOSED},
    Action.TRANSFER: OPEN,
    Action.ESCALATE: OPEN,
    Action.REJECT: OPEN,
    Action.CANCEL: OPEN,
    Action.MERGE: OPEN,
    Action.SPLIT: {S.MERGED},
    Action.SUPPORT: OPEN,
    Action.ATTACH_PHOTO: OPEN | {S.RESOLVED},
    Action.EDIT: {S.NEW, S.ASSIGNED},
    Action.RECATEGORIZE: OPEN,
}
SUPERVISORS = {"supervisor", "admin"}
HANDLERS = {"assignee", "grid_worker", "specialist_in_cat"} | SUPERVISORS
# Who may do each action.
WHO = {
    Action.ASSIGN: {"system"} | SUPERVISORS,
    Action.ACCEPT: HANDLERS,
    Action.PROGRESS: {"assignee"} | SUPERVISORS,
    Action.RESOLVE: {"assignee"} | SUPERVISORS,
    Action.CLOSE: {"system"} | SUPERVISORS,
    Action.RATE: {"reporter"},
    Action.REOPEN: {"reporter"} | SUPERVISORS,
    Action.TRANSFER: {"assignee"} | SUPERVISORS,
    Action.ESCALATE: {"system", "assignee", "grid_worker"} | SUPERVISORS,
    Action.REJECT: HANDLERS,
    Action.CANCEL: {"reporter"} | SUPERVISORS,
    Action.MERGE: {"assignee", "grid_worker"} | SUPERVISORS,
    Action.SPLIT: {"assignee", "grid_worker"} | SUPERVISORS,
    Action.SUPPORT: set(ACTORS) - {"system"},
    Action.ATTACH_PHOTO: {"reporter"} | HANDLERS,
    Action.EDIT: {"reporter"},
    Action.RECATEGORIZE: {"assignee", "grid_worker"} | SUPERVISORS,
}
RESULT = {
    Action.ASSIGN: S.ASSIGNED, Action.ACCEPT: S.ACCEPTED, Action.PROGRESS: S.IN_PROGRESS,
    Action.RESOLVE: S.RESOLVED, Action.CLOSE: S.CLOSED, Action.RATE: S.CLOSED,
    Action.REOPEN: S.ASSIGNED, Action.TRANSFER: S.ASSIGNED, Action.REJECT: S.CANCELLED,
    Action.CANCEL: S.CANCELLED, Action.MERGE: S.MERGED, Action.SPLIT: S.ASSIGNED,
}
RESIDENTS = {"reporter", "other_resident"}


def expected(action: Action, state: TicketState, who: str) -> tuple[str, object]:
    """("ok", resulting state) or ("refused", code)."""
    if state not in FROM[action]:
        if action is Action.ACCEPT and state in {S.ACCEPTED, S.IN_PROGRESS}:
            return "refused", RefusalCode.ALREADY_ACCEPTED
        if state in FINAL:
            return "refused", RefusalCode.ALREADY_CLOSED
        return "refused", RefusalCode.WRONG_STATE
    if who == "assignee" and state is S.NEW:
        who = "grid_worker"  # a NEW ticket has no assignee yet: 王芳 is just a grid worker
    if who in WHO[action]:
        return "ok", RESULT.get(action, state)
    if who == "system":
        return "refused", RefusalCode.NOT_STAFF
    if action is Action.ACCEPT and who in RESIDENTS:
        return "refused", RefusalCode.RESIDENT_CANNOT_ACCEPT
    if "reporter" in WHO[action]:
        return "refused", RefusalCode.NOT_REPORTER
    if who in RESIDENTS:
        return "refused", RefusalCode.NOT_STAFF
    if who == "specialist_other_cat" and action in {Action.ACCEPT, Action.REJECT}:
        return "refused", RefusalCode.NOT_YOUR_CATEGORY
    if who == "other_grid_worker" and "grid_worker" in WHO[action]:
        return "refused", RefusalCode.NOT_YOUR_GRID
    if "assignee" in WHO[action]:
        return "refused", RefusalCode.NOT_ASSIGNEE
    return "refused", RefusalCode.SUPERVISOR_ONLY


def make_ticket(state: TicketState) -> Ticket:
    t = Ticket(
        id=7, number="2609-0007", source_chat_id=-1001, source_message_id=1,
        reporter_id=REPORTER_ID, reporter_name="居民", text="8号楼漏水", category="water_leak",
        urgency="normal", created_at=T0, state=state, grid=GRID_A,
        assignee=None if state is S.NEW else "王芳",
    )
    if state in {S.ACCEPTED, S.IN_PROGRESS, S.RESOLVED, S.CLOSED}:
        t.accepted_at = T0 + timedelta(minutes=5)
    if state in {S.RESOLVED, S.CLOSED}:
        t.resolved_at = NOW - timedelta(hours=1)
    if state in FINAL:
        t.closed_at = NOW - timedelta(minutes=30)
    if state is S.MERGED:
        t.merged_into = 99
    return t


def master() -> Ticket:
    return replace(make_ticket(S.ASSIGNED), id=99, number="2609-0099", reporter_id=6000,
                   source_message_id=99)


def apply(action: Action, t: Ticket, actor: Actor) -> tuple:
    from tickets.model import ReportInput

    match action:
        case Action.ASSIGN:
            return lifecycle.assign(t, actor, NOW, "李强")
        case Action.ACCEPT:
            return lifecycle.accept(t, actor, NOW)
        case Action.PROGRESS:
            return lifecycle.progress(t, actor, NOW, "已联系物业")
        case Action.RESOLVE:
            return lifecycle.resolve(t, actor, NOW, "已修好")
        case Action.CLOSE:
            return lifecycle.close_unrated(t, actor, NOW)
        case Action.RATE:
            return lifecycle.rate(t, actor, NOW, 1, DEADLINES)
        case Action.REOPEN:
            return lifecycle.reopen(t, actor, NOW, window=timedelta(days=7), deadlines=DEADLINES)
        case Action.TRANSFER:
            return lifecycle.transfer(t, actor, NOW, to_assignee="赵敏", to_grid=None)
        case Action.ESCALATE:
            return lifecycle.escalate(t, actor, NOW, reason="超时", to=("周书记",))
        case Action.REJECT:
            return lifecycle.reject(t, actor, NOW, "不是报事")
        case Action.CANCEL:
            return lifecycle.cancel(t, actor, NOW)
        case Action.MERGE:
            return lifecycle.merge(t, master(), actor, NOW, supporters_after=1)
        case Action.SPLIT:
            return lifecycle.split(t, master(), actor, NOW, master_supporters_after=0)
        case Action.SUPPORT:
            return lifecycle.support(t, actor, NOW, user_name="x", source_chat_id=-1001,
                                     source_message_id=50, supporters_after=1)
        case Action.ATTACH_PHOTO:
            return lifecycle.attach_photo(t, actor, NOW, "file-1")
        case Action.EDIT:
            return lifecycle.edit_report(t, actor, NOW, ReportInput("8号楼漏水严重", "water_leak"))
        case Action.RECATEGORIZE:
            return lifecycle.recategorize(t, actor, NOW, "drainage")
    raise AssertionError(action)


CASES = [(a, s, w) for a in Action for s in TicketState for w in ACTORS]


@pytest.mark.parametrize(("action", "state", "who"), CASES,
                         ids=[f"{a}-{s}-{w}" for a, s, w in CASES])
def test_every_action_state_and_actor(action: Action, state: TicketState, who: str) -> None:
    ticket = make_ticket(state)
    outcome, value = expected(action, state, who)
    if outcome == "ok":
        events = apply(action, ticket, ACTORS[who])
        assert ticket.state == value
        assert events and events[0].from_state == state
        assert events[-1].at == NOW and events[0].actor_id == ACTORS[who].user_id
    else:
        before = replace(ticket)
        with pytest.raises(TransitionRefused) as info:
            apply(action, ticket, ACTORS[who])
        assert info.value.code == value
        assert ticket == before  # a refused move changes nothing


def test_every_action_has_a_rule_and_the_table_matches_the_expectations() -> None:
    assert set(lifecycle.TRANSITIONS) == set(Action) == set(FROM)
    for action, rule in lifecycle.TRANSITIONS.items():
        assert rule.sources == FROM[action], action


def test_resident_cannot_accept() -> None:
    with pytest.raises(TransitionRefused) as info:
        lifecycle.accept(make_ticket(S.ASSIGNED), ACTORS["reporter"], NOW)
    assert info.value.code is RefusalCode.RESIDENT_CANNOT_ACCEPT


def test_accepting_makes_the_accepter_the_assignee() -> None:
    t = make_ticket(S.ASSIGNED)
    (event,) = lifecycle.accept(t, ACTORS["grid_worker"], NOW)
    assert t.assignee == "李强" and t.accepted_at == NOW
    assert event.previous_assignee == "王芳"


def test_first_progress_note_moves_to_in_progress_then_stays() -> None:
    t = make_ticket(S.ACCEPTED)
    (first,) = lifecycle.progress(t, ACTORS["assignee"], NOW, "已联系")
    (second,) = lifecycle.progress(t, ACTORS["assignee"], NOW, "材料到了")
    assert first.first and not second.first
    assert t.state is S.IN_PROGRESS and second.note == "材料到了"


@pytest.mark.parametrize("score", [3, 4])
def test_low_rating_reopens_with_fresh_deadlines(score: int) -> None:
    t = make_ticket(S.RESOLVED)
    rated, reopened = lifecycle.rate(t, ACTORS["reporter"], NOW, score, DEADLINES)
    assert rated.score == score and reopened.reason == "low_rating"
    assert t.state is S.ASSIGNED and t.rating == score and t.reopen_count == 1
    assert (t.accept_due, t.resolve_due) == (DEADLINES.accept_due, DEADLINES.resolve_due)
    assert t.resolved_at is None and t.accepted_at is None


@pytest.mark.parametrize("score", [1, 2])
def test_good_rating_closes(score: int) -> None:
    t = make_ticket(S.RESOLVED)
    _, closed = lifecycle.rate(t, ACTORS["reporter"], NOW, score, DEADLINES)
    assert t.state is S.CLOSED and closed.rated and closed.score == score


def test_rating_outside_scale_is_refused() -> None:
    with pytest.raises(TransitionRefused) as info:
        lifecycle.rate(make_ticket(S.RESOLVED), ACTORS["reporter"], NOW, 5, DEADLINES)
    assert info.value.code is RefusalCode.INVALID_RATING


def test_reporter_cannot_reopen_after_the_window_but_a_supervisor_can() -> None:
    t = make_ticket(S.CLOSED)
    t.resolved_at = NOW - timedelta(days=8)
    with pytest.raises(TransitionRefused) as info:
        lifecycle.reopen(t, ACTORS["reporter"], NOW, window=timedelta(days=7),
                         deadlines=DEADLINES)
    assert info.value.code is RefusalCode.REOPEN_WINDOW_EXPIRED
    (event,) = lifecycle.reopen(t, ACTORS["supervisor"], NOW, window=timedelta(days=7),
                                deadlines=DEADLINES)
    assert event.reason == "supervisor" and t.state is S.ASSIGNED


def test_escalation_keeps_state_raises_level_and_makes_co_owner() -> None:
    t = make_ticket(S.ACCEPTED)
    lifecycle.escalate(t, Actor.system(), NOW, reason="accept_overdue", to=("周书记",))
    (event,) = lifecycle.escalate(t, ACTORS["assignee"], NOW, reason="需要协调", to=("周书记",))
    assert t.state is S.ACCEPTED and t.escalation_level == 2 and event.level == 2
    assert t.escalated_to == ("周书记",)
    # A co-owner who is not a supervisor may now act like the assignee.
    helper = Actor(user_id=777, person=Person("街道老马", roles=frozenset({Role.WORKER})))
    t.escalated_to = ("街道老马",)
    lifecycle.progress(t, helper, NOW, "街道已派人")
    assert t.state is S.IN_PROGRESS


def test_transfer_to_the_same_place_is_refused_and_to_nobody_goes_new() -> None:
    t = make_ticket(S.ACCEPTED)
    with pytest.raises(TransitionRefused) as info:
        lifecycle.transfer(t, ACTORS["assignee"], NOW, to_assignee="王芳", to_grid=None)
    assert info.value.code is RefusalCode.SAME_TARGET
    (event,) = lifecycle.transfer(t, ACTORS["supervisor"], NOW, to_assignee=None, to_grid="三网格")
    assert t.state is S.NEW and t.grid == "三网格" and event.from_assignee == "王芳"


def test_merge_needs_an_open_other_master() -> None:
    t = make_ticket(S.ASSIGNED)
    closed_master = replace(master(), state=S.CLOSED)
    with pytest.raises(TransitionRefused) as info:
        lifecycle.merge(t, closed_master, ACTORS["assignee"], NOW, supporters_after=1)
    assert info.value.code is RefusalCode.MASTER_NOT_OPEN
    with pytest.raises(TransitionRefused) as info:
        lifecycle.merge(t, t, ACTORS["assignee"], NOW, supporters_after=1)
    assert info.value.code is RefusalCode.SAME_TARGET


def test_merge_then_split_round_trip() -> None:
    t, m = make_ticket(S.ASSIGNED), master()
    merged, received = lifecycle.merge(t, m, ACTORS["assignee"], NOW, supporters_after=3)
    assert t.state is S.MERGED and t.merged_into == 99 and m.supporters_count == 3
    assert merged.master_id == 99 and received.duplicate_id == 7
    split, off = lifecycle.split(t, m, ACTORS["assignee"], NOW, master_supporters_after=0)
    assert t.state is S.ASSIGNED and t.merged_into is None and m.supporters_count == 0
    assert split.former_master_id == 99 and off.other_id == 7


def test_priority_rises_with_supporters() -> None:
    t = make_ticket(S.ASSIGNED)
    lifecycle.refresh_priority(t, NOW)
    before = t.priority
    lifecycle.support(t, ACTORS["other_resident"], NOW, user_name="x", source_chat_id=-1,
                      source_message_id=2, supporters_after=5)
    assert t.priority > before


def test_event_data_is_json_ready() -> None:
    import json

    t = make_ticket(S.ASSIGNED)
    (event,) = lifecycle.transfer(t, ACTORS["assignee"], NOW, to_assignee="李强", to_grid=None)
    assert json.loads(json.dumps(event.data()))["to_assignee"] == "李强"
    assert CONFIG.person("李强") is not None
