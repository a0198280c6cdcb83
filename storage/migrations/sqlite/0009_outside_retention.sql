-- Retention for the event log: it stays append-only (no DELETE, no UPDATE) except for one
-- purge per row, which may only blank personal text: ``note`` to NULL and the keys that
-- hold names or free text (``user_name``, ``old_text``, an escalation's ``reason``) out of
-- ``data``, while every fact (ids, times, actors, action, states) stays as it was. The
-- purge stamps ``purged_at``; a purged row is immutable again.
ALTER TABLE ticket_events ADD COLUMN purged_at TEXT;
DROP TRIGGER ticket_events_no_update;
CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events
WHEN NOT (
    OLD.purged_at IS NULL AND NEW.purged_at IS NOT NULL
    AND NEW.id = OLD.id AND NEW.ticket_id = OLD.ticket_id AND NEW.at = OLD.at
    AND NEW.actor_id IS OLD.actor_id AND NEW.actor_key IS OLD.actor_key
    AND NEW.action = OLD.action AND NEW.from_state IS OLD.from_state
    AND NEW.to_state = OLD.to_state
    AND NEW.note IS NULL
    AND NEW.data = CASE OLD.action
        WHEN 'escalate' THEN json_remove(OLD.data, '$.user_name', '$.old_text', '$.reason')
        ELSE json_remove(OLD.data, '$.user_name', '$.old_text') END
)
BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END;
CREATE INDEX ticket_events_unpurged ON ticket_events (ticket_id) WHERE purged_at IS NULL;
