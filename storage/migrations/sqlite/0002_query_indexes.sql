-- v2: partial indexes for the bot's read queries (each < 20 ms at a million tickets).
-- Open = new/assigned/accepted/in_progress.

CREATE INDEX tickets_open_by_assignee ON tickets (assignee, created_at)
    WHERE state IN ('new', 'assigned', 'accepted', 'in_progress');
CREATE INDEX tickets_open_by_grid ON tickets (grid, created_at)
    WHERE state IN ('new', 'assigned', 'accepted', 'in_progress');
CREATE INDEX tickets_accept_due ON tickets (accept_due)
    WHERE state IN ('new', 'assigned') AND accept_due IS NOT NULL;
CREATE INDEX tickets_resolve_due ON tickets (resolve_due)
    WHERE state IN ('new', 'assigned', 'accepted', 'in_progress') AND resolve_due IS NOT NULL;
CREATE INDEX tickets_followup ON tickets (resolved_at)
    WHERE state = 'resolved' AND rating IS NULL;
CREATE INDEX tickets_created ON tickets (created_at);
CREATE INDEX tickets_resolved ON tickets (resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX tickets_retention ON tickets (closed_at)
    WHERE state IN ('closed', 'cancelled', 'merged') AND purged = 0;
