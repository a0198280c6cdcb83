-- GridBot schema v7: outbox rows carry a priority (2 emergency, 1 urgent, 0 other), so a
-- group held back by Telegram's per-group limit gets its emergency card first.
ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_due_by_chat ON outbox (chat_id, priority DESC, id) WHERE status = 'pending';
