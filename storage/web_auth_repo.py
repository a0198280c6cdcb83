"""The staff console's sign-in records: the link-signing secret, one-time login links
and browser sessions (see migration 0010_console_auth)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.base import Repository
from storage.timefmt import from_db, req, to_db


@dataclass(frozen=True, slots=True)
class SessionRecord:
    token_hash: str
    user_id: int
    person_key: str
    csrf_token: str
    via: str
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None


_SESSION_COLS = ("token_hash, user_id, person_key, csrf_token, via, created_at, last_seen_at, "
                 "revoked_at")


class WebAuthRepository(Repository):
    async def secret(self, candidate: str, now: datetime | None = None) -> str:
        """The console's signing secret; ``candidate`` becomes it on first use."""
        await self._exec(
            "INSERT INTO console_secret (id, secret, created_at) VALUES (1, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (candidate, to_db(self._now(now))))
        value = await self._scalar("SELECT secret FROM console_secret WHERE id = 1")
        return str(value)

    async def read_secret(self) -> str | None:
        value = await self._scalar("SELECT secret FROM console_secret WHERE id = 1")
        return None if value is None else str(value)

    async def add_link(self, nonce: str, user_id: int, expires_at: datetime,
                       now: datetime | None = None) -> None:
        at = self._now(now)
        await self._exec("DELETE FROM console_login_links WHERE expires_at < ?", (to_db(at),))
        await self._exec(
            "INSERT INTO console_login_links (nonce, user_id, created_at, expires_at) "
            "VALUES (?, ?, ?, ?)", (nonce, user_id, to_db(at), to_db(expires_at)))

    async def spend_link(self, nonce: str, user_id: int, now: datetime | None = None) -> bool:
        """Mark the link used; True only for the one caller that found it unused and
        unexpired (one conditional UPDATE, so two clicks cannot both win)."""
        at = to_db(self._now(now))
        changed = await self._exec(
            "UPDATE console_login_links SET used_at = ? WHERE nonce = ? AND user_id = ? "
            "AND used_at IS NULL AND expires_at > ?", (at, nonce, user_id, at))
        return changed == 1

    async def link_state(self, nonce: str) -> tuple[int, datetime, datetime | None] | None:
        """(user id, expiry, used at) of a link, for explaining a refusal."""
        row = await self._one(
            "SELECT user_id, expires_at, used_at FROM console_login_links WHERE nonce = ?",
            (nonce,))
        return None if row is None else (int(row[0]), req(row[1]), from_db(row[2]))

    async def add_session(self, token_hash: str, user_id: int, person_key: str,
                          csrf_token: str, via: str, now: datetime | None = None) -> None:
        at = to_db(self._now(now))
        await self._exec(
            f"INSERT INTO console_sessions ({_SESSION_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
            (token_hash, user_id, person_key, csrf_token, via, at, at))

    async def session(self, token_hash: str) -> SessionRecord | None:
        row = await self._one(
            f"SELECT {_SESSION_COLS} FROM console_sessions WHERE token_hash = ?", (token_hash,))
        if row is None:
            return None
        return SessionRecord(row[0], int(row[1]), row[2], row[3], row[4], req(row[5]),
                             req(row[6]), from_db(row[7]))

    async def touch_session(self, token_hash: str, now: datetime | None = None) -> None:
        await self._exec("UPDATE console_sessions SET last_seen_at = ? WHERE token_hash = ?",
                         (to_db(self._now(now)), token_hash))

    async def revoke_session(self, token_hash: str, now: datetime | None = None) -> None:
        await self._exec(
            "UPDATE console_sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
            (to_db(self._now(now)), token_hash))

    async def revoke_user_sessions(self, user_id: int, now: datetime | None = None) -> int:
        """End every live session of a Telegram user; returns how many."""
        return await self._exec(
            "UPDATE console_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            (to_db(self._now(now)), user_id))

    async def ticket_photos(self, ticket_id: int) -> list[tuple[str, int | None]]:
        """(file id, Telegram id of who added it) of a ticket's photos, oldest first."""
        rows = await self._all(
            "SELECT file_id, added_by FROM ticket_photos WHERE ticket_id = ? ORDER BY id",
            (ticket_id,))
        return [(r[0], r[1]) for r in rows]
