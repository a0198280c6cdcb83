"""Admin-added broadcast schedules and the fired occurrences of every scheduled job."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from storage.base import Repository
from storage.timefmt import from_db, req, to_db


@dataclass(frozen=True, slots=True)
class Schedule:
    id: int
    expression: str
    text: str
    grids: tuple[str, ...]
    created_by: int | None
    created_at: datetime
    active: bool


class ScheduleRepository(Repository):
    async def add(self, expression: str, text: str, grids: tuple[str, ...] = (),
                  created_by: int | None = None, now: datetime | None = None) -> int:
        """An admin-added broadcast; returns its id."""
        rid = await self._insert(
            "INSERT INTO schedules (expression, text, grids, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (expression, text, json.dumps(list(grids), ensure_ascii=False), created_by,
             to_db(self._now(now))))
        assert rid is not None
        return rid

    async def deactivate(self, schedule_id: int) -> bool:
        return await self._exec(
            "UPDATE schedules SET active = 0 WHERE id = ? AND active = 1", (schedule_id,)) == 1

    async def active(self) -> list[Schedule]:
        rows = await self._all(
            "SELECT id, expression, text, grids, created_by, created_at, active FROM schedules "
            "WHERE active = 1 ORDER BY id")
        return [Schedule(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], req(r[5]), bool(r[6]))
                for r in rows]


class JobRunRepository(Repository):
    async def claim(self, job_key: str, due_at: datetime, now: datetime | None = None) -> bool:
        """Record that the occurrence (job_key, due_at) fired. False when it already did
        (a restart must not repeat it)."""
        rid = await self._insert(
            "INSERT INTO job_runs (job_key, due_at, fired_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING", (job_key, to_db(due_at), to_db(self._now(now))),
            returning="1")
        return rid is not None

    async def last_due(self, job_key: str) -> datetime | None:
        """The latest fired occurrence of a job (to find missed ones after downtime)."""
        return from_db(await self._scalar(
            "SELECT max(due_at) FROM job_runs WHERE job_key = ?", (job_key,)))
