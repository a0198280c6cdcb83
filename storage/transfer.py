"""Copying a community's database from SQLite to PostgreSQL (``gridbot migrate-db``).

The SQLite file must not be in use (the bot and the console stopped): a cheap probe asks
SQLite for an exclusive lock, which any other open connection prevents. The PostgreSQL
target is created and migrated by :func:`storage.open_database` and must hold no data.

Then every table is copied in one PostgreSQL transaction (all or nothing: a failed copy
leaves the target empty), parents before children (the foreign keys), in batches of
:data:`BATCH` rows sent as one JSON array each and cast to the columns' PostgreSQL types by
``jsonb_populate_recordset`` (SQLite's UTC timestamp text, 0/1 flags, JSON text, blobs).
Ids are kept (``OVERRIDING SYSTEM VALUE``) and each identity sequence is set past its
table's largest id. A self-reference (a ticket merged into a later one) is filled in after
its table. Tables the database's own triggers fill while tickets are inserted (the month
counters of ticket numbers) are replaced by the source's rows. SQLite's full-text search
tables are not copied: the target's index is rebuilt from the tickets' texts when the
target is opened afterwards. Finally the rows of every table are counted on both sides.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from storage.database import open_database
from storage.schema import NotAGridbotDatabase, StorageError, inspect
from tickets.clock import Clock

BATCH = 2_000
# SQLite's full-text search (FTS5 tables and their feed): derived data, rebuilt on the target.
SEARCH_TABLES = ("ticket_search", "search_feed", "search_pending")
# Filled by the target's triggers as tickets arrive; overwritten with the source's rows.
TRIGGER_FILLED = ("counters",)
_JSON_TYPES = {"json", "jsonb"}


class TransferRefused(StorageError):
    """The copy cannot start; the message (Chinese, for the operator) says why."""


@dataclass(frozen=True, slots=True)
class TableCount:
    table: str
    source: int
    target: int

    @property
    def ok(self) -> bool:
        return self.source == self.target


@dataclass(frozen=True, slots=True)
class TransferReport:
    target: str
    schema: str | None
    tables: tuple[TableCount, ...]

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)


@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    columns: tuple[str, ...]  # copied columns (stored on both sides, not generated)
    json_columns: frozenset[str]
    self_refs: tuple[str, ...]  # columns referencing the table itself


async def copy_sqlite_to_postgres(
    source: str | Path, target: str, *, clock: Clock, timezone: str = "Asia/Shanghai",
    schema: str | None = None, progress: Callable[[str], None] | None = None,
) -> TransferReport:
    """Copy the GridBot SQLite database ``source`` into the PostgreSQL database ``target``
    (schema ``schema``). Raises :class:`TransferRefused` (source in use, not found, target not
    empty) before anything is written."""
    path = Path(source)
    await _refuse_if_in_use(path)
    # Bring the source to this GridBot's schema first, as the bot itself would at start.
    src = await open_database(path, clock=clock, timezone=timezone)
    await src.close()
    db = await open_database(target, clock=clock, timezone=timezone, schema=schema)
    try:
        schema_name = db.schema
    finally:
        await db.close()
    report = await _copy(path, target, schema_name, progress or (lambda _line: None))
    # Opening the target indexes every ticket text still queued for search.
    db = await open_database(target, clock=clock, timezone=timezone, schema=schema)
    await db.close()
    return report


async def _refuse_if_in_use(path: Path) -> None:
    """Refuse while another process has the file open (a running bot or console): it holds
    a lock that keeps SQLite's exclusive locking mode out."""
    try:
        conn = await aiosqlite.connect(f"file:{path}?mode=rw", uri=True, timeout=0,
                                       isolation_level=None)
    except sqlite3.OperationalError as exc:
        raise TransferRefused(f"找不到或打不开 SQLite 数据库文件：{path}") from exc
    try:
        await inspect(conn, str(path))
        await conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        await conn.execute("BEGIN EXCLUSIVE")
        await conn.execute("ROLLBACK")
    except NotAGridbotDatabase as exc:
        raise TransferRefused(f"{path} 不是网格助手的数据库，不能迁移。") from exc
    except sqlite3.OperationalError as exc:
        raise TransferRefused(
            f"{path} 正被其他进程使用（机器人或工作台仍在运行？）。"
            "请先停止 gridbot run / gridbot web，再迁移。") from exc
    finally:
        await conn.close()


