"""Rendering tickets for people: the group card, the worker's brief, button rows.

Group-facing text is masked (phones, rooms) and, for sensitive categories (care for the
elderly, neighbour disputes), says nothing but the number and the state. All text is
HTML (``parse_mode="HTML"``) so mentions of people without a username still notify them.
"""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

import nlp
from community import CommunityConfig, Person
from tickets.model import Ticket, TicketState
from tickets.outgoing import Button
from ui import texts
from ui.callback_data import RATING_SCORES, TicketAction, rating_button, ticket_button
from ui.mask import mask_for_group

#: Categories acknowledged in the group without any detail; details go to the worker only.
PRIVATE_CATEGORIES = frozenset({"elderly_care", "neighbor_dispute"})
HTML = "HTML"


def esc(text: str | None) -> str:
    return html.escape(text or "", quote=False)


def mention(person: Person | None, fallback: str = "网格员") -> str:
    """An @mention that notifies: @username, else a tg://user link, else the name."""
    if person is None:
        return esc(fallback)
    if person.username:
        return f"@{esc(person.username)}"
    if person.telegram_id:
        return f'<a href="tg://user?id={person.telegram_id}">{esc(person.key)}</a>'
    return esc(person.key)


def mention_user(user_id: int, name: str) -> str:
    return f'<a href="tg://user?id={user_id}">{esc(name or "居民")}</a>'


def local_time(when: datetime | None, tz: ZoneInfo) -> str:
    """"11月24日 17:30" in the community's time zone."""
    if when is None:
        return ""
    local = when.astimezone(tz)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def category_label(slug: str | None, config: CommunityConfig) -> str:
    for custom in config.categories:
        if custom.slug == slug:
            return custom.name
    return nlp.category_name(slug)


def ticket_location(ticket: Ticket, *, for_group: bool) -> str:
    return texts.location_text(
        ticket.compound, ticket.building, ticket.unit, ticket.room, ticket.floor,
        with_room=not for_group,
    )


def is_private(ticket: Ticket) -> bool:
    return ticket.category in PRIVATE_CATEGORIES


