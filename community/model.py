"""Typed, validated view of a community's configuration (``community.toml``).

Everything here is immutable plain data: the ticket rules, the scheduler and the
handlers receive a :class:`CommunityConfig` and never read the environment or files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta
from enum import StrEnum

from community.conversations import ConversationSettings


class Role(StrEnum):
    """What a configured person may do. Residents are everyone not configured."""

    WORKER = "worker"  # grid worker (网格员): handles the grid's tickets
    SUPERVISOR = "supervisor"  # community secretary / director (书记/主任): escalations, digests
    ADMIN = "admin"  # deploys and binds chats; may do everything a supervisor does
    SPECIALIST = "specialist"  # police officer, property company, utility contact: some categories


@dataclass(frozen=True, slots=True)
class Area:
    """A compound, or a set of its buildings, that belongs to a grid.

    ``buildings`` is empty when the whole compound belongs to the grid. ``compound`` is
    ``None`` for buildings named without a compound (one-compound communities), and may be
    a street name for street-named buildings ("临江路" for "临江路4幢").
    """

    compound: str | None
    buildings: frozenset[str] = frozenset()

    def covers(self, compound: str | None, building: str | None) -> bool:
        """True when a location with this compound/building falls inside the area."""
        if compound is not None and self.compound is not None and compound != self.compound:
            return False
        if compound is None and self.compound is not None and not self.buildings:
            return False  # a bare building number cannot be placed in a whole-compound area
        if self.buildings:
            return building is not None and building in self.buildings
        return compound is not None


@dataclass(frozen=True, slots=True)
class Grid:
    """A grid (网格): its areas, group chats, workers and digest schedule."""

    name: str
    areas: tuple[Area, ...] = ()
    chats: tuple[int, ...] = ()
    workers: tuple[str, ...] = ()  # person keys, primary first
    backup: str | None = None  # person key of the backup worker (emergencies, absences)
    digest: str | None = None  # schedule expression; None = the community default

    def covers(self, compound: str | None, building: str | None) -> bool:
        return any(area.covers(compound, building) for area in self.areas)

    @property
    def compounds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.compound for a in self.areas if a.compound))


@dataclass(frozen=True, slots=True)
class Person:
    """A configured person. ``key`` is the display name, unique in the config."""

    key: str
    telegram_id: int | None = None
    username: str | None = None  # without the leading "@"
    roles: frozenset[Role] = frozenset()
    grids: tuple[str, ...] = ()  # grid names (workers and grid-scoped specialists)
    categories: tuple[str, ...] = ()  # category slugs (specialists)
    compounds: tuple[str, ...] = ()  # compounds a specialist serves (e.g. a property company)
    phone: str | None = None

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def is_staff(self) -> bool:
        return bool(self.roles)

    @property
    def can_supervise(self) -> bool:
        return Role.SUPERVISOR in self.roles or Role.ADMIN in self.roles

    @property
    def mention(self) -> str:
        return f"@{self.username}" if self.username else self.key


@dataclass(frozen=True, slots=True)
class SlaRule:
    """Deadlines for one urgency level. ``*_working`` marks counts of working time."""

    accept: timedelta | None
    resolve: timedelta | None
    accept_working_days: int | None = None  # when set, overrides ``accept`` with working days
    resolve_working_days: int | None = None


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """SLA rules per urgency plus the timings of the reminder/escalation ladder."""

    emergency: SlaRule = SlaRule(accept=timedelta(minutes=15), resolve=timedelta(hours=4))
    urgent: SlaRule = SlaRule(accept=timedelta(hours=2), resolve=timedelta(days=1))
    normal: SlaRule = SlaRule(
        accept=None, resolve=None, accept_working_days=1, resolve_working_days=3
    )
    remind_before: timedelta = timedelta(minutes=30)
    escalate_after: timedelta = timedelta(hours=2)  # grace after a missed deadline
    long_overdue_after: timedelta = timedelta(days=7)
    followup_after: timedelta = timedelta(days=1)  # ask again for a rating
    close_unrated_after: timedelta = timedelta(days=3)
    reopen_window: timedelta = timedelta(days=7)
    duplicate_window: timedelta = timedelta(days=3)
    # Jobs that fell due while the bot was down are still sent on start when they are at
    # most this old; older ones are skipped (and logged) instead of flooding the group.
    stale_after: timedelta = timedelta(hours=12)

    def rule(self, urgency: str) -> SlaRule:
        return {"emergency": self.emergency, "urgent": self.urgent}.get(urgency, self.normal)


@dataclass(frozen=True, slots=True)
class WorkingHours:
    start: time = time(8, 30)
    end: time = time(17, 30)


@dataclass(frozen=True, slots=True)
class CategoryConfig:
    """A category rename or addition: keywords are added to the built-in ones."""

    slug: str
    name: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Broadcast:
    """A scheduled announcement. ``grids`` empty means every bound group."""

    when: str
    text: str
    grids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CommunityConfig:
    name: str
    timezone: str = "Asia/Shanghai"
    grids: tuple[Grid, ...] = ()
    people: tuple[Person, ...] = ()
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    categories: tuple[CategoryConfig, ...] = ()
    broadcasts: tuple[Broadcast, ...] = ()
    places: tuple[str, ...] = ()  # extra local place names for the segmenter
    digest: str = "每周四 09:00"
    retention_days: int = 365  # purge personal fields of closed tickets after this many days
    # Text of "not a report" corrections (NLP training data) is kept this many days (never
    # longer than retention_days): as long as the community allows, then blanked.
    correction_days: int = 90
    conversations: ConversationSettings = field(default_factory=ConversationSettings)

    # -- lookups used by routing and handlers -------------------------------------------

    def grid(self, name: str) -> Grid | None:
        return next((g for g in self.grids if g.name == name), None)

    def person(self, key: str) -> Person | None:
        return next((p for p in self.people if p.key == key), None)

    def person_by_telegram(
        self, telegram_id: int | None, username: str | None = None
    ) -> Person | None:
        """Who is this Telegram user? By id; by username only for people configured
        without an id (a username can be changed by anyone, an id cannot, so a user who
        takes over a worker's old username must not become that worker)."""
        if telegram_id is not None:
            for p in self.people:
                if p.telegram_id == telegram_id:
                    return p
        person = self.person_by_username(username)
        if person is not None and person.telegram_id is None:
            return person
        return None

    def person_by_username(self, username: str | None) -> Person | None:
        """A configured person by @username (for naming a target, not for identity)."""
        if not username:
            return None
        wanted = username.lstrip("@").lower()
        return next((p for p in self.people if p.username and p.username.lower() == wanted),
                    None)

    def grid_of_chat(self, chat_id: int) -> Grid | None:
        return next((g for g in self.grids if chat_id in g.chats), None)

    def supervisors(self) -> tuple[Person, ...]:
        return tuple(p for p in self.people if Role.SUPERVISOR in p.roles) or tuple(
            p for p in self.people if Role.ADMIN in p.roles
        )

    @property
    def compounds(self) -> tuple[str, ...]:
        names = (c for g in self.grids for c in g.compounds)
        return tuple(dict.fromkeys(names))
