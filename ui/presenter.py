"""The presenter: turns ticket events into the messages GridBot sends.

Rules of tact it implements:

- the group sees ONE card per ticket, a reply to the report, edited as the state moves;
- a duplicate report (附议) gets a reply only for the first supporter; later ones just
  raise the count on the card, so a burst of 30 "停水了" makes one card, not 30 replies;
- the reporter is mentioned in a new message only when they have to act (rate the fix);
- workers get the full details and buttons privately; if they never started the bot the
  outbox falls back to a short mention in the group;
- sensitive categories show nothing but the number and state in the group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from zoneinfo import ZoneInfo

from community import CommunityConfig
from services.presenter import RenderContext
from tickets import events as ev
from tickets.model import Ticket
from tickets.outgoing import OutgoingMessage
from ui import texts
from ui.cards import (
    HTML,
    CardRenderer,
    category_label,
    esc,
    is_private,
    mention,
    mention_user,
    rating_buttons,
    ticket_location,
    worker_buttons,
)
from ui.mask import mask_for_group

#: Messages about open emergency/urgent tickets jump the queue of their chat.
URGENCY_PRIORITY = {"emergency": 2, "urgent": 1}


class ChatPresenter:
    """Implements ``services.Presenter`` for Telegram chats (HTML text, inline buttons)."""

    def __init__(self, config: CommunityConfig) -> None:
        self.config = config
        self.cards = CardRenderer(config)
        self.tz = ZoneInfo(config.timezone)

    # -- building blocks --------------------------------------------------------------------

    @staticmethod
    def _in_group(ticket: Ticket) -> bool:
        return ticket.source_chat_id < 0

    def group_chat(self, ticket: Ticket) -> int | None:
        """Where group-facing notices about the ticket go."""
        if self._in_group(ticket):
            return ticket.source_chat_id
        grid = self.config.grid(ticket.grid) if ticket.grid else None
        return grid.chats[0] if grid is not None and grid.chats else None

    def card(self, ticket: Ticket, ctx: RenderContext, *, note: str | None = None,
             status: bool = True) -> list[OutgoingMessage]:
        """The group card (created on first send, edited afterwards). ``status``: an edit
        may be announced as a status line of a combined message (not for a supporter
        count or a merge, which have notices of their own)."""
        if ticket.id is None:
            return []
        if not self._in_group(ticket):
            return []  # reported in private: the reporter gets private notices instead
        return [OutgoingMessage(
            chat_id=ticket.source_chat_id,
            text=self.cards.card(ticket, progress_note=note),
            reply_to_message_id=ticket.source_message_id,
            thread_id=ticket.source_thread_id or ctx.card_thread_id,
            parse_mode=HTML,
            card_ticket_id=ticket.id,
            kind="card",
            fold_line=self.cards.fold_line(ticket),
            status_line=self.cards.status_line(ticket) if status else None,
        )]

    def to_reporter_privately(self, ticket: Ticket, text: str, *, key: str,
                              buttons: tuple = ()) -> OutgoingMessage:
        return OutgoingMessage(chat_id=ticket.reporter_id, text=text, parse_mode=HTML,
                               buttons=buttons, dedupe_key=key, kind="reporter")

    def to_staff(self, person_key: str | None, ticket: Ticket, ctx: RenderContext, *,
                 title: str, key: str, extra: str = "") -> list[OutgoingMessage]:
        """A private brief with buttons; falls back to a group mention on 403."""
        if not person_key:
            return []
        person = self.config.person(person_key)
        contact = ctx.contact(person_key)
        group = self.group_chat(ticket)
        fallback = (
            f"{mention(person, person_key)} 有新的工单 #{esc(ticket.number)} 需要您处理。"
            f"请先私聊我发送 /start,以后工单详情会直接发给您。"
        )
        if contact is None or contact.user_id is None:
            if group is None:
                return []
            return [OutgoingMessage(chat_id=group, text=fallback, parse_mode=HTML,
                                    thread_id=ticket.source_thread_id,
                                    dedupe_key=f"{key}:group", kind="staff_fallback",
                                    fold_line=fallback)]
        text = self.cards.brief(ticket, title=title)
        if extra:
            text += "\n" + extra
        return [OutgoingMessage(
            chat_id=contact.user_id,
            text=text,
            parse_mode=HTML,
            buttons=worker_buttons(ticket),
            fallback_chat_id=group,
            fallback_text=fallback if group is not None else None,
            dedupe_key=key,
            kind="staff",
        )]

    # -- the events -------------------------------------------------------------------------

    def render(self, event: ev.TicketEvent, ticket: Ticket, ctx: RenderContext,
               ) -> Sequence[OutgoingMessage]:
        handler = getattr(self, f"_on_{type(event).__name__}", None)
        messages = handler(event, ticket, ctx) if handler is not None else self.card(ticket, ctx)
        priority = URGENCY_PRIORITY.get(ticket.urgency, 0)
        if not priority or not ticket.is_open:
            return messages
        return [replace(m, priority=priority) for m in messages]

    def _key(self, ticket: Ticket, event: ev.TicketEvent, suffix: str = "") -> str:
        stamp = event.at.isoformat(timespec="microseconds")
        return f"t{ticket.id}:{event.action}:{stamp}{':' + suffix if suffix else ''}"

    def _on_TicketCreated(self, event: ev.TicketCreated, ticket: Ticket, ctx: RenderContext,
                          ) -> list[OutgoingMessage]:
        out = self.card(ticket, ctx)
        if not self._in_group(ticket):
            due = self.cards.expectation(ticket)
            text = (f"已登记为工单 #{esc(ticket.number)}"
                    f"({esc(category_label(ticket.category, self.config))}),"
                    f"网格员会尽快处理。" + (f"\n{due}" if due else ""))
            out.append(self.to_reporter_privately(ticket, text, key=self._key(ticket, event)))
        title = "🆕 新工单"
        out += self.to_staff(ticket.assignee, ticket, ctx, title=title,
                             key=self._key(ticket, event, "assignee"))
        for key in event.decision.also_notify:
            out += self.to_staff(key, ticket, ctx, title="📣 请关注工单",
                                 key=self._key(ticket, event, f"notify:{key}"))
        return out

    def _on_SupporterJoined(self, event: ev.SupporterJoined, ticket: Ticket,
                            ctx: RenderContext) -> list[OutgoingMessage]:
        out = self.card(ticket, ctx, status=False)
        if event.supporters_count == 1 or event.source_chat_id > 0:
            text = (f"这个问题已登记为工单 #{esc(ticket.number)},已为您附议(共 "
                    f"{event.supporters_count} 人),处理进展会在工单消息里更新。")
            out.append(OutgoingMessage(
                chat_id=event.source_chat_id, text=text, parse_mode=HTML,
                reply_to_message_id=event.source_message_id,
                # the supporter's own topic, not the master ticket's
                thread_id=event.source_thread_id if event.source_chat_id < 0 else None,
                dedupe_key=self._key(ticket, event, str(event.user_id)), kind="support",
                fold_line=texts.FOLD_SUPPORT.format(
                    number=esc(ticket.number), count=event.supporters_count,
                    who=mention_user(event.user_id, event.user_name))))
        return out

    def _on_Resolved(self, event: ev.Resolved, ticket: Ticket, ctx: RenderContext,
                     ) -> list[OutgoingMessage]:
        out = self.card(ticket, ctx)
        note_text = event.note or ""
        if self._in_group(ticket):
            note_text = mask_for_group(note_text)
        note = f":{esc(note_text)}" if note_text else ""
        who = mention_user(ticket.reporter_id, ticket.reporter_name)
        text = (f"{who} 您反映的问题(工单 #{esc(ticket.number)})已办结{note}\n"
                "请您评价处理结果:")
        if self._in_group(ticket):
            if is_private(ticket):
                text = f"{who} 您的工单 #{esc(ticket.number)} 已办结,请评价:"
            out.append(OutgoingMessage(
                chat_id=ticket.source_chat_id, text=text, parse_mode=HTML,
                reply_to_message_id=ticket.source_message_id,
                thread_id=ticket.source_thread_id, buttons=rating_buttons(ticket),
                dedupe_key=self._key(ticket, event, "rate"), kind="rating_request"))
        else:
            out.append(self.to_reporter_privately(ticket, text, key=self._key(ticket, event),
                                                  buttons=rating_buttons(ticket)))
        return out

    def _on_Progressed(self, event: ev.Progressed, ticket: Ticket, ctx: RenderContext,
                       ) -> list[OutgoingMessage]:
        out = self.card(ticket, ctx)
        if not self._in_group(ticket) and event.note:
            out.append(self.to_reporter_privately(
                ticket, f"工单 #{esc(ticket.number)} 进展:{esc(event.note)}",
                key=self._key(ticket, event)))
        return out

    def _on_Reopened(self, event: ev.Reopened, ticket: Ticket, ctx: RenderContext,
                     ) -> list[OutgoingMessage]:
        why = {"reporter": "居民反馈问题没有解决", "low_rating": "居民评价不满意",
               "supervisor": "书记要求重新处理"}.get(event.reason, "工单被重新打开")
        return self.card(ticket, ctx) + self.to_staff(
            ticket.assignee, ticket, ctx, title="🔄 工单重新打开",
            key=self._key(ticket, event), extra=f"原因: {why}")

    def _on_Transferred(self, event: ev.Transferred, ticket: Ticket, ctx: RenderContext,
                        ) -> list[OutgoingMessage]:
        from_who = esc(event.from_assignee or "")
        extra = f"由 {from_who} 转派" + (f":{esc(event.note)}" if event.note else "")
        return self.card(ticket, ctx) + self.to_staff(
            ticket.assignee, ticket, ctx, title="🔁 转派给您的工单",
            key=self._key(ticket, event), extra=extra)

    def _on_Corrected(self, event: ev.Corrected, ticket: Ticket, ctx: RenderContext,
                      ) -> list[OutgoingMessage]:
        """改分类 / /fix: the card follows; a new assignee gets the brief."""
        out = self.card(ticket, ctx)
        if event.to_assignee and event.to_assignee != event.from_assignee:
            label = category_label(event.old_category, self.config)
            out += self.to_staff(
                ticket.assignee, ticket, ctx, title="🔁 更正后转给您的工单",
                key=self._key(ticket, event),
                extra=f"原分类 {esc(label)},由 {esc(ctx.actor.key or '')} 更正")
        return out

    def _on_Escalated(self, event: ev.Escalated, ticket: Ticket, ctx: RenderContext,
                      ) -> list[OutgoingMessage]:
        out = self.card(ticket, ctx)
        actor = "系统" if ctx.actor.is_system else esc(ctx.actor.key or ctx.actor.name or "")
        for key in event.escalated_to:
            out += self.to_staff(key, ticket, ctx, title="⬆️ 督办提醒",
                                 key=self._key(ticket, event, key),
                                 extra=f"升级原因: {esc(event.reason)}(由 {actor} 提出)")
        return out

    def _on_Merged(self, event: ev.Merged, ticket: Ticket, ctx: RenderContext,
                   ) -> list[OutgoingMessage]:
        out = self.card(ticket, ctx, status=False)
        if ctx.master is not None and self._in_group(ticket):
            out.append(OutgoingMessage(
                chat_id=ticket.source_chat_id,
                text=f"这个问题与工单 #{esc(event.master_number)} 是同一件事,已合并处理并为您附议。",
                reply_to_message_id=ticket.source_message_id,
                thread_id=ticket.source_thread_id, parse_mode=HTML,
                dedupe_key=self._key(ticket, event), kind="merge",
                fold_line=texts.FOLD_MERGE.format(
                    number=esc(ticket.number), master=esc(event.master_number),
                    who=mention_user(ticket.reporter_id, ticket.reporter_name))))
        return out

    def _on_Rated(self, event: ev.Rated, ticket: Ticket, ctx: RenderContext,
                  ) -> list[OutgoingMessage]:
        out = self.card(ticket, ctx)
        if ticket.assignee and event.score in (3, 4):
            return out  # the Reopened event that follows tells the worker
        contact = ctx.contact(ticket.assignee)
        if contact is not None and contact.user_id is not None:
            out.append(OutgoingMessage(
                chat_id=contact.user_id, parse_mode=HTML, kind="staff_info",
                text=f"工单 #{esc(ticket.number)} 居民评价:{texts.RATING_WORDS[event.score]}",
                dedupe_key=self._key(ticket, event)))
        return out

    def _on_PhotoAttached(self, event: ev.PhotoAttached, ticket: Ticket, ctx: RenderContext,
                          ) -> list[OutgoingMessage]:
        """The photo goes to the assignee privately; the group card does not change."""
        contact = ctx.contact(ticket.assignee)
        if contact is None or contact.user_id is None:
            return []
        by_staff = ctx.actor.is_staff and not ctx.actor.is_reporter_of(ticket)
        caption = texts.PHOTO_BY_STAFF if by_staff else texts.PHOTO_BY_RESIDENT
        return [OutgoingMessage(
            chat_id=contact.user_id, text=caption.format(number=esc(ticket.number)),
            parse_mode=HTML, photo_file_id=event.file_id, kind="photo",
            dedupe_key=self._key(ticket, event, event.file_id[-16:]))]

    # -- conversations (replies under a card, split reports, pins) ------------------------

    def _on_DetailAdded(self, event: ev.DetailAdded, ticket: Ticket, ctx: RenderContext,
                        ) -> list[OutgoingMessage]:
        """The worker hears of every addition privately; the group card changes only when
        a place it shows was filled."""
        out = self.card(ticket, ctx) if event.visible else []
        contact = ctx.contact(ticket.assignee)
        if contact is None or contact.user_id is None:
            return out
        who = "居民" if event.by_reporter else "其他居民"
        lines = [f"📝 工单 #{esc(ticket.number)} {who}补充:{esc(event.note or '')}".rstrip(":")]
        if event.filled:
            lines.append(f"位置: {esc(ticket_location(ticket, for_group=False))}")
        out.append(OutgoingMessage(
            chat_id=contact.user_id, text="\n".join(lines), parse_mode=HTML, kind="staff_info",
            dedupe_key=self._key(ticket, event)))
        return out

    def _on_Linked(self, event: ev.Linked, ticket: Ticket, ctx: RenderContext,
                   ) -> list[OutgoingMessage]:
        """A follow-up ticket: its worker learns which closed ticket it continues."""
        if event.role != "continues":
            return []
        contact = ctx.contact(ticket.assignee)
        if contact is None or contact.user_id is None:
            return []
        return [OutgoingMessage(
            chat_id=contact.user_id, parse_mode=HTML, kind="staff_info",
            text=(f"🔗 工单 #{esc(ticket.number)} 是已结束工单 #{esc(event.other_number)} "
                  "的后续:居民反映问题又出现了。"),
            dedupe_key=self._key(ticket, event))]
