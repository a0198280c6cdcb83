"""Priority: a single integer to sort open tickets by (higher first)."""

from __future__ import annotations

from datetime import datetime

from tickets.model import Ticket, TicketState

URGENCY_WEIGHT: dict[str, int] = {"emergency": 1000, "urgent": 300, "normal": 100}
SUPPORTER_WEIGHT = 10  # each 附议 adds this much …
SUPPORTER_CAP = 30  # … up to this many supporters, so a burst cannot swamp urgency
ESCALATION_WEIGHT = 150
OVERDUE_WEIGHT = 200
REOPEN_WEIGHT = 50


def priority_of(
    *,
    urgency: str,
    supporters: int,
    escalation_level: int = 0,
    reopen_count: int = 0,
    overdue: bool = False,
) -> int:
    """Score a ticket: urgency first, then supporters (capped), escalation, reopenings,
    and a bump when a deadline has passed."""
    score = URGENCY_WEIGHT.get(urgency, URGENCY_WEIGHT["normal"])
    score += SUPPORTER_WEIGHT * min(max(supporters, 0), SUPPORTER_CAP)
    score += ESCALATION_WEIGHT * max(escalation_level, 0)
    score += REOPEN_WEIGHT * max(reopen_count, 0)
    if overdue:
        score += OVERDUE_WEIGHT
    return score


def is_overdue(
    now: datetime,
    *,
    accepted: bool,
    resolved: bool,
    accept_due: datetime | None,
    resolve_due: datetime | None,
) -> bool:
    """True when the accept deadline passed unaccepted or the resolve deadline unresolved."""
    if not accepted and accept_due is not None and accept_due < now:
        return True
    return not resolved and resolve_due is not None and resolve_due < now


def ticket_overdue(ticket: Ticket, now: datetime) -> bool:
    """An open ticket past its accept deadline while still waiting to be accepted, or past
    its resolve deadline (the console's list, detail page and exports agree on this)."""
    if not ticket.is_open:
        return False
    waiting = ticket.state in (TicketState.NEW, TicketState.ASSIGNED)
    return is_overdue(now, accepted=not waiting, resolved=False,
                      accept_due=ticket.accept_due, resolve_due=ticket.resolve_due)
