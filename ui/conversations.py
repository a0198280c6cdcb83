"""What the bot says in conversations: the short progress answer, the reopen note, the
voice-message forwarding to workers."""

from __future__ import annotations

from community import CommunityConfig
from tickets.model import Ticket, TicketState
from ui import texts
from ui.cards import CardRenderer, is_private


def progress_answer(ticket: Ticket, config: CommunityConfig) -> str:
    """"工单 #2611-0042:已接单,负责 王芳,预计 11月24日 17:30 前办结" — state, assignee,
    deadline, as one short line (plain text: it quotes nothing the resident wrote)."""
    state = texts.STATE_LABELS.get(ticket.state, str(ticket.state))
    parts = [f"工单 #{ticket.number}:{state}"]
    if ticket.assignee and ticket.is_open:
        parts.append(f"负责 {ticket.assignee}")
    expectation = CardRenderer(config).expectation(ticket).removeprefix("⏰ ")
    if expectation:
        parts.append(expectation)
    if ticket.state is TicketState.RESOLVED:
        parts.append("如果还没解决,请回复“没修好”")
    if is_private(ticket):
        parts = parts[:2]
    return ",".join(parts) + "。"


REOPENED = "已重新打开工单 #{number},网格员会再来处理。"
FOLLOW_UP = "原工单 #{earlier} 已结束,已为您登记新工单 #{number} 并关联原工单。"
ADDED_PRIVATE = "已补充到工单 #{number}。"
FRAGMENT_PRIVATE = "好的,记下了地点。请接着说说是什么问题。"
