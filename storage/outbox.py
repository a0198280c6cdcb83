"""The outbox: messages written in the same transaction as the change that caused them,
delivered later by the sender (at least once; ``dedupe_key`` guards repeats)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.base import Repository
from storage.connection import Row
from storage.timefmt import from_db, req, to_db
from tickets.outgoing import Button, OutgoingMessage

_INSERT = (
    "INSERT INTO outbox (chat_id, text, reply_to_message_id, thread_id, buttons, parse_mode, "
    "card_ticket_id, fallback_chat_id, fallback_text, dedupe_key, kind, created_at, "
    "next_attempt_at, photo_file_id, priority, fold_line, copy_from_chat_id, copy_message_id, "
    "status_line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (dedupe_key) DO NOTHING"
)
_COLUMNS = (
    "id, chat_id, text, reply_to_message_id, thread_id, buttons, parse_mode, card_ticket_id, "
    "fallback_chat_id, fallback_text, dedupe_key, kind, status, attempts, created_at, "
    "next_attempt_at, sent_at, telegram_message_id, last_error, photo_file_id, priority, "
    "fold_line, suspect_since, copy_from_chat_id, copy_message_id, status_line, "
    "status_folded_into"
)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A stored outgoing message and its delivery state."""

    id: int
    message: OutgoingMessage
    status: str  # pending | sent | failed | superseded
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    telegram_message_id: int | None
    last_error: str | None
    suspect_since: datetime | None = None  # an earlier attempt may have arrived unseen
    status_folded_into: int | None = None  # the combined message that announced status_line


def _params(msg: OutgoingMessage, now: datetime) -> tuple[object, ...]:
    buttons = [[[b.text, b.data] for b in row] for row in msg.buttons]
    return (
        msg.chat_id, msg.text, msg.reply_to_message_id, msg.thread_id,
        json.dumps(buttons, ensure_ascii=False), msg.parse_mode, msg.card_ticket_id,
        msg.fallback_chat_id, msg.fallback_text, msg.dedupe_key, msg.kind, to_db(now),
        to_db(max(now, msg.not_before) if msg.not_before else now), msg.photo_file_id,
        msg.priority, msg.fold_line, msg.copy_from_chat_id, msg.copy_message_id,
        msg.status_line,
    )


def _row(r: Row) -> OutboxRow:
    buttons = tuple(tuple(Button(t, d) for t, d in row) for row in json.loads(r["buttons"]))
    msg = OutgoingMessage(
        chat_id=r["chat_id"], text=r["text"], reply_to_message_id=r["reply_to_message_id"],
        thread_id=r["thread_id"], buttons=buttons, parse_mode=r["parse_mode"],
        card_ticket_id=r["card_ticket_id"], fallback_chat_id=r["fallback_chat_id"],
        fallback_text=r["fallback_text"], dedupe_key=r["dedupe_key"],
        not_before=from_db(r["next_attempt_at"]), kind=r["kind"],
        photo_file_id=r["photo_file_id"], priority=r["priority"], fold_line=r["fold_line"],
        copy_from_chat_id=r["copy_from_chat_id"], copy_message_id=r["copy_message_id"],
        status_line=r["status_line"],
    )
    return OutboxRow(r["id"], msg, r["status"], r["attempts"], req(r["created_at"]),
                     req(r["next_attempt_at"]), from_db(r["sent_at"]),
                     r["telegram_message_id"], r["last_error"], from_db(r["suspect_since"]),
                     r["status_folded_into"])


