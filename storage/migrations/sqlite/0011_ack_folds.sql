-- GridBot schema: combined acknowledgements (delivery/folding.py). When a group's
-- allowance of 20 messages a minute cannot carry what waits for it, several outbox rows
-- go out as one message: a row of kind 'fold' whose member rows are marked superseded
-- with folded_into pointing at it (and sent with it). fold_line is a row's one-line
-- summary for such a message (NULL: the row cannot be folded). outbox_fold_lines keeps
-- each combined message's lines, so a ticket acknowledged there keeps its status up to
-- date by editing its line.
ALTER TABLE outbox ADD COLUMN fold_line TEXT;
ALTER TABLE outbox ADD COLUMN folded_into INTEGER;
CREATE TABLE outbox_fold_lines (
    fold_id   INTEGER NOT NULL REFERENCES outbox(id),
    position  INTEGER NOT NULL,
    ticket_id INTEGER,            -- set when the line is the ticket's card (its status lives here)
    line      TEXT NOT NULL,
    PRIMARY KEY (fold_id, position)
);
CREATE INDEX outbox_fold_lines_ticket ON outbox_fold_lines (ticket_id) WHERE ticket_id IS NOT NULL;
-- Start-up seeds the rate limiter with the sends of the last minute.
CREATE INDEX outbox_recent_sends ON outbox (sent_at) WHERE status = 'sent';
CREATE INDEX outbox_folded_into ON outbox (folded_into) WHERE folded_into IS NOT NULL;
-- When a row's earlier attempt may have arrived unseen (on the wire at a crash, timed
-- out): the time of that first such attempt, to find the stale copy after the resend.
ALTER TABLE outbox ADD COLUMN suspect_since TEXT;
