-- GridBot schema v5: the outbox marks a row "in flight" just before handing it to
-- Telegram. A row still in flight at start-up was being sent when the process died: it
-- may or may not have arrived, so it is sent again (at least once) and counted.
ALTER TABLE outbox ADD COLUMN in_flight_at TEXT;
