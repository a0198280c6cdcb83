"""Read-only export tokens (scheduled pulls of /export/*.xlsx): stored as SHA-256
hashes, created and revoked by the secretary in the console."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.base import Repository
from storage.timefmt import from_db, req, to_db


@dataclass(frozen=True, slots=True)
class ExportToken:
    id: int
    label: str
    created_by: str  # person key: the export sees what they see
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


_COLS = "id, label, created_by, created_at, last_used_at, revoked_at"


def _token(r: object) -> ExportToken:
    return ExportToken(r[0], r[1], r[2], req(r[3]), from_db(r[4]), from_db(r[5]))  # type: ignore[index]


class ExportTokenRepository(Repository):
    async def add(self, token_hash: str, label: str, created_by: str,
                  now: datetime | None = None) -> int:
        rid = await self._insert(
            "INSERT INTO export_tokens (token_hash, label, created_by, created_at) "
            "VALUES (?, ?, ?, ?)", (token_hash, label, created_by, to_db(self._now(now))))
        assert rid is not None
        return rid

    async def all(self) -> list[ExportToken]:
        """Every token, newest first (revoked ones too: the list is an audit)."""
        rows = await self._all(f"SELECT {_COLS} FROM export_tokens ORDER BY id DESC")
        return [_token(r) for r in rows]

    async def active_by_hash(self, token_hash: str) -> ExportToken | None:
        row = await self._one(
            f"SELECT {_COLS} FROM export_tokens WHERE token_hash = ? AND revoked_at IS NULL",
            (token_hash,))
        return _token(row) if row else None

    async def touch(self, token_id: int, now: datetime | None = None) -> None:
        await self._exec("UPDATE export_tokens SET last_used_at = ? WHERE id = ?",
                         (to_db(self._now(now)), token_id))

    async def revoke(self, token_id: int, now: datetime | None = None) -> bool:
        """True when an active token was revoked."""
        return await self._exec(
            "UPDATE export_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (to_db(self._now(now)), token_id)) == 1
