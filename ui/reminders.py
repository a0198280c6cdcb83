"""Chinese text the scheduler sends: SLA reminders, overdue notices, backup alerts, the
weekly digest and meeting agenda (周四议事会), follow-ups (回访) and broadcasts.

Everything is HTML (``parse_mode="HTML"``, user text escaped) except broadcasts, whose
text an admin wrote and which go out as plain text. Lines are short: people read these on
phones. Group-facing text names nobody and shows no rooms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from community.model import CommunityConfig, Person
from storage import Counts
from tickets.model import Ticket
from ui import texts
from ui.cards import CardRenderer, category_label, esc, local_time, mention, ticket_location

DEADLINE_WORDS = {"accept": "接单", "resolve": "办结"}
#: Longest agenda a message carries; the rest is counted (Telegram caps text at 4096).
AGENDA_LIMIT = 25


def duration(delta: timedelta) -> str:
    """"45分钟" / "3小时" / "2天" (rounded down to the largest unit)."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{max(1, minutes)}分钟"
    if minutes < 24 * 60:
        return f"{minutes // 60}小时"
    return f"{minutes // 1440}天"


# -- SLA ladder (private to staff) -------------------------------------------------------------

def reminder(cards: CardRenderer, ticket: Ticket, deadline: str, due: datetime) -> str:
    """To the assignee shortly before a deadline."""
    word = DEADLINE_WORDS[deadline]
    title = f"⏰ {word}时限快到了"
    return (cards.brief(ticket, title=title, reporter_line=False)
            + f"\n请在 {local_time(due, cards.tz)} 前{word}。")


def overdue(cards: CardRenderer, ticket: Ticket, deadline: str, due: datetime) -> str:
    """To the assignee at the deadline."""
    word = DEADLINE_WORDS[deadline]
    return (cards.brief(ticket, title=f"⚠️ 已超过{word}时限", reporter_line=False)
            + f"\n{word}时限是 {local_time(due, cards.tz)},请尽快处理;"
            "再过一段时间未处理将升级督办。")


def unassigned_overdue(cards: CardRenderer, ticket: Ticket, due: datetime) -> str:
    """To the supervisors when a ticket nobody was assigned to passes its deadline."""
    return (cards.brief(ticket, title="⚠️ 无人负责的工单已超时", reporter_line=False)
            + f"\n时限是 {local_time(due, cards.tz)},请尽快指派负责人。")


def backup_alert(cards: CardRenderer, ticket: Ticket, assignee: Person | None) -> str:
    """To the grid's backup worker: an emergency nobody accepted in time."""
    who = esc(assignee.key) if assignee else "负责人"
    return (cards.brief(ticket, title="🚨 紧急工单无人接单")
            + f"\n{who} 未在时限内接单,请您立即协助处理!")


def escalation_reason(deadline: str, due: datetime, tz: ZoneInfo, *, emergency: bool) -> str:
    """The 督办 reason the ticket service records and shows to the supervisors (plain)."""
    if emergency:
        return f"紧急工单未在 {local_time(due, tz)} 前接单"
    word = DEADLINE_WORDS[deadline]
    return f"超过{word}时限({local_time(due, tz)})仍未{word}"


def staff_fallback(person: Person | None, key: str, ticket: Ticket, what: str) -> str:
    """The short group mention used when a private message cannot be delivered."""
    return (f"{mention(person, key)} 工单 #{esc(ticket.number)} {what},请尽快处理。"
            "请先私聊我发送 /start,以后提醒会直接发给您。")


FALLBACK_WHAT = {"remind": "时限快到了", "overdue": "已超时", "backup": "紧急无人接单",
                 "unassigned": "已超时且无人负责"}


# -- digest ----------------------------------------------------------------------------------

def _rate(value: float | None) -> str:
    return f"{value:.0%}" if value is not None else "—"


