package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

func inbox(t *testing.T, svc *pigeonhole.Service, member, cursor string, limit int32) pigeonhole.InboxPage {
	t.Helper()
	p, err := svc.Inbox(ctx(t), pigeonhole.InboxRequest{Member: member, Cursor: cursor, Limit: limit})
	if err != nil {
		t.Fatalf("inbox of %q: %v", member, err)
	}
	return p
}

// inboxPass follows next_cursor from cursor until has_more is false and
// returns the chats seen, in order, and the cursor for what comes next.
func inboxPass(t *testing.T, svc *pigeonhole.Service, member, cursor string, limit int32) ([]pigeonhole.InboxEntry, string) {
	t.Helper()
	var all []pigeonhole.InboxEntry
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("paging the inbox of %q did not end", member)
		}
		p := inbox(t, svc, member, cursor, limit)
		all = append(all, p.Chats...)
		cursor = p.NextCursor
		if !p.HasMore {
			return all, cursor
		}
	}
}

func chatIDs(entries []pigeonhole.InboxEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Chat.String()
	}
	return out
}

func markRead(t *testing.T, svc *pigeonhole.Service, chat, member string, sendTime int64) pigeonhole.ReadState {
	t.Helper()
	st, err := svc.MarkRead(ctx(t), pigeonhole.ReadRequest{Chat: chat, Member: member, SendTime: sendTime})
	if err != nil {
		t.Fatalf("mark %q read by %q up to %d: %v", chat, member, sendTime, err)
	}
	return st
}

func testInboxEntries(t *testing.T, opener Opener) {
	svc := open(t, opener, nil)
	if p := inbox(t, svc, "a", "", 0); len(p.Chats) != 0 || p.HasMore {
		t.Fatalf("a new member's inbox: %+v", p)
	}
	g := createGroup(t, svc, "a", "team", "b")
	t.Run("GroupFromItsCreation", func(t *testing.T) {
		for _, member := range []string{"a", "b"} {
			p := inbox(t, svc, member, "", 0)
			if len(p.Chats) != 1 {
				t.Fatalf("%s's inbox: %v", member, chatIDs(p.Chats))
			}
			e := p.Chats[0]
			if e.Chat != g.Chat || e.Title != "team" || !slices.Equal(e.Members, []string{"a", "b"}) || e.Last.SendTime != 0 || e.Unread != 0 {
				t.Fatalf("%s's entry: %+v", member, e)
			}
		}
	})
	t.Run("TwoMemberChatFromItsFirstMessage", func(t *testing.T) {
		if got := markRead(t, svc, "a:c", "a", 99); got != (pigeonhole.ReadState{}) {
			t.Fatalf("marker in a chat without messages: %+v", got)
		}
		long := strings.Repeat("x", pigeonhole.PreviewBytes-1) + "é and more"
		m := send(t, svc, "c:a", "c", long)
		for _, member := range []string{"a", "c"} {
			p := inbox(t, svc, member, "", 0)
			e := p.Chats[0]
			if e.Chat.String() != "a:c" || !slices.Equal(e.Members, []string{"a", "c"}) || e.Title != "" {
				t.Fatalf("%s's newest entry: %+v", member, e)
			}
			if e.Last.Sender != "c" || e.Last.SendTime != m.SendTime || e.Last.Text != long[:pigeonhole.PreviewBytes-1] {
				t.Fatalf("%s's last message: %+v", member, e.Last)
			}
			wantUnread := map[string]int{"a": 1, "c": 0}[member]
			if e.Unread != wantUnread || e.UnreadCapped {
				t.Fatalf("%s's unread: %d (capped %v), want %d", member, e.Unread, e.UnreadCapped, wantUnread)
			}
		}
		if got := chatIDs(inbox(t, svc, "a", "", 0).Chats); !slices.Equal(got, []string{"a:c", g.Chat.String()}) {
			t.Fatalf("a's inbox order: %v", got)
		}
		send(t, svc, g.Chat.String(), "b", "group news")
		if got := chatIDs(inbox(t, svc, "a", "", 0).Chats); !slices.Equal(got, []string{g.Chat.String(), "a:c"}) {
			t.Fatalf("a's inbox after the group's message: %v", got)
		}
	})
	t.Run("OutsidersHaveNoMarker", func(t *testing.T) {
		_, err := svc.MarkRead(ctx(t), pigeonhole.ReadRequest{Chat: g.Chat.String(), Member: "z", SendTime: 1})
		wantCode(t, err, pigeonhole.CodePermissionDenied)
		_, err = svc.MarkRead(ctx(t), pigeonhole.ReadRequest{Chat: "a:c", Member: "z", SendTime: 1})
		wantCode(t, err, pigeonhole.CodeInvalidArgument)
	})
	t.Run("InvalidRequests", func(t *testing.T) {
		for _, req := range []pigeonhole.InboxRequest{{Member: ""}, {Member: "a b"}, {Member: "a", Limit: -1}, {Member: "a", Cursor: "nonsense"}} {
			_, err := svc.Inbox(ctx(t), req)
			wantCode(t, err, pigeonhole.CodeInvalidArgument)
		}
		_, err := svc.MarkRead(ctx(t), pigeonhole.ReadRequest{Chat: "a:c", Member: "a", SendTime: -1})
		wantCode(t, err, pigeonhole.CodeInvalidArgument)
	})
}

