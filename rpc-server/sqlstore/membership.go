package sqlstore

import (
	"cmp"
	"database/sql"
	"maps"
	"slices"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// What an append batch does for conversations: it checks group senders'
// membership under the chats' locks, and records its messages in their
// members' inbox rows.

// groupMembers reads which of the batch's group senders are members of
// the batch's groups, after the chats are locked: one row per group that
// exists, and one more per member found. Only called when the batch has
// group messages.
func (b *appendBatchSQL) groupMembers() string {
	return "SELECT g.chat, COALESCE(m.member, '') FROM chat_groups AS g LEFT JOIN chat_members AS m" +
		" ON m.chat = g.chat AND m.member IN (" + repeatJoin("?", len(b.groups)-b.nGroups) + ")" +
		" WHERE g.chat IN (" + repeatJoin("?", b.nGroups) + ")"
}

// groupMemberArgs are groupMembers' arguments.
func (b *appendBatchSQL) groupMemberArgs() []any {
	return append(slices.Clone(b.groups[b.nGroups:]), b.groups[:b.nGroups]...)
}

// memberships is what groupMembers found: the groups that exist, and
// their members among the senders, by memberKey.
type memberships map[string]bool

func memberKey(chat, member string) string { return chat + "\x00" + member }

// check refuses m if it goes to a group that does not exist or whose
// member its sender is not.
func (ms memberships) check(m pigeonhole.Message) error {
	if !m.Chat.IsGroup() {
		return nil
	}
	chat := m.Chat.String()
	switch {
	case !ms[chat]:
		return pigeonhole.Errorf(pigeonhole.CodeNotFound, "chat %s does not exist", pigeonhole.Quote(chat))
	case !ms[memberKey(chat, m.Sender)]:
		return pigeonhole.Errorf(pigeonhole.CodePermissionDenied, "sender %s is not a member of chat %s", pigeonhole.Quote(m.Sender), pigeonhole.Quote(chat))
	}
	return nil
}

// scanMemberships reads the rows of groupMembers into ms.
func scanMemberships(ms memberships) func(*sql.Rows) error {
	return func(rows *sql.Rows) error {
		var chat, member string
		if err := rows.Scan(&chat, &member); err != nil {
			return err
		}
		ms[chat] = true
		if member != "" {
			ms[memberKey(chat, member)] = true
		}
		return nil
	}
}

// lockChats creates the chats' rows that do not exist and locks them all.
func (b *appendBatchSQL) lockChats(d Dialect) string {
	return upsertChats + repeatJoin("(?, 0)", len(b.chats)) + " " + d.KeepExisting
}

// lastSendTimes reads the locked rows; a plain read sees their newest
// committed values.
func (b *appendBatchSQL) lastSendTimes() string {
	return "SELECT chat, last_send_time FROM chats WHERE chat IN (" + repeatJoin("?", len(b.chats)) + ")"
}

// existingKeys loads the stored messages that hold one of the batch's
// keys. The keys are joined to chat_messages as a table of rows, so that
// the engine does one index lookup per key: the same keys as a WHERE of
// OR'ed conditions cost MariaDB's range optimizer more than the lookups
// themselves (3.6 ms of planning for 104 keys, against 0.25-0.4 ms for the
// join). Only called when the batch has keys.
func (b *appendBatchSQL) existingKeys(d Dialect) string {
	return "SELECT t.chat, t.sender, t.client_msg_id, t.send_time, t.text" +
		" FROM " + d.KeyRows(len(b.keyArgs)/3) + " JOIN chat_messages AS t " + d.UseIdempotencyIndex +
		" ON t.chat = k.chat AND t.sender = k.sender AND t.client_msg_id = k.client_msg_id"
}

// inboxRows returns the statement that records the new messages (from
// assign) in their members' inbox rows, with its arguments: both members'
// rows of a two-member chat (created with its first message), and the
// sender's row of a group. Each row's activity moves to the chat's newest
// send time and the sender's read marker to their newest message; neither
// ever moves back. A group's other members' activity is moved after the
// commit (Store.spreadActivity), so that a send into a large group writes
// one row here, not one per member.
func inboxRows(d Dialect, added []pigeonhole.Message) (string, []any) {
	type row struct{ activity, read int64 }
	rows := map[[2]string]row{}
	mark := func(chat, member string, activity, read int64) {
		r := rows[[2]string{chat, member}]
		rows[[2]string{chat, member}] = row{max(r.activity, activity), max(r.read, read)}
	}
	for _, m := range added {
		chat := m.Chat.String()
		mark(chat, m.Sender, m.SendTime, m.SendTime)
		if !m.Chat.IsGroup() {
			a, b := m.Chat.Members()
			mark(chat, a, m.SendTime, 0)
			mark(chat, b, m.SendTime, 0)
		}
	}
	keys := slices.SortedFunc(maps.Keys(rows), func(x, y [2]string) int {
		return cmp.Or(cmp.Compare(x[0], y[0]), cmp.Compare(x[1], y[1]))
	})
	args := make([]any, 0, 4*len(keys))
	for _, k := range keys {
		args = append(args, k[0], k[1], rows[k].activity, rows[k].read)
	}
	return "INSERT INTO chat_members (chat, member, activity, read_up_to) VALUES " + repeatJoin("(?, ?, ?, ?)", len(keys)) + " " + d.MergeInboxRow, args
}
