"""Refusals raised by the ticket rules and the use cases.

Each refusal carries a :class:`RefusalCode`; the Chinese sentence shown to users is chosen
by the ``ui`` layer from the code, never here.
"""

from __future__ import annotations

from enum import StrEnum


class RefusalCode(StrEnum):
    """Why an action was refused (English codes; ``ui`` maps them to sentences)."""

    WRONG_STATE = "wrong_state"  # the action is not possible from the ticket's current state
    ALREADY_CLOSED = "already_closed"  # the ticket is closed/cancelled/merged (final)
    ALREADY_ACCEPTED = "already_accepted"  # someone accepted it first (accept race lost)
    RESIDENT_CANNOT_ACCEPT = "resident_cannot_accept"  # only staff may accept a ticket
    NOT_STAFF = "not_staff"  # the action is for configured staff only
    NOT_ASSIGNEE = "not_assignee"  # only the assignee (or a supervisor) may do this
    NOT_REPORTER = "not_reporter"  # only the resident who reported it may do this
    NOT_YOUR_GRID = "not_your_grid"  # a worker of another grid
    NOT_YOUR_CATEGORY = "not_your_category"  # a specialist outside their categories
    SUPERVISOR_ONLY = "supervisor_only"  # reserved to supervisors/admins
    REOPEN_WINDOW_EXPIRED = "reopen_window_expired"  # reporter asked too late to reopen
    INVALID_RATING = "invalid_rating"  # rating outside 1..4
    SAME_TARGET = "same_target"  # transfer/merge to where the ticket already is
    UNKNOWN_TARGET = "unknown_target"  # transfer to a person/grid not in the config
    MASTER_NOT_OPEN = "master_not_open"  # merge into a ticket that is not open
    NOT_MERGED = "not_merged"  # split of a ticket that is not merged
    NOT_A_SUPPORTER = "not_a_supporter"  # split of a user who does not support the ticket
    STALE = "stale"  # the ticket changed under us (optimistic version check lost)


class TicketError(Exception):
    """Base class of all ticket refusals."""


class TransitionRefused(TicketError):
    """An action is illegal for this ticket and actor.

    ``code`` says why; ``action`` and ``state`` say what was attempted from where.
    """

    def __init__(
        self, code: RefusalCode, *, action: str = "", state: str = "", detail: str = ""
    ) -> None:
        self.code = code
        self.action = action
        self.state = state
        self.detail = detail
        super().__init__(f"{action or '?'} refused from {state or '?'}: {code}. {detail}".strip())


class NotPermitted(TicketError):
    """A use case refused outside the state machine (bad target, unknown person, …)."""

    def __init__(self, code: RefusalCode, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else str(code))


class TicketNotFound(TicketError):
    """No ticket with this id or number."""

    def __init__(self, ref: int | str) -> None:
        self.ref = ref
        super().__init__(f"ticket {ref!r} not found")
