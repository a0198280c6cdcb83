"""Helpers every handler uses: who is acting, which grid a chat is, replies via the outbox.

Replies go through the durable outbox like everything else, keyed by the update id, so
an update replayed after a crash cannot answer twice.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram import Chat, Message, Update, User

from community import Role
from handlers.context import GridContext, Services
from services import queries, resolve_actor
from services.common import request_key
from services.outgoing import queue_messages
from tickets.errors import NotPermitted, TicketNotFound, TransitionRefused
from tickets.model import Actor, Ticket
from tickets.outgoing import Button, OutgoingMessage
from ui import texts

GROUP_TYPES = (Chat.GROUP, Chat.SUPERGROUP)
_NUMBER_RE = re.compile(r"^#?(\d{4})-(\d{1,6})$")
_SHORT_RE = re.compile(r"^#?(\d{1,6})$")


def is_group(chat: Chat | None) -> bool:
    return chat is not None and chat.type in GROUP_TYPES


def display_name(user: User) -> str:
    return user.full_name or user.username or str(user.id)


async def actor_of(services: Services, user: User) -> Actor:
    return await resolve_actor(services.db, services.config, user.id, username=user.username,
                               name=display_name(user))


async def grid_of_chat(services: Services, chat_id: int) -> str | None:
    """A /bind binding wins over the config's ``chats`` list."""
    return await queries.grid_of_chat(services.db, services.config, chat_id)


class BadTicketRef(ValueError):
    """The text given is not a ticket number."""


def example_number(services: Services) -> str:
    now = services.clock.now().astimezone(services.tz)
    return f"{now:%y%m}-0001"


def parse_ticket_ref(text: str, services: Services) -> str:
    """"2611-0042", "#2611-0042" or just "42" (this month's ticket 42) → "2611-0042"."""
    clean = unicodedata.normalize("NFKC", text).strip()
    if match := _NUMBER_RE.match(clean):
        return f"{match.group(1)}-{int(match.group(2)):04d}"
    if match := _SHORT_RE.match(clean):
        now = services.clock.now().astimezone(services.tz)
        return f"{now:%y%m}-{int(match.group(1)):04d}"
    raise BadTicketRef(text)


@dataclass(frozen=True, slots=True)
class Incoming:
    """The parts of an update a handler needs, checked once."""

    update: Update
    message: Message
    chat: Chat
    user: User

    @property
    def thread_id(self) -> int | None:
        return self.message.message_thread_id if self.message.is_topic_message else None

    @property
    def request_key(self) -> str:
        return f"u{self.update.update_id}"


def incoming(update: Update) -> Incoming | None:
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or user is None:
        return None
    return Incoming(update, message, chat, user)


def reply_message(
    inc: Incoming, text: str, *, buttons: tuple[tuple[Button, ...], ...] = (),
    html: bool = False, suffix: str = "reply", quote: bool = True,
) -> OutgoingMessage:
    return OutgoingMessage(
        chat_id=inc.chat.id,
        text=text,
        reply_to_message_id=inc.message.message_id if quote else None,
        thread_id=inc.thread_id,
        buttons=buttons,
        parse_mode="HTML" if html else None,
        dedupe_key=f"{inc.request_key}:{suffix}",
        kind="reply",
    )


async def enqueue(services: Services, *messages: OutgoingMessage) -> None:
    """Queue messages durably and wake the sender."""
    if not messages:
        return
    await queue_messages(services.db, list(messages))
    services.dispatcher.wake()


async def reply(services: Services, inc: Incoming, text: str, **kwargs: object) -> None:
    await enqueue(services, reply_message(inc, text, **kwargs))  # type: ignore[arg-type]


def refusal_text(error: Exception, services: Services) -> str:
    """The Chinese sentence for a refused action."""
    if isinstance(error, TransitionRefused | NotPermitted):
        return texts.refusal(error.code)
    if isinstance(error, TicketNotFound):
        return texts.TICKET_NOT_FOUND.format(ref=error.ref)
    if isinstance(error, BadTicketRef):
        return texts.BAD_TICKET_NUMBER.format(given=str(error), example=example_number(services))
    raise error


async def attempt(
    services: Services, inc: Incoming, action: Callable[[], Awaitable[Ticket]],
) -> Ticket | None:
    """Run a use case; a refusal is answered in the chat and gives None."""
    try:
        ticket = await action()
    except (TransitionRefused, NotPermitted, TicketNotFound, BadTicketRef) as error:
        await reply(services, inc, refusal_text(error, services))
        return None
    services.dispatcher.wake()
    return ticket


def now_local(services: Services) -> datetime:
    return services.clock.now().astimezone(services.tz)


CommandBody = Callable[[Services, "Incoming", Actor, list[str]], Awaitable[None]]
Handler = Callable[[Update, GridContext], Coroutine[Any, Any, None]]


def anyone(actor: Actor) -> bool:
    return True


def staff(actor: Actor) -> bool:
    return actor.is_staff


def supervisor(actor: Actor) -> bool:
    return actor.is_supervisor


def admin(actor: Actor) -> bool:
    return actor.person is not None and actor.person.has(Role.ADMIN)


def command(allowed: Callable[[Actor], bool] = anyone, refusal: str = texts.STAFF_ONLY,
            ) -> Callable[[CommandBody], Handler]:
    """Make a command body a PTB callback: it receives the services, the checked update,
    the acting person and the arguments, and runs only if ``allowed(actor)``; otherwise
    the user gets ``refusal``."""
    def wrap(body: CommandBody) -> Handler:
        @functools.wraps(body)
        async def handler(update: Update, context: GridContext) -> None:
            inc = incoming(update)
            if inc is None:
                return
            services = context.services
            actor = await actor_of(services, inc.user)
            if not allowed(actor):
                await reply(services, inc, refusal)
                return
            with request_key(inc.request_key):  # a replayed update repeats no action
                await body(services, inc, actor, list(context.args or []))
        return handler
    return wrap
