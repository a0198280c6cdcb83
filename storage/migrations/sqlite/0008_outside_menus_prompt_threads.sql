-- The command menu last set for a person's private chat (setMyCommands with a chat scope),
-- so start-up only updates menus whose role changed; and the forum thread a "register this
-- as a ticket?" prompt was asked in, so the answer lands in the same thread.
CREATE TABLE command_menus (
    chat_id INTEGER PRIMARY KEY,
    menu    TEXT NOT NULL,     -- "worker:<fingerprint>" or "supervisor:<fingerprint>"
    set_at  TEXT NOT NULL
);
ALTER TABLE prompts ADD COLUMN thread_id INTEGER;
