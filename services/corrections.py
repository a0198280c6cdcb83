"""Use cases of learning from workers: 改分类 (change the category), /fix (correct the
place), and the confirmation an explicit 接单 gives. Each runs in one transaction: the ticket
is corrected (and re-routed when that changes who is responsible), the group card follows,
and the ticket's text is stored as a labelled example for the community's model."""

from __future__ import annotations

from datetime import datetime

from community.model import CommunityConfig
from services.actions import Ref, _deadlines, _run
from services.common import Deps
from services.presenter import Presenter
from storage import Database, UnitOfWork
from tickets import lifecycle
from tickets.clock import Clock
from tickets.errors import NotPermitted, RefusalCode, TransitionRefused
from tickets.events import TicketEvent
from tickets.model import Actor, Ticket
from tickets.routing import RoutingDecision, RoutingReason, route

Place = tuple[str | None, str | None, str | None, str | None, str | None]


def category_choices(config: CommunityConfig) -> list[str]:
    """The categories a ticket may be changed to (改分类 keyboard, the console): the default
    taxonomy, then the community's own (config and imported), "other" last."""
    from nlp.taxonomy import DEFAULT_CATEGORIES, OTHER

    slugs = [s for s in DEFAULT_CATEGORIES if s != OTHER]
    slugs += [c.slug for c in config.categories if c.slug not in DEFAULT_CATEGORIES]
    return [*slugs, OTHER]


def known_category(config: CommunityConfig, slug: str) -> bool:
    return slug in category_choices(config)


def _reroute(config: CommunityConfig, t: Ticket, *, old_category: str, new_category: str,
             place: Place | None) -> RoutingDecision | None:
    """The new responsible person when the correction changes it: a category that belongs
    to a specialist (or leaves one), or a place in another grid. A ticket someone handed on
    by hand keeps its assignee unless the correction really changes responsibility."""
    compound, building = (place[0], place[1]) if place else (t.compound, t.building)
    before = route(config, category=old_category, urgency=t.urgency, compound=t.compound,
                   building=t.building, chat_grid=t.grid)
    after = route(config, category=new_category, urgency=t.urgency, compound=compound,
                  building=building, chat_grid=t.grid if place is None else None)
    if after.assignee is None:
        return None
    specialist_change = RoutingReason.SPECIALIST in (before.reason, after.reason) and (
        before.assignee != after.assignee)
    grid_change = place is not None and after.grid is not None and after.grid != t.grid
    if not (specialist_change or grid_change):
        return None
    if (after.assignee, after.grid or t.grid) == (t.assignee, t.grid):
        return None
    return after


async def _store_label(uow: UnitOfWork, t: Ticket, actor: Actor, now: datetime, *,
                       old_category: str, source: str) -> None:
    await uow.learning.record_ticket_label(
        ticket_id=t.id or 0, text=t.text, category=t.category, old_category=old_category,
        source=source, by_key=actor.key, model_version=await uow.learning.model_at(t.created_at),
        now=now)


async def change_category(db: Database, config: CommunityConfig, clock: Clock,
                          presenter: Presenter, ref: Ref, actor: Actor, category: str) -> Ticket:
    """改分类: the ticket gets `category`; a labelled example (text, old and new label, who,
    when, the model version that predicted it) is stored."""
    if not known_category(config, category):
        raise NotPermitted(RefusalCode.UNKNOWN_TARGET, f"category {category}")
    deps = Deps(db, config, clock, presenter)

    async def step(uow: UnitOfWork, t: Ticket, now: datetime) -> tuple[TicketEvent, ...]:
        old = t.category
        lifecycle.check(lifecycle.Action.CORRECT, t, actor)
        if category == old:
            raise TransitionRefused(RefusalCode.SAME_TARGET, action="correct", state=t.state)
        decision = _reroute(config, t, old_category=old, new_category=category, place=None)
        events = lifecycle.correct(t, actor, now, category=category, reroute=decision,
                                   fresh_accept_due=_deadlines(deps, t, now).accept_due)
        await _store_label(uow, t, actor, now, old_category=old, source="correction")
        return events
    return await _run(deps, ref, actor, "correct", step)


async def fix_location(db: Database, config: CommunityConfig, clock: Clock,
                       presenter: Presenter, ref: Ref, actor: Actor, place: Place) -> Ticket:
    """/fix N 8号楼3单元502: the place becomes `place` (compound, building, unit, room,
    floor); a place in another grid re-routes the ticket."""
    if not any(place):
        raise NotPermitted(RefusalCode.UNKNOWN_TARGET, "empty place")
    deps = Deps(db, config, clock, presenter)

    async def step(uow: UnitOfWork, t: Ticket, now: datetime) -> tuple[TicketEvent, ...]:
        merged: Place = (place[0] or t.compound, place[1], place[2], place[3], place[4])
        decision = _reroute(config, t, old_category=t.category, new_category=t.category,
                            place=merged)
        return lifecycle.correct(t, actor, now, place=merged, reroute=decision,
                                 fresh_accept_due=_deadlines(deps, t, now).accept_due)
    return await _run(deps, ref, actor, "correct", step)


async def record_confirmed(uow: UnitOfWork, t: Ticket, actor: Actor, now: datetime) -> None:
    """An explicit 接单 by a worker confirms the category (unless it was corrected before).
    Nothing is stored for the system actor: auto-accepted predictions are never examples."""
    if actor.is_staff and t.id is not None and t.text:
        await _store_label(uow, t, actor, now, old_category=t.category, source="confirmed")
