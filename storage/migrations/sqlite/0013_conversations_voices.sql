-- GridBot schema: voice messages (issue 18). Nobody can transcribe them offline, so a
-- worker listens: voices wait here and reach the grid's worker in batches, copied into
-- their private chat (outbox rows that copy a message), with buttons to register them.
ALTER TABLE outbox ADD COLUMN copy_from_chat_id INTEGER;
ALTER TABLE outbox ADD COLUMN copy_message_id INTEGER;

CREATE TABLE voices (
    id            INTEGER PRIMARY KEY,
    chat_id       INTEGER NOT NULL,
    message_id    INTEGER NOT NULL,
    thread_id     INTEGER,
    user_id       INTEGER NOT NULL,
    user_name     TEXT NOT NULL,
    kind          TEXT NOT NULL,                    -- voice | video_note | audio
    duration      INTEGER,
    grid          TEXT,
    at            TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'waiting',  -- waiting | sent | skipped | dismissed
                                                    -- | awaiting_place | registered
    sent_to       TEXT,                             -- the worker (person key) who got it
    sent_at       TEXT,
    category      TEXT,                             -- picked by the worker
    place_by      INTEGER,                          -- the worker asked to type the place
    ticket_id     INTEGER REFERENCES tickets(id),
    UNIQUE (chat_id, message_id)
);
CREATE INDEX voices_waiting ON voices (grid, at) WHERE state = 'waiting';
CREATE INDEX voices_place ON voices (place_by, id) WHERE state = 'awaiting_place';
