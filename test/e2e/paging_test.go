package e2e

import (
	"fmt"
	"slices"
	"testing"
)

// pageLimit is deliberately not a divisor of pagingMessages, so the last
// page is short.
const (
	pagingMessages = 30
	pageLimit      = 7
)

// TestPaging follows next_cursor through a chat both ways and then polls
// it, checking the paging contract of the README over the real hop.
func TestPaging(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, sys *system) {
		const chat = "p1:p2"
		var want []message
		for i := range pagingMessages {
			sender := []string{"p1", "p2"}[i%2]
			text := fmt.Sprintf("message %02d", i)
			s := sys.api.send(t, chat, text, sender)
			want = append(want, message{Chat: chat, Text: text, Sender: sender, SendTime: s.SendTime})
		}
		var pollFrom int64

		t.Run("ForwardByQueryStringSeesEachMessageOnceInOrder", func(t *testing.T) {
			got, next := follow(t, want, func(cursor int64) page {
				return sys.api.pullQuery(t, chat, cursor, pageLimit, false)
			})
			if !slices.Equal(got, want) {
				t.Fatalf("forward pages hold\n%v\nwant\n%v", got, want)
			}
			if last := want[len(want)-1].SendTime; next != last+1 {
				t.Errorf("last page's next_cursor = %d, want last send_time + 1 = %d", next, last+1)
			}
			pollFrom = next
		})

		t.Run("ReverseByPostSeesEachMessageOnceNewestFirst", func(t *testing.T) {
			newestFirst := slices.Clone(want)
			slices.Reverse(newestFirst)
			got, next := follow(t, newestFirst, func(cursor int64) page {
				return sys.api.pullPost(t, chat, cursor, pageLimit, true)
			})
			if !slices.Equal(got, newestFirst) {
				t.Fatalf("reverse pages hold\n%v\nwant\n%v", got, newestFirst)
			}
			if next != 0 {
				t.Errorf("last reverse page's next_cursor = %d, want 0", next)
			}
		})

		t.Run("OnlyFinalPagesAreCacheable", func(t *testing.T) {
			pullURL := func(cursor int64, reverse bool) string {
				return fmt.Sprintf("/api/pull?chat=%s&cursor=%d&limit=%d&reverse=%t", chat, cursor, pageLimit, reverse)
			}
			for _, tc := range []struct {
				name  string
				url   string
				final bool
			}{
				{"ForwardWithHasMore", pullURL(0, false), true},
				{"ForwardTail", pullURL(want[len(want)-2].SendTime, false), false},
				{"ReverseFromNewest", pullURL(0, true), false},
				{"ReverseFromAMessage", pullURL(want[len(want)-1].SendTime, true), true},
			} {
				wantHeader := "no-cache"
				if tc.final {
					wantHeader = "max-age=31536000, immutable"
				}
				// The second answer of a final page comes from the
				// gateway's page cache; it must be the same.
				first := sys.api.do(t, "GET", tc.url, "")
				again := sys.api.do(t, "GET", tc.url, "")
				for _, r := range []response{first, again} {
					if got := r.header.Get("Cache-Control"); r.status != 200 || got != wantHeader {
						t.Errorf("%s: %d, Cache-Control %q; want 200, %q", tc.name, r.status, got, wantHeader)
					}
				}
				if string(first.body) != string(again.body) {
					t.Errorf("%s: the same pull answered\n%s\nthen\n%s", tc.name, first.body, again.body)
				}
			}
		})

		t.Run("PollingWithNextCursorReturnsOnlyNewMessages", func(t *testing.T) {
			if pollFrom == 0 {
				t.Skip("the forward walk failed")
			}
			empty := sys.api.pullQuery(t, chat, pollFrom, pageLimit, false)
			if len(empty.Messages) != 0 || empty.HasMore || empty.NextCursor != pollFrom {
				t.Fatalf("poll before a new send = %+v, want no messages, has_more false, next_cursor %d", empty, pollFrom)
			}
			s := sys.api.send(t, chat, "one more", "p2")
			fresh := message{Chat: chat, Text: "one more", Sender: "p2", SendTime: s.SendTime}
			got := sys.api.pullQuery(t, chat, empty.NextCursor, pageLimit, false)
			if !slices.Equal(got.Messages, []message{fresh}) || got.HasMore {
				t.Fatalf("poll after a send = %+v, want exactly %+v", got, fresh)
			}
			if got.NextCursor != fresh.SendTime+1 {
				t.Errorf("next_cursor = %d, want %d", got.NextCursor, fresh.SendTime+1)
			}
			again := sys.api.pullQuery(t, chat, got.NextCursor, pageLimit, false)
			if len(again.Messages) != 0 {
				t.Fatalf("poll with the new next_cursor returned %v again", again.Messages)
			}
		})
	})
}

// follow pulls pages from cursor 0 until has_more is false and returns
// their messages and the last page's next_cursor. It checks each page
// against the README: full pages while has_more, whose next_cursor is the
// send_time of the next page's first message. want bounds the walk.
func follow(t *testing.T, want []message, pull func(cursor int64) page) ([]message, int64) {
	t.Helper()
	var got []message
	var cursor int64
	for pages := 0; ; pages++ {
		if pages > len(want)/pageLimit+1 {
			t.Fatalf("still has_more after %d pages of %d; got %d messages", pages, pageLimit, len(got))
		}
		p := pull(cursor)
		got = append(got, p.Messages...)
		if !p.HasMore {
			if len(p.Messages) > pageLimit {
				t.Errorf("last page has %d messages, limit %d", len(p.Messages), pageLimit)
			}
			return got, p.NextCursor
		}
		if len(p.Messages) != pageLimit {
			t.Errorf("page %d has %d messages with has_more, want %d", pages, len(p.Messages), pageLimit)
		}
		if len(got) < len(want) && p.NextCursor != want[len(got)].SendTime {
			t.Errorf("page %d next_cursor = %d, want the next message's send_time %d", pages, p.NextCursor, want[len(got)].SendTime)
		}
		cursor = p.NextCursor
	}
}