func testReadMarkers(t *testing.T, opener Opener) {
	svc, other := open(t, opener, nil), open(t, opener, nil)
	var sent []pigeonhole.Message
	for i := range 10 {
		sent = append(sent, send(t, svc, "r:s", "s", fmt.Sprintf("m%d", i)))
	}
	t.Run("UnreadCountsOthersAfterTheMarker", func(t *testing.T) {
		if got := markRead(t, svc, "r:s", "r", sent[3].SendTime); got.ReadUpTo != sent[3].SendTime || got.Unread != 6 {
			t.Fatalf("after reading 4 of 10: %+v", got)
		}
		send(t, svc, "r:s", "r", "a reply reads everything before it")
		if e := inbox(t, svc, "r", "", 0).Chats[0]; e.Unread != 0 || e.ReadUpTo <= sent[9].SendTime {
			t.Fatalf("after replying: %+v", e)
		}
	})
	t.Run("NeverBackNeverPastTheNewest", func(t *testing.T) {
		top := inbox(t, svc, "r", "", 0).Chats[0].ReadUpTo
		if got := markRead(t, other, "r:s", "r", sent[1].SendTime); got.ReadUpTo != top {
			t.Fatalf("a late marker moved it back: %d, want %d", got.ReadUpTo, top)
		}
		m := send(t, svc, "r:s", "s", "new")
		if got := markRead(t, other, "r:s", "r", m.SendTime+1_000_000); got.ReadUpTo != m.SendTime || got.Unread != 0 {
			t.Fatalf("a marker past the newest message: %+v, want at %d", got, m.SendTime)
		}
	})
	t.Run("RacingCallsLeaveTheFurthest", func(t *testing.T) {
		var times []int64
		for i := range 40 {
			times = append(times, send(t, svc, "q:s", "s", fmt.Sprintf("q%d", i)).SendTime)
		}
		c := ctx(t)
		var wg sync.WaitGroup
		svcs := []*pigeonhole.Service{svc, other}
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				seen := int64(0)
				for _, i := range rand.Perm(len(times)) {
					st, err := svcs[w%2].MarkRead(c, pigeonhole.ReadRequest{Chat: "q:s", Member: "q", SendTime: times[i]})
					if err != nil {
						t.Errorf("mark read: %v", err)
						return
					}
					if st.ReadUpTo < seen || st.ReadUpTo < times[i] {
						t.Errorf("marker went back: %d after %d, asked for %d", st.ReadUpTo, seen, times[i])
						return
					}
					seen = st.ReadUpTo
				}
			}()
		}
		wg.Wait()
		if got := markRead(t, svc, "q:s", "q", 0); got.ReadUpTo != times[len(times)-1] || got.Unread != 0 {
			t.Fatalf("final marker %+v, want at %d", got, times[len(times)-1])
		}
	})
}

