"""Tickets: insert with a human number, load, conditional (versioned) update."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from storage import search_index
from storage.base import Repository
from storage.connection import Connection, Row
from storage.dialect import POSTGRES, SQLITE, Dialect
from storage.timefmt import from_db, req, to_db
from tickets.clock import Clock
from tickets.duplicates import Candidate
from tickets.model import OPEN_STATES, Location, Ticket, TicketState

COLUMNS = (
    "id, number, source_chat_id, source_message_id, source_thread_id, reporter_id, "
    "reporter_name, text, parse_json, category, urgency, compound, building, unit, room, "
    "floor, keywords, duplicate_key, grid, assignee, routing_reason, state, escalation_level, "
    "escalated_to, created_at, accepted_at, resolved_at, closed_at, accept_due, resolve_due, "
    "supporters_count, photos_count, rating, reopen_count, priority, card_chat_id, "
    "card_message_id, merged_into, purged, version"
)
# Spelled exactly as in the partial indexes of migration 0002: SQLite only uses a partial
# index when the query repeats its WHERE term, IN-list order included.
OPEN_SQL = "('new', 'assigned', 'accepted', 'in_progress')"
assert {x.strip(" '") for x in OPEN_SQL.strip("()").split(",")} == set(OPEN_STATES)

# Columns a domain update may change (card ids belong to the sender, see set_card).
_MUTABLE = (
    "reporter_name", "text", "parse_json", "category", "urgency", "compound", "building",
    "unit", "room", "floor", "keywords", "duplicate_key", "grid", "assignee", "routing_reason",
    "state", "escalation_level", "escalated_to", "accepted_at", "resolved_at", "closed_at",
    "accept_due", "resolve_due", "supporters_count", "photos_count", "rating", "reopen_count",
    "priority", "merged_into", "purged",
)


class StaleTicket(Exception):
    """The ticket's version changed since it was loaded (someone else updated it)."""

    def __init__(self, ticket_id: int, version: int) -> None:
        self.ticket_id, self.version = ticket_id, version
        super().__init__(f"ticket {ticket_id} changed since version {version}")


def row_to_ticket(r: Row) -> Ticket:
    """Map a row selected with :data:`COLUMNS` to a :class:`Ticket`."""
    return Ticket(
        id=r["id"], number=r["number"], source_chat_id=r["source_chat_id"],
        source_message_id=r["source_message_id"], source_thread_id=r["source_thread_id"],
        reporter_id=r["reporter_id"], reporter_name=r["reporter_name"], text=r["text"],
        parse_json=r["parse_json"], category=r["category"], urgency=r["urgency"],
        compound=r["compound"], building=r["building"], unit=r["unit"], room=r["room"],
        floor=r["floor"], keywords=tuple(json.loads(r["keywords"])),
        duplicate_key=r["duplicate_key"], grid=r["grid"], assignee=r["assignee"],
        routing_reason=r["routing_reason"], state=TicketState(r["state"]),
        escalation_level=r["escalation_level"], escalated_to=tuple(json.loads(r["escalated_to"])),
        created_at=req(r["created_at"]), accepted_at=from_db(r["accepted_at"]),
        resolved_at=from_db(r["resolved_at"]), closed_at=from_db(r["closed_at"]),
        accept_due=from_db(r["accept_due"]), resolve_due=from_db(r["resolve_due"]),
        supporters_count=r["supporters_count"], photos_count=r["photos_count"],
        rating=r["rating"], reopen_count=r["reopen_count"], priority=r["priority"],
        card_chat_id=r["card_chat_id"], card_message_id=r["card_message_id"],
        merged_into=r["merged_into"], purged=bool(r["purged"]), version=r["version"],
    )


def _mutable_values(t: Ticket) -> list[object]:
    values: dict[str, object] = {
        "reporter_name": t.reporter_name, "text": t.text, "parse_json": t.parse_json,
        "category": t.category, "urgency": t.urgency, "compound": t.compound,
        "building": t.building, "unit": t.unit, "room": t.room, "floor": t.floor,
        "keywords": json.dumps(list(t.keywords), ensure_ascii=False),
        "duplicate_key": t.duplicate_key, "grid": t.grid, "assignee": t.assignee,
        "routing_reason": t.routing_reason, "state": str(t.state),
        "escalation_level": t.escalation_level,
        "escalated_to": json.dumps(list(t.escalated_to), ensure_ascii=False),
        "accepted_at": to_db(t.accepted_at), "resolved_at": to_db(t.resolved_at),
        "closed_at": to_db(t.closed_at), "accept_due": to_db(t.accept_due),
        "resolve_due": to_db(t.resolve_due), "supporters_count": t.supporters_count,
        "photos_count": t.photos_count, "rating": t.rating, "reopen_count": t.reopen_count,
        "priority": t.priority, "merged_into": t.merged_into, "purged": int(t.purged),
    }
    return [values[c] for c in _MUTABLE]


