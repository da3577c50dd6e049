-- One row per chat: its last send time, and the row every append to the
-- chat locks, so appends to one chat are serialised by the database.
CREATE TABLE IF NOT EXISTS chats (
  chat TEXT NOT NULL PRIMARY KEY,
  last_send_time INTEGER NOT NULL
) WITHOUT ROWID;

-- Messages clustered by (chat, send_time): a page is one range scan.
-- client_msg_id is NULL when the client gave none. The idempotency index is
-- not UNIQUE: a key is looked up and inserted inside the write transaction,
-- which already makes it unique per (chat, sender).
CREATE TABLE IF NOT EXISTS chat_messages (
  chat TEXT NOT NULL,
  send_time INTEGER NOT NULL,
  sender TEXT NOT NULL,
  client_msg_id TEXT,
  text TEXT NOT NULL,
  PRIMARY KEY (chat, send_time)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS chat_messages_idempotency
  ON chat_messages (chat, sender, client_msg_id);
