-- Staff console: read-only export tokens for scheduled pulls of /export/*.xlsx.
-- Only the SHA-256 of a token is stored; the token itself is shown once on creation.
CREATE TABLE export_tokens (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    label       TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL,          -- person key: the export sees what they see
    created_at  TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at  TEXT
);