# The number is computed in the statement from the month's counter; the
# tickets_number_counter trigger (migration 0004) then advances the counter.
def _insert_sql(dialect: Dialect) -> str:
    seq = "coalesce((SELECT value FROM counters WHERE name = 'ticket:' || ?1), 0) + 1"
    return (
        "INSERT INTO tickets (number, source_chat_id, source_message_id, source_thread_id, "
        "reporter_id, created_at, card_chat_id, card_message_id, " + ", ".join(_MUTABLE) + ") "
        f"VALUES (?1 || '-' || {dialect.zero_pad(seq, 4)}, "
        + ", ".join(f"?{i}" for i in range(2, 9 + len(_MUTABLE))) + ") RETURNING id, number"
    )


_INSERT = {d.name: _insert_sql(d) for d in (SQLITE, POSTGRES)}
_UPDATE = (
    "UPDATE tickets SET " + ", ".join(f"{c} = ?" for c in _MUTABLE) + ", version = version + 1 "
    "WHERE id = ? AND version = ?"
)


def ticket_number(created_at: datetime, tz: ZoneInfo, seq: int) -> str:
    """'yymm-NNNN': the month (community time) of creation and its sequence number.

    Short enough to read over the phone, tells at a glance how old a ticket is, and never
    changes once given. The sequence widens past 9999 instead of wrapping.
    """
    return f"{created_at.astimezone(tz):%y%m}-{seq:04d}"


