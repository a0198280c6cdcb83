"""Inline-button payloads: built and parsed in this one place.

Telegram allows 64 bytes of callback data. A payload is ``<kind>:<verb>:<id>``:

- ``t:<action>:<ticket id>``  a worker action on a ticket (accept, progress, done, ...)
- ``r:<score>:<ticket id>``   the reporter's rating, 1 (满意) to 4 (没解决)
- ``q:<yes|no>:<prompt id>``  the answer to "shall I register this as a ticket?"
- ``x:<person key>:<ticket id>``  transfer to a configured person (picked from a list)
- ``c:<category slug>:<ticket id>``  改分类: the category picked from the community's list
- ``v:<reg|no|c.category>:<voice id>``  a worker's answer about a resident's voice message
- ``w:login:1``               staff: send me a login link to the console (网格工作台)

Anything else, or forged numbers, parse to ``None``; the handler then refuses politely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class TicketAction(StrEnum):
    ACCEPT = "acc"
    PROGRESS = "prg"
    DONE = "done"
    TRANSFER = "xfer"
    RETURN = "ret"  # 退回: not mine / not a report
    ESCALATE = "esc"
    RETURN_CONFIRM = "retok"  # the second tap that really returns it
    BACK = "back"  # restore the action buttons
    RECATEGORISE = "cat"  # 改分类: show the community's categories


RATING_SCORES = (1, 2, 3, 4)  # 满意, 基本满意, 不满意, 没解决


@dataclass(frozen=True, slots=True)
class TicketButton:
    action: TicketAction
    ticket_id: int


@dataclass(frozen=True, slots=True)
class RatingButton:
    score: int
    ticket_id: int


@dataclass(frozen=True, slots=True)
class PromptButton:
    register: bool
    prompt_id: int


@dataclass(frozen=True, slots=True)
class TransferButton:
    person_key: str
    ticket_id: int


@dataclass(frozen=True, slots=True)
class CategoryButton:
    slug: str
    ticket_id: int


@dataclass(frozen=True, slots=True)
class VoiceButton:
    """``register`` (登记为工单), ``dismiss`` (不是诉求), or a picked ``category``."""

    voice_id: int
    register: bool = False
    dismiss: bool = False
    category: str | None = None


@dataclass(frozen=True, slots=True)
class WebButton:
    """The 工作台 button under the staff help: send a console login link."""


CallbackPayload = (TicketButton | RatingButton | PromptButton | TransferButton | CategoryButton
                   | VoiceButton | WebButton)
WEB_LOGIN = "w:login:1"


def ticket_button(action: TicketAction, ticket_id: int) -> str:
    return f"t:{action.value}:{ticket_id}"


def rating_button(score: int, ticket_id: int) -> str:
    return f"r:{score}:{ticket_id}"


def prompt_button(register: bool, prompt_id: int) -> str:
    return f"q:{'yes' if register else 'no'}:{prompt_id}"


def transfer_button(person_key: str, ticket_id: int) -> str | None:
    """None when the person's key is too long to fit in callback data."""
    data = f"x:{person_key}:{ticket_id}"
    return data if len(data.encode()) <= 64 and ":" not in person_key else None


def category_button(slug: str, ticket_id: int) -> str | None:
    """None when the slug is not a plain ASCII slug that fits in callback data."""
    return f"c:{slug}:{ticket_id}" if _SLUG.fullmatch(slug) else None
def voice_button(voice_id: int, verb: str) -> str:
    """``verb``: "reg", "no", or "c.<category slug>"."""
    return f"v:{verb}:{voice_id}"


_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _positive_int(text: str) -> int | None:
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        return None
    value = int(text)
    return value if value > 0 else None


def parse_callback(data: str | None) -> CallbackPayload | None:
    """Parse a payload made by the builders above; ``None`` for anything else."""
    if not data or len(data.encode("utf-8", "surrogatepass")) > 64:
        return None
    parts = data.split(":")
    if len(parts) != 3:
        return None
    kind, verb, number = parts
    ident = _positive_int(number)
    if ident is None:
        return None
    if kind == "t":
        try:
            return TicketButton(TicketAction(verb), ident)
        except ValueError:
            return None
    if kind == "r" and verb.isascii() and verb.isdigit() and int(verb) in RATING_SCORES:
        return RatingButton(int(verb), ident)
    if kind == "q" and verb in ("yes", "no"):
        return PromptButton(verb == "yes", ident)
    if kind == "c" and _SLUG.fullmatch(verb):
        return CategoryButton(verb, ident)
    if kind == "w" and verb == "login" and ident == 1:
        return WebButton()
    if kind == "x" and verb.strip():
        return TransferButton(verb, ident)
    if kind == "v":
        if verb in ("reg", "no"):
            return VoiceButton(ident, register=verb == "reg", dismiss=verb == "no")
        if verb.startswith("c.") and _SLUG.match(verb[2:]):
            return VoiceButton(ident, category=verb[2:])
    return None
