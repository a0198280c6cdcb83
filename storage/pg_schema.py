"""Schema version and migrations on PostgreSQL, one community per schema.

The ``gridbot_schema`` table inside the community's schema holds the application marker
and the version (SQLite keeps them in PRAGMAs). Migrations run under a session advisory
lock on the schema, so two processes starting at once migrate once: the second waits,
then finds the schema up to date.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from storage.schema import LATEST_VERSION, NotAGridbotDatabase, SchemaTooNew, load_migrations

APPLICATION = "gridbot"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_schema_name(schema: str) -> str:
    """A community schema name: lower-case letters, digits and ``_`` (a plain
    identifier, never quoted), at most 63 characters."""
    if not _IDENT.fullmatch(schema) or schema.startswith("pg_"):
        raise ValueError(
            f"invalid PostgreSQL schema name {schema!r}: use lower-case letters, digits "
            "and _ (at most 63, not starting with a digit or pg_)")
    return schema


def lock_key(schema: str, purpose: str = "write") -> int:
    """A stable signed 64-bit advisory lock key for ``purpose`` on ``schema``."""
    digest = hashlib.blake2b(f"gridbot:{purpose}:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def inspect(conn: Any, schema: str, where: str) -> int:
    """The schema's version (0 = new or empty) or raise when it is not ours or too new."""
    marker = await conn.fetchrow(
        "SELECT to_regclass(quote_ident($1) || '.gridbot_schema') IS NOT NULL AS ours, "
        "(SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'p')) AS objects", schema)
    if not marker["ours"]:
        if marker["objects"]:
            raise NotAGridbotDatabase(where, f"schema {schema} holds {marker['objects']} "
                                             "tables but no gridbot_schema marker")
        return 0
    row = await conn.fetchrow("SELECT application, version FROM gridbot_schema LIMIT 1")
    if row is None or row["application"] != APPLICATION:
        found = None if row is None else row["application"]
        raise NotAGridbotDatabase(where, f"gridbot_schema marks application {found!r}")
    version = int(row["version"])
    if version > LATEST_VERSION:
        raise SchemaTooNew(where, version, LATEST_VERSION)
    return version


async def migrate(conn: Any, schema: str, where: str, target: int | None = None) -> int:
    """Create the schema if missing and apply migrations up to ``target`` (default:
    latest), each in its own transaction with its version bump, under a session advisory
    lock. Returns the version the schema is at."""
    target = LATEST_VERSION if target is None else target
    key = lock_key(schema, "migrate")
    await conn.execute("SELECT pg_advisory_lock($1)", key)
    try:
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {check_schema_name(schema)}")
        current = await inspect(conn, schema, where)
        for mig in load_migrations("postgres"):
            if current < mig.version <= target:
                async with conn.transaction():
                    if current == 0:
                        await conn.execute(
                            "CREATE TABLE gridbot_schema (application TEXT NOT NULL, "
                            "version INTEGER NOT NULL)")
                        await conn.execute(
                            "INSERT INTO gridbot_schema VALUES ($1, 0)", APPLICATION)
                    await conn.execute(mig.sql)
                    await conn.execute("UPDATE gridbot_schema SET version = $1", mig.version)
                current = mig.version
        return current
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", key)
