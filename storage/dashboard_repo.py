"""SQL behind the console's dashboard and monthly report: flows over a period
(new, resolved, ratings, repeat complaints), the state at an instant (open, overdue,
due soon, open emergencies), trends, the building heatmap and the hottest tickets.

Each figure can be split by one column (``group_by``: assignee, category or grid) and
is always limited by the viewer's :class:`~storage.console_repo.Scope` and an optional
grid. ``services.dashboard`` composes these into what the page shows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from storage.base import Repository
from storage.console_repo import Scope
from storage.tickets_repo import COLUMNS, OPEN_SQL, row_to_ticket
from storage.timefmt import to_db
from tickets.model import Ticket

GROUPS = (None, "assignee", "category", "grid")
# Narrow covering indexes (migrations 0014, 0017): a period's scan never reads the wide
# rows.
CREATED_COVER = "tickets_console_created_cover"
RESOLVED_COVER = "tickets_console_resolved_cover"
# The same, led by assignee (migration 0017): skip-scanned per worker when ANALYZE found
# enough tickets per worker (SQLite's threshold is 18), else not used.
ASSIGNEE_CREATED = "tickets_console_assignee_created"
ASSIGNEE_RESOLVED = "tickets_console_assignee_resolved"
SKIP_SCAN_MIN_ROWS = 18


@dataclass(slots=True)
class Flow:
    """What happened in ``[start, end)`` (one slice)."""

    new: int = 0
    accepted: int = 0  # of the new ones, accepted so far
    accept_seconds: float = 0.0  # summed over ``accepted``
    resolved: int = 0
    resolved_on_time: int = 0
    finish_seconds: float = 0.0  # created → resolved, summed over ``resolved``
    ratings: dict[int, int] = field(default_factory=dict)  # score (1..4) → count
    repeat: int = 0  # tickets reopened or rated 没解决 in the period


@dataclass(slots=True)
class Snapshot:
    """The queue at one instant (one slice)."""

    open: int = 0
    overdue: int = 0
    due_24h: int = 0
    emergencies: int = 0


class DashboardRepository(Repository):
    def _where(self, scope: Scope, grid: str | None) -> tuple[str, list[Any]]:
        sql, params = scope.sql(self._sql)
        if grid is not None:
            sql += " AND grid = ?"
            params.append(grid)
        return sql, params

    @staticmethod
    def _key(group_by: str | None) -> str:
        if group_by not in GROUPS:
            raise ValueError(f"unknown grouping {group_by!r}")
        return f"coalesce({group_by}, '')" if group_by else "''"

    async def flows(self, start: datetime, end: datetime, scope: Scope,
                    grid: str | None = None, group_by: str | None = None) -> dict[str, Flow]:
        """Flow figures for ``[start, end)`` per slice ('' = the only slice when not
        grouped, or tickets without that column)."""
        key = self._key(group_by)
        # Ungrouped, the constant key needs no GROUP BY (and its sorter).
        group = " GROUP BY 1" if group_by else ""
        created_index, resolved_index = CREATED_COVER, RESOLVED_COVER
        if group_by == "assignee" and await self._skip_scan_ready():
            created_index, resolved_index = ASSIGNEE_CREATED, ASSIGNEE_RESOLVED
            group = " GROUP BY assignee"  # the index order: no sorter
        s, e = to_db(start), to_db(end)
        where, wp = self._where(scope, grid)
        out: dict[str, Flow] = defaultdict(Flow)
        # accept_seconds / finish_seconds (migration 0017) are stored in the covering
        # indexes: no timestamp is parsed per row.
        for k, n, acc, secs in await self._all(
                f"SELECT {key}, count(*), count(accepted_at), sum(accept_seconds) "
                f"FROM tickets{self._sql.indexed_by(created_index)} "
                f"WHERE created_at >= ? AND created_at < ? AND {where}{group}",
                [s, e, *wp]):
            if n:  # added up: under GROUP BY assignee, NULL and '' are both slice ''
                f = out[k]
                f.new += n
                f.accepted += acc
                f.accept_seconds += secs or 0.0
        for k, n, ok, secs in await self._all(
                f"SELECT {key}, count(*), "
                "count(*) FILTER (WHERE resolve_due IS NULL OR resolved_at <= resolve_due), "
                f"sum(finish_seconds) FROM tickets{self._sql.indexed_by(resolved_index)} "
                "WHERE resolved_at >= ? AND resolved_at < ? "
                f"AND {where}{group}", [s, e, *wp]):
            if n:
                f = out[k]
                f.resolved += n
                f.resolved_on_time += ok or 0
                f.finish_seconds += secs or 0.0
        if group_by is None and grid is None and scope.everything:
            # Nothing to read from the ticket: the ratings alone.
            ratings_sql = ("SELECT '', score, count(*) FROM ratings WHERE at >= ? AND at < ? "
                           "GROUP BY 2")
        else:
            ratings_sql = (f"SELECT {key}, r.score, count(*) FROM ratings r JOIN tickets t "
                           f"ON t.id = r.ticket_id WHERE r.at >= ? AND r.at < ? AND {where} "
                           "GROUP BY 1, 2")
        for k, score, n in await self._all(ratings_sql, [s, e, *wp]):
            out[k].ratings[int(score)] = n
        for k, n in await self._all(
                f"SELECT {key}, count(*) FROM tickets WHERE id IN ("
                "SELECT ticket_id FROM ticket_events WHERE action = 'reopen' AND at >= ? "
                "AND at < ? UNION SELECT ticket_id FROM ratings WHERE score = 4 AND at >= ? "
                f"AND at < ?) AND {where}{group}", [s, e, s, e, *wp]):
            if n:
                out[k].repeat += n
        return dict(out)

    async def _skip_scan_ready(self) -> bool:
        """Whether ANALYZE found enough tickets per worker for SQLite to skip-scan the
        assignee-led indexes (without it, forcing them would walk them whole)."""
        if self._sql.is_postgres:
            return False  # PostgreSQL plans the grouped scans by itself
        if not await self._scalar(
                "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"):
            return False
        stats = await self._all("SELECT stat FROM sqlite_stat1 WHERE idx IN (?, ?)",
                                [ASSIGNEE_CREATED, ASSIGNEE_RESOLVED])
        for (stat,) in stats:
            fields = str(stat or "").split()
            if len(fields) < 2 or not fields[1].isdigit() or int(fields[1]) < SKIP_SCAN_MIN_ROWS:
                return False
        return len(stats) == 2

    async def snapshots(self, at: datetime, scope: Scope, grid: str | None = None,
                        group_by: str | None = None) -> dict[str, Snapshot]:
        """The queue as it stood at ``at`` (now, or a period's end), rebuilt from the
        tickets' timestamps: created before ``at`` and not yet resolved or closed then."""
        key = self._key(group_by)
        t, t24 = to_db(at), to_db(at + timedelta(hours=24))
        where, wp = self._where(scope, grid)
        cols = (f"{key} AS k, urgency, accept_due, accepted_at, resolve_due")
        sql = (
            "SELECT k, count(*), "
            "count(*) FILTER (WHERE (resolve_due IS NOT NULL AND resolve_due < :t) OR "
            "(accept_due IS NOT NULL AND accept_due < :t AND (accepted_at IS NULL "
            "OR accepted_at >= :t))), "
            "count(*) FILTER (WHERE (resolve_due >= :t AND resolve_due < :t24) OR "
            "(accept_due >= :t AND accept_due < :t24 AND (accepted_at IS NULL "
            "OR accepted_at >= :t))), "
            "count(*) FILTER (WHERE urgency = 'emergency') FROM ("
            # Each part names its index: a grid or scope term would otherwise tempt the
            # planner into walking all of a grid's history.
            f"SELECT {cols} FROM tickets{self._sql.indexed_by('tickets_console_open')} "
            f"WHERE state IN {OPEN_SQL} AND created_at < :t AND {where} "
            f"UNION ALL SELECT {cols} FROM tickets{self._sql.indexed_by(RESOLVED_COVER)} "
            "WHERE resolved_at >= :t "
            f"AND created_at < :t AND state NOT IN {OPEN_SQL} AND {where} "
            # Without the hint the planner walks every closed ticket by state.
            f"UNION ALL SELECT {cols} FROM tickets{self._sql.indexed_by('tickets_retention')} "
            "WHERE state IN ('closed', 'cancelled', "
            "'merged') AND purged = 0 AND closed_at >= :t AND resolved_at IS NULL "
            f"AND created_at < :t AND {where}) AS open_then GROUP BY k"
        )
        named: dict[str, Any] = {"t": t, "t24": t24}
        # The scope's positional parameters appear three times: name them instead.
        for i, value in enumerate(wp):
            named[f"p{i}"] = value
        sql = _positional_to_named(sql, len(wp))
        out: dict[str, Snapshot] = {}
        for k, n, overdue, due, emergencies in await self._all(sql, named):
            out[k] = Snapshot(n, overdue or 0, due or 0, emergencies or 0)
        return out

    async def weekly_by_category(self, first_week: datetime, weeks: int, scope: Scope,
                                 grid: str | None = None) -> dict[str, list[int]]:
        """New tickets per category in ``weeks`` 7-day buckets from ``first_week`` (one
        range count per week: cheaper than grouping by a computed week)."""
        where, wp = self._where(scope, grid)
        out: dict[str, list[int]] = {}
        for week in range(weeks):
            lo = to_db(first_week + timedelta(days=7 * week))
            hi = to_db(first_week + timedelta(days=7 * (week + 1)))
            for category, n in await self._all(
                    f"SELECT category, count(*) FROM tickets{self._sql.indexed_by(CREATED_COVER)} "
                    f"WHERE created_at >= ? AND created_at < ? AND {where} GROUP BY 1",
                    [lo, hi, *wp]):
                out.setdefault(category, [0] * weeks)[week] = n
        return out

    async def building_heatmap(self, start: datetime, end: datetime, scope: Scope,
                               grid: str | None = None) -> list[tuple[str, str, str, int]]:
        """(compound, building, category, new tickets) for tickets placed in a building."""
        where, wp = self._where(scope, grid)
        rows = await self._all(
            "SELECT coalesce(compound, ''), building, category, count(*) FROM tickets "
            f"{self._sql.indexed_by(CREATED_COVER)} WHERE created_at >= ? AND created_at < ? "
            f"AND building IS NOT NULL AND {where} "
            "GROUP BY 1, 2, 3", [to_db(start), to_db(end), *wp])
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    async def hottest(self, start: datetime, end: datetime, scope: Scope,
                      grid: str | None = None, limit: int = 10) -> list[Ticket]:
        """Tickets of the period with the most supporters (附议), most first."""
        where, wp = self._where(scope, grid)
        rows = await self._all(
            f"SELECT {COLUMNS} FROM tickets WHERE created_at >= ? AND created_at < ? "
            f"AND supporters_count > 0 AND state != 'merged' AND {where} "
            "ORDER BY supporters_count DESC, created_at DESC LIMIT ?",
            [to_db(start), to_db(end), *wp, limit])
        return [row_to_ticket(r) for r in rows]


def _positional_to_named(sql: str, count: int) -> str:
    """Replace each run of the scope's ``count`` positional ``?`` with ``:p0..``."""
    if count == 0:
        return sql
    parts = sql.split("?")
    out = [parts[0]]
    for i, part in enumerate(parts[1:]):
        out.append(f":p{i % count}")
        out.append(part)
    return "".join(out)
