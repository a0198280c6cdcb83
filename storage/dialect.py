"""The SQL the two backends spell differently, one small object per dialect.

Portable SQL comes first (``ON CONFLICT DO NOTHING``, ``RETURNING``, ``count(*) FILTER
(WHERE …)``, ``IS NOT DISTINCT FROM`` all run on SQLite 3.40 and PostgreSQL 15); a
repository asks its connection's dialect only for what has no common spelling.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str  # "sqlite" | "postgres"

    @property
    def is_postgres(self) -> bool:
        return self.name == "postgres"

    def json_text(self, column: str, *path: str) -> str:
        """The text at ``path`` inside the JSON text ``column`` (NULL when absent)."""
        if self.is_postgres:
            return f"({column}::jsonb #>> '{{{','.join(path)}}}')"
        return f"json_extract({column}, '$.{'.'.join(path)}')"

    def json_int(self, column: str, *path: str) -> str:
        """The integer at ``path`` inside the JSON text ``column``."""
        if self.is_postgres:
            return f"({self.json_text(column, *path)})::bigint"
        return self.json_text(column, *path)

    def json_array_contains(self, column: str, placeholder: str = "?") -> str:
        """True when the JSON array of strings in ``column`` holds the parameter."""
        if self.is_postgres:
            # (not the jsonb ? operator: ? is a placeholder here)
            return f"({column}::jsonb @> jsonb_build_array({placeholder}::text))"
        return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value = {placeholder})"

    def json_remove(self, column: str, *keys: str) -> str:
        """``column`` (a JSON object as text) without ``keys``, as text."""
        if self.is_postgres:
            minus = " ".join(f"- '{k}'" for k in keys)
            return f"({column}::jsonb {minus})::text"
        return f"json_remove({column}, {', '.join(repr('$.' + k) for k in keys)})"

    def zero_pad(self, expr: str, width: int) -> str:
        """``expr`` (an integer) as text, zero-padded to ``width`` digits, never cut."""
        if self.is_postgres:
            return f"lpad(({expr})::text, greatest({width}, length(({expr})::text)), '0')"
        return f"printf('%0{width}d', {expr})"

    def indexed_by(self, index: str) -> str:
        """An index hint after a table name (SQLite only; PostgreSQL plans for itself)."""
        return "" if self.is_postgres else f" INDEXED BY {index}"

    def search_ids(self, placeholder: str = "?") -> str:
        """A subquery of the ids of tickets whose indexed text matches the parameter
        (an expression from :func:`storage.search_index.match_expression`)."""
        if self.is_postgres:
            return f"SELECT ticket_id FROM ticket_search WHERE body @@ {placeholder}::tsquery"
        return f"SELECT rowid FROM ticket_search WHERE ticket_search MATCH {placeholder}"


SQLITE = Dialect("sqlite")
POSTGRES = Dialect("postgres")
