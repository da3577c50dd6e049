package pigeonhole

import "math"

// Paging defaults.
const (
	DefaultPullLimit = 10
	DefaultMaxPull   = 100
)

// PullRequest asks for one page of a chat.
type PullRequest struct {
	Chat string
	// Cursor is an inclusive send time. Forward, 0 is the beginning;
	// reverse, 0 is the newest message.
	Cursor int64
	// Limit is the page size: 0 means the default, above the maximum is
	// clamped, negative is invalid.
	Limit   int32
	Reverse bool
}

// Page is one page of a chat.
type Page struct {
	Messages []Message
	// HasMore is true exactly when at least one more message lies beyond
	// this page in the same direction.
	HasMore bool
	// NextCursor is the Cursor for the next page. When HasMore, it is the
	// send time of the first message of the next page. Otherwise, forward,
	// it is the last returned send time + 1 (or the request's cursor when
	// the page is empty), so polling with it yields only new messages;
	// reverse, it is 0.
	NextCursor int64
	// Final is true when this page is the answer to its request for good:
	// the same request gets the same page later, from any replica,
	// whatever is sent meanwhile, so a cache may keep it. It rests on the
	// Store property that a run of history a read has seen cannot change
	// (a message that commits later has the larger SendTime): a page is
	// final when a message it read bounds it on the newer side. That is a
	// forward page with HasMore (the next page's first message is
	// visible), or a reverse page starting at a message whose SendTime is
	// its cursor. A forward page without HasMore (a tail that grows) and
	// a reverse page from 0 (the newest messages) are never final, nor is
	// a page cut short by the service's maximum page size (another replica
	// may allow more).
	Final bool
}

// pageRange turns a validated request into a store range that fetches one
// message more than the page, which is how HasMore is known without a count.
func pageRange(chat ChatID, cursor int64, limit int, reverse bool) Range {
	from := cursor
	if reverse && cursor == 0 {
		from = math.MaxInt64
	}
	return Range{Chat: chat, From: from, Reverse: reverse, Limit: limit + 1}
}

// newPage cuts the rows fetched for pageRange into a page.
func newPage(rows []Message, cursor int64, limit int, reverse bool) Page {
	// A reverse page's newer bound is its cursor: final when a visible
	// message sits there. Cursor 0 (the newest page) is never final.
	reverseFinal := reverse && cursor != 0 && len(rows) > 0 && rows[0].SendTime == cursor
	switch {
	case len(rows) > limit:
		return Page{Messages: rows[:limit], HasMore: true, NextCursor: rows[limit].SendTime, Final: !reverse || reverseFinal}
	case reverse:
		return Page{Messages: rows, Final: reverseFinal}
	case len(rows) == 0:
		return Page{Messages: rows, NextCursor: cursor}
	default:
		return Page{Messages: rows, NextCursor: rows[len(rows)-1].SendTime + 1}
	}
}
