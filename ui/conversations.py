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

# -- voice messages ------------------------------------------------------------------------

VOICE_KINDS = {"voice": "语音", "video_note": "视频消息", "audio": "音频"}
VOICE_HEADER = "🎤 {grid} 群里有 {count} 条居民语音/视频消息,请收听;是诉求的点“登记为工单”。"
VOICE_CAPTION = "{kind} {index}/{count} · {name} · {time}"
VOICE_FALLBACK = "群里有 {count} 条语音消息待您收听。请先私聊我发送 /start,以后会直接转给您。"
VOICE_PICK_CATEGORY = "请选择类别:"
VOICE_ASK_PLACE = ("已选类别:{category}。请直接发送地点(如“8号楼3单元”)和简要情况;"
                   "不清楚地点就发“不详”。")
VOICE_REGISTERED = "已登记为工单 #{number},群里会回复该语音。"
VOICE_DISMISSED = "已标记为不是诉求。"
VOICE_DONE_ALREADY = "这条语音已经处理过了。"
VOICE_UNKNOWN_PLACE = "不详"
