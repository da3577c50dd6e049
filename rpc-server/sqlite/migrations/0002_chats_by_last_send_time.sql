-- Chats by their newest send time, so that a store instance can ask which
-- chats took messages lately (what another process committed) at a cost
-- that follows the answer, not the number of chats: waiting pulls are
-- woken by it. The index holds the primary key, so the question is
-- answered from the index alone.
CREATE INDEX IF NOT EXISTS chats_last_send_time ON chats (last_send_time);
