"""Who is looking at the console: a configured staff member, rebuilt from the current
config at every request.

Visibility is the bot's own rule (:func:`tickets.lifecycle.can_view`): a viewer sees a
ticket when they are a supervisor/admin, or it is in one of their ``grids`` (as a grid
worker), or its category is one of their ``categories`` (as a specialist), or they are
its assignee or one of its escalation targets (``person_key``), or they reported it
(``telegram_id``). List queries express the same rule in SQL with these fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from community.deployment_model import StreetPerson
from community.model import CommunityConfig, Person, Role
from tickets.lifecycle import can_view
from tickets.model import Actor, Ticket


@dataclass(frozen=True)
class Viewer:
    person_key: str  # the config person's key, as in tickets.assignee / escalated_to
    name: str
    telegram_id: int
    is_supervisor: bool  # supervisor or admin: sees everything
    grids: frozenset[str]  # grids they work in as a grid worker
    categories: frozenset[str]  # categories they handle as a specialist
    person: Person = field(compare=False, repr=False)
    street: bool = False  # of the street office: sees every community of the deployment

    @classmethod
    def of(cls, person: Person, telegram_id: int) -> Viewer:
        return cls(
            person_key=person.key,
            name=person.key,
            telegram_id=telegram_id,
            is_supervisor=person.can_supervise,
            grids=frozenset(person.grids) if person.has(Role.WORKER) else frozenset(),
            categories=(frozenset(person.categories) if person.has(Role.SPECIALIST)
                        else frozenset()),
            person=person,
        )

    @property
    def actor(self) -> Actor:
        """The viewer as the actor of a use case (same rights as in the chat)."""
        return Actor(user_id=self.telegram_id, person=self.person, name=self.name)

    @property
    def is_admin(self) -> bool:
        return self.person.has(Role.ADMIN)

    def can_see(self, ticket: Ticket) -> bool:
        return can_view(self.actor, ticket)

    def may_see_personal(self, ticket: Ticket) -> bool:
        """Phone numbers and rooms unmasked? As in the bot's private briefs: supervisors,
        the assignee, escalation targets and the grid's workers; a specialist who merely
        shares the category (a property company, the police) sees them masked until the
        ticket is theirs."""
        return self.personal_for(ticket.grid, ticket.assignee, ticket.escalated_to)

    def personal_for(self, grid: str | None, assignee: str | None,
                     escalated_to: tuple[str, ...] | frozenset[str] = ()) -> bool:
        """:meth:`may_see_personal` from the three columns (for list rows and exports)."""
        return (self.is_supervisor or assignee == self.person_key
                or self.person_key in escalated_to or (grid is not None and grid in self.grids))


def street_viewer(staff: tuple[StreetPerson, ...], telegram_id: int) -> Viewer | None:
    """A street office member in a community's console: the rights of its secretary
    (sees and may act on every ticket), under a key no community person has."""
    member = next((p for p in staff if p.telegram_id == telegram_id), None)
    if member is None:
        return None
    person = Person(key=f"{member.name}(街道)", telegram_id=telegram_id,
                    roles=frozenset({Role.SUPERVISOR}))
    return replace(Viewer.of(person, telegram_id), name=member.name, street=True)


def viewer_for(config: CommunityConfig, telegram_id: int,
               registered_key: str | None = None) -> Viewer | None:
    """The staff viewer for a Telegram user under ``config``, or None (residents, people
    removed from the config). ``registered_key`` is the person a username-only entry
    registered as (people table), as the bot resolves actors."""
    person = config.person_by_telegram(telegram_id)
    if person is None and registered_key:
        candidate = config.person(registered_key)
        if candidate is not None and candidate.telegram_id is None:
            person = candidate
    if person is None or not person.is_staff:
        return None
    return Viewer.of(person, telegram_id)


