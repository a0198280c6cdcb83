-- GridBot: the dashboard's durations read from its covering indexes. 平均接单时长 and
-- 平均办结时长 summed `(julianday(a) - julianday(b)) * 86400` over every ticket of a
-- period, parsing two timestamps per row (about a third of a month's scan at a million
-- tickets). Virtual generated columns hold the same expressions (no storage in the
-- table); the covering indexes store their values, so a period's scan reads them.
ALTER TABLE tickets ADD COLUMN accept_seconds REAL GENERATED ALWAYS AS (
    (julianday(accepted_at) - julianday(created_at)) * 86400.0) VIRTUAL;
ALTER TABLE tickets ADD COLUMN finish_seconds REAL GENERATED ALWAYS AS (
    (julianday(resolved_at) - julianday(created_at)) * 86400.0) VIRTUAL;
DROP INDEX tickets_console_created_cover;
DROP INDEX tickets_console_resolved_cover;
CREATE INDEX tickets_console_created_cover ON tickets (created_at, grid, category, assignee,
    accepted_at, compound, building, reporter_id, escalated_to, accept_seconds);
CREATE INDEX tickets_console_resolved_cover ON tickets (resolved_at, resolve_due, created_at,
    grid, category, assignee, reporter_id, escalated_to, state, urgency, accept_due,
    accepted_at, finish_seconds) WHERE resolved_at IS NOT NULL;
-- Per worker (the dashboard's table): the same scans led by assignee. With statistics
-- showing few workers, SQLite skip-scans them (one created_at/resolved_at range per
-- worker, already in worker order: no sorter). Without statistics the repository keeps
-- to the covering indexes above.
CREATE INDEX tickets_console_assignee_created ON tickets (assignee, created_at, grid,
    category, reporter_id, escalated_to, accepted_at, accept_seconds);
CREATE INDEX tickets_console_assignee_resolved ON tickets (assignee, resolved_at,
    resolve_due, created_at, grid, category, reporter_id, escalated_to, finish_seconds)
    WHERE resolved_at IS NOT NULL;
ANALYZE tickets_console_assignee_created;
ANALYZE tickets_console_assignee_resolved;
