"""Durable storage on SQLite (aiosqlite) or PostgreSQL (asyncpg). All SQL of the project
lives in this package.

Decision: a thin dialect layer of our own, not SQLAlchemy. The repositories are plain SQL
behind a small :class:`~storage.base.Repository` base; one connection protocol
(:mod:`storage.connection`) with an aiosqlite and an asyncpg adapter keeps every statement
readable as the SQL that runs, adds a single dependency (asyncpg) and no ORM, and costs
SQLite nothing (no extra round trip; the ``?`` → ``$n`` rewrite is cached per statement).
SQL is written portably where SQLite 3.40 and PostgreSQL 15 agree; what they spell
differently comes from a :class:`~storage.dialect.Dialect` (``self._sql`` in repositories).
See README, "Storage: SQLite or PostgreSQL".
"""

from storage.database import Database, UnitOfWork, is_postgres_url, open_database
from storage.events_repo import EventRecord
from storage.feedback_repo import Correction, Supporter
from storage.inbox_repo import InboxUpdate
from storage.outbox import OutboxRow
from storage.prompts_repo import Prompt
from storage.queries import Counts, Digest, Overdue
from storage.registry import ChatBinding, Registration
from storage.schedules_repo import Schedule
from storage.schema import (
    DATABASE_ERRORS,
    INTEGRITY_ERRORS,
    LATEST_VERSION,
    DatabaseUnavailable,
    NotAGridbotDatabase,
    SchemaTooNew,
    StorageError,
    printable,
)
from storage.tickets_repo import StaleTicket

__all__ = [
    "DATABASE_ERRORS",
    "INTEGRITY_ERRORS",
    "LATEST_VERSION",
    "ChatBinding",
    "Correction",
    "Counts",
    "Database",
    "DatabaseUnavailable",
    "Digest",
    "EventRecord",
    "InboxUpdate",
    "NotAGridbotDatabase",
    "OutboxRow",
    "Overdue",
    "Prompt",
    "Registration",
    "Schedule",
    "SchemaTooNew",
    "StaleTicket",
    "StorageError",
    "Supporter",
    "UnitOfWork",
    "is_postgres_url",
    "open_database",
    "printable",
]