async def _copy(path: Path, target: str, schema: str | None,
                progress: Callable[[str], None]) -> TransferReport:
    import asyncpg

    settings = {"timezone": "UTC"}
    if schema:
        settings["search_path"] = _quote(schema)
    pg = await asyncpg.connect(target, server_settings=settings)
    src = await aiosqlite.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = await _plan(src, pg)
        await _refuse_if_not_empty(pg, tables, schema)
        async with pg.transaction():
            for table in tables:
                copied = await _copy_table(src, pg, table)
                progress(f"{table.name}: {copied}")
            await _reset_sequences(pg, tables)
        counts = []
        for table in tables:
            source_rows = await _sqlite_count(src, table.name)
            target_rows = int(await pg.fetchval(f"SELECT count(*) FROM {_quote(table.name)}"))
            counts.append(TableCount(table.name, source_rows, target_rows))
    finally:
        await src.close()
        await pg.close()
    return TransferReport(target=_redacted(target), schema=schema, tables=tuple(counts))


async def _plan(src: aiosqlite.Connection, pg: Any) -> list[_Table]:
    """The tables to copy, parents first, with the columns both sides store."""
    rows = await src.execute_fetchall(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
    virtual = [str(r[0]) for r in rows if str(r[1] or "").upper().startswith("CREATE VIRTUAL")]
    names = [str(r[0]) for r in rows if not _skipped(str(r[0]), virtual)]
    target_columns = await _target_columns(pg)
    missing = [n for n in names if n not in target_columns]
    if missing:
        raise StorageError(f"tables missing on PostgreSQL (is the target older?): {missing}")
    parents: dict[str, set[str]] = {}
    tables: dict[str, _Table] = {}
    for name in names:
        info = await src.execute_fetchall(f"PRAGMA table_xinfo({_quote(name)})")
        stored = [str(r[1]) for r in info if int(r[6]) == 0]  # hidden 2/3: generated
        on_target = target_columns[name]
        lost = [c for c in stored if c not in on_target]
        if lost:
            raise StorageError(f"{name}: columns with no place on PostgreSQL: {lost}")
        columns = tuple(c for c in stored if on_target[c] != "generated")
        keys = await src.execute_fetchall(f"PRAGMA foreign_key_list({_quote(name)})")
        refs = {str(k[2]) for k in keys}
        self_refs = tuple(str(k[3]) for k in keys if str(k[2]) == name)
        parents[name] = {r for r in refs if r != name and r in names}
        tables[name] = _Table(name, columns,
                              frozenset(c for c in columns if on_target[c] in _JSON_TYPES),
                              self_refs)
    return [tables[n] for n in _parents_first(names, parents)]


def _skipped(name: str, virtual: list[str]) -> bool:
    return (name.startswith("sqlite_") or name in SEARCH_TABLES
            or any(name == v or name.startswith(f"{v}_") for v in virtual))


def _parents_first(names: list[str], parents: dict[str, set[str]]) -> list[str]:
    ordered: list[str] = []
    placed: set[str] = set()
    while len(ordered) < len(names):
        ready = [n for n in names if n not in placed and parents[n] <= placed]
        if not ready:
            raise StorageError(f"foreign keys form a cycle: {sorted(set(names) - placed)}")
        ordered += ready
        placed |= set(ready)
    # Trigger-filled tables go last, after the inserts that fill them.
    return [n for n in ordered if n not in TRIGGER_FILLED] + [
        n for n in ordered if n in TRIGGER_FILLED]


async def _target_columns(pg: Any) -> dict[str, dict[str, str]]:
    """table → column → PostgreSQL type name ('generated' for generated columns)."""
    rows = await pg.fetch(
        "SELECT table_name, column_name, udt_name, is_generated FROM information_schema.columns"
        " WHERE table_schema = current_schema()")
    found: dict[str, dict[str, str]] = {}
    for r in rows:
        kind = "generated" if r["is_generated"] == "ALWAYS" else str(r["udt_name"])
        found.setdefault(str(r["table_name"]), {})[str(r["column_name"])] = kind
    return found


async def _refuse_if_not_empty(pg: Any, tables: list[_Table], schema: str | None) -> None:
    for table in tables:
        if await pg.fetchval(f"SELECT EXISTS (SELECT 1 FROM {_quote(table.name)})"):
            where = f"模式 {schema} " if schema else ""
            raise TransferRefused(
                f"目标数据库{where}已有数据（{table.name} 表不是空的）。迁移只写入空的数据库；"
                "请换一个空的模式（--schema）或新建一个空数据库。")


async def _copy_table(src: aiosqlite.Connection, pg: Any, table: _Table) -> int:
    if table.name in TRIGGER_FILLED:
        await pg.execute(f"DELETE FROM {_quote(table.name)}")
    cols = ", ".join(_quote(c) for c in table.columns)
    insert = (f"INSERT INTO {_quote(table.name)} ({cols}) OVERRIDING SYSTEM VALUE "
              f"SELECT {cols} FROM jsonb_populate_recordset(NULL::{_quote(table.name)}, $1::jsonb)")
    later: list[tuple[Any, ...]] = []  # (self-reference values…, rowid key) set afterwards
    copied = 0
    cursor = await src.execute(f"SELECT {cols} FROM {_quote(table.name)} ORDER BY rowid")
    try:
        while batch := await cursor.fetchmany(BATCH):
            records = []
            for row in batch:
                record = {c: _json_value(v, c in table.json_columns)
                          for c, v in zip(table.columns, row, strict=True)}
                if table.self_refs and any(record[c] is not None for c in table.self_refs):
                    later.append((*(record[c] for c in table.self_refs),
                                  record[table.columns[0]]))
                    for c in table.self_refs:
                        record[c] = None
                records.append(record)
            await pg.execute(insert, json.dumps(records, ensure_ascii=False))
            copied += len(records)
    finally:
        await cursor.close()
    if later:
        sets = ", ".join(f"{_quote(c)} = ${i}" for i, c in enumerate(table.self_refs, 1))
        key = table.columns[0]
        await pg.executemany(
            f"UPDATE {_quote(table.name)} SET {sets} WHERE {_quote(key)} = ${len(table.self_refs) + 1}",
            later)
    return copied


def _json_value(value: object, is_json: bool) -> object:
    if isinstance(value, bytes):
        return "\\x" + value.hex()  # bytea's hex input
    if is_json and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value  # PostgreSQL says what is wrong with it
    return value


async def _reset_sequences(pg: Any, tables: list[_Table]) -> None:
    """Each identity or serial column's sequence continues after the largest copied id."""
    rows = await pg.fetch(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema()"
        " AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')")
    copied = {t.name for t in tables}
    for r in rows:
        table, column = str(r["table_name"]), str(r["column_name"])
        if table not in copied:
            continue
        await pg.execute(
            f"SELECT setval(pg_get_serial_sequence($1, $2),"
            f" COALESCE((SELECT max({_quote(column)}) FROM {_quote(table)}), 0) + 1, false)",
            _quote(table), column)


async def _sqlite_count(src: aiosqlite.Connection, table: str) -> int:
    rows = await src.execute_fetchall(f"SELECT count(*) FROM {_quote(table)}")
    return int(next(iter(rows))[0])


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _redacted(url: str) -> str:
    """The URL without its password, for printing."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    user = f"{parts.username}:***@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}{host}{port}"))
