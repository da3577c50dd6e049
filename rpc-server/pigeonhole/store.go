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
