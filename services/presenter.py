"""The seam between ticket events and Telegram messages.

Services call ``presenter.render(event, ticket, ctx)`` for every event they produce and
write the returned messages to the outbox in the same transaction. The real presenter
(Chinese wording, buttons) lives in ``ui/``; tests use a recording one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from community.model import CommunityConfig
from tickets.events import TicketEvent
from tickets.model import Actor, Ticket
from tickets.outgoing import OutgoingMessage


@dataclass(frozen=True, slots=True)
class Contact:
    """How to reach a configured person: Telegram user id (None if unknown) and whether
    they started the bot in private (None = not known; try and fall back on 403)."""

    person_key: str
    user_id: int | None
    can_dm: bool | None


@dataclass(frozen=True, slots=True)
class RenderContext:
    """Everything a presenter may need beyond the event and the ticket.

    ``contacts`` covers the ticket's assignee, co-owners, the people a routing decision
    notifies, and the supervisors. ``master`` is set for events on a duplicate whose
    master matters (support, merge). ``card_thread_id`` is the forum thread bound to the
    ticket's source chat (None for plain groups).
    """

    config: CommunityConfig
    actor: Actor
    now: datetime
    contacts: Mapping[str, Contact] = field(default_factory=dict)
    master: Ticket | None = None
    card_thread_id: int | None = None

    def contact(self, person_key: str | None) -> Contact | None:
        return self.contacts.get(person_key) if person_key else None


class Presenter(Protocol):
    """Turns one domain event into the messages to send (possibly none)."""

    def render(
        self, event: TicketEvent, ticket: Ticket, ctx: RenderContext
    ) -> Sequence[OutgoingMessage]: ...
