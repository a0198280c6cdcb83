"""Telegram-free outgoing messages: what the outbox stores and the sender delivers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button: visible ``text`` and short callback ``data``."""

    text: str
    data: str


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message to send (or, for a ticket's group card, to create then edit).

    ``card_ticket_id`` marks the row as the ticket's group card: the first send creates the
    card, later card rows edit it, and older pending card rows are superseded by newer ones.
    ``fallback_chat_id``/``fallback_text`` are used when a private send is refused (403).
    ``dedupe_key`` is unique in the outbox: adding the same key twice is a no-op.
    ``not_before`` delays the first attempt. ``photo_file_id`` sends a photo (already on
    Telegram's servers) with ``text`` as its caption. ``fold_line`` (see
    ``delivery.folding``) is the message's line in a combined acknowledgement.
    ``status_line`` is a card row's status notice for a combined message (the card itself
    is still edited later).
    ``copy_from_chat_id`` and ``copy_message_id`` copy that message (copyMessage) with
    ``text`` as its caption.
    """

    chat_id: int
    text: str
    reply_to_message_id: int | None = None
    thread_id: int | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    parse_mode: str | None = None
    card_ticket_id: int | None = None
    fallback_chat_id: int | None = None
    fallback_text: str | None = None
    dedupe_key: str | None = None
    not_before: datetime | None = None
    kind: str = "message"
    photo_file_id: str | None = None
    priority: int = 0  # 2 emergency, 1 urgent: sent first within its chat
    #: This message as one line of a combined message (a group short of its Telegram
    #: allowance gets several acknowledgements at once); None: never combined.
    fold_line: str | None = None
    # Copy an existing message (a resident's voice) instead of sending text; ``text`` is
    # then its new caption.
    copy_from_chat_id: int | None = None
    copy_message_id: int | None = None
    #: A card update as one status line of a combined message (see ``delivery.folding``).
    status_line: str | None = None
