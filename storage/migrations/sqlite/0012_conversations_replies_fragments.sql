-- GridBot schema: conversations (issue 18). Replies are traced back to their ticket by
-- the card, the outbox row of any bot message about it, or the reported message; split
-- reports wait as fragments; progress answers are throttled per ticket and chat; a
-- follow-up ticket remembers the one it continues.
CREATE INDEX tickets_card ON tickets (card_chat_id, card_message_id)
    WHERE card_message_id IS NOT NULL;
CREATE INDEX outbox_sent_message ON outbox (chat_id, telegram_message_id)
    WHERE telegram_message_id IS NOT NULL;

-- A message that is only part of a report ("8号楼", a location pin), kept for a short
-- window until the same person's report (or their ticket) takes it.
CREATE TABLE fragments (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'text',  -- text | pin
    text        TEXT NOT NULL,
    location    TEXT NOT NULL,           -- JSON: compound, building, unit, room, floor, street
    at          TEXT NOT NULL,
    used_by     INTEGER REFERENCES tickets(id),  -- the ticket that took it
    UNIQUE (chat_id, message_id)
);
CREATE INDEX fragments_pending ON fragments (chat_id, user_id, at) WHERE used_by IS NULL;

-- When a progress question about a ticket was last answered in a chat.
CREATE TABLE progress_answers (
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
    chat_id     INTEGER NOT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (ticket_id, chat_id)
);

-- A ticket opened because an older one's problem came back after it was closed.
CREATE TABLE ticket_links (
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),  -- the new ticket
    earlier_id  INTEGER NOT NULL REFERENCES tickets(id),  -- the one it continues
    at          TEXT NOT NULL,
    PRIMARY KEY (ticket_id, earlier_id)
);
CREATE INDEX ticket_links_earlier ON ticket_links (earlier_id);
