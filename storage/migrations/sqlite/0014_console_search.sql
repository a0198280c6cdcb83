-- Staff console: Chinese full-text search over report texts, and indexes for the
-- ticket list's filters and sorts (see storage/console_repo.py).

-- jieba-segmented report texts (words and single Han characters, space separated;
-- storage/search_index.py builds them); rowid = tickets.id.
CREATE VIRTUAL TABLE ticket_search USING fts5(body, tokenize = 'unicode61');

-- Tickets whose text is new or changed and not yet (re)indexed. Triggers fill it on any
-- insert or text change, whoever writes; TicketRepository.add/update index them in the
-- same transaction, and opening the database indexes whatever is left (the backfill of
-- the tickets that existed before this migration, below, included).
CREATE TABLE search_pending (ticket_id INTEGER PRIMARY KEY);
INSERT INTO search_pending (ticket_id) SELECT id FROM tickets WHERE purged = 0;

CREATE TRIGGER ticket_search_insert AFTER INSERT ON tickets
BEGIN
    INSERT OR IGNORE INTO search_pending (ticket_id) VALUES (NEW.id);
END;
CREATE TRIGGER ticket_search_edit AFTER UPDATE OF text ON tickets
WHEN NEW.text IS NOT OLD.text AND NEW.purged = 0
BEGIN
    INSERT OR IGNORE INTO search_pending (ticket_id) VALUES (NEW.id);
END;
-- Indexing a text is one INSERT here (the trigger replaces the ticket's FTS row and
-- takes it off the pending list), so a new ticket costs the write path one statement.
CREATE TABLE search_feed (ticket_id INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TRIGGER search_feed_apply AFTER INSERT ON search_feed
BEGIN
    DELETE FROM ticket_search WHERE rowid = NEW.ticket_id;
    INSERT INTO ticket_search (rowid, body) VALUES (NEW.ticket_id, NEW.body);
    DELETE FROM search_pending WHERE ticket_id = NEW.ticket_id;
    DELETE FROM search_feed WHERE rowid = NEW.rowid;
END;
-- Retention blanks the text of old tickets: their words leave the index with it.
CREATE TRIGGER ticket_search_purge AFTER UPDATE OF purged ON tickets
WHEN NEW.purged = 1 AND OLD.purged = 0
BEGIN
    DELETE FROM ticket_search WHERE rowid = NEW.id;
    DELETE FROM search_pending WHERE ticket_id = NEW.id;
END;

-- List orders (newest first is tickets_created): by grid, state, assignee, urgency,
-- supporters and deadline, each ending in created_at so keyset pages walk the index.
CREATE INDEX tickets_console_grid ON tickets (grid, created_at);
CREATE INDEX tickets_console_state ON tickets (state, created_at);
CREATE INDEX tickets_console_assignee ON tickets (assignee, created_at);
CREATE INDEX tickets_console_urgency ON tickets (
    (CASE urgency WHEN 'emergency' THEN 2 WHEN 'urgent' THEN 1 ELSE 0 END), created_at);
CREATE INDEX tickets_console_category_urgency ON tickets (category,
    (CASE urgency WHEN 'emergency' THEN 2 WHEN 'urgent' THEN 1 ELSE 0 END), created_at);
CREATE INDEX tickets_console_supporters ON tickets (supporters_count, created_at);
CREATE INDEX tickets_console_due ON tickets (coalesce(resolve_due, '9999-12-31'), created_at);
-- The open queue as a whole (list "open" filter, dashboard snapshot figures).
CREATE INDEX tickets_console_open ON tickets (created_at)
    WHERE state IN ('new', 'assigned', 'accepted', 'in_progress');
-- 重复投诉: reopen events in a period.
CREATE INDEX ticket_events_reopen ON ticket_events (at) WHERE action = 'reopen';
-- Dashboard scans of a period read these instead of the (wide) table rows: created_at
-- ranges (new tickets, time to accept, weekly trend, heatmap) and resolved_at ranges
-- (resolved, on time, time to finish), with the columns of the grid/scope terms.
CREATE INDEX tickets_console_created_cover ON tickets (created_at, grid, category, assignee,
    accepted_at, compound, building, reporter_id, escalated_to);
CREATE INDEX tickets_console_resolved_cover ON tickets (resolved_at, resolve_due, created_at,
    grid, category, assignee, reporter_id, escalated_to, state, urgency, accept_due,
    accepted_at) WHERE resolved_at IS NOT NULL;
-- The deadline order within a worker's or a grid's tickets (the 按期限 sort).
CREATE INDEX tickets_console_assignee_due ON tickets (assignee,
    coalesce(resolve_due, '9999-12-31'), created_at);
CREATE INDEX tickets_console_grid_due ON tickets (grid,
    coalesce(resolve_due, '9999-12-31'), created_at);