class CardRenderer:
    """Turns tickets into card and brief texts for one community."""

    def __init__(self, config: CommunityConfig) -> None:
        self.config = config
        self.tz = ZoneInfo(config.timezone)

    def headline(self, ticket: Ticket) -> str:
        urgency = "" if ticket.urgency == "normal" else f" · {texts.URGENCY_LABELS[ticket.urgency]}"
        return (f"📋 工单 #{esc(ticket.number)} · {esc(category_label(ticket.category, self.config))}"
                f"{urgency}")

    def expectation(self, ticket: Ticket) -> str:
        """When the resident can expect a response or the fix."""
        if ticket.state in (TicketState.NEW, TicketState.ASSIGNED) and ticket.accept_due:
            return f"⏰ 预计 {local_time(ticket.accept_due, self.tz)} 前响应"
        if ticket.state in (TicketState.ACCEPTED, TicketState.IN_PROGRESS) and ticket.resolve_due:
            return f"⏰ 预计 {local_time(ticket.resolve_due, self.tz)} 前办结"
        return ""

    def card(self, ticket: Ticket, *, progress_note: str | None = None) -> str:
        """The one group message that follows a ticket, edited in place."""
        assignee = self.config.person(ticket.assignee) if ticket.assignee else None
        state = texts.STATE_LABELS.get(ticket.state, ticket.state)
        if ticket.escalation_level > 0 and ticket.is_open:
            state += " · 已督办"
        if is_private(ticket):
            lines = [f"📋 工单 #{esc(ticket.number)} 已收到,网格员会私下联系您。",
                     f"🕒 状态: {state}"]
            if assignee is not None and ticket.is_open:
                lines.append(f"👤 负责: {mention(assignee)}")
            return "\n".join(lines)
        lines = [self.headline(ticket),
                 f"📍 {esc(ticket_location(ticket, for_group=True))}",
                 f"🕒 状态: {state}"]
        if assignee is not None and not ticket.is_final:
            lines.append(f"👤 负责: {esc(assignee.key)} {mention(assignee)}")
        elif ticket.state == TicketState.NEW:
            lines.append("👤 正在安排负责人")
        expectation = self.expectation(ticket)
        if expectation:
            lines.append(expectation)
        if ticket.supporters_count:
            lines.append(f"👥 附议: {ticket.supporters_count} 人")
        if progress_note:
            lines.append(f"💬 {esc(mask_for_group(progress_note))}")
        if ticket.rating is not None:
            lines.append(f"⭐ 居民评价: {texts.RATING_WORDS.get(ticket.rating, '')}")
        if ticket.state == TicketState.MERGED and ticket.merged_into:
            lines.append("🔗 与另一张工单是同一问题,已合并处理")
        return "\n".join(lines)

    def fold_line(self, ticket: Ticket) -> str:
        """The ticket's line in a combined acknowledgement: mark, number, what, where, the
        reporter mentioned (so they are notified) and the state; edited as the state moves."""
        who = mention_user(ticket.reporter_id, ticket.reporter_name)
        state = texts.STATE_SHORT.get(ticket.state, ticket.state)
        if ticket.escalation_level > 0 and ticket.is_open:
            state += "·已督办"
        if is_private(ticket):
            return texts.FOLD_PRIVATE.format(number=esc(ticket.number), who=who, state=state)
        mark = {"emergency": "🚨", "urgent": "⚠️"}.get(ticket.urgency, "🆕")
        if not ticket.is_open:
            mark = "📋"
        place = ticket_location(ticket, for_group=True)
        return (f"{mark}#{esc(ticket.number)} {esc(category_label(ticket.category, self.config))}"
                f" {esc(place)} {who} · {state}")

    def status_line(self, ticket: Ticket) -> str:
        """A card update as one line of a combined message: number, what, where, the new
        state and who handles it. Mentions nobody (the ticket's own card is edited too)."""
        state = texts.STATE_LABELS.get(ticket.state, ticket.state)
        if ticket.escalation_level > 0 and ticket.is_open:
            state += "·已督办"
        assignee = self.config.person(ticket.assignee) if ticket.assignee else None
        if assignee is not None and not ticket.is_final:
            state += f"({esc(assignee.key)})"
        if is_private(ticket):
            return texts.FOLD_STATUS.format(number=esc(ticket.number), what="私下处理",
                                            state=state)
        what = (f"{esc(category_label(ticket.category, self.config))} "
                f"{esc(ticket_location(ticket, for_group=True))}")
        return texts.FOLD_STATUS.format(number=esc(ticket.number), what=what, state=state)

    def brief(self, ticket: Ticket, *, title: str, reporter_line: bool = True) -> str:
        """The full private message for a worker or supervisor (nothing masked)."""
        lines = [f"{title} #{esc(ticket.number)}"
                 + ("" if ticket.urgency == "normal"
                    else f" 【{texts.URGENCY_LABELS[ticket.urgency]}】"),
                 f"分类: {esc(category_label(ticket.category, self.config))}",
                 f"位置: {esc(ticket_location(ticket, for_group=False))}"]
        if ticket.grid:
            lines.append(f"网格: {esc(ticket.grid)}")
        if reporter_line:
            lines.append(f"反映人: {mention_user(ticket.reporter_id, ticket.reporter_name)}")
        lines.append(f"原文: {esc(ticket.text[:800])}")
        if ticket.supporters_count:
            lines.append(f"附议: {ticket.supporters_count} 人")
        if ticket.photos_count:
            lines.append(f"照片: {ticket.photos_count} 张")
        deadlines = []
        if ticket.accept_due and ticket.state in (TicketState.NEW, TicketState.ASSIGNED):
            deadlines.append(f"接单 {local_time(ticket.accept_due, self.tz)} 前")
        if ticket.resolve_due and ticket.is_open:
            deadlines.append(f"办结 {local_time(ticket.resolve_due, self.tz)} 前")
        if deadlines:
            lines.append("时限: " + ",".join(deadlines))
        if ticket.keywords:
            lines.append(f"识别依据: {esc('、'.join(ticket.keywords[:6]))}")
        return "\n".join(lines)


def worker_buttons(ticket: Ticket) -> tuple[tuple[Button, ...], ...]:
    """The action buttons a worker needs for the ticket's current state."""
    def b(label: str, action: TicketAction) -> Button:
        return Button(label, ticket_button(action, ticket.id or 0))

    if ticket.state in (TicketState.NEW, TicketState.ASSIGNED):
        return ((b("✅ 接单", TicketAction.ACCEPT), b("🔁 转派", TicketAction.TRANSFER)),
                (b("↩️ 退回", TicketAction.RETURN), b("⬆️ 升级", TicketAction.ESCALATE)),
                (b("🏷 改分类", TicketAction.RECATEGORISE),))
    if ticket.state in (TicketState.ACCEPTED, TicketState.IN_PROGRESS):
        return ((b("🔧 处理中", TicketAction.PROGRESS), b("🏁 办结", TicketAction.DONE)),
                (b("🔁 转派", TicketAction.TRANSFER), b("⬆️ 升级", TicketAction.ESCALATE)),
                (b("🏷 改分类", TicketAction.RECATEGORISE),))
    return ()


def rating_buttons(ticket: Ticket) -> tuple[tuple[Button, ...], ...]:
    labels = dict(texts.RATING_BUTTONS)
    first = tuple(Button(labels[s], rating_button(s, ticket.id or 0)) for s in RATING_SCORES[:2])
    second = tuple(Button(labels[s], rating_button(s, ticket.id or 0)) for s in RATING_SCORES[2:])
    return (first, second)
