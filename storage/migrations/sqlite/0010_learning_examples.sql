-- GridBot schema: learning the community's own words (branch learning).
-- Categories a community created by importing its history (config [[categories]] add to them).
CREATE TABLE learning_categories (
    slug       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    source     TEXT NOT NULL,          -- 'import' and the file it came from
    created_at TEXT NOT NULL
);

-- Labelled examples: imported history rows, workers' corrections and confirmations.
-- Rows from a ticket have content_hash 'ticket:<id>': one current label per ticket.
CREATE TABLE learning_examples (
    id            INTEGER PRIMARY KEY,
    content_hash  TEXT NOT NULL UNIQUE,
    text          TEXT NOT NULL,
    category      TEXT NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('import', 'correction', 'confirmed')),
    old_category  TEXT,                -- what the parser had predicted
    ticket_id     INTEGER REFERENCES tickets(id),
    by_key        TEXT,                -- who corrected or confirmed it
    model_version TEXT,                -- the community model that predicted it ('' = none)
    origin        TEXT,                -- import: file name and row
    at            TEXT NOT NULL
);
CREATE INDEX learning_examples_at ON learning_examples (at);

-- Trained community models: versioned by content hash; exactly one may be active.
CREATE TABLE learning_models (
    version    TEXT PRIMARY KEY,
    model      BLOB NOT NULL,
    base_model BLOB,
    examples   INTEGER NOT NULL,
    background INTEGER NOT NULL,
    metrics    TEXT NOT NULL DEFAULT '{}',
    note       TEXT,
    created_at TEXT NOT NULL,
    active     INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    activated_at TEXT
);
CREATE UNIQUE INDEX learning_models_one_active ON learning_models (active) WHERE active = 1;
