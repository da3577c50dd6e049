package pigeonhole

import "context"

// Store keeps messages. Implementations must pass the conformance suite in
// package storetest, and translate their driver errors into *Error once:
// unavailable when the database cannot be reached, deadline_exceeded when
// ctx ends first, internal otherwise.
type Store interface {
	// Append stores m and returns it with SendTime assigned by NextSendTime
	// from the store's clock and the chat's previous send time. Appends to
	// one chat are serialised by the database, also across store instances
	// (replicas) on one database: a message that commits later always has
	// the larger SendTime.
	//
	// When m.Chat is a group, m.Sender must be its member when the message
	// is stored: membership changes take the same lock as appends, so a
	// send racing a removal is stored before the removal commits or fails
	// with permission_denied after it (not_found for an unknown group).
	// Append also moves the sender's read marker to m (a member has read
	// what they send) and the chat's activity in its members' inboxes.
	//
	// When m.ClientMsgID is set and the chat already holds a message from
	// m.Sender with that ClientMsgID, Append stores nothing and returns the
	// stored message unchanged (its Text may differ from m.Text; the
	// service decides what that means).
	Append(ctx context.Context, m Message) (Message, error)

	// Range returns at most q.Limit messages of q.Chat: forward, those with
	// SendTime >= q.From in ascending order; reverse, those with
	// SendTime <= q.From in descending order. When q.MaxBytes is set it
	// also stops once q.Done says so, reading no further: the texts it
	// holds in memory stay within the budget but for one message.
	Range(ctx context.Context, q Range) ([]Message, error)

	// Heads returns the chats whose newest message has a SendTime >= since,
	// newest first, at most limit of them: what a notifier reads to learn
	// of messages other store instances (replicas) have committed. Its
	// cost follows the number of chats it returns, not the number of
	// chats.
	Heads(ctx context.Context, since int64, limit int) ([]ChatHead, error)

	// Head returns the SendTime of chat's newest message, 0 when it has
	// none. It reads after it is called: every message whose Append
	// returned before, on any store instance, has a SendTime <= head, and
	// so has every message that is visible then; every message with a
	// SendTime <= head is visible to a Range that begins after Head
	// returns, and a message that commits later has a SendTime > head.
	// So when head is below a forward range's From, the range is empty,
	// and a reverse range from head is the newest messages.
	Head(ctx context.Context, chat ChatID) (int64, error)

	Conversations

	// Ping reports whether the store can reach its database.
	Ping(ctx context.Context) error

	// Close releases the store's resources.
	Close() error
}

// Range selects a run of one chat's messages by send time.
type Range struct {
	Chat    ChatID
	From    int64 // inclusive bound
	Reverse bool
	Limit   int
	// MaxBytes, when positive, bounds the text a range reads (see Done).
	MaxBytes int
}

// Done reports whether a range that has read n messages whose texts come
// to textBytes in all has read everything q asks for: q.Limit messages, or
// at least two messages past q.MaxBytes. A page is cut before the message
// that went past the budget, so that message tells where the next page
// starts; the second message is there for a first one that alone is over
// the budget, which a page still holds (every page makes progress).
func (q Range) Done(n, textBytes int) bool {
	return n >= q.Limit || (q.MaxBytes > 0 && n >= 2 && textBytes > q.MaxBytes)
}

// Conversations keeps groups, inboxes and read markers. A two-member chat
// has its two members' inbox entries from its first message; a group has
// its members' from its creation.
type Conversations interface {
	// CreateGroup stores g (with its Chat id, members and owner set) with
	// CreatedAt from the store's clock, and returns it. Errors: conflict
	// when the id exists.
	CreateGroup(ctx context.Context, g Group) (Group, error)
	// Group returns a group. Errors: not_found.
	Group(ctx context.Context, chat ChatID) (Group, error)
	// ChangeGroup calls change with the group as stored, under the lock
	// that appends to the chat take, and stores what it returns (or
	// returns its error, storing nothing). Errors: not_found, and
	// change's.
	ChangeGroup(ctx context.Context, chat ChatID, change func(Group) (Group, error)) (Group, error)
	// Inbox returns at most q.Limit entries of q.Member's inbox in inbox
	// order, with every field of InboxEntry set (Last's text at least its
	// first PreviewBytes characters: the service cuts the preview).
	Inbox(ctx context.Context, q InboxRange) ([]InboxEntry, error)
	// MarkRead moves member's read marker in chat forward to sendTime,
	// never back and never past the chat's newest message, and returns
	// the marker as it is after. Errors: permission_denied when member is
	// not in the group, not_found for an unknown group.
	MarkRead(ctx context.Context, chat ChatID, member string, sendTime int64) (ReadState, error)
}
