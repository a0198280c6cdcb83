"""Adapters from the storage package to what the inbox and the outbox sender need."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from delivery import PendingSend
from storage import Database
from tickets.clock import Clock
from tickets.outgoing import OutgoingMessage


class StorageInboxStore:
    """:class:`runtime.inbox.InboxStore` over the database's inbox table."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def save_updates(self, updates: Sequence[tuple[int, str]]) -> None:
        async with self.db.transaction() as uow:
            await uow.inbox.add_batch(list(updates))

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

    async def due(self, now: datetime, limit: int,
                  exclude_chats: Sequence[int] = ()) -> Sequence[PendingSend]:
        async with self.db.transaction() as uow:  # due() coalesces card rows: a write
            # One row per chat: after each send the chat's best row is chosen again, so an
            # emergency card queued behind a backlog goes next.
            rows = await uow.outbox.due(limit, now, exclude_chats=exclude_chats, per_chat=1)
            result = []
            cards: dict[int, tuple[int | None, int | None]] = {}
            for row in rows:
                ticket_id = row.message.card_ticket_id
                card_chat = card_message = None
                if ticket_id is not None:
                    if ticket_id not in cards:
                        ticket = await uow.tickets.get(ticket_id)
                        cards[ticket_id] = (
                            (ticket.card_chat_id, ticket.card_message_id) if ticket else (None, None)
                        )
                    card_chat, card_message = cards[ticket_id]
                result.append(PendingSend(row.id, row.message, row.attempts, card_chat,
                                          card_message))
            return result

    async def mark_in_flight(self, row_id: int) -> None:
        async with self.db.transaction() as uow:
            await uow.outbox.mark_in_flight(row_id)

    async def mark_sent(self, row_id: int, telegram_message_id: int | None) -> None:
        async with self.db.transaction() as uow:
            await uow.outbox.mark_sent(row_id, telegram_message_id)

    async def mark_retry(self, row_id: int, error: str, next_attempt_at: datetime) -> None:
        async with self.db.transaction() as uow:
            row = await uow.outbox.get(row_id)
            await uow.outbox.mark_retry(row_id, error, next_attempt_at)
            if row is not None:
                await uow.outbox.defer_chat(row.message.chat_id, next_attempt_at)

    async def mark_failed(self, row_id: int, error: str) -> None:
        async with self.db.transaction() as uow:
            await uow.outbox.mark_failed(row_id, error)

    async def set_card(self, row_id: int, ticket_id: int, chat_id: int, message_id: int) -> None:
        async with self.db.transaction() as uow:
            await uow.outbox.set_card(ticket_id, chat_id, message_id)
            await uow.outbox.mark_sent(row_id, message_id)

    async def card_lost(self, row_id: int, ticket_id: int) -> None:
        async with self.db.transaction() as uow:
            await uow.outbox.clear_card(ticket_id)

    async def forbidden(self, row_id: int, fallback: OutgoingMessage | None) -> None:
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
