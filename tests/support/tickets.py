"""Shared builders for the ticket/storage/service tests: a small community, reports,
a recording presenter. (No tests here.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from community.model import Area, CommunityConfig, Grid, Person, Role
from services.presenter import RenderContext
from tickets.events import TicketCreated, TicketEvent
from tickets.model import Actor, Location, ReportInput, Ticket
from tickets.outgoing import Button, OutgoingMessage

GRID_A, GRID_B, GRID_C = "一网格", "二网格", "三网格"
CHAT_A, CHAT_B, CHAT_C, CHAT_OTHER = -1001, -1002, -1003, -1999

PEOPLE = (
    Person("王芳", telegram_id=101, roles=frozenset({Role.WORKER}), grids=(GRID_A,)),
    Person("李强", telegram_id=102, roles=frozenset({Role.WORKER}), grids=(GRID_A,)),
    Person("赵敏", telegram_id=103, roles=frozenset({Role.WORKER}), grids=(GRID_A,)),
    Person("陈静", telegram_id=201, roles=frozenset({Role.WORKER}), grids=(GRID_B,)),
    Person("刘警官", telegram_id=301, roles=frozenset({Role.SPECIALIST}),
           categories=("public_order",), grids=(GRID_A,)),
    Person("张经理", telegram_id=302, roles=frozenset({Role.SPECIALIST}),
           categories=("property", "elevator"), compounds=("阳光花园",)),
    Person("水务老钱", telegram_id=303, roles=frozenset({Role.SPECIALIST}),
           categories=("water_leak",), compounds=("幸福家园",)),
    Person("周书记", telegram_id=900, roles=frozenset({Role.SUPERVISOR})),
    Person("孙管理", telegram_id=901, roles=frozenset({Role.ADMIN})),
    Person("未登记员", roles=frozenset({Role.WORKER}), grids=(GRID_B,)),
)

CONFIG = CommunityConfig(
    name="幸福社区",
    grids=(
        Grid(GRID_A, areas=(Area("阳光花园"), Area("临江路", frozenset({"4"}))), chats=(CHAT_A,),
             workers=("王芳", "李强"), backup="赵敏"),
        Grid(GRID_B, areas=(Area("幸福家园", frozenset(str(i) for i in range(1, 11))),
                            Area(None, frozenset({"8", "9"}))),
             chats=(CHAT_B,), workers=("陈静",)),
        Grid(GRID_C, areas=(Area("幸福家园", frozenset({"11", "12"})),
                            Area(None, frozenset({"8"}))), chats=(CHAT_C,)),
    ),
    people=PEOPLE,
)

T0 = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)  # Tue 2026-09-01 10:00 in Shanghai


def person_actor(key: str) -> Actor:
    person = CONFIG.person(key)
    assert person is not None
    return Actor(user_id=person.telegram_id, person=person, name=key)


def resident(user_id: int = 5001, name: str = "居民") -> Actor:
    return Actor(user_id=user_id, name=name)


def report(
    text: str = "8号楼3单元顶楼漏水",
    category: str = "water_leak",
    urgency: str = "normal",
    *,
    compound: str | None = "阳光花园",
    building: str | None = "8",
    unit: str | None = "3",
    room: str | None = None,
    keywords: tuple[str, ...] = ("漏水", "顶楼"),
) -> ReportInput:
    loc = Location(compound=compound, building=building, unit=unit, room=room)
    key = f"{category}|{compound or ''}|{building or ''}|{unit or ''}|{room or ''}|" + ",".join(
        keywords)
    return ReportInput(text=text, category=category, urgency=urgency, location=loc,
                       keywords=keywords, duplicate_key=key,
                       parse_json='{"is_report": true}')


@dataclass
class RecordingPresenter:
    """Records every render call; emits a group card per event and a DM to the assignee
    on creation (with the group as the 403 fallback)."""

    calls: list[tuple[TicketEvent, Ticket, RenderContext]] = field(default_factory=list)
    fail_on: str | None = None  # an event action that makes render raise

    def render(self, event: TicketEvent, ticket: Ticket,
               ctx: RenderContext) -> Sequence[OutgoingMessage]:
        if self.fail_on == event.action:
            raise RuntimeError(f"presenter failed on {event.action}")
        self.calls.append((event, ticket, ctx))
        card = OutgoingMessage(
            chat_id=ticket.source_chat_id, text=f"[{ticket.number}] {event.action}",
            card_ticket_id=ticket.id, thread_id=ctx.card_thread_id,
            buttons=((Button("接单", f"acc:{ticket.id}"),),), kind="card")
        out = [card]
        contact = ctx.contact(ticket.assignee)
        if isinstance(event, TicketCreated) and contact and contact.user_id:
            out.append(OutgoingMessage(
                chat_id=contact.user_id, text=f"新工单 {ticket.number}",
                fallback_chat_id=ticket.source_chat_id, fallback_text="@assignee 新工单",
                dedupe_key=f"dm:new:{ticket.id}"))
        return out

    @property
    def actions(self) -> list[str]:
        return [e.action for e, _, _ in self.calls]
