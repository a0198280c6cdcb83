-- GridBot: the staff console's sign-in. One secret (signs login links), the one-time
-- links sent by /web (a nonce spent by one conditional UPDATE) and browser sessions
-- (the cookie holds a random token; only its SHA-256 is stored).
CREATE TABLE console_secret (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    secret     TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE console_login_links (
    nonce      TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX console_login_links_expiry ON console_login_links (expires_at);

CREATE TABLE console_sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL,
    person_key   TEXT NOT NULL,
    csrf_token   TEXT NOT NULL,
    via          TEXT NOT NULL,  -- 'link' | 'miniapp' | 'demo'
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX console_sessions_user ON console_sessions (user_id) WHERE revoked_at IS NULL;
