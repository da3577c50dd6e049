package storetest

import (
	"slices"
	"strings"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// testByteBudget checks the page byte budget in both directions: every
// page holds no more text than the budget (but at least one message), is
// cut exactly before the message that would take it past the budget, is
// not final when cut (nor when over the smallest budget), and paging on
// from next_cursor yields every message exactly once. Each walk runs twice
// on an instance of its own, so that a cache in front of the store reads
// the first from the store and answers the second from what it learned.
// A request may lower the budget, not below one message. A message stored
// under a larger text limit than the reader's is a page of its own.
func testByteBudget(t *testing.T, opener Opener) {
	const chat, maxText, budget = "b1:b2", 300, 700
	cfg := pigeonhole.Config{MaxTextBytes: maxText, MaxPageBytes: budget}
	big := openWith(t, opener, nil, pigeonhole.Config{MaxTextBytes: 4096})
	svc := openWith(t, opener, nil, cfg)

	var sent []pigeonhole.Message
	for i := range 40 {
		size := 1 + (i*97)%maxText // 1 to 300 bytes, in no simple order
		sent = append(sent, send(t, svc, chat, "b1", strings.Repeat(string(rune('a'+i%26)), size)))
		if i == 17 {
			sent = append(sent, send(t, big, chat, "b1", strings.Repeat("Z", 2000)))
		}
	}

	for _, reverse := range []bool{false, true} {
		want := slices.Clone(sent)
		if reverse {
			slices.Reverse(want)
		}
		for _, tc := range []struct {
			limit          int32
			maxBytes, want int // the request's budget, and the page's
		}{
			{1, 0, budget}, {3, 0, budget}, {10, 0, budget}, {100, 0, budget},
			{100, 350, 350},     // a request may lower the budget
			{100, 1, maxText},   // but one message always fits
			{100, 5000, budget}, // and it cannot raise it
		} {
			limit := tc.limit
			svc := openWith(t, opener, nil, cfg)
			for walk := range 2 {
				var got []pigeonhole.Message
				cursor := int64(0)
				for {
					p := pull(t, svc, pigeonhole.PullRequest{Chat: chat, Cursor: cursor, Limit: limit, Reverse: reverse, MaxBytes: tc.maxBytes})
					checkBudgetPage(t, p, want[len(got):], int(limit), tc.want, maxText)
					got = append(got, p.Messages...)
					if !p.HasMore {
						break
					}
					cursor = p.NextCursor
				}
				if !slices.Equal(texts(got), texts(want)) {
					t.Fatalf("reverse %v, %+v, walk %d: paging lost or repeated messages", reverse, tc, walk)
				}
			}
		}
	}
}

// checkBudgetPage checks one page p whose messages should start rest,
// cut at budget; least is the smallest budget any request gets.
func checkBudgetPage(t *testing.T, p pigeonhole.Page, rest []pigeonhole.Message, limit, budget, least int) {
	t.Helper()
	n := len(p.Messages)
	if n == 0 || n > limit || n > len(rest) {
		t.Fatalf("page of %d messages with limit %d and %d left", n, limit, len(rest))
	}
	size := 0
	for i, m := range p.Messages {
		if m.SendTime != rest[i].SendTime {
			t.Fatalf("page message %d: send_time %d, want %d", i, m.SendTime, rest[i].SendTime)
		}
		size += len(m.Text)
	}
	if n > 1 && size > budget {
		t.Fatalf("page of %d messages holds %d bytes of text, over the budget of %d", n, size, budget)
	}
	if p.Final && n > 1 && size > least {
		t.Fatalf("a page of %d bytes of text, more than the least budget %d, is marked final", size, least)
	}
	if got, want := p.HasMore, n < len(rest); got != want {
		t.Fatalf("has_more: got %v, want %v", got, want)
	}
	if !p.HasMore {
		return
	}
	if got, want := p.NextCursor, rest[n].SendTime; got != want {
		t.Fatalf("next_cursor: got %d, want %d, the next message's", got, want)
	}
	if n < limit {
		if size+len(rest[n].Text) <= budget {
			t.Fatalf("page cut at %d messages (%d bytes) though the next (%d bytes) fits in %d", n, size, len(rest[n].Text), budget)
		}
		if p.Final {
			t.Fatalf("a page cut by the byte budget is marked final")
		}
	}
}
