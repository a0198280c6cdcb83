"""改分类, /fix and confirmations (services/corrections.py) on a real SQLite file: the ticket
changes, re-routes when a specialist's category is involved, the card follows, and the
labelled example (text, old and new label, who, when, model version) is stored."""

from __future__ import annotations

import pytest

from services import TicketService, timeline
from storage import Database
from storage.learning_repo import Example
from tests.services.test_actions import BOSS, LI, REPORTER, WANG, new_ticket
from tests.support.tickets import T0, RecordingPresenter, person_actor
from tickets.clock import FakeClock
from tickets.errors import NotPermitted, TransitionRefused
from tickets.model import Actor, TicketState

S = TicketState


async def example_of(db: Database, ticket_id: int) -> Example | None:
    async with db.read() as uow:
        return await uow.learning.for_ticket(ticket_id)


async def test_change_category_stores_a_correction_and_updates_the_card(
        svc: TicketService, db: Database, clock: FakeClock,
        presenter: RecordingPresenter) -> None:
    t = await new_ticket(svc, text="8号楼化粪池又冒了 满地都是", category="water_leak",
                         keywords=("冒",))
    clock.advance(minutes=5)
    t2 = await svc.change_category(t.id or 0, WANG, "drainage")
    assert t2.category == "drainage" and t2.duplicate_key.startswith("drainage|")
    assert t2.assignee == "王芳" and t2.state is S.ASSIGNED  # nobody else is responsible
    assert presenter.actions[-1] == "correct"
    ex = await example_of(db, t.id or 0)
    assert ex is not None
    assert (ex.text, ex.category, ex.old_category, ex.source, ex.by_key) == (
        "8号楼化粪池又冒了 满地都是", "drainage", "water_leak", "correction", "王芳")
    assert ex.at == clock.now() and ex.model_version == ""
    events = await timeline(db, t.id or 0)
    assert events[-1].action == "correct"
    assert events[-1].data["old_category"] == "water_leak"
    assert events[-1].data["new_category"] == "drainage"


async def test_a_specialists_category_reroutes_to_the_specialist(
        svc: TicketService, db: Database) -> None:
    t = await new_ticket(svc, text="8号楼有人在楼道里打架", category="noise", keywords=("吵",))
    assert t.assignee == "王芳"
    t = await svc.accept(t.id or 0, WANG)
    t2 = await svc.change_category(t.id or 0, WANG, "public_order")
    assert t2.assignee == "刘警官" and t2.state is S.ASSIGNED and t2.accepted_at is None
    t3 = await svc.change_category(t.id or 0, BOSS, "noise")  # back: the grid worker again
    assert t3.assignee == "王芳"
    ex = await example_of(db, t.id or 0)
    assert ex is not None and ex.category == "noise" and ex.by_key == "周书记"
    assert ex.old_category == "noise"  # the parser's first prediction is kept


async def test_same_or_unknown_category_and_strangers_are_refused(
        svc: TicketService, db: Database) -> None:
    t = await new_ticket(svc)
    with pytest.raises(TransitionRefused):
        await svc.change_category(t.id or 0, WANG, "water_leak")
    with pytest.raises(NotPermitted):
        await svc.change_category(t.id or 0, WANG, "<b>x</b>")
    with pytest.raises(TransitionRefused):
        await svc.change_category(t.id or 0, REPORTER, "drainage")
    with pytest.raises(TransitionRefused):
        await svc.change_category(t.id or 0, person_actor("陈静"), "drainage")  # other grid
    assert await example_of(db, t.id or 0) is None


async def test_explicit_accept_confirms_but_never_overrides_a_correction(
        svc: TicketService, db: Database) -> None:
    t = await new_ticket(svc, msg=11)
    await svc.accept(t.id or 0, LI)
    ex = await example_of(db, t.id or 0)
    assert ex is not None and (ex.source, ex.category, ex.by_key) == ("confirmed", "water_leak",
                                                                      "李强")
    t2 = await new_ticket(svc, msg=12, text="12号楼的下水道堵了", compound="阳光花园",
                          building="12")
    await svc.change_category(t2.id or 0, WANG, "drainage")
    await svc.accept(t2.id or 0, WANG)
    ex2 = await example_of(db, t2.id or 0)
    assert ex2 is not None and (ex2.source, ex2.category) == ("correction", "drainage")


async def test_tickets_nobody_accepted_are_not_examples(svc: TicketService, db: Database,
                                                        clock: FakeClock) -> None:
    """Auto-accepted predictions (tickets the system moves along, never confirmed by a
    worker) never become training data."""
    t = await new_ticket(svc, msg=13)
    await svc.escalate(t.id or 0, Actor.system(), "超时")
    await svc.resolve(t.id or 0, BOSS, "已处理")
    async with db.read() as uow:
        assert await uow.learning.count_examples() == 0


async def test_fix_location_moves_the_ticket_to_the_grid_of_the_new_place(
        svc: TicketService, db: Database) -> None:
    t = await new_ticket(svc)  # 阳光花园 8栋 → 一网格 王芳
    t2 = await svc.fix_location(t.id or 0, WANG, ("幸福家园", "3", "2", "502", None))
    assert (t2.compound, t2.building, t2.unit, t2.room) == ("幸福家园", "3", "2", "502")
    # 幸福家园 is 二网格, and its water leaks belong to the water specialist there
    assert t2.grid == "二网格" and t2.assignee == "水务老钱"
    events = await timeline(db, t.id or 0)
    assert events[-1].data["new_place"] == "幸福家园3栋2单元502室"
    # within the same grid: only the place changes
    t3 = await new_ticket(svc, msg=14)
    t4 = await svc.fix_location(t3.id or 0, WANG, (None, "9", "1", "301", None))
    assert (t4.compound, t4.building, t4.grid, t4.assignee) == ("阳光花园", "9", "一网格", "王芳")


async def test_the_model_version_that_predicted_the_ticket_is_recorded(
        svc: TicketService, db: Database, clock: FakeClock) -> None:
    async with db.transaction() as uow:
        await uow.learning.save_model(version="v1", model=b"x", base_model=None, examples=1,
                                      background=0, metrics={}, now=T0)
        await uow.learning.activate("v1", now=T0)
    clock.advance(minutes=1)
    t = await new_ticket(svc, msg=15)
    await svc.change_category(t.id or 0, WANG, "drainage")
    ex = await example_of(db, t.id or 0)
    assert ex is not None and ex.model_version == "v1"
