"""Retention SQL for everything besides the tickets themselves (see scheduler/retention.py).

Each statement is idempotent and removes or blanks personal text only; the rows that
statistics and the event log's facts need stay. With ``PRAGMA secure_delete = ON``
(storage/database.py) the freed bytes are zeroed, so purged text does not linger in free
pages.
"""

from __future__ import annotations

from datetime import datetime

from storage.base import Repository
from storage.dialect import Dialect
from storage.timefmt import to_db


def _event_data_purge(dialect: Dialect) -> str:
    """What the event-log purge removes from ``data`` (the trigger in migration 0009
    allows exactly this and nothing else)."""
    return (f"CASE action WHEN 'escalate' THEN "
            f"{dialect.json_remove('data', 'user_name', 'old_text', 'reason')} "
            f"ELSE {dialect.json_remove('data', 'user_name', 'old_text')} END")


class RetentionRepository(Repository):
    async def prune_outbox(self, finished_before: datetime) -> int:
        """Delete sent, superseded and failed messages finished before the cutoff (their
        bodies are workers' briefs with names, phones and rooms). Pending ones stay."""
        return await self._exec(
            "DELETE FROM outbox WHERE status != 'pending' "
            "AND coalesce(sent_at, next_attempt_at, created_at) < ?", (to_db(finished_before),))

    async def purge_event_texts(self, now: datetime | None = None) -> int:
        """Blank notes, supporters' names, edited-away texts and escalation reasons in the
        events of tickets whose personal data was purged; the facts stay."""
        return await self._exec(
            f"UPDATE ticket_events SET note = NULL, data = {_event_data_purge(self._sql)}, "
            "purged_at = ? "
            "WHERE purged_at IS NULL AND ticket_id IN (SELECT id FROM tickets WHERE purged = 1)",
            (to_db(self._now(now)),))

    async def prune_prompts(self, expired_before: datetime) -> int:
        """Delete "is this a report?" questions (they hold the message text) long expired."""
        return await self._exec("DELETE FROM prompts WHERE expires_at < ?",
                                (to_db(expired_before),))

    async def purge_correction_texts(self, made_before: datetime, placeholder: str) -> int:
        """Corrections keep their category and time for the NLP team's counts; the text,
        parse result and note go once the community's allowance has passed."""
        return await self._exec(
            "UPDATE corrections SET text = ?, parse_json = '{}', note = NULL "
            "WHERE at < ? AND (text != ? OR parse_json != '{}' OR note IS NOT NULL)",
            (placeholder, to_db(made_before), placeholder))

    async def prune_ticket_examples(self, made_before: datetime) -> int:
        """Training examples taken from tickets (workers' corrections and confirmations) hold
        the report's text: they go with the corrections' allowance. Imported history stays."""
        return await self._exec(
            "DELETE FROM learning_examples WHERE source IN ('correction', 'confirmed') AND at < ?",
            (to_db(made_before),))

    async def compact_search_index(self) -> None:
        """Merge the search index's segments: FTS5 keeps a deleted row's words in its old
        segments until they merge, so a purged report's text would linger in the file.
        (PostgreSQL: a purged ticket's tsvector row is deleted; autovacuum reclaims it.)"""
        if self._sql.is_postgres:
            return
        await self._exec("INSERT INTO ticket_search (ticket_search) VALUES ('optimize')")

    async def purge_rating_comments(self, rated_before: datetime) -> int:
        """Ratings keep their score (statistics); the free-text comment goes."""
        return await self._exec(
            "UPDATE ratings SET comment = NULL WHERE comment IS NOT NULL AND at < ?",
            (to_db(rated_before),))

    async def forget_people(self, unseen_since: datetime) -> int:
        """Delete residents (no configured person behind them) not seen since the cutoff:
        their id, username and name. Seen means a /start, a report or a 附议 in that time.
        Staff registrations stay (they route tickets)."""
        cutoff = to_db(unseen_since)
        return await self._exec(
            "DELETE FROM people WHERE person_key IS NULL AND last_seen_at < ? "
            "AND NOT EXISTS (SELECT 1 FROM tickets WHERE reporter_id = people.user_id "
            "AND created_at >= ?) AND NOT EXISTS (SELECT 1 FROM supporters "
            "WHERE supporters.user_id = people.user_id AND joined_at >= ?)",
            (cutoff, cutoff, cutoff))

    async def prune_request_keys(self, claimed_before: datetime) -> int:
        """Request keys only guard replays, which happen within days."""
        return await self._exec("DELETE FROM idempotency WHERE claimed_at < ?",
                                (to_db(claimed_before),))
