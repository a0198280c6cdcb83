"""The database handle and its unit of work, on SQLite (this module) or PostgreSQL
(storage/pg_database.py); :func:`open_database` picks one from the target.

SQLite concurrency model: one **writer** connection, guarded by an ``asyncio.Lock``, runs
every transaction (``BEGIN IMMEDIATE`` … ``COMMIT``), so writes from concurrent tasks are
serialised and a transaction always sees the latest committed state. A separate
**reader** connection (``query_only``, WAL snapshot per statement) serves
:meth:`Database.read`, so the scheduler's and handlers' queries never wait behind a
write burst. Reads that must see the caller's own uncommitted writes belong inside the
transaction (``uow.queries`` is available there too).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite

from storage import search_index
from storage.connection import Connection, SqliteConnection
from storage.console_repo import ConsoleRepository
from storage.conversations_repo import ConversationRepository
from storage.dashboard_repo import DashboardRepository
from storage.events_repo import EventRepository
from storage.export_tokens import ExportTokenRepository
from storage.feedback_repo import CorrectionRepository, RatingRepository, SupporterRepository
from storage.inbox_repo import IdempotencyRepository, InboxRepository
from storage.learning_repo import LearningRepository
from storage.outbox import OutboxRepository
from storage.prompts_repo import PromptRepository
from storage.queries import TicketQueries
from storage.registry import ChatRepository, MenuRepository, PeopleRepository
from storage.retention_repo import RetentionRepository
from storage.schedules_repo import JobRunRepository, ScheduleRepository
from storage.schema import inspect, migrate
from storage.tickets_repo import TicketRepository
from storage.voices_repo import VoiceRepository
from storage.web_auth_repo import WebAuthRepository
from tickets.clock import Clock

_PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA synchronous = NORMAL",  # WAL + NORMAL: durable at checkpoint, no fsync per commit
    "PRAGMA secure_delete = ON",  # purged and deleted text is zeroed, not left in free pages
)
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(target: str | Path) -> bool:
    """True for a ``postgresql://`` / ``postgres://`` URL (anything else is a file)."""
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


class UnitOfWork:
    """Repositories sharing one connection (and, for writes, one transaction)."""

    def __init__(self, conn: Connection, clock: Clock, tz: ZoneInfo) -> None:
        self.clock = clock
        self.backend = conn.dialect.name
        self._conn = conn  # storage-internal (search indexing at open)
        self.tickets = TicketRepository(conn, clock, tz)
        self.events = EventRepository(conn, clock)
        self.outbox = OutboxRepository(conn, clock)
        self.people = PeopleRepository(conn, clock)
        self.chats = ChatRepository(conn, clock)
        self.menus = MenuRepository(conn, clock)
        self.ratings = RatingRepository(conn, clock)
        self.supporters = SupporterRepository(conn, clock)
        self.corrections = CorrectionRepository(conn, clock)
        self.inbox = InboxRepository(conn, clock)
        self.idempotency = IdempotencyRepository(conn, clock)
        self.schedules = ScheduleRepository(conn, clock)
        self.job_runs = JobRunRepository(conn, clock)
        self.prompts = PromptRepository(conn, clock)
        self.queries = TicketQueries(conn, clock)
        self.retention = RetentionRepository(conn, clock)
        self.learning = LearningRepository(conn, clock)
        self.conversations = ConversationRepository(conn, clock)
        self.voices = VoiceRepository(conn, clock)
        self.console = ConsoleRepository(conn, clock)
        self.dashboard = DashboardRepository(conn, clock)
        self.export_tokens = ExportTokenRepository(conn, clock)
        self.web_auth = WebAuthRepository(conn, clock)  # staff console sign-in


