"""Chinese full-text search: what goes into the ``ticket_search`` FTS5 table and how a
query becomes an FTS5 MATCH expression.

SQLite's tokenizers do not know Chinese words, so texts are segmented here with the
project's jieba dictionary (``nlp.segment``) and stored space-separated: the search-mode
words (``漏水``, ``顶楼``, also the shorter words inside longer ones) plus every Han
character alone, so a one-character query still finds its texts. A query is segmented
the same way and all its words must match.
"""

from __future__ import annotations

import re
import sqlite3

import aiosqlite

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


def match_expression(query: str) -> str | None:
    """An FTS5 MATCH expression requiring every word of ``query`` (None: nothing to
    search for). Each word is a quoted string, so no FTS5 syntax leaks through."""
    words = list(dict.fromkeys(_words(query[:MAX_QUERY_CHARS])))
    # A word jieba also splits into parts is matched as itself: drop the parts that sit
    # inside a longer word of the query (cut_for_search yields both).
    kept = [w for w in words if not any(w != o and w in o for o in words)]
    if not kept:
        return None
    return " AND ".join('"' + w.replace('"', '""') + '"' for w in kept)


async def flush(conn: aiosqlite.Connection, known: dict[int, str] | None = None,
                limit: int = 10_000) -> int:
    """Index up to ``limit`` pending tickets (``search_pending``, filled by triggers) on
    the caller's connection and transaction; ``known`` supplies texts already in hand.
    Returns how many were taken off the pending list."""
    try:
        rows = await conn.execute_fetchall(
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
        for tid, text in await conn.execute_fetchall(
                f"SELECT id, text FROM tickets WHERE purged = 0 AND id IN ({marks})", part):
            texts[int(tid)] = text
    await conn.executemany("INSERT INTO search_feed (ticket_id, body) VALUES (?, ?)",
                           [(tid, index_text(text)) for tid, text in texts.items()])
    return len(ids)


async def put(conn: aiosqlite.Connection, ticket_id: int, text: str) -> None:
    """Index one ticket's text now (a new ticket: one statement, in the caller's
    transaction; the search_feed trigger replaces its FTS row)."""
    try:
        await conn.execute("INSERT INTO search_feed (ticket_id, body) VALUES (?, ?)",
                           (ticket_id, index_text(text)))
    except sqlite3.OperationalError as exc:
        if "search_feed" not in str(exc):
            raise  # else: a schema from before the search migration (upgrade tests only)


async def backfill(conn: aiosqlite.Connection, batch: int = 5000) -> int:
    """Index every pending ticket, ``batch`` per transaction (run when the database is
    opened: after migration 0008, or after rows were written by a tool that bypassed the
    repositories). Returns how many were indexed; a no-op when nothing is pending."""
    present = await conn.execute_fetchall(
        "SELECT 1 FROM sqlite_master WHERE name = 'search_pending'")
    if not list(present):
        return 0  # a database stopped before the search migration (upgrade tests)
    done = 0
    while True:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            n = await flush(conn, limit=batch)
        except BaseException:
            await conn.rollback()
            raise
        await conn.commit()
        if not n:
            return done
        done += n
