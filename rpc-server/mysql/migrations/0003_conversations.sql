-- Groups: chats whose members are kept here rather than named by the id.
-- A group also has its chats row, which appends and membership changes
-- lock alike.
CREATE TABLE IF NOT EXISTS chat_groups (
  chat VARBINARY(129) NOT NULL,
  title VARCHAR(256) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  owner VARBINARY(64) NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (chat)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per member of a chat (both members of a two-member chat, from
-- its first message; every member of a group): the member's inbox entry
-- and read marker. activity is the chat's newest send time (or when the
-- member joined a group without messages); the inbox index makes a page of
-- one member's inbox a range scan in activity order.
CREATE TABLE IF NOT EXISTS chat_members (
  chat VARBINARY(129) NOT NULL,
  member VARBINARY(64) NOT NULL,
  activity BIGINT NOT NULL,
  read_up_to BIGINT NOT NULL,
  PRIMARY KEY (chat, member),
  KEY chat_members_inbox (member, activity, chat)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The two-member chats that exist get their inbox entries from their
-- history: activity from the newest message, and each member's marker at
-- their own newest message (sending reads what came before).
INSERT IGNORE INTO chat_members (chat, member, activity, read_up_to)
SELECT c.chat, p.member, c.last_send_time,
  COALESCE((SELECT MAX(m.send_time) FROM chat_messages AS m WHERE m.chat = c.chat AND m.sender = p.member), 0)
FROM chats AS c
JOIN (
  SELECT chat, SUBSTRING_INDEX(chat, ':', 1) AS member FROM chats WHERE LOCATE(':', chat) > 0
  UNION
  SELECT chat, SUBSTRING_INDEX(chat, ':', -1) AS member FROM chats WHERE LOCATE(':', chat) > 0
) AS p ON p.chat = c.chat
WHERE c.last_send_time > 0;
