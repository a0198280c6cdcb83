-- GridBot schema v1: tickets and their log, people, chats, outbox, inbox, schedules.
-- Timestamps are UTC text 'YYYY-MM-DD HH:MM:SS.ffffff' (sortable, readable in sqlite3).

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,          -- e.g. 'ticket:2609' for the per-month ticket sequence
    value INTEGER NOT NULL
);

CREATE TABLE tickets (
    id                INTEGER PRIMARY KEY,
    number            TEXT NOT NULL UNIQUE,
    source_chat_id    INTEGER NOT NULL,
    source_message_id INTEGER NOT NULL,
    source_thread_id  INTEGER,
    reporter_id       INTEGER NOT NULL,
    reporter_name     TEXT NOT NULL,
    text              TEXT NOT NULL,
    parse_json        TEXT NOT NULL DEFAULT '{}',
    category          TEXT NOT NULL,
    urgency           TEXT NOT NULL CHECK (urgency IN ('emergency', 'urgent', 'normal')),
    compound          TEXT,
    building          TEXT,
    unit              TEXT,
    room              TEXT,
    floor             TEXT,
    keywords          TEXT NOT NULL DEFAULT '[]',
    duplicate_key     TEXT NOT NULL DEFAULT '',
    grid              TEXT,
    assignee          TEXT,
    routing_reason    TEXT NOT NULL DEFAULT '',
    state             TEXT NOT NULL CHECK (state IN ('new', 'assigned', 'accepted',
                          'in_progress', 'resolved', 'closed', 'cancelled', 'merged')),
    escalation_level  INTEGER NOT NULL DEFAULT 0,
    escalated_to      TEXT NOT NULL DEFAULT '[]',
    created_at        TEXT NOT NULL,
    accepted_at       TEXT,
    resolved_at       TEXT,
    closed_at         TEXT,
    accept_due        TEXT,
    resolve_due       TEXT,
    supporters_count  INTEGER NOT NULL DEFAULT 0,
    photos_count      INTEGER NOT NULL DEFAULT 0,
    rating            INTEGER CHECK (rating BETWEEN 1 AND 4),
    reopen_count      INTEGER NOT NULL DEFAULT 0,
    priority          INTEGER NOT NULL DEFAULT 0,
    card_chat_id      INTEGER,
    card_message_id   INTEGER,
    merged_into       INTEGER REFERENCES tickets(id),
    purged            INTEGER NOT NULL DEFAULT 0,
    version           INTEGER NOT NULL DEFAULT 1,
    UNIQUE (source_chat_id, source_message_id)
);
CREATE INDEX tickets_dup_candidates ON tickets (category, created_at);
CREATE INDEX tickets_reporter ON tickets (reporter_id, created_at);
CREATE INDEX tickets_merged_into ON tickets (merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE ticket_photos (
    id        INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    file_id   TEXT NOT NULL,
    added_by  INTEGER,
    added_at  TEXT NOT NULL,
    UNIQUE (ticket_id, file_id)
);

-- Append-only log: the triggers below refuse UPDATE and DELETE.
CREATE TABLE ticket_events (
    id         INTEGER PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
    at         TEXT NOT NULL,
    actor_id   INTEGER,
    actor_key  TEXT,
    action     TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    note       TEXT,
    data       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);
CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events
BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END;
CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events
BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END;

CREATE TABLE supporters (
    id                INTEGER PRIMARY KEY,
    ticket_id         INTEGER NOT NULL REFERENCES tickets(id),
    user_id           INTEGER NOT NULL,
    user_name         TEXT NOT NULL,
    source_chat_id    INTEGER NOT NULL,
    source_message_id INTEGER NOT NULL,
    text              TEXT NOT NULL DEFAULT '',
    parse_json        TEXT NOT NULL DEFAULT '{}',
    joined_at         TEXT NOT NULL,
    via_ticket_id     INTEGER REFERENCES tickets(id),  -- set when moved here by a merge
    UNIQUE (ticket_id, user_id),
    UNIQUE (source_chat_id, source_message_id)
);
CREATE INDEX supporters_ticket ON supporters (ticket_id, id);

CREATE TABLE ratings (
    id        INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    user_id   INTEGER NOT NULL,
    score     INTEGER NOT NULL CHECK (score BETWEEN 1 AND 4),
    comment   TEXT,
    at        TEXT NOT NULL
);
CREATE INDEX ratings_at ON ratings (at);
CREATE INDEX ratings_ticket ON ratings (ticket_id);

-- "Not a report" judgements from workers, for the NLP team.
CREATE TABLE corrections (
    id                 INTEGER PRIMARY KEY,
    ticket_id          INTEGER REFERENCES tickets(id),
    text               TEXT NOT NULL,
    predicted_category TEXT NOT NULL,
    parse_json         TEXT NOT NULL DEFAULT '{}',
    note               TEXT,
    by_key             TEXT,
    at                 TEXT NOT NULL
);

CREATE TABLE outbox (
    id                  INTEGER PRIMARY KEY,
    chat_id             INTEGER NOT NULL,
    text                TEXT NOT NULL,
    reply_to_message_id INTEGER,
    thread_id           INTEGER,
    buttons             TEXT NOT NULL DEFAULT '[]',
    parse_mode          TEXT,
    card_ticket_id      INTEGER REFERENCES tickets(id),
    fallback_chat_id    INTEGER,
    fallback_text       TEXT,
    dedupe_key          TEXT UNIQUE,
    kind                TEXT NOT NULL DEFAULT 'message',
    status              TEXT NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'sent', 'failed', 'superseded')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    next_attempt_at     TEXT NOT NULL,
    sent_at             TEXT,
    telegram_message_id INTEGER,
    last_error          TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_cards ON outbox (card_ticket_id, id)
    WHERE status = 'pending' AND card_ticket_id IS NOT NULL;

-- Telegram users seen by the bot; person_key links staff registered via /register.
CREATE TABLE people (
    user_id       INTEGER PRIMARY KEY,
    person_key    TEXT,
    username      TEXT,
    display_name  TEXT NOT NULL DEFAULT '',
    private_chat  INTEGER NOT NULL DEFAULT 0,  -- 1 once the user started the bot: DMs work
    registered_at TEXT,
    last_seen_at  TEXT NOT NULL
);
CREATE INDEX people_person_key ON people (person_key) WHERE person_key IS NOT NULL;

-- Group chats bound to grids by /bind (overrides the config); forum thread for cards.
CREATE TABLE chats (
    chat_id     INTEGER PRIMARY KEY,
    grid        TEXT,
    title       TEXT NOT NULL DEFAULT '',
    thread_id   INTEGER,
    bound_by    INTEGER,
    bound_at    TEXT,
    migrated_to INTEGER
);

-- Raw Telegram updates, persisted before getUpdates is confirmed; replayed on start.
CREATE TABLE inbox (
    update_id    INTEGER PRIMARY KEY,
    payload      TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    processed_at TEXT
);

-- Keys of updates/callbacks already acted on, so a redelivery acts once.
CREATE TABLE idempotency (
    key        TEXT PRIMARY KEY,
    claimed_at TEXT NOT NULL
);

CREATE TABLE schedules (
    id         INTEGER PRIMARY KEY,
    expression TEXT NOT NULL,
    text       TEXT NOT NULL,
    grids      TEXT NOT NULL DEFAULT '[]',
    created_by INTEGER,
    created_at TEXT NOT NULL,
    active     INTEGER NOT NULL DEFAULT 1
);

-- Every fired occurrence of a scheduled job, so a restart never repeats one.
CREATE TABLE job_runs (
    job_key  TEXT NOT NULL,
    due_at   TEXT NOT NULL,
    fired_at TEXT NOT NULL,
    PRIMARY KEY (job_key, due_at)
);

-- Borderline "is this a report?" questions awaiting an answer.
CREATE TABLE prompts (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    author_id   INTEGER NOT NULL,
    text        TEXT NOT NULL DEFAULT '',
    parse_json  TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    answered_at TEXT,
    answer      TEXT,
    UNIQUE (chat_id, message_id)
);
CREATE INDEX prompts_open ON prompts (expires_at) WHERE answered_at IS NULL;