def _period(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    first, last = start.astimezone(tz), (end - timedelta(seconds=1)).astimezone(tz)
    return f"{first.month}月{first.day}日—{last.month}月{last.day}日"


def digest_summary(scope: str, counts: Counts, still_open: int, start: datetime,
                   end: datetime, tz: ZoneInfo) -> str:
    """The public weekly summary for a grid's group: figures only, no names or rooms."""
    return "\n".join([
        f"📊 {esc(scope)} 本周小结",
        f"({_period(start, end, tz)})",
        f"新反映: {counts.new} 件",
        f"已办结: {counts.resolved} 件",
        f"未办结: {still_open} 件",
        f"按时办结率: {_rate(counts.on_time_rate)}",
        f"居民评价: {texts.satisfaction_text(counts)}",
        "感谢大家反映问题,我们件件有回音!",
    ])


@dataclass(frozen=True, slots=True)
class AgendaItem:
    """One open ticket on the meeting agenda."""

    ticket: Ticket
    overdue_by: timedelta | None  # None = not overdue
    long_overdue: bool


def _agenda_line(item: AgendaItem, config: CommunityConfig, now: datetime) -> str:
    t = item.ticket
    flag = "🔴" if item.long_overdue else ("🟠" if item.overdue_by is not None else "⚪")
    head = f"{flag} #{esc(t.number)} {esc(category_label(t.category, config))}"
    if t.supporters_count:
        head += f" 👥{t.supporters_count}"
    where = esc(ticket_location(t, for_group=True))
    who = esc(t.assignee or "待派")
    tail = f"{where} · {duration(now - t.created_at)}前 · {who}"
    if item.overdue_by is not None:
        tail += f" · 超时{duration(item.overdue_by)}"
        if item.long_overdue:
            tail += "(长期超时)"
    return f"{head}\n   {tail}"


def agenda(title: str, items: Sequence[AgendaItem], config: CommunityConfig, now: datetime,
           *, grid_heading: bool = False) -> str:
    """The 周四议事会 agenda: open tickets, overdue first, then by supporters, then age.
    ``grid_heading`` groups the lines under grid names (the community-wide version)."""
    overdue_n = sum(1 for i in items if i.overdue_by is not None)
    long_n = sum(1 for i in items if i.long_overdue)
    lines = [f"🗓 {esc(title)} 议事清单",
             f"未办结 {len(items)} 件,超时 {overdue_n} 件,长期超时 {long_n} 件"]
    if not items:
        lines.append("目前没有未办结的工单 👍")
        return "\n".join(lines)
    lines.append("🔴长期超时 🟠超时 ⚪未超时 👥附议人数")
    current: str | None = None
    for item in items[:AGENDA_LIMIT]:
        grid = item.ticket.grid or "未分网格"
        if grid_heading and grid != current:
            lines.append(f"【{esc(grid)}】")
            current = grid
        lines.append(_agenda_line(item, config, now))
    if len(items) > AGENDA_LIMIT:
        lines.append(f"……另有 {len(items) - AGENDA_LIMIT} 件,发送 /open 查看全部")
    lines.append("请逐件认领,会后在工单里更新进展。")
    return "\n".join(lines)


def agenda_fallback(person: Person | None, key: str) -> str:
    """Group mention when the agenda cannot be sent privately (the agenda stays private)."""
    return (f"{mention(person, key)} 本周议事清单已生成,但无法私信给您。"
            "请先私聊我发送 /start,以后会直接发给您。")


# -- follow-up (回访) ----------------------------------------------------------------------------

def followup(ticket: Ticket, *, in_group: bool, private_category: bool) -> str:
    """Ask the reporter once more for a rating."""
    if in_group:
        who = f'<a href="tg://user?id={ticket.reporter_id}">{esc(ticket.reporter_name or "居民")}</a>'
        if private_category:
            return f"{who} 回访:工单 #{esc(ticket.number)} 已办结,请您评价:"
        return (f"{who} 回访:您反映的问题(工单 #{esc(ticket.number)})已办结,"
                "现在情况怎么样?请点下面的按钮评价:")
    return (f"回访:您反映的问题(工单 #{esc(ticket.number)})已办结,"
            "现在情况怎么样?请点下面的按钮评价:")


# -- broadcasts ------------------------------------------------------------------------------

def broadcast(text: str) -> str:
    """A scheduled announcement (plain text: an admin wrote it)."""
    return f"📢 社区通知\n{text}"

