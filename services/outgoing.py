"""Messages a handler sends outside any ticket use case (replies, broadcasts)."""

from __future__ import annotations

from storage import Database
from tickets.outgoing import OutgoingMessage


async def queue_messages(db: Database, messages: list[OutgoingMessage]) -> None:
    """Store messages in the durable outbox (one transaction); the dispatcher sends them."""
    async with db.transaction() as uow:
        await uow.outbox.add_many(messages)
