"""Read queries the bot, the scheduler and digests need (all indexed, see 0002)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from storage.base import Repository
from storage.tickets_repo import COLUMNS, OPEN_SQL, row_to_ticket
from storage.timefmt import req, to_db
from tickets.model import Ticket


@dataclass(frozen=True, slots=True)
class Overdue:
    """An overdue ticket and which deadline it missed ("accept" or "resolve")."""

    ticket: Ticket
    missed: str
    due: datetime


@dataclass(slots=True)
class Counts:
    """Digest figures for one slice (whole community, a category or a grid)."""

    new: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    ratings: int = 0
    rating_sum: int = 0
    satisfied: int = 0  # score 1 满意
    basically_satisfied: int = 0  # score 2 基本满意
    dissatisfied: int = 0  # score 3 不满意
    unresolved: int = 0  # score 4 没解决

    @property
    def on_time_rate(self) -> float | None:
        """Share of tickets resolved in the period that met their resolve deadline."""
        return self.resolved_on_time / self.resolved if self.resolved else None

    @property
    def average_rating(self) -> float | None:
        """Mean score 1..4 (1 = 满意) of ratings given in the period."""
        return self.rating_sum / self.ratings if self.ratings else None

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率 as 12345 bulletins give it: (满意 + 基本满意) / all ratings."""
        if not self.ratings:
            return None
        return (self.satisfied + self.basically_satisfied) / self.ratings


@dataclass(slots=True)
class Digest:
    start: datetime
    end: datetime
    total: Counts = field(default_factory=Counts)
    by_category: dict[str, Counts] = field(default_factory=dict)
    by_grid: dict[str, Counts] = field(default_factory=dict)

    def _slices(self, category: str, grid: str | None) -> tuple[Counts, ...]:
        return (
            self.total,
            self.by_category.setdefault(category, Counts()),
            self.by_grid.setdefault(grid or "", Counts()),
        )


class TicketQueries(Repository):
    async def open_for_assignee(self, person_key: str, limit: int = 50) -> list[Ticket]:
        """A person's open tickets (new/assigned/accepted/in_progress), oldest first."""
        rows = await self._all(
            f"SELECT {COLUMNS} FROM tickets WHERE assignee = ? AND state IN {OPEN_SQL} "
            "ORDER BY created_at LIMIT ?", (person_key, limit))
        return [row_to_ticket(r) for r in rows]

    async def recently_resolved_by(self, person_key: str, since: datetime,
                                   limit: int = 5) -> list[Ticket]:
        """Tickets the person resolved since ``since``, newest first (a photo of the fix
        sent right after /done belongs to one of these)."""
        rows = await self._all(
            f"SELECT {COLUMNS} FROM tickets WHERE assignee = ? AND state = 'resolved' "
            "AND resolved_at >= ? ORDER BY resolved_at DESC LIMIT ?",
            (person_key, to_db(since), limit))
        return [row_to_ticket(r) for r in rows]

    async def open_in_grid(self, grid: str, limit: int = 50) -> list[Ticket]:
        """A grid's open tickets by age, oldest first."""
        rows = await self._all(
            f"SELECT {COLUMNS} FROM tickets WHERE grid = ? AND state IN {OPEN_SQL} "
            "ORDER BY created_at LIMIT ?", (grid, limit))
        return [row_to_ticket(r) for r in rows]

    async def overdue(self, now: datetime, limit: int = 100) -> list[Overdue]:
        """Tickets past their accept deadline unaccepted, or past their resolve deadline
        unresolved; earliest deadline first. A ticket missing both appears once per miss."""
        at = to_db(now)
        rows = await self._all(
            f"SELECT * FROM (SELECT {COLUMNS}, 'accept' AS missed, accept_due AS due "
            "FROM tickets WHERE state IN ('new', 'assigned') AND accept_due IS NOT NULL "
            "AND accept_due < ? ORDER BY accept_due LIMIT ?) AS missed_accept "
            f"UNION ALL SELECT * FROM (SELECT {COLUMNS}, 'resolve' AS missed, resolve_due AS due "
            f"FROM tickets WHERE state IN {OPEN_SQL} AND resolve_due IS NOT NULL "
            "AND resolve_due < ? ORDER BY resolve_due LIMIT ?) AS missed_resolve ORDER BY due LIMIT ?",
            (at, limit, at, limit, limit))
        return [Overdue(row_to_ticket(r), r["missed"], req(r["due"])) for r in rows]

    async def of_reporter(self, user_id: int, limit: int = 20) -> list[Ticket]:
        """Tickets a resident reported, newest first."""
        rows = await self._all(
            f"SELECT {COLUMNS} FROM tickets WHERE reporter_id = ? "
            "ORDER BY created_at DESC, id DESC LIMIT ?", (user_id, limit))  # ties: newest id
        return [row_to_ticket(r) for r in rows]

    async def needing_followup(self, before: datetime, limit: int = 100) -> list[Ticket]:
        """Resolved, unrated tickets resolved before ``before`` (= now - followup_after, or
        now - close_unrated_after to find those to close unrated), oldest first."""
        rows = await self._all(
            f"SELECT {COLUMNS} FROM tickets WHERE state = 'resolved' AND rating IS NULL "
            "AND resolved_at < ? ORDER BY resolved_at LIMIT ?", (to_db(before), limit))
        return [row_to_ticket(r) for r in rows]

    async def digest(self, start: datetime, end: datetime) -> Digest:
        """Counts for ``[start, end)``: tickets created, resolved (and on time), ratings
        given — in total, per category and per grid."""
        s, e = to_db(start), to_db(end)
        out = Digest(start, end)
        for cat, grid, n in await self._all(
            "SELECT category, grid, count(*) FROM tickets WHERE created_at >= ? "
            "AND created_at < ? GROUP BY category, grid", (s, e)):
            for c in out._slices(cat, grid):
                c.new += n
        for cat, grid, n, ok in await self._all(
            "SELECT category, grid, count(*), "
            "count(*) FILTER (WHERE resolve_due IS NULL OR resolved_at <= resolve_due) FROM tickets "
            "WHERE resolved_at >= ? AND resolved_at < ? GROUP BY category, grid", (s, e)):
            for c in out._slices(cat, grid):
                c.resolved += n
                c.resolved_on_time += ok
        for cat, grid, n, total, one, two, three, four in await self._all(
            "SELECT t.category, t.grid, count(*), sum(r.score), "
            "count(*) FILTER (WHERE r.score = 1), count(*) FILTER (WHERE r.score = 2), "
            "count(*) FILTER (WHERE r.score = 3), count(*) FILTER (WHERE r.score = 4) "
            "FROM ratings r "
            "JOIN tickets t ON t.id = r.ticket_id WHERE r.at >= ? AND r.at < ? "
            "GROUP BY t.category, t.grid", (s, e)):
            for c in out._slices(cat, grid):
                c.ratings += n
                c.rating_sum += total
                c.satisfied += one
                c.basically_satisfied += two
                c.dissatisfied += three
                c.unresolved += four
        return out
