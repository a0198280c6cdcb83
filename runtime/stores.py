"""Adapters from the storage package to what the inbox and the outbox sender need."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from delivery import PendingSend
from delivery.folding import Composed, join_fold
from storage import Database, UnitOfWork
from storage.outbox import OutboxRow
from tickets.clock import Clock
from tickets.outgoing import OutgoingMessage


class StorageInboxStore:
    """:class:`runtime.inbox.InboxStore` over the database's inbox table."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def save_updates(self, updates: Sequence[tuple[int, str]]) -> int | None:
        async with self.db.transaction() as uow:
            return await uow.inbox.add_batch(list(updates))

    async def is_processed(self, update_id: int) -> bool:
        async with self.db.read() as uow:
            return await uow.inbox.is_processed(update_id)

    async def mark_processed(self, update_id: int) -> None:
        async with self.db.transaction() as uow:
            await uow.inbox.mark_processed(update_id)

    async def mark_failed(self, update_id: int, error: str) -> None:
        async with self.db.transaction() as uow:
            await uow.inbox.mark_failed(update_id, error)

    async def pending_updates(self) -> list[tuple[int, str]]:
        async with self.db.read() as uow:
            return [(u.update_id, u.payload) for u in await uow.inbox.pending()]


class StorageDeliveryStore:
    """:class:`delivery.DeliveryStore` over the outbox table (and the tickets' card ids)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._claimed: set[int] = set()  # rows this sender marked in flight, not settled

    async def due(self, now: datetime, limit: int,
                  exclude_chats: Sequence[int] = ()) -> Sequence[PendingSend]:
        async with self.db.transaction() as uow:  # due() coalesces card rows: a write
            # One row per chat: after each send the chat's best row is chosen again, so an
            # emergency card queued behind a backlog goes next.
            rows = await uow.outbox.due(limit, now, exclude_chats=exclude_chats, per_chat=1)
            return await _pending_sends(uow, rows)

    async def waiting(self, chat_id: int, now: datetime, limit: int) -> Sequence[PendingSend]:
        async with self.db.transaction() as uow:  # edits of combined messages merge rows
            return await _pending_sends(uow, await uow.outbox.due_in_chat(chat_id, limit, now))

    async def create_fold(self, chat_id: int, composed: Composed, priority: int,
                          thread_id: int | None) -> PendingSend | None:
        async with self.db.transaction() as uow:
            ids = [line.row_id for line in composed.lines]
            still = {row.id: row for row in await uow.outbox.pending_by_ids(ids)}
            # A card edit's status line only while the edit waits and was not announced.
            kept = [line for line in composed.lines if line.row_id in still and not (
                line.status and still[line.row_id].status_folded_into is not None)]
            if not kept:
                return None
            lines = [(line.row_id, line.ticket_id, line.line) for line in kept]
            message = OutgoingMessage(
                chat_id=chat_id, text=composed.text, thread_id=thread_id, parse_mode="HTML",
                kind="fold", priority=priority)
            fold_id = await uow.outbox.add_fold(
                message, lines, composed.header,
                status_rows=[line.row_id for line in kept if line.status])
            return PendingSend(fold_id, message, 0)

    async def mark_in_flight(self, row_id: int) -> bool:
        """Claim the row; False when another process is sending it. A row this sender
        claimed before and left pending (a migrated chat, a lost card) is its own still."""
        async with self.db.transaction() as uow:
            if row_id in self._claimed:
                await uow.outbox.mark_in_flight(row_id)
                return True
            claimed = await uow.outbox.claim_in_flight(row_id)
        if claimed:
            self._claimed.add(row_id)
        return claimed

    async def mark_sent(self, row_id: int, telegram_message_id: int | None) -> None:
        self._claimed.discard(row_id)
        async with self.db.transaction() as uow:
            await uow.outbox.mark_sent(row_id, telegram_message_id)
            row = await uow.outbox.get(row_id)
            if row is not None:  # rows that went out inside this one
                await uow.outbox.fold_delivered(row_id, telegram_message_id, row.message.chat_id)

    async def mark_retry(self, row_id: int, error: str, next_attempt_at: datetime) -> None:
        self._claimed.discard(row_id)
        async with self.db.transaction() as uow:
            row = await uow.outbox.get(row_id)
            await uow.outbox.mark_retry(row_id, error, next_attempt_at)
            if row is not None:
                await uow.outbox.defer_chat(row.message.chat_id, next_attempt_at)

    async def mark_failed(self, row_id: int, error: str) -> None:
        self._claimed.discard(row_id)
        async with self.db.transaction() as uow:
            await uow.outbox.mark_failed(row_id, error)
            await uow.outbox.unfold(row_id)  # a refused combined message: one by one then

    async def set_card(self, row_id: int, ticket_id: int, chat_id: int, message_id: int) -> None:
        self._claimed.discard(row_id)
        async with self.db.transaction() as uow:
            await uow.outbox.set_card(ticket_id, chat_id, message_id)
            await uow.outbox.mark_sent(row_id, message_id)

    async def card_lost(self, row_id: int, ticket_id: int) -> None:
        async with self.db.transaction() as uow:
            await uow.outbox.clear_card(ticket_id)

    async def forbidden(self, row_id: int, fallback: OutgoingMessage | None) -> None:
        self._claimed.discard(row_id)
        async with self.db.transaction() as uow:
            row = await uow.outbox.get(row_id)
            await uow.outbox.mark_failed(row_id, "403 forbidden")
            if row is not None and row.message.chat_id > 0:
                await uow.people.set_private_chat(row.message.chat_id, False)
            if fallback is not None:
                await uow.outbox.add(fallback)

    async def chat_migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        async with self.db.transaction() as uow:
            await uow.chats.migrate(old_chat_id, new_chat_id)

    async def next_due_at(self) -> datetime | None:
        async with self.db.read() as uow:
            return await uow.outbox.next_due_at()

    async def stale_candidates(self, chat_id: int, below: int, since: datetime,
                               limit: int) -> list[int]:
        async with self.db.read() as uow:
            return await uow.outbox.unknown_message_ids(chat_id, below, since, limit)


async def _pending_sends(uow: UnitOfWork, rows: Sequence[OutboxRow]) -> list[PendingSend]:
    """Due rows with what the dispatcher needs to know about their ticket's card."""
    result = []
    cards: dict[int, tuple[int | None, int | None]] = {}
    for row in rows:
        ticket_id = row.message.card_ticket_id
        suspect = row.suspect_since
        if ticket_id is None:
            result.append(PendingSend(row.id, row.message, row.attempts, suspect_since=suspect))
            continue
        if ticket_id not in cards:
            ticket = await uow.tickets.get(ticket_id)
            cards[ticket_id] = (
                (ticket.card_chat_id, ticket.card_message_id) if ticket else (None, None))
        card_chat, card_message = cards[ticket_id]
        if card_message is None:
            if await uow.outbox.unsent_fold_holding(ticket_id) is not None:
                continue  # acknowledged in a combined message not yet delivered: wait for it
            result.append(PendingSend(row.id, row.message, row.attempts, suspect_since=suspect))
            continue
        message = row.message
        if card_chat is not None and message.fold_line:
            fold_id = await uow.outbox.fold_holding(ticket_id, card_chat, card_message)
            if fold_id is not None:
                message = await _fold_edit(uow, fold_id, row)
        result.append(PendingSend(row.id, message, row.attempts, card_chat, card_message,
                                  status_announced=row.status_folded_into is not None))
    return result


async def _fold_edit(uow: UnitOfWork, fold_id: int, row: OutboxRow) -> OutgoingMessage:
    """The ticket's card is a line of a combined message: the edit rewrites that message
    with the ticket's new line, and with the new lines of its other tickets in passing."""
    ticket_id = row.message.card_ticket_id
    assert ticket_id is not None and row.message.fold_line is not None
    latest = {ticket_id: row.message.fold_line}
    covered = []
    for other_id, other_ticket, line in await uow.outbox.fold_pending_cards(fold_id):
        if other_ticket != ticket_id:
            covered.append(other_id)
            latest[other_ticket] = line  # rows come oldest first: the newest line wins
        elif other_id > row.id:
            latest[ticket_id] = line  # a newer row of this ticket follows (as "not modified")
    for ticket, line in latest.items():
        await uow.outbox.set_fold_line(fold_id, ticket, line)
    await uow.outbox.cover(covered, row.id)
    lines = await uow.outbox.fold_lines(fold_id)
    return replace(row.message, text=join_fold(lines[0], lines[1:]), buttons=(),
                   parse_mode="HTML", status_line=None)  # its line shows the status
