"""Learning data: a community's own categories, labelled examples and versioned models."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.base import Repository
from storage.timefmt import from_db, req, to_db


@dataclass(frozen=True, slots=True)
class StoredCategory:
    slug: str
    name: str
    source: str


@dataclass(frozen=True, slots=True)
class Example:
    id: int
    text: str
    category: str
    source: str  # import | correction | confirmed
    old_category: str | None
    ticket_id: int | None
    by_key: str | None
    model_version: str | None
    origin: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class NewExample:
    content_hash: str
    text: str
    category: str
    origin: str


@dataclass(frozen=True, slots=True)
class ModelInfo:
    version: str
    examples: int
    background: int
    metrics: dict[str, Any]
    note: str | None
    created_at: datetime
    active: bool
    activated_at: datetime | None


_EX_COLS = ("id, text, category, source, old_category, ticket_id, by_key, model_version, "
            "origin, at")
_MODEL_COLS = "version, examples, background, metrics, note, created_at, active, activated_at"


def _example(r: Any) -> Example:
    return Example(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], req(r[9]))


def _model(r: Any) -> ModelInfo:
    return ModelInfo(r[0], r[1], r[2], json.loads(r[3] or "{}"), r[4], req(r[5]), bool(r[6]),
                     from_db(r[7]))


class LearningRepository(Repository):
    # --- categories ----------------------------------------------------------------------
    async def add_category(self, slug: str, name: str, source: str,
                           now: datetime | None = None) -> bool:
        rid = await self._insert(
            "INSERT INTO learning_categories (slug, name, source, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", (slug, name, source, to_db(self._now(now))),
            returning="1")
        return rid is not None

    async def categories(self) -> list[StoredCategory]:
        rows = await self._all(
            "SELECT slug, name, source FROM learning_categories ORDER BY created_at, slug")
        return [StoredCategory(r[0], r[1], r[2]) for r in rows]

    # --- examples ------------------------------------------------------------------------
    async def add_imported(self, rows: Sequence[NewExample], now: datetime | None = None) -> int:
        """Store imported rows; a row whose content hash is already stored is ignored.
        Returns how many were new."""
        before = await self._scalar("SELECT count(*) FROM learning_examples")
        at = to_db(self._now(now))
        await self._many(
            "INSERT INTO learning_examples (content_hash, text, category, source, "
            "origin, at) VALUES (?, ?, ?, 'import', ?, ?) ON CONFLICT DO NOTHING",
            [(r.content_hash, r.text, r.category, r.origin, at) for r in rows])
        after = await self._scalar("SELECT count(*) FROM learning_examples")
        return int(after) - int(before)

    async def record_ticket_label(self, *, ticket_id: int, text: str, category: str,
                                  old_category: str | None, source: str, by_key: str | None,
                                  model_version: str | None, now: datetime | None = None
                                  ) -> None:
        """The current label of a ticket's text. A correction replaces whatever was stored
        for the ticket; a confirmation never replaces a correction."""
        at = to_db(self._now(now))
        params = (f"ticket:{ticket_id}", text, category, source, old_category, ticket_id,
                  by_key, model_version or "", at)
        if source == "confirmed":
            await self._exec(
                "INSERT INTO learning_examples (content_hash, text, category, source, "
                "old_category, ticket_id, by_key, model_version, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", params)
            return
        await self._exec(
            "INSERT INTO learning_examples (content_hash, text, category, source, old_category, "
            "ticket_id, by_key, model_version, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (content_hash) DO UPDATE SET category = excluded.category, "
            "source = excluded.source, by_key = excluded.by_key, "
            "old_category = coalesce(learning_examples.old_category, excluded.old_category), "
            "model_version = excluded.model_version, at = excluded.at", params)

    async def examples(self) -> list[Example]:
        rows = await self._all(f"SELECT {_EX_COLS} FROM learning_examples ORDER BY at, id")
        return [_example(r) for r in rows]

    async def for_ticket(self, ticket_id: int) -> Example | None:
        row = await self._one(f"SELECT {_EX_COLS} FROM learning_examples WHERE content_hash = ?",
                              (f"ticket:{ticket_id}",))
        return _example(row) if row else None

    async def count_examples(self, since: datetime | None = None) -> int:
        if since is None:
            return int(await self._scalar("SELECT count(*) FROM learning_examples"))
        return int(await self._scalar(
            "SELECT count(*) FROM learning_examples WHERE at > ?", (to_db(since),)))

    # --- models --------------------------------------------------------------------------
    async def save_model(self, *, version: str, model: bytes, base_model: bytes | None,
                         examples: int, background: int, metrics: dict[str, Any],
                         note: str | None = None, now: datetime | None = None) -> bool:
        rid = await self._insert(
            "INSERT INTO learning_models (version, model, base_model, examples, "
            "background, metrics, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (version, model, base_model, examples, background,
             json.dumps(metrics, ensure_ascii=False, sort_keys=True), note,
             to_db(self._now(now))), returning="1")
        return rid is not None

    async def activate(self, version: str, now: datetime | None = None) -> bool:
        """Switch the active pointer (call inside one transaction). False: no such version."""
        if await self._scalar("SELECT 1 FROM learning_models WHERE version = ?",
                              (version,)) is None:
            return False
        await self._exec("UPDATE learning_models SET active = 0 WHERE active = 1")
        await self._exec("UPDATE learning_models SET active = 1, activated_at = ? "
                         "WHERE version = ?", (to_db(self._now(now)), version))
        return True

    async def deactivate(self) -> None:
        """No community model: the rules and the shipped model alone."""
        await self._exec("UPDATE learning_models SET active = 0 WHERE active = 1")

    async def models(self) -> list[ModelInfo]:
        rows = await self._all(
            f"SELECT {_MODEL_COLS} FROM learning_models ORDER BY created_at DESC, version")
        return [_model(r) for r in rows]

    async def active_model(self) -> tuple[ModelInfo, bytes, bytes | None] | None:
        row = await self._one(f"SELECT {_MODEL_COLS}, model, base_model FROM learning_models "
                              "WHERE active = 1")
        if row is None:
            return None
        return _model(row), bytes(row[8]), (bytes(row[9]) if row[9] is not None else None)

    async def model_blobs(self, version: str) -> tuple[bytes, bytes | None] | None:
        row = await self._one("SELECT model, base_model FROM learning_models WHERE version = ?",
                              (version,))
        if row is None:
            return None
        return bytes(row[0]), (bytes(row[1]) if row[1] is not None else None)

    async def model_at(self, when: datetime) -> str:
        """The version that was active at `when` ('' when none was): the model that
        predicted a ticket created then."""
        value = await self._scalar(
            "SELECT version FROM learning_models WHERE activated_at IS NOT NULL "
            "AND activated_at <= ? ORDER BY activated_at DESC LIMIT 1", (to_db(when),))
        return str(value or "")
