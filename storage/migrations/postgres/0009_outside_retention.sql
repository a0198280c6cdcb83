-- Folded into 0001_initial.sql: PostgreSQL support began at schema 18, so the
-- PostgreSQL schema starts there. Kept (a no-op) so both dialects number alike; see
-- ../sqlite/0009_outside_retention.sql for what this version changed on SQLite.
SELECT 1;
