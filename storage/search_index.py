"""Chinese full-text search: what goes into the ``ticket_search`` index (SQLite: FTS5;
PostgreSQL: a tsvector of exact lexemes with a GIN index) and how a query becomes an
FTS5 MATCH expression or a tsquery.

SQLite's tokenizers do not know Chinese words, so texts are segmented here with the
project's jieba dictionary (``nlp.segment``) and stored space-separated: the search-mode
words (``漏水``, ``顶楼``, also the shorter words inside longer ones) plus every Han
character alone, so a one-character query still finds its texts. A query is segmented
the same way and all its words must match.
"""

from __future__ import annotations

import re
import sqlite3

from storage.connection import Connection
from storage.dialect import SQLITE, Dialect

_HAN = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[\w\u3400-\u9fff]+")
MAX_QUERY_CHARS = 50


def _words(text: str) -> list[str]:
    from nlp.segment import tokenizer  # jieba's dictionary loads on first use

    out: list[str] = []
    for token in tokenizer().cut_for_search(text.lower(), HMM=False):
        token = token.strip()
        if token and _WORD.fullmatch(token):
            out.append(token)
    return out


def index_text(text: str) -> str:
    """The body stored for a report text: its words, then its Han characters."""
    words = _words(text)
    chars = [c for c in dict.fromkeys(_HAN.findall(text))]
    return " ".join([*words, *chars])


def match_expression(query: str, dialect: Dialect = SQLITE) -> str | None:
    """An expression requiring every word of ``query`` (None: nothing to search for) for
    :meth:`Dialect.search_ids`: FTS5 MATCH syntax, or tsquery syntax on PostgreSQL. Each
    word is quoted, so no query syntax leaks through."""
    words = list(dict.fromkeys(_words(query[:MAX_QUERY_CHARS])))
    # A word jieba also splits into parts is matched as itself: drop the parts that sit
    # inside a longer word of the query (cut_for_search yields both).
    kept = [w for w in words if not any(w != o and w in o for o in words)]
    if not kept:
        return None
    if dialect.is_postgres:
        return " & ".join("'" + w.replace("\\", "\\\\").replace("'", "''") + "'"
                          for w in kept)
    return " AND ".join('"' + w.replace('"', '""') + '"' for w in kept)


def _feed(dialect: Dialect) -> str:
    """One statement that (re)indexes a ticket's text and takes it off the pending list
    (SQLite: the search_feed trigger of migration 0014 does both)."""
    if dialect.is_postgres:
        return ("WITH done AS (DELETE FROM search_pending WHERE ticket_id = $1) "
                "INSERT INTO ticket_search (ticket_id, body) "
                "VALUES ($1, array_to_tsvector(string_to_array($2, ' '))) "
                "ON CONFLICT (ticket_id) DO UPDATE SET body = excluded.body")
    return "INSERT INTO search_feed (ticket_id, body) VALUES (?, ?)"


async def flush(conn: Connection, known: dict[int, str] | None = None,
                limit: int = 10_000) -> int:
    """Index up to ``limit`` pending tickets (``search_pending``, filled by triggers) on
    the caller's connection and transaction; ``known`` supplies texts already in hand.
    Returns how many were taken off the pending list."""
    try:
        rows = await conn.fetch(
            "DELETE FROM search_pending WHERE ticket_id IN "
            "(SELECT ticket_id FROM search_pending LIMIT ?) RETURNING ticket_id", (limit,))
    except sqlite3.OperationalError as exc:
        if "search_pending" in str(exc):
            return 0  # a schema from before the search migration (upgrade tests only)
        raise
    ids = [int(r[0]) for r in rows]
    if not ids:
        return 0
    texts = {i: known[i] for i in ids if known and i in known}
    missing = [i for i in ids if i not in texts]
    for start in range(0, len(missing), 500):
        part = missing[start:start + 500]
        marks = ", ".join("?" * len(part))
        for tid, text in await conn.fetch(
                f"SELECT id, text FROM tickets WHERE purged = 0 AND id IN ({marks})", part):
            texts[int(tid)] = text
    await conn.executemany(_feed(conn.dialect),
                           [(tid, index_text(text)) for tid, text in texts.items()])
    return len(ids)


async def put(conn: Connection, ticket_id: int, text: str) -> None:
    """Index one ticket's text now (a new ticket: one statement, in the caller's
    transaction)."""
    try:
        await conn.execute(_feed(conn.dialect), (ticket_id, index_text(text)))
    except sqlite3.OperationalError as exc:
        if "search_feed" not in str(exc):
            raise  # else: a schema from before the search migration (upgrade tests only)