class Database(ABC):
    """An open GridBot database. Create with :func:`open_database`.

    ``backend`` is "sqlite" or "postgres"; ``target`` the file path or the URL (password
    masked); ``schema`` the community's PostgreSQL schema (None on SQLite)."""

    backend: str = "sqlite"

    def __init__(self, target: str, clock: Clock, tz: ZoneInfo, version: int,
                 schema: str | None = None) -> None:
        self.target = target
        self.schema = schema
        self.clock = clock
        self.timezone = tz
        self.schema_version = version

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """``async with db.transaction() as uow:`` — a write transaction, serialised with
        every other write to this community; committed when the block returns cleanly,
        rolled back on any exception (which propagates)."""

    @abstractmethod
    def read(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """Read-only repositories inside one consistent snapshot. Writing fails."""

    @abstractmethod
    async def checkpoint(self) -> None:
        """Settle what was written (at shutdown or after a bulk load)."""

    @abstractmethod
    async def close(self) -> None:
        """Wait for the running write, then release every connection."""


class SqliteDatabase(Database):
    """A community's SQLite file: one writer and one reader connection."""

    def __init__(self, path: str, writer: aiosqlite.Connection, reader: aiosqlite.Connection,
                 clock: Clock, tz: ZoneInfo, version: int) -> None:
        super().__init__(path, clock, tz, version)
        self.path = path
        self._writer, self._reader = writer, reader
        self._write_conn = SqliteConnection(writer)
        self._read_conn = SqliteConnection(reader)
        self._write_lock = asyncio.Lock()
        self._read_lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """BEGIN IMMEDIATE on entry, COMMIT on a clean exit (the data is committed when
        the block returns), ROLLBACK on any exception (which propagates)."""
        async with self._write_lock:
            await _begin(self._writer, "BEGIN IMMEDIATE")
            try:
                yield UnitOfWork(self._write_conn, self.clock, self.timezone)
            except BaseException:
                await self._writer.rollback()
                raise
            await self._writer.commit()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[UnitOfWork]:
        """Read-only repositories on the reader connection, inside one snapshot (a
        deferred read transaction), so multi-query reads are consistent. Writing fails."""
        async with self._read_lock:
            await _begin(self._reader, "BEGIN")
            try:
                yield UnitOfWork(self._read_conn, self.clock, self.timezone)
            finally:
                await self._reader.rollback()

    async def checkpoint(self) -> None:
        """Fold the WAL into the main file (e.g. at shutdown or after a bulk load)."""
        async with self._write_lock:
            await self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def close(self) -> None:
        """Close both connections (after refreshing planner statistics, cheap)."""
        async with self._write_lock:
            await self._writer.execute("PRAGMA optimize")
        await self._reader.close()
        await self._writer.close()


async def _begin(conn: aiosqlite.Connection, sql: str) -> None:
    """Start a transaction even when the caller is cancelled meanwhile: aiosqlite runs the
    BEGIN in its thread regardless, so a cancelled await would leave the connection inside a
    transaction nobody ends (and the next BEGIN would fail). On cancellation the BEGIN is
    waited for and rolled back before the cancellation goes on."""
    started = asyncio.ensure_future(conn.execute(sql))
    try:
        await asyncio.shield(started)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await started
            await conn.rollback()
        raise


async def _connect(path: str) -> aiosqlite.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves.
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


async def open_database(
    target: str | Path, *, clock: Clock, timezone: str = "Asia/Shanghai",
    target_version: int | None = None, schema: str | None = None,
) -> Database:
    """Open (creating on first run) and migrate the GridBot database at ``target``: a
    SQLite file path, or a ``postgresql://`` / ``postgres://`` URL (then ``schema`` is the
    community's schema, default "gridbot", created if missing).

    Raises :class:`~storage.schema.NotAGridbotDatabase` for a foreign file or schema and
    :class:`~storage.schema.SchemaTooNew` for a database from a newer GridBot (left
    untouched in both cases); on PostgreSQL :class:`~storage.schema.DatabaseUnavailable`
    when the server cannot be reached. ``target_version`` stops migrations early (tests of
    the upgrade path only). ``timezone`` decides the month in ticket numbers.
    """
    if is_postgres_url(target):
        from storage.pg_database import open_postgres

        return await open_postgres(str(target), clock=clock, timezone=timezone,
                                   target_version=target_version, schema=schema)
    if schema is not None:
        raise ValueError("schema= is for PostgreSQL targets; a SQLite file is one community")
    path = str(target)
    writer = await _connect(path)
    try:
        version = await inspect(writer, path)
        await writer.execute("PRAGMA journal_mode = WAL")
        for pragma in _PRAGMAS:
            await writer.execute(pragma)
        version = await migrate(writer, version, target_version)
        await _backfill_search(writer)  # texts not indexed yet (after an upgrade)
        reader = await _connect(path)
        for pragma in (*_PRAGMAS, "PRAGMA query_only = ON"):
            await reader.execute(pragma)
    except BaseException:
        await writer.close()
        raise
    return SqliteDatabase(path, writer, reader, clock, ZoneInfo(timezone), version)


async def _backfill_search(writer: aiosqlite.Connection, batch: int = 5000) -> int:
    """Index every ticket still pending for search, ``batch`` per transaction."""
    present = await writer.execute_fetchall(
        "SELECT 1 FROM sqlite_master WHERE name = 'search_pending'")
    if not list(present):
        return 0  # a database stopped before the search migration (upgrade tests)
    conn, done = SqliteConnection(writer), 0
    while True:
        await writer.execute("BEGIN IMMEDIATE")
        try:
            n = await search_index.flush(conn, limit=batch)
        except BaseException:
            await writer.rollback()
            raise
        await writer.commit()
        if not n:
            return done
        done += n
