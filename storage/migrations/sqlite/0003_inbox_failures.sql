-- GridBot schema v3: the inbox remembers failed handling attempts, so an update whose
-- handler keeps failing (a poison message) is retried a bounded number of times.
ALTER TABLE inbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inbox ADD COLUMN last_error TEXT;
CREATE INDEX inbox_pending ON inbox (update_id) WHERE processed_at IS NULL;