class OutboxRepository(Repository):
    async def add(self, msg: OutgoingMessage, now: datetime | None = None) -> int | None:
        """Queue a message in the caller's transaction. Returns its id, or None when a row
        with the same ``dedupe_key`` already exists (then nothing is written)."""
        return await self._insert(_INSERT, _params(msg, self._now(now)))

    async def add_many(self, msgs: Iterable[OutgoingMessage], now: datetime | None = None) -> None:
        """Queue several messages in one round trip (dedupe rules as :meth:`add`)."""
        at = self._now(now)
        await self._many(_INSERT, [_params(m, at) for m in msgs])

    async def due(self, limit: int, now: datetime | None = None,
                  exclude_chats: Iterable[int] = (), per_chat: int | None = None,
                  ) -> list[OutboxRow]:
        """Pending rows whose next attempt is due: within a chat highest priority first,
        then oldest first. ``per_chat`` keeps only that many rows of each chat (so one
        chat's backlog cannot fill the batch); ``exclude_chats`` skips chats entirely.

        Card rows are coalesced first: of several pending card rows for one ticket only the
        newest survives; the older ones are marked ``superseded`` (so call this inside a
        transaction). The card text always reflects the latest state anyway.
        """
        await self._exec(
            "UPDATE outbox SET status = 'superseded' WHERE status = 'pending' "
            "AND card_ticket_id IS NOT NULL AND id < (SELECT max(o2.id) FROM outbox o2 "
            "WHERE o2.status = 'pending' AND o2.card_ticket_id = outbox.card_ticket_id)"
        )
        excluded = list(exclude_chats)
        skip = f"AND chat_id NOT IN ({', '.join('?' * len(excluded))}) " if excluded else ""
        ranked = (
            f"SELECT {_COLUMNS}, row_number() OVER (PARTITION BY chat_id "
            "ORDER BY priority DESC, id) AS place FROM outbox "
            f"WHERE status = 'pending' AND next_attempt_at <= ? {skip}"
        )
        rows = await self._all(
            f"SELECT {_COLUMNS} FROM ({ranked}) AS ranked WHERE place <= ? "
            "ORDER BY priority DESC, id LIMIT ?",
            (to_db(self._now(now)), *excluded, per_chat or limit, limit),
        )
        return [_row(r) for r in rows]

    async def due_in_chat(self, chat_id: int, limit: int,
                          now: datetime | None = None) -> list[OutboxRow]:
        """One chat's due rows in sending order (priority, then age): what waits for it."""
        rows = await self._all(
            f"SELECT {_COLUMNS} FROM outbox WHERE status = 'pending' AND chat_id = ? "
            "AND next_attempt_at <= ? ORDER BY priority DESC, id LIMIT ?",
            (chat_id, to_db(self._now(now)), limit),
        )
        return [_row(r) for r in rows]

    async def pending_by_ids(self, ids: Iterable[int]) -> list[OutboxRow]:
        wanted = list(ids)
        if not wanted:
            return []
        rows = await self._all(
            f"SELECT {_COLUMNS} FROM outbox WHERE status = 'pending' "
            f"AND id IN ({', '.join('?' * len(wanted))}) ORDER BY priority DESC, id",
            wanted,
        )
        return [_row(r) for r in rows]

    # -- combined messages (delivery.folding) -----------------------------------------------

    async def add_fold(self, msg: OutgoingMessage, lines: list[tuple[int, int | None, str]],
                       header: str, now: datetime | None = None,
                       status_rows: Iterable[int] = ()) -> int:
        """Queue a combined message replacing the rows of ``lines`` (row id, the ticket
        whose card the line is or None, the line). The rows are marked superseded, folded
        into the new row, which goes out in their place (in the caller's transaction).
        Rows in ``status_rows`` (card edits whose status line is in the message) stay
        pending, to edit their card later, marked as announced by it."""
        fold_id = await self._insert(_INSERT, _params(msg, self._now(now)))
        assert fold_id is not None
        announced = set(status_rows)
        if announced:
            await self._exec(
                "UPDATE outbox SET status_folded_into = ? "
                f"WHERE id IN ({', '.join('?' * len(announced))}) AND status = 'pending'",
                (fold_id, *announced))
        ids = [row_id for row_id, _, _ in lines if row_id not in announced]
        if ids:
            await self._exec(
                "UPDATE outbox SET status = 'superseded', folded_into = ?, in_flight_at = NULL "
                f"WHERE id IN ({', '.join('?' * len(ids))}) "
                "AND status IN ('pending', 'superseded')",
                (fold_id, *ids),
            )
        await self._many(
            "INSERT INTO outbox_fold_lines (fold_id, position, ticket_id, line) "
            "VALUES (?, ?, ?, ?)",
            [(fold_id, 0, None, header)]
            + [(fold_id, n, ticket, line) for n, (_, ticket, line) in enumerate(lines, 1)],
        )
        return fold_id

    async def fold_delivered(self, fold_id: int, telegram_message_id: int | None,
                             chat_id: int, now: datetime | None = None) -> int:
        """The combined message ``fold_id`` arrived: its rows count as sent with it, and
        each ticket acknowledged there (and not carded meanwhile) has it as its card."""
        changed = await self._exec(
            "UPDATE outbox SET status = 'sent', sent_at = ?, telegram_message_id = ? "
            "WHERE folded_into = ? AND status = 'superseded'",
            (to_db(self._now(now)), telegram_message_id, fold_id),
        )
        if changed and telegram_message_id is not None:
            await self._exec(
                "UPDATE tickets SET card_chat_id = ?, card_message_id = ? WHERE card_message_id "
                "IS NULL AND id IN (SELECT ticket_id FROM outbox_fold_lines WHERE fold_id = ? "
                "AND ticket_id IS NOT NULL)",
                (chat_id, telegram_message_id, fold_id),
            )
        return changed

    async def unfold(self, fold_id: int) -> int:
        """The combined message was refused for good: its rows go out one by one (and card
        edits whose status line it carried may be announced again)."""
        await self._exec("UPDATE outbox SET status_folded_into = NULL "
                         "WHERE status_folded_into = ?", (fold_id,))
        return await self._exec(
            "UPDATE outbox SET status = 'pending', folded_into = NULL, fold_line = NULL "
            "WHERE folded_into = ? AND status = 'superseded'", (fold_id,))

    async def unsent_fold_holding(self, ticket_id: int) -> int | None:
        """A combined message not yet delivered that carries the ticket's card line."""
        return await self._scalar(
            "SELECT l.fold_id FROM outbox_fold_lines l JOIN outbox o ON o.id = l.fold_id "
            "WHERE l.ticket_id = ? AND o.status = 'pending' LIMIT 1", (ticket_id,))

    async def fold_holding(self, ticket_id: int, chat_id: int, message_id: int) -> int | None:
        """The delivered combined message ``message_id`` if it carries the ticket's line."""
        return await self._scalar(
            "SELECT l.fold_id FROM outbox_fold_lines l JOIN outbox o ON o.id = l.fold_id "
            "WHERE l.ticket_id = ? AND o.chat_id = ? AND o.telegram_message_id = ? "
            "AND o.status = 'sent' ORDER BY l.fold_id DESC LIMIT 1",
            (ticket_id, chat_id, message_id))

    async def fold_pending_cards(self, fold_id: int) -> list[tuple[int, int, str]]:
        """Pending card rows (id, ticket, line) of the tickets whose line is in the fold."""
        rows = await self._all(
            "SELECT o.id, o.card_ticket_id, o.fold_line FROM outbox_fold_lines l "
            "JOIN outbox o ON o.card_ticket_id = l.ticket_id AND o.status = 'pending' "
            "WHERE l.fold_id = ? AND o.fold_line IS NOT NULL ORDER BY o.id", (fold_id,))
        return [(r[0], r[1], r[2]) for r in rows]

    async def set_fold_line(self, fold_id: int, ticket_id: int, line: str) -> None:
        await self._exec("UPDATE outbox_fold_lines SET line = ? WHERE fold_id = ? "
                         "AND ticket_id = ?", (line, fold_id, ticket_id))

    async def fold_lines(self, fold_id: int) -> list[str]:
        """The combined message's header and lines, in order."""
        rows = await self._all("SELECT line FROM outbox_fold_lines WHERE fold_id = ? "
                               "ORDER BY position", (fold_id,))
        return [r[0] for r in rows]

    async def cover(self, row_ids: Iterable[int], by_row: int) -> None:
        """Rows whose content goes out with ``by_row`` (one edit for several tickets)."""
        ids = list(row_ids)
        if ids:
            await self._exec(
                "UPDATE outbox SET status = 'superseded', folded_into = ? "
                f"WHERE id IN ({', '.join('?' * len(ids))}) AND status = 'pending'",
                (by_row, *ids))

    async def recent_sends(self, since: datetime) -> list[tuple[int, datetime]]:
        """(chat, time) of every message sent since ``since`` (one per Telegram request:
        rows delivered inside a combined message are not counted again), and of rows that
        were on the wire when the process stopped (they may have arrived)."""
        rows = await self._all(
            "SELECT chat_id, sent_at FROM outbox WHERE status = 'sent' AND sent_at >= ? "
            "AND folded_into IS NULL "
            "UNION ALL SELECT chat_id, in_flight_at FROM outbox WHERE status = 'pending' "
            "AND in_flight_at IS NOT NULL AND in_flight_at >= ?",
            (to_db(since), to_db(since)))
        return [(r[0], req(r[1])) for r in rows]

    async def unknown_message_ids(self, chat_id: int, below: int, since: datetime,
                                  limit: int) -> list[int]:
        """Message ids below ``below`` in a chat that are neither the bot's known messages
        nor residents' messages in the inbox, from the bot's last message before ``since``
        on: where a copy sent at ``since`` that arrived unseen (on the wire at a crash,
        timed out) can be. Rare: run only after such a send, so the inbox scan is fine."""
        last_known = await self._scalar(
            "SELECT max(telegram_message_id) FROM outbox WHERE chat_id = ? AND status = 'sent' "
            "AND telegram_message_id < ? AND sent_at <= ?", (chat_id, below, to_db(since)))
        low = max(int(last_known or 0), below - 200)
        if below - low <= 1:
            return []
        message_id = self._sql.json_int("payload", "message", "message_id")
        rows = await self._all(
            f"SELECT {message_id} FROM inbox "
            f"WHERE {self._sql.json_int('payload', 'message', 'chat', 'id')} = ? "
            f"AND {message_id} BETWEEN ? AND ?",
            (chat_id, low + 1, below - 1))
        seen = {r[0] for r in rows}
        unknown = [i for i in range(low + 1, below) if i not in seen]
        # The copy went out right after the bot's last known message; with none known,
        # it is most likely the nearest unknown id below the new one.
        return unknown[:limit] if last_known else unknown[::-1][:limit]

    async def get(self, outbox_id: int) -> OutboxRow | None:
        row = await self._one(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", (outbox_id,))
        return _row(row) if row else None

    async def mark_sent(self, outbox_id: int, telegram_message_id: int | None,
                        now: datetime | None = None) -> None:
        """Delivered. For a card row, older pending card rows of the ticket are superseded."""
        await self._exec(
            "UPDATE outbox SET status = 'sent', sent_at = ?, telegram_message_id = ?, "
            "attempts = attempts + 1, in_flight_at = NULL WHERE id = ?",
            (to_db(self._now(now)), telegram_message_id, outbox_id),
        )
        await self._exec(
            "UPDATE outbox SET status = 'superseded' WHERE status = 'pending' AND id < ? "
            "AND card_ticket_id = (SELECT card_ticket_id FROM outbox WHERE id = ?)",
            (outbox_id, outbox_id),
        )

    async def mark_retry(self, outbox_id: int, error: str, next_attempt_at: datetime) -> None:
        """A temporary failure (flood wait, network): try again at ``next_attempt_at``."""
        await self._exec(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, "
            "suspect_since = CASE WHEN ? THEN coalesce(suspect_since, in_flight_at) "
            "ELSE suspect_since END, in_flight_at = NULL WHERE id = ?",
            (error, to_db(next_attempt_at), error.startswith("network:"), outbox_id),
        )

    async def mark_in_flight(self, outbox_id: int, now: datetime | None = None) -> None:
        """About to hand the row to Telegram (see :meth:`recover_in_flight`)."""
        await self._exec("UPDATE outbox SET in_flight_at = ? WHERE id = ?",
                         (to_db(self._now(now)), outbox_id))

    async def recover_in_flight(self) -> int:
        """At start-up: rows that were being sent when the process died. Their fate is
        unknown (Telegram may have delivered them); they stay pending and go out again.
        Returns how many, for the log."""
        return await self._exec(
            "UPDATE outbox SET suspect_since = coalesce(suspect_since, in_flight_at), "
            "in_flight_at = NULL, last_error = 'in flight at restart' "
            "WHERE status = 'pending' AND in_flight_at IS NOT NULL")

    async def defer_chat(self, chat_id: int, until: datetime) -> int:
        """Hold every pending row for ``chat_id`` until ``until`` (a flood wait or an outage
        applies to the whole chat, and its messages must keep their order)."""
        return await self._exec(
            "UPDATE outbox SET next_attempt_at = ? WHERE status = 'pending' AND chat_id = ? "
            "AND next_attempt_at < ?",
            (to_db(until), chat_id, to_db(until)),
        )

    async def mark_failed(self, outbox_id: int, error: str) -> None:
        """A permanent failure (chat gone, bot blocked and no fallback): stop trying."""
        await self._exec(
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?, "
            "in_flight_at = NULL WHERE id = ?",
            (error, outbox_id),
        )

    async def set_card(self, ticket_id: int, chat_id: int, message_id: int) -> None:
        """Record the ticket's group card after its first send (see TicketRepository)."""
        await self._exec(
            "UPDATE tickets SET card_chat_id = ?, card_message_id = ? WHERE id = ?",
            (chat_id, message_id, ticket_id),
        )

    async def clear_card(self, ticket_id: int) -> None:
        """The card message is gone (deleted by an admin): the next card row posts anew."""
        await self._exec(
            "UPDATE tickets SET card_chat_id = NULL, card_message_id = NULL WHERE id = ?",
            (ticket_id,),
        )

    async def next_due_at(self) -> datetime | None:
        """When the earliest pending row becomes due (the sender sleeps until then)."""
        return from_db(await self._scalar(
            "SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'"
        ))

    async def counts(self) -> dict[str, int]:
        """Rows per status (pending, sent, failed, superseded), for monitoring."""
        rows = await self._all("SELECT status, count(*) FROM outbox GROUP BY status")
        out = {"pending": 0, "sent": 0, "failed": 0, "superseded": 0}
        out.update({r[0]: r[1] for r in rows})
        return out

    async def oldest_pending_at(self) -> datetime | None:
        """Creation time of the oldest pending row (a stuck sender shows here)."""
        return from_db(await self._scalar(
            "SELECT min(created_at) FROM outbox WHERE status = 'pending'"
        ))

    # -- several processes (README "Several processes") ----------------------------------

    async def claim_in_flight(self, outbox_id: int, now: datetime | None = None,
                              stale_after: float = 60.0) -> bool:
        """Mark the row in flight unless another sender holds it: True when this caller
        may send it. A claim older than ``stale_after`` seconds (a sender that failed
        after its send) may be taken over. Only the lease holder sends, so a refusal means
        a holder that lost its lease and has not noticed yet: it must skip the row."""
        at = self._now(now)
        stale = to_db(at - timedelta(seconds=stale_after))
        return await self._exec(
            "UPDATE outbox SET in_flight_at = ? WHERE id = ? AND status = 'pending' "
            "AND (in_flight_at IS NULL OR in_flight_at < ?)", (to_db(at), outbox_id, stale)) == 1
