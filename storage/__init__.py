"""Durable storage (aiosqlite). All SQL of the project lives in this package."""

from storage.database import Database, UnitOfWork, open_database
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
    "open_database",
    "printable",
]
