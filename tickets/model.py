"""The ticket aggregate and the inputs the rules need, as plain data.

No I/O here: storage maps these to rows, services load/modify/save them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from community.model import CommunityConfig, Person, Role


class TicketState(StrEnum):
    NEW = "new"  # recorded, nobody assigned yet (routing found no one)
    ASSIGNED = "assigned"  # routed to an assignee who has not accepted yet
    ACCEPTED = "accepted"  # the assignee claimed it (接单)
    IN_PROGRESS = "in_progress"  # at least one progress note since acceptance
    RESOLVED = "resolved"  # the worker says it is fixed; waits for the resident's rating
    CLOSED = "closed"  # rated, or the follow-up window expired (final unless reopened)
    CANCELLED = "cancelled"  # withdrawn by the reporter or rejected as not-a-report (final)
    MERGED = "merged"  # a duplicate pointing at its master (final unless split)


#: States in which work is still owed by staff.
OPEN_STATES: frozenset[TicketState] = frozenset(
    {TicketState.NEW, TicketState.ASSIGNED, TicketState.ACCEPTED, TicketState.IN_PROGRESS}
)
#: States that end the loop.
FINAL_STATES: frozenset[TicketState] = frozenset(
    {TicketState.CLOSED, TicketState.CANCELLED, TicketState.MERGED}
)

RATING_LABELS: dict[int, str] = {1: "满意", 2: "基本满意", 3: "不满意", 4: "没解决"}
#: Ratings that reopen the ticket instead of closing it.
LOW_RATINGS: frozenset[int] = frozenset({3, 4})


@dataclass(frozen=True, slots=True)
class Location:
    """Where a report is, as far as the parser could tell (all parts optional)."""

    compound: str | None = None
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    floor: str | None = None
    street: str | None = None

    @property
    def is_empty(self) -> bool:
        """Names no place (a floor alone places nothing)."""
        return not (self.compound or self.building or self.unit or self.room or self.street)


@dataclass(frozen=True, slots=True)
class ReportInput:
    """What the ticket rules need from a parsed message (built from nlp's ParseResult).

    ``parse_json`` is the parser's full result, stored verbatim for audits and corrections.
    """

    text: str
    category: str
    urgency: str = "normal"  # "emergency" | "urgent" | "normal"
    location: Location = Location()
    keywords: tuple[str, ...] = ()
    duplicate_key: str = ""
    parse_json: str = "{}"
    confidence: float = 1.0


@dataclass(slots=True)
class Ticket:
    """A reported problem followed through the closed loop. Mutated only by ``lifecycle``."""

    source_chat_id: int
    source_message_id: int
    reporter_id: int
    reporter_name: str
    text: str
    category: str
    urgency: str
    created_at: datetime
    state: TicketState = TicketState.NEW
    id: int | None = None
    number: str | None = None
    source_thread_id: int | None = None
    parse_json: str = "{}"
    compound: str | None = None
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    floor: str | None = None
    keywords: tuple[str, ...] = ()
    duplicate_key: str = ""
    grid: str | None = None
    assignee: str | None = None
    routing_reason: str = ""
    escalation_level: int = 0
    escalated_to: tuple[str, ...] = ()
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    accept_due: datetime | None = None
    resolve_due: datetime | None = None
    supporters_count: int = 0
    photos_count: int = 0
    rating: int | None = None
    reopen_count: int = 0
    priority: int = 0
    card_chat_id: int | None = None
    card_message_id: int | None = None
    merged_into: int | None = None
    version: int = 0
    purged: bool = False

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def location(self) -> Location:
        return Location(self.compound, self.building, self.unit, self.room, self.floor)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who performs an action: a Telegram user, maybe a configured person, or the system.

    Capabilities are derived from the configured :class:`Person` (residents have none).
    """

    user_id: int | None
    person: Person | None = None
    name: str | None = None
    is_system: bool = False

    @classmethod
    def system(cls) -> Actor:
        """The bot itself (routing, scheduler, follow-up expiry)."""
        return cls(user_id=None, name="system", is_system=True)

    @classmethod
    def resolve(
        cls,
        config: CommunityConfig,
        user_id: int,
        *,
        username: str | None = None,
        name: str | None = None,
        registered_key: str | None = None,
    ) -> Actor:
        """Build an actor from a Telegram user: config by id/username, else a registration."""
        person = config.person_by_telegram(user_id, username)
        if person is None and registered_key:
            person = config.person(registered_key)
        return cls(user_id=user_id, person=person, name=name)

    @property
    def key(self) -> str | None:
        """The configured person key, or None for residents and the system."""
        return self.person.key if self.person else None

    @property
    def is_staff(self) -> bool:
        return self.person is not None and self.person.is_staff

    @property
    def is_supervisor(self) -> bool:
        return self.person is not None and self.person.can_supervise

    def is_worker_of(self, grid: str | None) -> bool:
        """A grid worker (or the grid's backup) of ``grid``."""
        p = self.person
        return bool(p and grid and p.has(Role.WORKER) and grid in p.grids)

    def is_specialist_for(self, category: str) -> bool:
        p = self.person
        return bool(p and p.has(Role.SPECIALIST) and category in p.categories)

    def is_assignee_of(self, ticket: Ticket) -> bool:
        return self.key is not None and self.key == ticket.assignee

    def is_reporter_of(self, ticket: Ticket) -> bool:
        return self.user_id is not None and self.user_id == ticket.reporter_id
