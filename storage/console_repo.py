"""The staff console's ticket list: filters, the viewer's scope, keyset pages, and an
iteration over every matching row (exports).

Everything a viewer may list goes through :meth:`ConsoleRepository.page` or
:meth:`ConsoleRepository.chunks` with a :class:`Scope`: the scope is part of the WHERE
clause, so a ticket outside it can be neither listed nor exported, whatever the filter.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from storage import search_index
from storage.base import Repository
from storage.connection import Row
from storage.dialect import SQLITE, Dialect
from storage.tickets_repo import COLUMNS, OPEN_SQL, row_to_ticket
from storage.timefmt import to_db
from tickets.model import OPEN_STATES, Ticket, TicketState

ALL_STATES: tuple[str, ...] = tuple(s.value for s in TicketState)
URGENCIES: tuple[str, ...] = ("emergency", "urgent", "normal")
URGENCY_RANK_SQL = "(CASE urgency WHEN 'emergency' THEN 2 WHEN 'urgent' THEN 1 ELSE 0 END)"
_URGENCY_RANK = {"emergency": 2, "urgent": 1, "normal": 0}
NUMBER_RE = re.compile(r"^[0-9A-Za-z]{1,8}-[0-9]{4,8}$", re.ASCII)


class ViewerLike(Protocol):
    """What a scope needs from the console's viewer (web.viewer.Viewer)."""

    @property
    def is_supervisor(self) -> bool: ...
    @property
    def grids(self) -> frozenset[str]: ...
    @property
    def categories(self) -> frozenset[str]: ...
    @property
    def person_key(self) -> str: ...
    @property
    def telegram_id(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Scope:
    """The tickets a viewer may see: everything (secretary), or those of their grids,
    of their categories (specialists), assigned or escalated to them, or reported by
    them: the bot's rule (``tickets.lifecycle.can_view``) as a WHERE term."""

    everything: bool = False
    grids: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    person_key: str | None = None
    telegram_id: int | None = None

    @classmethod
    def everyone(cls) -> Scope:
        return cls(everything=True)

    @classmethod
    def of_viewer(cls, viewer: ViewerLike) -> Scope:
        if viewer.is_supervisor:
            return cls.everyone()
        return cls(False, frozenset(viewer.grids), frozenset(viewer.categories),
                   viewer.person_key, viewer.telegram_id)

    def allows(self, ticket: Ticket) -> bool:
        """The same rule as :meth:`sql`, for one loaded ticket."""
        if self.everything:
            return True
        return bool(
            (ticket.grid is not None and ticket.grid in self.grids)
            or ticket.category in self.categories
            or (self.person_key is not None and (
                ticket.assignee == self.person_key or self.person_key in ticket.escalated_to))
            or (self.telegram_id is not None and ticket.reporter_id == self.telegram_id)
        )

    def sql(self, dialect: Dialect = SQLITE) -> tuple[str, list[Any]]:
        """A WHERE term (never empty) and its parameters."""
        if self.everything:
            return "TRUE", []
        terms: list[str] = []
        params: list[Any] = []
        if self.grids:
            terms.append(f"grid IN ({', '.join('?' * len(self.grids))})")
            params += sorted(self.grids)
        if self.categories:
            terms.append(f"category IN ({', '.join('?' * len(self.categories))})")
            params += sorted(self.categories)
        if self.person_key:
            terms.append("assignee = ?")
            params.append(self.person_key)
            # escalated_to is a JSON list of person keys.
            terms.append(f"(escalated_to != '[]' AND {dialect.json_array_contains('escalated_to')})")
            params.append(self.person_key)
        if self.telegram_id is not None:
            terms.append("reporter_id = ?")
            params.append(self.telegram_id)
        if not terms:
            return "FALSE", []
        return "(" + " OR ".join(terms) + ")", params


@dataclass(frozen=True, slots=True)
class Sort:
    """A list order: SQL key expressions (ending in ``id``), one direction for all."""

    name: str
    label: str
    keys: tuple[str, ...]
    descending: bool


SORTS: dict[str, Sort] = {s.name: s for s in (
    Sort("new", "最新", ("created_at", "id"), True),
    Sort("old", "最早", ("created_at", "id"), False),
    Sort("deadline", "办结期限", ("coalesce(resolve_due, '9999-12-31')", "created_at", "id"),
         False),
    Sort("urgency", "紧急程度", (URGENCY_RANK_SQL, "created_at", "id"), True),
    Sort("supporters", "附议最多", ("supporters_count", "created_at", "id"), True),
)}


@dataclass(frozen=True, slots=True)
class TicketFilter:
    """What the list shows. Empty fields filter nothing. ``created_from``/``created_to``
    bound ``created_at`` as ``[from, to)``; ``now`` decides what is overdue."""

    grid: str | None = None
    no_grid: bool = False  # tickets routing could not place (grid IS NULL)
    states: tuple[str, ...] = ()
    category: str | None = None
    urgency: str | None = None
    overdue: bool = False
    assignee: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    text: str | None = None
    now: datetime | None = None

    def where(self, scope: Scope, common_text: bool = False,
              dialect: Dialect = SQLITE) -> tuple[list[str], list[Any]]:
        """WHERE terms and parameters: the scope first, then each filter.

        ``common_text``: the search words match many tickets, so the page is found by
        walking the list's order and probing the matches (``+id``: SQLite must not drive
        the query from the match list and sort all of it); rare words drive the query."""
        scope_sql, params = scope.sql(dialect)
        terms = [scope_sql]
        if self.grid is not None:
            terms.append("grid = ?")
            params.append(self.grid)
        if self.no_grid:
            terms.append("grid IS NULL")
        states = set(self.states)
        if states:
            terms.append(f"state IN ({', '.join('?' * len(states))})")
            params += sorted(states)
            if states <= set(OPEN_STATES):
                terms.append(f"state IN {OPEN_SQL}")  # lets the open partial indexes serve
        if self.category is not None:
            terms.append("category = ?")
            params.append(self.category)
        if self.urgency is not None:
            terms.append(f"{URGENCY_RANK_SQL} = ?")
            params.append(_URGENCY_RANK[self.urgency])
        if self.assignee is not None:
            terms.append("assignee = ?")
            params.append(self.assignee)
        if self.overdue:
            at = to_db(self.now)
            terms.append(
                f"state IN {OPEN_SQL} AND ((resolve_due IS NOT NULL AND resolve_due < ?) "
                "OR (state IN ('new', 'assigned') AND accept_due IS NOT NULL "
                "AND accept_due < ?))")
            params += [at, at]
        if self.created_from is not None:
            terms.append("created_at >= ?")
            params.append(to_db(self.created_from))
        if self.created_to is not None:
            terms.append("created_at < ?")
            params.append(to_db(self.created_to))
        query = (self.text or "").strip()
        if query:
            if NUMBER_RE.match(query):
                terms.append("number = ?")
                params.append(query.upper() if query[:1].isalpha() else query)
            else:
                match = search_index.match_expression(query, dialect)
                if match is None:
                    terms.append("FALSE")
                else:
                    probe = "+id" if common_text else "id"
                    terms.append(f"{probe} IN ({dialect.search_ids()})")
                    params.append(match)
        return terms, params


class CursorError(ValueError):
    """A page cursor that this sort did not produce (tampered or from another sort)."""


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort, extra: int = 0) -> list[Any]:
    """The key values a cursor carries; CursorError unless they fit ``sort``. ``extra``:
    the cursor carries that many more short strings after the keys (the street list's
    community key)."""
    if len(cursor) > 400:
        raise CursorError("cursor too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise CursorError(str(exc)) from exc
    if not isinstance(values, list) or len(values) != len(sort.keys) + extra:
        raise CursorError("cursor does not fit the sort")
    kinds = [*sort.keys, *[""] * extra]
    for key, value in zip(kinds, values, strict=True):
        numeric = key in ("id", "supporters_count", URGENCY_RANK_SQL)
        ok = (isinstance(value, int) and not isinstance(value, bool)) if numeric else (
            isinstance(value, str) and len(value) <= 40)
        if not ok:
            raise CursorError("cursor value of the wrong type")
    return values


@dataclass(slots=True)
class Page:
    tickets: list[Ticket] = field(default_factory=list)
    next_cursor: str | None = None  # None: this is the last page


_KEY_ALIASES = ", ".join(f"k{i}" for i in range(4))


#: More matches than this and a search walks the list order instead (see where()).
COMMON_MATCHES = 3000


class ConsoleRepository(Repository):
    async def _common_text(self, flt: TicketFilter) -> bool:
        query = (flt.text or "").strip()
        if not query or NUMBER_RE.match(query):
            return False
        match = search_index.match_expression(query, self._sql)
        if match is None:
            return False
        n = await self._scalar(
            f"SELECT count(*) FROM ({self._sql.search_ids()} LIMIT ?) AS matches",
            (match, COMMON_MATCHES + 1))
        return int(n) > COMMON_MATCHES

    async def _select(self, flt: TicketFilter, scope: Scope, sort: Sort,
                      after: Sequence[Any] | None, limit: int,
                      inclusive: bool = False) -> tuple[str, list[Any]]:
        terms, params = flt.where(scope, await self._common_text(flt), self._sql)
        if after is not None:
            op = ("<" if sort.descending else ">") + ("=" if inclusive else "")
            terms.append(f"({', '.join(sort.keys)}) {op} ({', '.join('?' * len(after))})")
            params += list(after)
        direction = " DESC" if sort.descending else ""
        keys = ", ".join(f"{k} AS k{i}" for i, k in enumerate(sort.keys))
        sql = (f"SELECT {COLUMNS}, {keys} FROM tickets WHERE " + " AND ".join(terms)
               + " ORDER BY " + ", ".join(k + direction for k in sort.keys) + " LIMIT ?")
        params.append(limit)
        return sql, params

    async def page(self, flt: TicketFilter, scope: Scope, sort: Sort,
                   cursor: str | None = None, size: int = 50) -> Page:
        """One page of ``size`` tickets after ``cursor`` (None: the first page).
        Raises :class:`CursorError` for a cursor this sort did not produce."""
        after = decode_cursor(cursor, sort) if cursor else None
        sql, params = await self._select(flt, scope, sort, after, size + 1)
        rows = await self._all(sql, params)
        page = Page([row_to_ticket(r) for r in rows[:size]])
        if len(rows) > size:
            last = rows[size - 1]
            page.next_cursor = encode_cursor([last[f"k{i}"] for i in range(len(sort.keys))])
        return page

    async def chunk(self, flt: TicketFilter, scope: Scope, sort: Sort,
                    after: Sequence[Any] | None, size: int, inclusive: bool = False
                    ) -> tuple[list[Row], list[Any] | None]:
        """Up to ``size`` rows (map with :func:`row_to_ticket`) after the raw key values
        ``after`` (``inclusive``: at or after them), and the keys of the last one (None
        when this was the last chunk). Each row also carries its sort keys as ``k0``,
        ``k1``, … Exports loop over this, one read snapshot per chunk, so a long export
        never holds the reader; the rows are mapped in the export's worker thread."""
        sql, params = await self._select(flt, scope, sort, after, size, inclusive)
        rows = await self._all(sql, params)
        if len(rows) < size:
            return rows, None
        last = rows[-1]
        return rows, [last[f"k{i}"] for i in range(len(sort.keys))]

    async def count(self, flt: TicketFilter, scope: Scope) -> int:
        """How many tickets the filter shows (all pages)."""
        terms, params = flt.where(scope, await self._common_text(flt), self._sql)
        return int(await self._scalar(
            "SELECT count(*) FROM tickets WHERE " + " AND ".join(terms), params))

    async def newer_than(self, flt: TicketFilter, scope: Scope, since_id: int,
                         limit: int = 20) -> list[Ticket]:
        """Tickets matching the filter with ``id > since_id`` (the live list's poll),
        oldest first, so a client that polls again with the last id misses none."""
        terms, params = flt.where(scope, dialect=self._sql)
        terms.append("id > ?")
        params.append(since_id)
        rows = await self._all(
            f"SELECT {COLUMNS} FROM tickets WHERE " + " AND ".join(terms)
            + " ORDER BY id LIMIT ?", [*params, limit])
        return [row_to_ticket(r) for r in rows]

    async def max_id(self) -> int:
        """The highest ticket id (0: none); the live list polls for tickets above it."""
        return int(await self._scalar("SELECT coalesce(max(id), 0) FROM tickets"))
