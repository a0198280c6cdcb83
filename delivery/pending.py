"""A due outbox row as the dispatcher sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tickets.outgoing import OutgoingMessage


@dataclass(frozen=True, slots=True)
class PendingSend:
    """A due outbox row. ``card_message_id`` is set when the row edits an existing card
    (a ticket's own card, or the combined message that holds its line)."""

    row_id: int
    message: OutgoingMessage
    attempts: int
    card_chat_id: int | None = None
    card_message_id: int | None = None
    #: An earlier attempt may have arrived unseen (on the wire at a crash, or timed out):
    #: after this send, look for that stale copy (``OutboxDispatcher._sweep_stale``).
    suspect_since: datetime | None = None
    #: A card edit whose status line already went out in a combined message.
    status_announced: bool = False
