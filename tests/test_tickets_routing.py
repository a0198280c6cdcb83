"""Routing rules: location → grid → worker, specialists, emergencies, fallbacks."""

from __future__ import annotations

from dataclasses import replace

from community.model import Grid
from tests.support.tickets import CONFIG, GRID_A, GRID_B, GRID_C
from tickets.routing import GridSource, RoutingReason, route


def r(category: str = "water_leak", urgency: str = "normal", compound: str | None = None,
      building: str | None = None, chat_grid: str | None = None):
    return route(CONFIG, category=category, urgency=urgency, compound=compound,
                 building=building, chat_grid=chat_grid)


def test_compound_goes_to_its_grid_primary_worker() -> None:
    d = r(compound="阳光花园", building="3")
    assert (d.grid, d.assignee, d.reason, d.grid_source) == (
        GRID_A, "王芳", RoutingReason.GRID_WORKER, GridSource.LOCATION)
    assert d.also_notify == ()


def test_street_named_building() -> None:
    assert r(compound="临江路", building="4").grid == GRID_A


def test_compound_building_split_between_grids() -> None:
    assert r(compound="幸福家园", building="5").grid == GRID_B
    assert r(compound="幸福家园", building="11").grid == GRID_C


def test_compound_without_listed_building_falls_back_to_compound_grid() -> None:
    d = r(compound="幸福家园", building=None, chat_grid=GRID_C)
    assert (d.grid, d.grid_source) == (GRID_C, GridSource.COMPOUND)
    assert r(compound="幸福家园", building="99").grid == GRID_B


def test_bare_building_prefers_the_source_chats_grid_when_it_covers_it() -> None:
    assert r(building="8", chat_grid=GRID_C).grid == GRID_C
    assert r(building="8", chat_grid=GRID_B).grid == GRID_B
    # The chat's grid does not cover building 9: any covering grid.
    assert r(building="9", chat_grid=GRID_C).grid == GRID_B
    # From a chat of another grid entirely: the first covering grid.
    assert r(building="8", chat_grid=GRID_A).grid == GRID_B


def test_unknown_location_uses_the_chat_grid() -> None:
    d = r(chat_grid=GRID_B)
    assert (d.grid, d.assignee, d.grid_source) == (GRID_B, "陈静", GridSource.CHAT)
    assert r(compound="不存在小区", chat_grid=GRID_A).grid == GRID_A


def test_no_grid_at_all_goes_to_a_supervisor() -> None:
    d = r()
    assert (d.grid, d.assignee, d.reason) == (None, "周书记", RoutingReason.NO_GRID)


def test_grid_without_worker_goes_to_backup_then_supervisor() -> None:
    d = r("noise", compound="幸福家园", building="11")
    assert (d.assignee, d.reason) == ("周书记", RoutingReason.NO_WORKER)
    grids = tuple(replace(g, workers=()) if g.name == GRID_A else g for g in CONFIG.grids)
    d = route(replace(CONFIG, grids=grids), category="water_leak", urgency="normal",
              compound="阳光花园", building="1", chat_grid=None)
    assert (d.assignee, d.reason) == ("赵敏", RoutingReason.GRID_BACKUP)


def test_nobody_configured_leaves_it_unassigned() -> None:
    cfg = replace(CONFIG, people=(), grids=(Grid("空网格"),))
    d = route(cfg, category="noise", urgency="normal", compound=None, building=None,
              chat_grid=None)
    assert (d.assignee, d.reason) == (None, RoutingReason.NOBODY)


def test_public_order_goes_to_the_grids_police_officer() -> None:
    d = r("public_order", compound="阳光花园", building="2")
    assert (d.assignee, d.reason) == ("刘警官", RoutingReason.SPECIALIST)
    assert d.also_notify == ("王芳",)  # the grid worker stays informed
    # Grid B has no officer: its worker handles it.
    assert r("public_order", compound="幸福家园", building="2").assignee == "陈静"


def test_property_goes_to_the_compounds_property_company() -> None:
    assert r("elevator", compound="阳光花园", building="2").assignee == "张经理"
    assert r("elevator", compound="幸福家园", building="2").assignee == "陈静"


def test_community_wide_category_specialist_scoped_by_compound() -> None:
    assert r("water_leak", compound="幸福家园", building="11").assignee == "水务老钱"
    assert r("water_leak", compound="阳光花园", building="1").assignee == "王芳"


def test_emergency_also_notifies_supervisors_and_backup_at_once() -> None:
    d = r(urgency="emergency", compound="阳光花园", building="2")
    assert d.assignee == "王芳"
    assert d.also_notify == ("周书记", "赵敏")
    assert "emergency" in d.detail
    # When the supervisor is the assignee they are not notified twice.
    d = r("fire", urgency="emergency", compound="幸福家园", building="11")
    assert d.assignee == "周书记" and "周书记" not in d.also_notify


def test_reason_text_keeps_code_and_detail() -> None:
    d = r(compound="阳光花园", building="3")
    assert d.reason_text.startswith("grid_worker/location: grid 一网格")