// testUnreadUnderConcurrency sends from two members on two instances while
// the reader marks what it has pulled, then checks the count against the
// history; and past MaxUnread, that the count is capped.
func testUnreadUnderConcurrency(t *testing.T, opener Opener) {
	svcs := []*pigeonhole.Service{open(t, opener, nil), open(t, opener, nil)}
	g := createGroup(t, svcs[0], "reader", "busy", "s1", "s2")
	chat := g.Chat.String()
	const writers, perWriter = 4, 100
	c := ctx(t)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				if _, err := svcs[w%2].Send(c, pigeonhole.SendRequest{Chat: chat, Sender: []string{"s1", "s2"}[w%2], Text: fmt.Sprintf("w%d-%d", w, i)}); err != nil {
					t.Errorf("send: %v", err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var marker int64
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
		}
		p, err := svcs[1].Pull(c, pigeonhole.PullRequest{Chat: chat, Reverse: true, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Messages) == 0 {
			continue
		}
		st, err := svcs[0].MarkRead(c, pigeonhole.ReadRequest{Chat: chat, Member: "reader", SendTime: p.Messages[0].SendTime})
		if err != nil {
			t.Fatal(err)
		}
		marker = st.ReadUpTo
		after := len(pullAll(t, svcs[1], chat, marker+1, 100, false))
		// More may have come between the count and the pull, never less.
		if st.Unread > after || st.Unread > pigeonhole.MaxUnread {
			t.Fatalf("unread %d, but %d messages follow the marker", st.Unread, after)
		}
	}
	after := len(pullAll(t, svcs[0], chat, marker+1, 100, false))
	want, capped := pigeonhole.UnreadCount(after)
	e := inbox(t, svcs[1], "reader", "", 0).Chats[0]
	if e.Unread != want || e.UnreadCapped != capped || e.ReadUpTo != marker {
		t.Fatalf("once quiet: unread %d (capped %v) at %d, want %d (capped %v) at %d", e.Unread, e.UnreadCapped, e.ReadUpTo, want, capped, marker)
	}
	all := pullAll(t, svcs[0], chat, 0, 100, false)
	if len(all) != writers*perWriter {
		t.Fatalf("stored %d, want %d", len(all), writers*perWriter)
	}
	st := markRead(t, svcs[1], chat, "reader", 0)
	if st.ReadUpTo != marker {
		t.Fatalf("marker %d, want %d", st.ReadUpTo, marker)
	}
	// A member who joins finds the history read; one who was there for
	// more than MaxUnread messages finds the count capped.
	if _, err := svcs[0].ChangeMembers(c, pigeonhole.ChangeMembersRequest{Chat: chat, Actor: "reader", Add: []string{"late"}}); err != nil {
		t.Fatal(err)
	}
	if st := markRead(t, svcs[0], chat, "late", 0); st.Unread != 0 {
		t.Fatalf("a new member starts with history read; unread %d", st.Unread)
	}
	fresh := createGroup(t, svcs[0], "", "flood", "s1", "r2")
	for i := 0; i <= pigeonhole.MaxUnread; i += 100 {
		var batch sync.WaitGroup
		for j := i; j < min(i+100, pigeonhole.MaxUnread+1); j++ {
			batch.Add(1)
			go func() {
				defer batch.Done()
				if _, err := svcs[j%2].Send(c, pigeonhole.SendRequest{Chat: fresh.Chat.String(), Sender: "s1", Text: "x"}); err != nil {
					t.Errorf("send: %v", err)
				}
			}()
		}
		batch.Wait()
	}
	if st := markRead(t, svcs[1], fresh.Chat.String(), "r2", 0); st.Unread != pigeonhole.MaxUnread || !st.UnreadCapped {
		t.Fatalf("%d unread: got %d (capped %v), want %d capped", pigeonhole.MaxUnread+1, st.Unread, st.UnreadCapped, pigeonhole.MaxUnread)
	}
}
