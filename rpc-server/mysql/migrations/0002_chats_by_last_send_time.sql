-- Chats by their newest send time, so that a replica can ask which chats
-- took messages lately (what another replica committed) at a cost that
-- follows the answer, not the number of chats: waiting pulls are woken by
-- it. The index holds the primary key, so the question is answered from
-- the index alone.
CREATE INDEX chats_last_send_time ON chats (last_send_time);
