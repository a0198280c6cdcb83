"""One connection protocol, two adapters: aiosqlite (SQLite) and asyncpg (PostgreSQL).

Repositories write their SQL once, with SQLite's placeholders (``?``, ``?NNN`` or
``:name``); the PostgreSQL adapter rewrites them to ``$1..$n`` outside quoted strings and
comments, once per distinct statement (cached). What the two dialects spell differently
is asked of :attr:`Connection.dialect` (storage/dialect.py). Rows support ``row["col"]``,
``row[0]``, ``len(row)`` and iteration on both backends, and nothing else is used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, Protocol

import aiosqlite

from storage.dialect import POSTGRES, SQLITE, Dialect

Params = Sequence[Any] | Mapping[str, Any]


class Row(Protocol):
    """What repositories may do with a row (sqlite3.Row and asyncpg.Record both do it)."""

    def __getitem__(self, key: Any, /) -> Any: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The connection a repository runs its SQL on (inside the caller's transaction)."""

    dialect: Dialect

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        """Run a statement and return all its rows (one round trip)."""
        ...

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; return the number of rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""
        ...


class SqliteConnection:
    """The aiosqlite connection as it always was: no rewriting, no extra round trip."""

    dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.raw = conn

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self.raw.execute_fetchall(sql, params))

    async def execute(self, sql: str, params: Params = ()) -> int:
        cur = await self.raw.execute(sql, params)
        return cur.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.raw.executemany(sql, list(rows))


class PostgresConnection:
    """An asyncpg connection (from the pool, for one unit of work)."""

    dialect = POSTGRES

    def __init__(self, conn: Any) -> None:
        self.raw = conn

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        text, args = bind(sql, params)
        return list(await self.raw.fetch(text, *args))

    async def execute(self, sql: str, params: Params = ()) -> int:
        text, args = bind(sql, params)
        status: str = await self.raw.execute(text, *args)
        return _rowcount(status)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        text, names = to_dollar(sql)
        batch = [_args(r, names) for r in rows]
        if batch:
            await self.raw.executemany(text, batch)


def _rowcount(status: str) -> int:
    """'UPDATE 3' / 'DELETE 0' / 'INSERT 0 1' → the count (0 for other commands)."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


def bind(sql: str, params: Params) -> tuple[str, list[Any]]:
    """The PostgreSQL text of ``sql`` and its positional arguments."""
    text, names = to_dollar(sql)
    return text, _args(params, names)


def _args(params: Params, names: tuple[str, ...] | None) -> list[Any]:
    if names is not None:
        assert isinstance(params, Mapping), "named placeholders need a mapping"
        values = [params[n] for n in names]
    else:
        assert not isinstance(params, Mapping), "positional placeholders need a sequence"
        values = list(params)
    return [_text(v) if type(v) is str else v for v in values]


def _text(value: str) -> str:
    """PostgreSQL text cannot hold NUL (SQLite's can): a NUL character, and the JSON
    escape of one (jsonb refuses it too), become U+FFFD, the replacement character."""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    if "\\u0000" in value:
        value = value.replace("\\u0000", "\\ufffd")
    return value


_TOKEN = re.compile(
    r"'(?:[^']|'')*'"            # a string literal
    r'|"(?:[^"]|"")*"'           # a quoted identifier
    r"|--[^\n]*"                 # a comment
    r"|::"                       # a PostgreSQL cast, not a named parameter
    r"|\?(\d+)"                  # ?NNN
    r"|\?"                       # ?
    r"|(?<![\w:]):([A-Za-z_]\w*)"  # :name
)


@lru_cache(maxsize=4096)
def to_dollar(sql: str) -> tuple[str, tuple[str, ...] | None]:
    """Rewrite SQLite placeholders to ``$n``. Returns the text and, for ``:name``
    placeholders, the names in ``$n`` order (None for positional ones)."""
    names: list[str] = []
    counter = 0

    def replace(m: re.Match[str]) -> str:
        nonlocal counter
        token = m.group(0)
        if m.group(1) is not None:
            return "$" + m.group(1)
        if m.group(2) is not None:
            name = m.group(2)
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"
        if token == "?":
            counter += 1
            return f"${counter}"
        return token

    text = _TOKEN.sub(replace, sql)
    return text, (tuple(names) if names else None)
