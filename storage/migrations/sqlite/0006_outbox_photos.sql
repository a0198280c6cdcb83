-- GridBot schema v6: an outbox row may carry a photo (a Telegram file id), so residents'
-- photos reach the worker privately with the ticket number as caption.
ALTER TABLE outbox ADD COLUMN photo_file_id TEXT;
