"""Inline-button payloads: built and parsed in this one place.

Telegram allows 64 bytes of callback data. A payload is ``<kind>:<verb>:<id>``:

- ``t:<action>:<ticket id>``  a worker action on a ticket (accept, progress, done, ...)
- ``r:<score>:<ticket id>``   the reporter's rating, 1 (满意) to 4 (没解决)
- ``q:<yes|no>:<prompt id>``  the answer to "shall I register this as a ticket?"
- ``x:<person key>:<ticket id>``  transfer to a configured person (picked from a list)
- ``w:login:1``               staff: send me a login link to the console (网格工作台)

Anything else, or forged numbers, parse to ``None``; the handler then refuses politely.
"""

from __future__ import annotations

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
class WebButton:
    """The 工作台 button under the staff help: send a console login link."""


CallbackPayload = TicketButton | RatingButton | PromptButton | TransferButton | WebButton
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
    if kind == "w" and verb == "login" and ident == 1:
        return WebButton()
    if kind == "x" and verb.strip():
        return TransferButton(verb, ident)
    return None
