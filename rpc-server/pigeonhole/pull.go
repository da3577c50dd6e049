package pigeonhole

import (
	"math"
	"time"
)

// Paging defaults.
const (
	DefaultPullLimit = 10
	DefaultMaxPull   = 100
	// DefaultMaxPageBytes is the default byte budget of a page: the most
	// text one page carries, whatever its limit. 100 messages of the
	// largest text (64 KiB) would be 6.4 MiB in one answer, held by the
	// service and the gateway at once for every such pull in flight.
	DefaultMaxPageBytes = 1 << 20
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
	// MaxBytes lowers the page's byte budget for this request, as a batch
	// sharing one answer does: 0 means Config.MaxPageBytes; otherwise it
	// is raised to Config.MaxTextBytes (one message must fit) and lowered
	// to Config.MaxPageBytes.
	MaxBytes int
	// Wait is how long a forward pull whose page is empty may wait for a
	// message to arrive (capped by Config.MaxWait): 0 answers at once,
	// negative is invalid.
	Wait time.Duration
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
	//
	// The byte budget bends the rule the same way: a page is final only
	// when no budget would have made it another page. The budget is not a
	// property of the history: it is this replica's --max-page-bytes,
	// which replicas need not share (it changes replica by replica in a
	// rolling update), or a share of a batch's, which depends on how many
	// pulls the batch carries. So a page cut by its budget (fewer messages
	// than the limit while more follow) is never final, nor is one whose
	// texts come to more than the smallest budget any request gets
	// (Config.MaxTextBytes, one message): a smaller budget elsewhere would
	// have cut it. Such pages are large and few, and the range cache under
	// the service still answers them from memory.
	Final bool
}

// pageRange turns a validated request into a store range that fetches one
// message more than the page, which is how HasMore is known without a count.
// The store stops reading at the byte budget too (Range.Done).
func pageRange(chat ChatID, cursor int64, limit, maxBytes int, reverse bool) Range {
	from := cursor
	if reverse && cursor == 0 {
		from = math.MaxInt64
	}
	return Range{Chat: chat, From: from, Reverse: reverse, Limit: limit + 1, MaxBytes: maxBytes}
}

// pageBudget is the text a page may hold: most for this request, and
// least, the smallest budget any request gets.
type pageBudget struct{ most, least int }

// pageLen is how many of rows make the page, and their texts' length: at
// most limit, and no more than fit in the budget, but at least one.
func pageLen(rows []Message, limit, maxBytes int) (n, size int) {
	for n < len(rows) && n < limit {
		if n > 0 && size+len(rows[n].Text) > maxBytes {
			break
		}
		size += len(rows[n].Text)
		n++
	}
	return n, size
}

// newPage cuts the rows fetched for pageRange into a page.
func newPage(rows []Message, cursor int64, limit int, budget pageBudget, reverse bool) Page {
	// A reverse page's newer bound is its cursor: final when a visible
	// message sits there. Cursor 0 (the newest page) is never final.
	reverseFinal := reverse && cursor != 0 && len(rows) > 0 && rows[0].SendTime == cursor
	n, size := pageLen(rows, limit, budget.most)
	// No budget would cut it (see Page.Final); one message is never cut.
	uncut := n == min(limit, len(rows)) && (n <= 1 || size <= budget.least)
	switch {
	case n < len(rows):
		return Page{Messages: rows[:n], HasMore: true, NextCursor: rows[n].SendTime, Final: uncut && (!reverse || reverseFinal)}
	case reverse:
		return Page{Messages: rows, Final: uncut && reverseFinal}
	case len(rows) == 0:
		return Page{Messages: rows, NextCursor: cursor}
	default:
		return Page{Messages: rows, NextCursor: rows[len(rows)-1].SendTime + 1}
	}
}
