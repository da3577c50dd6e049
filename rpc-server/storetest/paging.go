package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

func testRoundTrip(t *testing.T, opener Opener) {
	svc := open(t, opener, nil)
	before := time.Now().UnixMicro()
	sent := send(t, svc, "bob:alice", "alice", "hello")
	after := time.Now().UnixMicro()
	if got, want := sent.Chat.String(), "alice:bob"; got != want {
		t.Fatalf("stored chat: got %q, want %q", got, want)
	}
	if sent.SendTime < before || sent.SendTime > after {
		t.Fatalf("send_time %d not within [%d, %d] µs", sent.SendTime, before, after)
	}
	for _, chat := range []string{"alice:bob", "bob:alice"} {
		p := pull(t, svc, pigeonhole.PullRequest{Chat: chat})
		if got, want := len(p.Messages), 1; got != want {
			t.Fatalf("pull %q: got %d messages, want %d", chat, got, want)
		}
		got := p.Messages[0]
		if got.Chat.String() != "alice:bob" || got.Sender != "alice" || got.Text != "hello" || got.SendTime != sent.SendTime {
			t.Fatalf("pull %q: got %+v, want %+v", chat, got, sent)
		}
	}
	if p := pull(t, svc, pigeonhole.PullRequest{Chat: "alice:carol"}); len(p.Messages) != 0 {
		t.Fatalf("another chat sees %d messages", len(p.Messages))
	}
	self := send(t, svc, "a:a", "a", "note to self")
	if got := pull(t, svc, pigeonhole.PullRequest{Chat: "a:a"}).Messages; len(got) != 1 || got[0].SendTime != self.SendTime {
		t.Fatalf("self chat: got %+v", got)
	}
}

func testEmptyChat(t *testing.T, opener Opener) {
	svc := open(t, opener, nil)
	p := pull(t, svc, pigeonhole.PullRequest{Chat: "x:y", Cursor: 42})
	if len(p.Messages) != 0 || p.HasMore || p.NextCursor != 42 {
		t.Fatalf("forward on empty chat: got %+v, want no messages, has_more false, next_cursor 42", p)
	}
	p = pull(t, svc, pigeonhole.PullRequest{Chat: "x:y", Reverse: true})
	if len(p.Messages) != 0 || p.HasMore || p.NextCursor != 0 {
		t.Fatalf("reverse on empty chat: got %+v, want nothing and next_cursor 0", p)
	}
}

// sendN sends n numbered messages to chat and returns them as stored.
func sendN(t *testing.T, svc *pigeonhole.Service, chat string, n int) []pigeonhole.Message {
	t.Helper()
	sender, _, _ := strings.Cut(chat, ":")
	out := make([]pigeonhole.Message, n)
	for i := range out {
		out[i] = send(t, svc, chat, sender, fmt.Sprintf("m%03d", i))
	}
	return out
}

func testForwardPaging(t *testing.T, opener Opener) {
	svc := open(t, opener, nil)
	sent := sendN(t, svc, "a1:a2", 50)
	for _, limit := range []int32{1, 7, 10, 49, 50, 51} {
		got := pullAll(t, svc, "a1:a2", 0, limit, false)
		if !slices.Equal(texts(got), texts(sent)) {
			t.Fatalf("limit %d: got %v, want %v", limit, texts(got), texts(sent))
		}
	}
	// The last page of a forward walk points just past the newest message.
	p := pull(t, svc, pigeonhole.PullRequest{Chat: "a1:a2", Cursor: sent[45].SendTime, Limit: 10})
	if p.HasMore || len(p.Messages) != 5 || p.NextCursor != sent[49].SendTime+1 {
		t.Fatalf("last page: got has_more %v, %d messages, next_cursor %d; want false, 5, %d",
			p.HasMore, len(p.Messages), p.NextCursor, sent[49].SendTime+1)
	}
	// A full page followed by more says so and points at the next message.
	p = pull(t, svc, pigeonhole.PullRequest{Chat: "a1:a2", Limit: 7})
	if !p.HasMore || p.NextCursor != sent[7].SendTime {
		t.Fatalf("first page: got has_more %v next_cursor %d, want true %d", p.HasMore, p.NextCursor, sent[7].SendTime)
	}
	// Exactly as many as the limit, nothing beyond: has_more is false.
	p = pull(t, svc, pigeonhole.PullRequest{Chat: "a1:a2", Cursor: sent[40].SendTime, Limit: 10})
	if p.HasMore || len(p.Messages) != 10 {
		t.Fatalf("exact last page: got has_more %v with %d messages, want false with 10", p.HasMore, len(p.Messages))
	}
}

func testReversePaging(t *testing.T, opener Opener) {
	svc := open(t, opener, nil)
	sent := sendN(t, svc, "a1:a2", 50)
	want := texts(sent)
	slices.Reverse(want)
	for _, limit := range []int32{1, 7, 10, 50, 51} {
		got := pullAll(t, svc, "a1:a2", 0, limit, true)
		if !slices.Equal(texts(got), want) {
			t.Fatalf("limit %d: got %v, want %v", limit, texts(got), want)
		}
	}
	p := pull(t, svc, pigeonhole.PullRequest{Chat: "a1:a2", Limit: 10, Reverse: true})
	if !p.HasMore || p.NextCursor != sent[39].SendTime || p.Messages[0].SendTime != sent[49].SendTime {
		t.Fatalf("newest page: got has_more %v next_cursor %d first %d; want true %d %d",
			p.HasMore, p.NextCursor, p.Messages[0].SendTime, sent[39].SendTime, sent[49].SendTime)
	}
	p = pull(t, svc, pigeonhole.PullRequest{Chat: "a1:a2", Cursor: sent[4].SendTime, Limit: 10, Reverse: true})
	if p.HasMore || len(p.Messages) != 5 || p.NextCursor != 0 {
		t.Fatalf("oldest page: got has_more %v, %d messages, next_cursor %d; want false, 5, 0", p.HasMore, len(p.Messages), p.NextCursor)
	}
}

