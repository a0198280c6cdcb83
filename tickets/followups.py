"""What a message said in a ticket's context does to the ticket (pure rules).

``nlp.followup`` says what kind of message it is; this module says what follows for the
ticket, given its state and who wrote. The use case in ``services/followups.py`` carries
the decision out in one transaction.

| kind              | writer     | ticket open        | resolved / closed                     |
|-------------------|------------|--------------------|---------------------------------------|
| addition          | anyone     | add detail         | add detail (resolved) / read anew     |
| not fixed         | reporter   | answer progress    | reopen in the window, else follow-up  |
| not fixed         | other      | support (附议)      | follow-up ticket                       |
| me too            | other      | support (附议)      | follow-up ticket                       |
| progress question | anyone     | answer progress    | answer progress                        |
| thanks / chatter  | anyone     | nothing            | nothing                                |

A cancelled ticket has no context any more: the message is read as if alone. A "follow-
up ticket" is a new ticket linked to the old one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from tickets.model import Actor, Location, Ticket, TicketState


class Reply(StrEnum):
    """Kinds of a message in a ticket's context (mirrors ``nlp.followup.FollowupKind``)."""

    ADDITION = "addition"
    NOT_FIXED = "not_fixed"
    PROGRESS_QUESTION = "progress_question"
    ME_TOO = "me_too"
    THANKS = "thanks"
    CHATTER = "chatter"


class Outcome(StrEnum):
    ADD_DETAIL = "add_detail"
    REOPEN = "reopen"
    FOLLOW_UP = "follow_up"  # a new ticket linked to the old one
    SUPPORT = "support"
    ANSWER_PROGRESS = "answer_progress"
    IGNORE = "ignore"
    READ_ALONE = "read_alone"  # no ticket context: read the message as a new one


_DONE = (TicketState.RESOLVED, TicketState.CLOSED)


def within_reopen_window(ticket: Ticket, now: datetime, window: timedelta) -> bool:
    since = ticket.resolved_at or ticket.closed_at or ticket.created_at
    return now - since <= window


def decide(kind: Reply, ticket: Ticket, actor: Actor, now: datetime, *,
           reopen_window: timedelta, category: str | None = None) -> Outcome:
    """The outcome of a ``kind`` message by ``actor`` in ``ticket``'s context.
    ``category`` is the message's own category when it reads as a report: an "addition"
    naming another kind of problem is a new report, not more about this one."""
    state = ticket.state
    if state in (TicketState.CANCELLED, TicketState.MERGED):
        return Outcome.READ_ALONE
    if (kind is Reply.ADDITION and category not in (None, "other", ticket.category)):
        return Outcome.READ_ALONE
    is_reporter = actor.is_reporter_of(ticket)
    if kind is Reply.PROGRESS_QUESTION:
        return Outcome.ANSWER_PROGRESS
    if kind is Reply.ADDITION:
        if ticket.is_open or state is TicketState.RESOLVED:
            return Outcome.ADD_DETAIL
        return Outcome.READ_ALONE
    if kind in (Reply.NOT_FIXED, Reply.ME_TOO):
        if is_reporter:
            if state in _DONE and kind is Reply.NOT_FIXED:
                if within_reopen_window(ticket, now, reopen_window) or actor.is_supervisor:
                    return Outcome.REOPEN
                return Outcome.FOLLOW_UP
            return Outcome.ANSWER_PROGRESS if kind is Reply.NOT_FIXED else Outcome.IGNORE
        if ticket.is_open:
            return Outcome.SUPPORT
        return Outcome.FOLLOW_UP
    return Outcome.IGNORE


_FIELDS = ("compound", "building", "unit", "room", "floor", "street")


def _flat(loc: Location) -> Location:
    """A street stands where a compound would (tickets keep either as the compound)."""
    if loc.street and not loc.compound:
        return Location(loc.street, loc.building, loc.unit, loc.room, loc.floor)
    return Location(loc.compound, loc.building, loc.unit, loc.room, loc.floor)


def _conflicts(a: Location, b: Location) -> bool:
    """Two places that name different values for the same field."""
    return any(getattr(a, f) and getattr(b, f) and getattr(a, f) != getattr(b, f)
               for f in ("compound", "building", "unit", "room"))


def fills_gaps(have: Location, said: Location) -> bool:
    """``said`` adds something to ``have`` without contradicting it."""
    have, said = _flat(have), _flat(said)
    if _conflicts(have, said):
        return False
    return any(getattr(said, f) and not getattr(have, f) for f in _FIELDS)


def merge_places(place: Location, parts: list[Location]) -> tuple[Location, list[int]]:
    """The report's ``place`` completed by earlier fragments (newest first wins a field),
    and the indexes of the fragments used. A fragment contradicting the place (another
    building) is not part of this report and is left out."""
    merged = place
    used: list[int] = []
    for index in reversed(range(len(parts))):
        part = _flat(parts[index])
        if not fills_gaps(merged, part):
            continue
        merged = Location(**{f: getattr(merged, f) or getattr(part, f) for f in _FIELDS})
        used.append(index)
    return merged, sorted(used)
