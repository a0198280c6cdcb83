"""Helpers shared by the use cases: loading, saving, emitting events into the outbox."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from community.model import CommunityConfig
from services.presenter import Contact, Presenter, RenderContext
from services.recipients import contacts
from storage import Database, StaleTicket, UnitOfWork
from tickets.clock import Clock
from tickets.errors import RefusalCode, TicketNotFound, TransitionRefused
from tickets.events import TicketEvent
from tickets.model import Actor, Ticket
from tickets.outgoing import OutgoingMessage
from tickets.sla import WorkCalendar


@dataclass(frozen=True, slots=True)
class Deps:
    """The four things every use case needs."""

    db: Database
    config: CommunityConfig
    clock: Clock
    presenter: Presenter

    @property
    def calendar(self) -> WorkCalendar:
        return WorkCalendar(self.config.timezone, self.config.working_hours)


#: The request an action answers (``u<update_id>`` for a Telegram update), set by the
#: handler around its use-case calls. Each action claims ``<key>:<action>:<ticket>`` in its
#: own transaction, so an update replayed after a crash (committed, not yet marked
#: processed) cannot repeat a progress note or an escalation.
_REQUEST_KEY: ContextVar[str | None] = ContextVar("gridbot_request_key", default=None)


@contextlib.contextmanager
def request_key(key: str | None) -> Iterator[None]:
    """``with request_key("u123"):`` — actions run inside happen at most once per key."""
    token = _REQUEST_KEY.set(key)
    try:
        yield
    finally:
        _REQUEST_KEY.reset(token)


async def first_time(uow: UnitOfWork, action: str, ticket: Ticket) -> bool:
    """False when this action on this ticket already ran for the current request."""
    key = _REQUEST_KEY.get()
    if key is None:
        return True
    return await uow.idempotency.claim(f"{key}:{action}:{ticket.id}")


async def load(uow: UnitOfWork, ref: int | str) -> Ticket:
    """A ticket by id (int) or number (str, e.g. "2609-0042"); TicketNotFound otherwise."""
    ticket = await (uow.tickets.get(ref) if isinstance(ref, int) else
                    uow.tickets.get_by_number(ref))
    if ticket is None:
        raise TicketNotFound(ref)
    return ticket


async def save(uow: UnitOfWork, ticket: Ticket, action: str) -> None:
    """Conditional update; a lost version race is reported like a refused transition."""
    try:
        await uow.tickets.update(ticket)
    except StaleTicket as exc:
        code = RefusalCode.ALREADY_ACCEPTED if action == "accept" else RefusalCode.STALE
        raise TransitionRefused(code, action=action, state=str(ticket.state)) from exc


async def contacts_for(uow: UnitOfWork, config: CommunityConfig,
                       keys: Iterable[str | None]) -> dict[str, Contact]:
    """Contacts (:func:`services.recipients.contacts`) of the given person keys plus the
    supervisors."""
    wanted = [k for k in dict.fromkeys([*keys, *(p.key for p in config.supervisors())]) if k]
    return await contacts(uow, config, wanted)


@dataclass(frozen=True, slots=True)
class Emission:
    """One event to log and render, with its rendering context inputs."""

    ticket: Ticket
    event: TicketEvent
    actor: Actor
    master: Ticket | None = None
    card_thread_id: int | None = None


async def emit_many(uow: UnitOfWork, deps: Deps, now: datetime,
                    items: Sequence[Emission], extra_keys: Iterable[str] = ()
                    ) -> list[OutgoingMessage]:
    """Append every event to the log (one statement) and queue every presenter message
    (one statement), in the caller's transaction — a failing presenter rolls it all back."""
    if not items:
        return []
    await uow.events.append_many([(e.ticket.id or 0, e.event) for e in items])
    keys: list[str | None] = list(extra_keys)
    for e in items:
        keys += [e.ticket.assignee, *e.ticket.escalated_to]
        decision = getattr(e.event, "decision", None)
        if decision is not None:
            keys += list(decision.also_notify)
    contacts = await contacts_for(uow, deps.config, keys)
    messages: list[OutgoingMessage] = []
    for e in items:
        ctx = RenderContext(deps.config, e.actor, now, contacts, e.master, e.card_thread_id)
        messages.extend(deps.presenter.render(e.event, e.ticket, ctx))
    if messages:
        await uow.outbox.add_many(messages, now)
    return messages


async def emit(
    uow: UnitOfWork,
    deps: Deps,
    actor: Actor,
    now: datetime,
    items: Sequence[tuple[Ticket, TicketEvent]],
    *,
    master: Ticket | None = None,
    card_thread_id: int | None = None,
) -> list[OutgoingMessage]:
    """:func:`emit_many` for events sharing one actor (the common case of an action).
    ``card_thread_id`` is the forum thread bound to the ticket's chat (see
    :func:`card_thread`)."""
    return await emit_many(uow, deps, now, [
        Emission(t, e, actor, master, card_thread_id) for t, e in items])


async def card_thread(uow: UnitOfWork, ticket: Ticket) -> int | None:
    """The forum thread bound (by /bind) to the ticket's source chat, if any."""
    binding = await uow.chats.get(ticket.source_chat_id)
    return binding.thread_id if binding else None