class TicketRepository(Repository):
    def __init__(self, conn: Connection, clock: Clock, tz: ZoneInfo) -> None:
        super().__init__(conn, clock)
        self._tz = tz

    async def add(self, ticket: Ticket) -> Ticket:
        """Insert a new ticket (one statement); sets ``id``, ``number`` and ``version`` on
        it and returns it. Raises sqlite3.IntegrityError when its source message already
        has a ticket."""
        period = f"{ticket.created_at.astimezone(self._tz):%y%m}"
        row = await self._one(
            _INSERT[self._sql.name],
            (period, ticket.source_chat_id, ticket.source_message_id,
             ticket.source_thread_id, ticket.reporter_id, to_db(ticket.created_at),
             ticket.card_chat_id, ticket.card_message_id, *_mutable_values(ticket)),
        )
        assert row is not None
        ticket.id, ticket.number, ticket.version = row[0], row[1], 1
        await search_index.put(self._conn, ticket.id, ticket.text)
        return ticket

    async def sources_seen(
        self, keys: Iterable[tuple[int, int]]
    ) -> dict[tuple[int, int], tuple[str, int]]:
        """Which (chat_id, message_id) already produced something: ``("ticket", id)`` or
        ``("supporter", ticket_id)``. One query for a whole batch."""
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        # Typed: PostgreSQL reads an untyped VALUES parameter as text.
        values = ", ".join("(CAST(? AS BIGINT), CAST(? AS BIGINT))" for _ in keys)
        flat = [v for k in keys for v in k]
        rows = await self._all(
            "SELECT source_chat_id, source_message_id, 'ticket', id FROM tickets "
            f"WHERE (source_chat_id, source_message_id) IN (VALUES {values}) UNION ALL "
            "SELECT source_chat_id, source_message_id, 'supporter', ticket_id FROM supporters "
            f"WHERE (source_chat_id, source_message_id) IN (VALUES {values})",
            flat + flat,
        )
        return {(r[0], r[1]): (r[2], r[3]) for r in rows}

    async def update(self, ticket: Ticket) -> Ticket:
        """Save a loaded ticket if nobody changed it since (optimistic version check);
        bumps ``version``. Raises :class:`StaleTicket` otherwise."""
        assert ticket.id is not None
        changed = await self._exec(_UPDATE, (*_mutable_values(ticket), ticket.id, ticket.version))
        if changed != 1:
            raise StaleTicket(ticket.id, ticket.version)
        ticket.version += 1
        await search_index.flush(self._conn, {ticket.id: ticket.text})  # an edited text
        return ticket

    async def get(self, ticket_id: int) -> Ticket | None:
        row = await self._one(f"SELECT {COLUMNS} FROM tickets WHERE id = ?", (ticket_id,))
        return row_to_ticket(row) if row else None

    async def get_by_number(self, number: str) -> Ticket | None:
        row = await self._one(f"SELECT {COLUMNS} FROM tickets WHERE number = ?", (number,))
        return row_to_ticket(row) if row else None

    async def get_by_source(self, chat_id: int, message_id: int) -> Ticket | None:
        row = await self._one(
            f"SELECT {COLUMNS} FROM tickets WHERE source_chat_id = ? AND source_message_id = ?",
            (chat_id, message_id),
        )
        return row_to_ticket(row) if row else None

    async def get_by_card(self, chat_id: int, message_id: int) -> Ticket | None:
        """The ticket whose group card is this message (for replies to a card)."""
        row = await self._one(
            f"SELECT {COLUMNS} FROM tickets WHERE card_chat_id = ? AND card_message_id = ?",
            (chat_id, message_id),
        )
        return row_to_ticket(row) if row else None

    async def duplicate_candidates(
        self,
        category: str,
        since: datetime,
        *,
        compound: str | None = None,
        building: str | None = None,
        chat_id: int | None = None,
        burst_since: datetime | None = None,
    ) -> list[Candidate]:
        """Open tickets of ``category`` created at or after ``since`` that could match a
        report at (``compound``, ``building``) — a prefilter only; ``tickets.duplicates``
        decides. A report without place only meets tickets of its own chat since
        ``burst_since``. Newest first, capped at 200."""
        where = [f"category = ? AND created_at >= ? AND state IN {OPEN_SQL}"]
        params: list[object] = [category, to_db(since)]
        if building is not None:
            # Compatible places share the building; a compound on both sides must agree.
            where.append("building = ?")
            params.append(building)
            if compound is not None:
                where.append("(compound IS NULL OR compound = ?)")
                params.append(compound)
        elif compound is not None:
            where.append("building IS NULL AND compound = ?")
            params.append(compound)
        else:
            where.append("source_chat_id = ? AND created_at >= ?")
            params += [chat_id, to_db(burst_since or since)]
        rows = await self._all(
            "SELECT id, category, state, created_at, source_chat_id, compound, building, unit, "
            "room, floor, keywords, reporter_id FROM tickets WHERE "
            + " AND ".join(where) + " ORDER BY created_at DESC LIMIT 200",
            params,
        )
        return [
            Candidate(
                ticket_id=r["id"], category=r["category"], state=TicketState(r["state"]),
                created_at=req(r["created_at"]), source_chat_id=r["source_chat_id"],
                location=Location(r["compound"], r["building"], r["unit"], r["room"],
                                  r["floor"]),
                keywords=tuple(json.loads(r["keywords"])), reporter_id=r["reporter_id"],
            )
            for r in rows
        ]

    async def set_card(self, ticket_id: int, chat_id: int, message_id: int) -> None:
        """Remember the group card message (set by the sender after the first send).
        Does not bump ``version``: the card is delivery state, not ticket state."""
        await self._exec(
            "UPDATE tickets SET card_chat_id = ?, card_message_id = ? WHERE id = ?",
            (chat_id, message_id, ticket_id),
        )

    async def add_photo(self, ticket_id: int, file_id: str, by: int | None,
                        now: datetime | None = None) -> bool:
        """Store a photo's file_id; False when this ticket already has it."""
        rid = await self._insert(
            "INSERT INTO ticket_photos (ticket_id, file_id, added_by, added_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (ticket_id, file_id, by, to_db(self._now(now))),
        )
        return rid is not None

    async def photos(self, ticket_id: int) -> list[str]:
        rows = await self._all(
            "SELECT file_id FROM ticket_photos WHERE ticket_id = ? ORDER BY id", (ticket_id,)
        )
        return [r[0] for r in rows]

    async def purge_personal(self, closed_before: datetime, masked_text: str,
                             mask_name: bool = True) -> int:
        """Retention: blank the personal fields of tickets closed/cancelled/merged before
        ``closed_before`` (name → masked, text → ``masked_text``, parse json emptied)."""
        return await self._exec(
            "UPDATE tickets SET text = ?, parse_json = '{}', duplicate_key = '', "
            "reporter_name = CASE WHEN ? = 1 THEN substr(reporter_name, 1, 1) || '＊' "
            "ELSE reporter_name END, room = NULL, purged = 1, version = version + 1 "
            "WHERE state IN ('closed', 'cancelled', 'merged') AND purged = 0 "
            "AND closed_at < ?",
            (masked_text, int(mask_name), to_db(closed_before)),
        )