func testInclusiveCursors(t *testing.T, opener Opener) {
	svc := open(t, opener, nil)
	sent := sendN(t, svc, "a1:a2", 5)
	p := pull(t, svc, pigeonhole.PullRequest{Chat: "a1:a2", Cursor: sent[2].SendTime})
	if got, want := texts(p.Messages), texts(sent[2:]); !slices.Equal(got, want) {
		t.Fatalf("forward from m002: got %v, want %v", got, want)
	}
	p = pull(t, svc, pigeonhole.PullRequest{Chat: "a1:a2", Cursor: sent[2].SendTime + 1})
	if got, want := texts(p.Messages), texts(sent[3:]); !slices.Equal(got, want) {
		t.Fatalf("forward from just after m002: got %v, want %v", got, want)
	}
	p = pull(t, svc, pigeonhole.PullRequest{Chat: "a1:a2", Cursor: sent[2].SendTime, Reverse: true})
	if got, want := texts(p.Messages), []string{"m002", "m001", "m000"}; !slices.Equal(got, want) {
		t.Fatalf("reverse from m002: got %v, want %v", got, want)
	}
	p = pull(t, svc, pigeonhole.PullRequest{Chat: "a1:a2", Cursor: sent[2].SendTime - 1, Reverse: true})
	if got, want := texts(p.Messages), []string{"m001", "m000"}; !slices.Equal(got, want) {
		t.Fatalf("reverse from just before m002: got %v, want %v", got, want)
	}
}

func testTailPolling(t *testing.T, opener Opener) {
	svc := open(t, opener, nil)
	sendN(t, svc, "a1:a2", 3)
	p := pull(t, svc, pigeonhole.PullRequest{Chat: "a1:a2"})
	cursor := p.NextCursor
	for i := 0; i < 2; i++ {
		p = pull(t, svc, pigeonhole.PullRequest{Chat: "a1:a2", Cursor: cursor})
		if len(p.Messages) != 0 || p.HasMore || p.NextCursor != cursor {
			t.Fatalf("idle poll %d: got %+v, want nothing at the same cursor %d", i, p, cursor)
		}
	}
	next := send(t, svc, "a2:a1", "a2", "new")
	p = pull(t, svc, pigeonhole.PullRequest{Chat: "a1:a2", Cursor: cursor})
	if len(p.Messages) != 1 || p.Messages[0].SendTime != next.SendTime || p.NextCursor != next.SendTime+1 {
		t.Fatalf("poll after a send: got %+v, want exactly the new message", p)
	}
}

func testLimits(t *testing.T, opener Opener) {
	svc := open(t, opener, nil)
	sendN(t, svc, "a1:a2", 120)
	for _, tc := range []struct {
		limit int32
		want  int
	}{{0, pigeonhole.DefaultPullLimit}, {1, 1}, {100, 100}, {101, pigeonhole.DefaultMaxPull}, {1 << 30, pigeonhole.DefaultMaxPull}} {
		p := pull(t, svc, pigeonhole.PullRequest{Chat: "a1:a2", Limit: tc.limit})
		if len(p.Messages) != tc.want || !p.HasMore {
			t.Fatalf("limit %d: got %d messages (has_more %v), want %d and more", tc.limit, len(p.Messages), p.HasMore, tc.want)
		}
		// A forward page with more after it is final, unless the
		// service's maximum cut it: a replica allowing more would answer
		// the same request with more messages.
		clamped := int(tc.limit) > pigeonhole.DefaultMaxPull
		if p.Final == clamped {
			t.Fatalf("limit %d: final %v, want %v (clamped: %v)", tc.limit, p.Final, !clamped, clamped)
		}
		// The same for a reverse page from a message's send time.
		p = pull(t, svc, pigeonhole.PullRequest{Chat: "a1:a2", Cursor: p.Messages[len(p.Messages)-1].SendTime, Limit: tc.limit, Reverse: true})
		if p.Final == clamped {
			t.Fatalf("reverse, limit %d: final %v, want %v (clamped: %v)", tc.limit, p.Final, !clamped, clamped)
		}
	}
}

func testInvalidRequests(t *testing.T, opener Opener) {
	svc := open(t, opener, nil)
	c := ctx(t)
	_, err := svc.Pull(c, pigeonhole.PullRequest{Chat: "a1:a2", Limit: -1})
	wantCode(t, err, pigeonhole.CodeInvalidArgument)
	_, err = svc.Pull(c, pigeonhole.PullRequest{Chat: "a1:a2", Cursor: -1})
	wantCode(t, err, pigeonhole.CodeInvalidArgument)
	_, err = svc.Pull(c, pigeonhole.PullRequest{Chat: "a1"})
	wantCode(t, err, pigeonhole.CodeInvalidArgument)
	_, err = svc.Send(c, pigeonhole.SendRequest{Chat: "a1:a2", Sender: "a3", Text: "x"})
	wantCode(t, err, pigeonhole.CodeInvalidArgument)
	_, err = svc.Send(c, pigeonhole.SendRequest{Chat: "a1:a2", Sender: "a1", Text: ""})
	wantCode(t, err, pigeonhole.CodeInvalidArgument)
	if p := pull(t, svc, pigeonhole.PullRequest{Chat: "a1:a2"}); len(p.Messages) != 0 {
		t.Fatalf("rejected sends stored %d messages", len(p.Messages))
	}
}
