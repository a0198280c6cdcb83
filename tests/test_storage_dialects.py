"""The dialect layer without a server: placeholder rewriting, migrations kept in step,
schema names, lock keys, masked URLs, the SQL each dialect gets."""

from __future__ import annotations

import pytest

from storage.connection import bind, to_dollar
from storage.dialect import POSTGRES, SQLITE
from storage.pg_schema import check_schema_name, lock_key
from storage.schema import DIALECTS, LATEST_VERSION, load_migrations
from storage.schema import printable as masked
from storage.search_index import match_expression


def test_every_migration_exists_for_both_dialects_under_the_same_name() -> None:
    names = {d: [m.name for m in load_migrations(d)] for d in DIALECTS}
    assert names["sqlite"] == names["postgres"]
    assert len(names["sqlite"]) == LATEST_VERSION >= 18


@pytest.mark.parametrize(("sql", "want"), [
    ("SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"),
    ("SELECT '?' , ? -- what?\n", "SELECT '?' , $1 -- what?\n"),
    ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"),
    ("VALUES (?1 || '-' || ?1, ?2)", "VALUES ($1 || '-' || $1, $2)"),
    ("SELECT x::text FROM t WHERE a = :t AND b < :t24 OR c = :t",
     "SELECT x::text FROM t WHERE a = $1 AND b < $2 OR c = $1"),
    ('SELECT "we?ird" FROM t WHERE a = ?', 'SELECT "we?ird" FROM t WHERE a = $1'),
])
def test_placeholders_become_numbered_outside_strings_and_comments(sql: str, want: str) -> None:
    assert to_dollar(sql)[0] == want


def test_named_parameters_are_bound_in_order() -> None:
    assert bind("SELECT :b, :a, :b", {"a": 1, "b": 2}) == ("SELECT $1, $2, $1", [2, 1])
    assert to_dollar("SELECT ?")[1] is None
    with pytest.raises(AssertionError):
        bind("SELECT :a", [1])


def test_nul_characters_which_postgresql_text_cannot_hold_become_replacement_characters(
) -> None:
    assert bind("SELECT ?, ?, ?", ["a\x00b", '{"t": "\\u0000"}', 7])[1] == [
        "a\ufffdb", '{"t": "\\ufffd"}', 7]


def test_schema_names_are_plain_identifiers() -> None:
    assert check_schema_name("gridbot_xingfuli") == "gridbot_xingfuli"
    for bad in ("", "Gridbot", "1st", "a-b", 'x"; DROP', "pg_catalog", "a" * 64):
        with pytest.raises(ValueError, match="schema name"):
            check_schema_name(bad)


def test_lock_keys_are_stable_signed_64_bit_and_per_schema_and_purpose() -> None:
    keys = {lock_key("a"), lock_key("b"), lock_key("a", "migrate")}
    assert len(keys) == 3 and lock_key("a") == lock_key("a")
    assert all(-(2 ** 63) <= k < 2 ** 63 for k in keys)


def test_printed_targets_hide_the_password() -> None:
    assert masked("postgresql://bot:s3cret@db:5432/x") == "postgresql://bot:***@db:5432/x"
    assert masked("postgresql://bot@db/x") == "postgresql://bot@db/x"


def test_each_dialect_spells_what_sqlite_and_postgres_do_not_share() -> None:
    assert SQLITE.indexed_by("i") == " INDEXED BY i" and POSTGRES.indexed_by("i") == ""
    assert SQLITE.zero_pad("n", 4) == "printf('%04d', n)"
    assert "greatest(4" in POSTGRES.zero_pad("n", 4)
    assert "?" not in POSTGRES.json_array_contains("c", "$1")  # ? is a placeholder there
    assert match_expression("漏水", POSTGRES) == "'漏水'"
    assert match_expression("顶楼漏水", POSTGRES) == "'顶楼' & '漏水'"
    assert match_expression("  ，。 ", POSTGRES) is None
