-- One row per chat: its last send time, and the row every append to the
-- chat locks (in the append's transaction), so appends to one chat are
-- serialised across replicas and send times increase in commit order.
-- Ids are VARBINARY: member ids compare by bytes, case-sensitively.
CREATE TABLE IF NOT EXISTS chats (
  chat VARBINARY(129) NOT NULL,
  last_send_time BIGINT NOT NULL,
  PRIMARY KEY (chat)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Messages clustered by (chat, send_time): a page is one primary-key range
-- scan. The canonical chat id is the natural shard key; nothing is
-- AUTO_INCREMENT. client_msg_id is NULL when the client gave none. Its index
-- is not UNIQUE on purpose: a key is looked up and inserted under the chat's
-- row lock, which already makes it unique, and a unique secondary index would
-- make concurrent inserts into unrelated chats take next-key locks on each
-- other's gaps (and deadlock).
CREATE TABLE IF NOT EXISTS chat_messages (
  chat VARBINARY(129) NOT NULL,
  send_time BIGINT NOT NULL,
  sender VARBINARY(64) NOT NULL,
  client_msg_id VARBINARY(64) NULL,
  text MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  PRIMARY KEY (chat, send_time),
  KEY chat_messages_idempotency (chat, sender, client_msg_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
