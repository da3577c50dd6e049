-- Groups: chats whose members are kept here rather than named by the id.
-- A group also has its chats row, which appends and membership changes
-- lock alike.
CREATE TABLE IF NOT EXISTS chat_groups (
  chat TEXT NOT NULL PRIMARY KEY,
  title TEXT NOT NULL,
  owner TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per member of a chat (both members of a two-member chat, from
-- its first message; every member of a group): the member's inbox entry
-- and read marker. activity is the chat's newest send time (or when the
-- member joined a group without messages); the inbox index makes a page of
-- one member's inbox a range scan in activity order.
CREATE TABLE IF NOT EXISTS chat_members (
  chat TEXT NOT NULL,
  member TEXT NOT NULL,
  activity INTEGER NOT NULL,
  read_up_to INTEGER NOT NULL,
  PRIMARY KEY (chat, member)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS chat_members_inbox
  ON chat_members (member, activity, chat);

-- The two-member chats that exist get their inbox entries from their
-- history: activity from the newest message, and each member's marker at
-- their own newest message (sending reads what came before).
INSERT OR IGNORE INTO chat_members (chat, member, activity, read_up_to)
SELECT c.chat, p.member, c.last_send_time,
  COALESCE((SELECT MAX(m.send_time) FROM chat_messages AS m WHERE m.chat = c.chat AND m.sender = p.member), 0)
FROM chats AS c
JOIN (
  SELECT chat, substr(chat, 1, instr(chat, ':') - 1) AS member FROM chats WHERE instr(chat, ':') > 0
  UNION
  SELECT chat, substr(chat, instr(chat, ':') + 1) AS member FROM chats WHERE instr(chat, ':') > 0
) AS p ON p.chat = c.chat
WHERE c.last_send_time > 0;
