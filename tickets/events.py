"""Domain events: what happened to a ticket, with enough data to write good messages.

Every transition produces at least one event; the service appends each one to the event
log and asks the presenter to turn it into outgoing messages.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from tickets.model import TicketState
from tickets.routing import RoutingDecision


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketEvent:
    """Common part of all events: when, who, the state change and a free-text note."""

    action: ClassVar[str] = "event"
    at: datetime
    actor_id: int | None
    actor_key: str | None
    from_state: TicketState | None
    to_state: TicketState
    note: str | None = None

    def data(self) -> dict[str, Any]:
        """The event-specific fields (everything beyond the common part), JSON-ready."""
        base = {f.name for f in dataclasses.fields(TicketEvent)}
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name in base:
                continue
            out[f.name] = _jsonable(getattr(self, f.name))
        return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, RoutingDecision):
        return {
            "grid": value.grid,
            "assignee": value.assignee,
            "also_notify": list(value.also_notify),
            "reason": str(value.reason),
            "grid_source": str(value.grid_source),
            "detail": value.detail,
        }
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketCreated(TicketEvent):
    action: ClassVar[str] = "create"
    decision: RoutingDecision
    accept_due: datetime | None
    resolve_due: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SupporterJoined(TicketEvent):
    """A resident reported the same problem (附议)."""

    action: ClassVar[str] = "support"
    user_id: int
    user_name: str
    supporters_count: int
    source_chat_id: int
    source_message_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Assigned(TicketEvent):
    action: ClassVar[str] = "assign"
    assignee: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Accepted(TicketEvent):
    action: ClassVar[str] = "accept"
    assignee: str
    previous_assignee: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Progressed(TicketEvent):
    action: ClassVar[str] = "progress"
    first: bool  # the first note moves accepted → in_progress


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolved(TicketEvent):
    action: ClassVar[str] = "resolve"


@dataclass(frozen=True, slots=True, kw_only=True)
class Closed(TicketEvent):
    action: ClassVar[str] = "close"
    rated: bool
    score: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reopened(TicketEvent):
    action: ClassVar[str] = "reopen"
    reason: str  # "reporter" | "low_rating" | "supervisor"
    accept_due: datetime | None
    resolve_due: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Transferred(TicketEvent):
    action: ClassVar[str] = "transfer"
    from_assignee: str | None
    to_assignee: str | None
    from_grid: str | None
    to_grid: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Escalated(TicketEvent):
    action: ClassVar[str] = "escalate"
    reason: str
    level: int
    escalated_to: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejected(TicketEvent):
    """A worker says it is not a report; a correction row goes to the NLP team."""

    action: ClassVar[str] = "reject"
    predicted_category: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancelled(TicketEvent):
    action: ClassVar[str] = "cancel"


@dataclass(frozen=True, slots=True, kw_only=True)
class Merged(TicketEvent):
    """This ticket became a duplicate of ``master_id``."""

    action: ClassVar[str] = "merge"
    master_id: int
    master_number: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeReceived(TicketEvent):
    """A duplicate was merged into this (master) ticket."""

    action: ClassVar[str] = "merge_in"
    duplicate_id: int
    duplicate_number: str | None
    supporters_count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Split(TicketEvent):
    """A merged ticket was separated from its master again."""

    action: ClassVar[str] = "split"
    former_master_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitOff(TicketEvent):
    """A duplicate (or a supporter, who got their own ticket) left this master ticket."""

    action: ClassVar[str] = "split_off"
    other_id: int
    supporters_count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Rated(TicketEvent):
    action: ClassVar[str] = "rate"
    score: int
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PhotoAttached(TicketEvent):
    action: ClassVar[str] = "photo"
    file_id: str
    photos_count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportEdited(TicketEvent):
    action: ClassVar[str] = "edit"
    old_text: str
    old_category: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Recategorized(TicketEvent):
    """Staff corrected the category the parser chose (改分类); assignee and deadlines stay."""

    action: ClassVar[str] = "recategorize"
    old_category: str
    new_category: str


EVENT_TYPES: dict[str, type[TicketEvent]] = {
    cls.action: cls
    for cls in (
        TicketCreated, SupporterJoined, Assigned, Accepted, Progressed, Resolved, Closed,
        Reopened, Transferred, Escalated, Rejected, Cancelled, Merged, MergeReceived, Split,
        SplitOff, Rated, PhotoAttached, ReportEdited, Recategorized,
    )
}
