"""Migrations for SQLite and PostgreSQL are kept in step: the same numbers and names in
storage/migrations/sqlite/ and storage/migrations/postgres/, numbered 1..N, and nothing left
outside those folders that either backend would miss."""

from __future__ import annotations

import re
from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent.parent / "storage" / "migrations"
DIALECTS = ("sqlite", "postgres")
NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def names(dialect: str) -> list[str]:
    return sorted(p.name for p in (MIGRATIONS / dialect).iterdir() if p.suffix == ".sql")


def test_each_dialect_has_its_folder() -> None:
    for dialect in DIALECTS:
        assert (MIGRATIONS / dialect).is_dir(), f"storage/migrations/{dialect}/ is missing"


def test_every_migration_exists_for_both_dialects_with_the_same_name() -> None:
    sqlite, postgres = set(names("sqlite")), set(names("postgres"))
    only_sqlite, only_postgres = sorted(sqlite - postgres), sorted(postgres - sqlite)
    assert only_sqlite == [], f"no PostgreSQL twin in storage/migrations/postgres/: {only_sqlite}"
    assert only_postgres == [], f"no SQLite twin in storage/migrations/sqlite/: {only_postgres}"


def test_migrations_are_numbered_one_to_n_once_each() -> None:
    for dialect in DIALECTS:
        files = names(dialect)
        bad = [f for f in files if not NAME.match(f)]
        assert bad == [], f"{dialect}: names must be NNNN_lowercase_words.sql: {bad}"
        numbers = [int(f[:4]) for f in files]
        assert numbers == list(range(1, len(files) + 1)), (
            f"{dialect}: migration numbers must be 1..N without gaps or repeats: {numbers}")


def test_no_migration_is_left_outside_the_dialect_folders() -> None:
    stray = sorted(p.name for p in MIGRATIONS.glob("*.sql"))
    assert stray == [], f"move these into storage/migrations/sqlite|postgres/: {stray}"


def test_no_migration_file_is_empty() -> None:
    for dialect in DIALECTS:
        empty = [f for f in names(dialect)
                 if not (MIGRATIONS / dialect / f).read_text("utf-8").strip()]
        assert empty == [], f"{dialect}: empty migration files: {empty}"
