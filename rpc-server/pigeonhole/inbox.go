package pigeonhole

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Inbox paging defaults and bounds.
const (
	DefaultInboxLimit = 20
	MaxInboxLimit     = 100
	// PreviewBytes is the longest last-message preview in an inbox entry.
	PreviewBytes = 200
	// MaxUnread is the largest unread count reported exactly; beyond it
	// the count is MaxUnread with UnreadCapped set, so counting reads at
	// most MaxUnread+1 index entries.
	MaxUnread = 999
	// maxInboxCursorBytes bounds the cursor a client sends back.
	maxInboxCursorBytes = 512
)

// InboxRequest asks for one page of a member's chats, newest activity
// first.
type InboxRequest struct {
	// Member whose inbox is listed: with authentication on, the caller.
	Member string
	// Cursor is "" for the first page, or a NextCursor.
	Cursor string
	// Limit is the page size: 0 means the default, above the maximum is
	// clamped, negative is invalid.
	Limit int32
	// Wait is how long a call with a Cursor whose page would list no chat
	// may wait for activity in any of the member's chats (capped by
	// Config.MaxWait): 0 answers at once, negative is invalid.
	Wait time.Duration
}

// InboxEntry is one chat in an inbox.
type InboxEntry struct {
	Chat    ChatID
	Title   string   // groups only
	Members []string // byte order
	// Last is the chat's newest message, its text cut to a preview of at
	// most PreviewBytes on a UTF-8 boundary; zero when the chat holds none
	// (a group without messages yet).
	Last Message
	// Activity orders the inbox: the newest message's send time, or the
	// time the member joined a group without messages.
	Activity int64
	// ReadUpTo is the member's read marker (a send time; 0: nothing read).
	ReadUpTo int64
	// Unread counts messages from others after ReadUpTo, exactly up to
	// MaxUnread; UnreadCapped says there are more.
	Unread       int
	UnreadCapped bool
}

// InboxPage is one page of an inbox.
type InboxPage struct {
	Chats   []InboxEntry
	HasMore bool
	// NextCursor continues the listing. While HasMore, it names the next
	// page. On the last page it means "newer than everything listed": the
	// same call later returns only the chats whose activity has become
	// newer than the listing's start, newest first (and then, again, a
	// cursor for what is newer still).
	NextCursor string
}

// InboxPosition is a place in an inbox's order: activity descending, then
// chat id descending.
type InboxPosition struct {
	Activity int64
	Chat     string
}

// InboxRange selects a run of one member's inbox for a Store.
type InboxRange struct {
	Member string
	// After is an exclusive lower bound on activity (0: none, which still
	// leaves out chats without activity).
	After int64
	// Before, when not nil, is an exclusive upper bound in inbox order:
	// only entries after it (older, or as old with a smaller chat id).
	Before *InboxPosition
	Limit  int
}

// inboxCursor is what an opaque inbox cursor holds. A listing ("pass")
// walks down from the newest activity to After; Ceiling is the activity
// of the pass's first entry, where the next pass starts from.
type inboxCursor struct {
	After   int64
	Ceiling int64
	Before  *InboxPosition
}

// The cursor's text: "1", after, ceiling and, mid-pass, the position's
// activity and chat, joined by ' ' (no member or chat id holds a space),
// in unpadded URL-safe base64.
func (c inboxCursor) encode() string {
	s := "1 " + strconv.FormatInt(c.After, 10) + " " + strconv.FormatInt(c.Ceiling, 10)
	if c.Before != nil {
		s += " " + strconv.FormatInt(c.Before.Activity, 10) + " " + c.Before.Chat
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// decodeInboxCursor parses a cursor; "" is the first page. Errors:
// invalid_argument.
func decodeInboxCursor(s string) (inboxCursor, error) {
	if s == "" {
		return inboxCursor{}, nil
	}
	bad := Errorf(CodeInvalidArgument, "cursor is not one this service returned")
	if len(s) > maxInboxCursorBytes {
		return inboxCursor{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return inboxCursor{}, bad
	}
	f := strings.Split(string(raw), " ")
	if (len(f) != 3 && len(f) != 5) || f[0] != "1" {
		return inboxCursor{}, bad
	}
	var c inboxCursor
	if c.After, err = strconv.ParseInt(f[1], 10, 64); err != nil || c.After < 0 {
		return inboxCursor{}, bad
	}
	if c.Ceiling, err = strconv.ParseInt(f[2], 10, 64); err != nil || c.Ceiling < c.After {
		return inboxCursor{}, bad
	}
	if len(f) == 5 {
		act, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil || act <= c.After {
			return inboxCursor{}, bad
		}
		if _, err := ParseChatID(f[4]); err != nil {
			return inboxCursor{}, bad
		}
		c.Before = &InboxPosition{Activity: act, Chat: f[4]}
	}
	return c, nil
}

// newInboxPage cuts the entries fetched (limit+1 at most) for cursor into
// a page and its next cursor.
func newInboxPage(rows []InboxEntry, cur inboxCursor, limit int) InboxPage {
	if cur.Before == nil && len(rows) > 0 {
		cur.Ceiling = rows[0].Activity // a pass starts
	}
	page := InboxPage{Chats: rows}
	if len(rows) > limit {
		last := rows[limit-1]
		page.Chats, page.HasMore = rows[:limit], true
		page.NextCursor = inboxCursor{After: cur.After, Ceiling: cur.Ceiling, Before: &InboxPosition{Activity: last.Activity, Chat: last.Chat.String()}}.encode()
	} else {
		// The pass is over: the next one lists what is newer than its start.
		page.NextCursor = inboxCursor{After: cur.Ceiling, Ceiling: cur.Ceiling}.encode()
	}
	for i := range page.Chats {
		page.Chats[i].Last.Text = Preview(page.Chats[i].Last.Text)
	}
	return page
}

// Preview cuts text to at most PreviewBytes on a UTF-8 boundary.
func Preview(text string) string {
	if len(text) <= PreviewBytes {
		return text
	}
	cut := PreviewBytes
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut]
}

// inboxLimit applies the paging defaults to a requested inbox page size.
func inboxLimit(limit int32) (int, error) {
	switch {
	case limit < 0:
		return 0, Errorf(CodeInvalidArgument, "limit must not be negative, got %d", limit)
	case limit == 0:
		return DefaultInboxLimit, nil
	case limit > MaxInboxLimit:
		return MaxInboxLimit, nil
	}
	return int(limit), nil
}

// ReadRequest moves a member's read marker in a chat.
type ReadRequest struct {
	Chat string
	// Member whose marker moves: with authentication on, the caller.
	Member string
	// SendTime is the newest message read; a marker never moves back, and
	// never past the chat's newest message.
	SendTime int64
}

// ReadState is a member's read marker in a chat and what lies after it.
type ReadState struct {
	ReadUpTo     int64
	Unread       int
	UnreadCapped bool
}

// UnreadCount turns the number of messages from others found after a
// marker, by a scan of at most MaxUnread+1 entries, into the count
// reported.
func UnreadCount(fromOthers int) (n int, capped bool) {
	if fromOthers > MaxUnread {
		return MaxUnread, true
	}
	return fromOthers, false
}
