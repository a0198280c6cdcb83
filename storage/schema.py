"""Versioned schema migrations: ``storage/migrations/<dialect>/NNNN_name.sql`` in order.

Both dialects ship the same numbers and names (``load_migrations`` refuses otherwise).
On SQLite the schema version lives in ``PRAGMA user_version`` and ``PRAGMA
application_id`` marks the file as a GridBot database, so a stray SQLite file is never
"upgraded"; PostgreSQL keeps both in a ``gridbot_schema`` table (storage/pg_schema.py).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlsplit, urlunsplit

import aiosqlite
import asyncpg

APPLICATION_ID = 0x47524442  # "GRDB"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class StorageError(Exception):
    """Base class of storage failures callers may want to handle."""


#: What a broken constraint raises on either backend (a UNIQUE key, a CHECK, the
#: append-only event log): ``except INTEGRITY_ERRORS`` / ``pytest.raises(INTEGRITY_ERRORS)``.
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)


#: What opening or using a database may raise on either backend: ours, the file
#: system's, the drivers' own (a failed statement, a lost connection).
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    StorageError, OSError, sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError)


def printable(target: str) -> str:
    """A database target fit for messages and logs: a URL's password masked."""
    parts = urlsplit(target)
    if "://" not in target or parts.password is None:
        return target
    user, host = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{user.split(':', 1)[0]}:***@{host}"))


class DatabaseUnavailable(StorageError):
    """The database server cannot be reached or refused the connection."""

    def __init__(self, target: str, why: str) -> None:
        super().__init__(f"cannot connect to the database {target} ({why}).")


class SchemaTooNew(StorageError):
    """The database was written by a newer GridBot; refusing to touch it."""

    def __init__(self, path: str, found: int, supported: int) -> None:
        self.found, self.supported = found, supported
        super().__init__(
            f"{path}: database schema version {found} is newer than this GridBot supports "
            f"({supported}). Upgrade GridBot or restore a backup; the file was not modified."
        )


class NotAGridbotDatabase(StorageError):
    """The file exists but is not a GridBot database (another app's SQLite, or not SQLite)."""

    def __init__(self, path: str, why: str) -> None:
        super().__init__(f"{path} is not a GridBot database ({why}); refusing to open it.")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


DIALECTS = ("sqlite", "postgres")


def load_migrations(dialect: str = "sqlite") -> list[Migration]:
    """The migrations shipped in ``storage/migrations/<dialect>``, by version (1..N)."""
    found: list[Migration] = []
    for entry in resources.files("storage").joinpath("migrations", dialect).iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda mig: mig.version)
    if [mig.version for mig in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migration versions must be 1..N, got {[m.version for m in found]}")
    return found


def _latest() -> int:
    names = {d: [m.name for m in load_migrations(d)] for d in DIALECTS}
    if names["sqlite"] != names["postgres"]:
        raise RuntimeError(f"sqlite and postgres migrations differ: {names}")
    return len(names["sqlite"])


LATEST_VERSION = _latest()


async def inspect(conn: aiosqlite.Connection, path: str) -> int:
    """Return the file's schema version (0 = empty, new database) or raise when the file
    is not ours or too new."""
    try:
        rows = await conn.execute_fetchall("PRAGMA application_id")
        app_id = next(iter(rows))[0]
        rows = await conn.execute_fetchall("PRAGMA user_version")
        version = int(next(iter(rows))[0])
        rows = await conn.execute_fetchall("SELECT count(*) FROM sqlite_master")
        objects = int(next(iter(rows))[0])
    except sqlite3.DatabaseError as exc:
        raise NotAGridbotDatabase(path, str(exc)) from exc
    if app_id == 0 and version == 0 and objects == 0:
        return 0
    if app_id != APPLICATION_ID:
        raise NotAGridbotDatabase(path, f"application_id {app_id:#x}, {objects} schema objects")
    if version > LATEST_VERSION:
        raise SchemaTooNew(path, version, LATEST_VERSION)
    return version


async def migrate(conn: aiosqlite.Connection, current: int, target: int | None = None) -> int:
    """Apply migrations ``current+1 .. target`` (default: latest), each in its own
    transaction together with its version bump. Returns the new version."""
    target = LATEST_VERSION if target is None else target
    for mig in load_migrations():
        if current < mig.version <= target:
            script = (
                "BEGIN IMMEDIATE;\n"
                f"{mig.sql}\n"
                f"PRAGMA application_id = {APPLICATION_ID};\n"
                f"PRAGMA user_version = {mig.version};\n"
                "COMMIT;"
            )
            try:
                await conn.executescript(script)
            except BaseException:
                if conn.in_transaction:
                    await conn.rollback()
                raise
            current = mig.version
    return current
