-- GridBot schema: card updates in combined messages (delivery/folding.py). status_line is
-- a card row's one-line status notice ("🔄 #2611-0012 漏水 8号楼 → 已接单(王芳)") for a
-- combined message while the group is short of its allowance; the row itself stays
-- pending and edits the ticket's own card later. status_folded_into is the combined
-- message that announced the line, so it is announced once.
ALTER TABLE outbox ADD COLUMN status_line TEXT;
ALTER TABLE outbox ADD COLUMN status_folded_into INTEGER;
