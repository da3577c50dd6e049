package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// longWait is a wait that the tests that expect a wake never reach: a
// waiting pull that answers with a message was woken.
const longWait = 30 * time.Second

// shortWait is the wait of the tests that expect none.
const shortWait = 300 * time.Millisecond

// Notifier is what the waiting tests need of a notifier (package
// notify's, in practice).
type Notifier interface {
	pigeonhole.Notifier
	// Waiting is the number of chats waited on now.
	Waiting() int
	// Waiters is the number of calls waiting now.
	Waiters() int64
	// Stop answers every waiter at once, and every later Wait.
	Stop()
}

// NewNotifier makes the notifier of one store instance.
type NewNotifier func(pigeonhole.Store) Notifier

// RunWaiting runs the tests of waiting pulls and inbox calls: a pull with
// Wait waits for a message in its chat, an inbox call for activity in any
// of its member's chats, sent through this instance or another on the
// same database, and for nothing else.
func RunWaiting(t *testing.T, newDB NewDatabase, newNotifier NewNotifier) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener, NewNotifier)
	}{
		{"WakesOnSendToTheChat", testWaitWakesOnSendToTheChat},
		{"IgnoresOtherChats", testWaitIgnoresOtherChats},
		{"TimesOutWithTheSameCursor", testWaitTimesOutWithTheSameCursor},
		{"WakesAcrossInstances", testWaitWakesAcrossInstances},
		{"StopAnswersWaitersAtOnce", testStopAnswersWaitersAtOnce},
		{"InboxWakesOnSendToAChatOfTheMember", testInboxWaitWakesOnSendToAChatOfTheMember},
		{"InboxWakesOnANewChat", testInboxWaitWakesOnANewChat},
		{"InboxWakesOnSendToAGroupOfTheMember", testInboxWaitWakesOnSendToAGroupOfTheMember},
		{"InboxIgnoresOtherMembersChats", testInboxWaitIgnoresOtherMembersChats},
		{"InboxTimesOutWithTheSameCursor", testInboxWaitTimesOutWithTheSameCursor},
		{"InboxWakesAcrossInstances", testInboxWaitWakesAcrossInstances},
		{"InboxShowsAGroupJoinedElsewhereByTheNextCall", testInboxWaitShowsAGroupJoinedElsewhereByTheNextCall},
		{"InboxStopAnswersAtOnce", testInboxWaitStopAnswersAtOnce},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newDB(t), newNotifier)
		})
	}
}

// openWaiting opens a store instance with a notifier over it, both
// stopped and closed at the end of the test, and a service over them.
func openWaiting(tb testing.TB, opener Opener, newNotifier NewNotifier) (*pigeonhole.Service, Notifier) {
	tb.Helper()
	store := opener(tb, nil)
	n := newNotifier(store)
	tb.Cleanup(func() {
		n.Stop()
		if err := store.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return pigeonhole.NewService(store, pigeonhole.Config{Notifier: n}), n
}

// pullAsync runs a pull in the background; its outcome arrives on the
// channel.
func pullAsync(t *testing.T, svc *pigeonhole.Service, req pigeonhole.PullRequest) <-chan pigeonhole.Page {
	t.Helper()
	out := make(chan pigeonhole.Page, 1)
	c := ctx(t)
	go func() {
		p, err := svc.Pull(c, req)
		if err != nil {
			t.Errorf("pull %+v: %v", req, err)
		}
		out <- p
	}()
	return out
}

// untilWaiting returns once n has waiters on chats chats (or members).
func untilWaiting(t *testing.T, n Notifier, chats int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for n.Waiting() < chats {
		if time.Now().After(deadline) {
			t.Fatalf("waiting on %d chats, want %d", n.Waiting(), chats)
		}
		time.Sleep(time.Millisecond)
	}
}

func testWaitWakesOnSendToTheChat(t *testing.T, opener Opener, newNotifier NewNotifier) {
	svc, n := openWaiting(t, opener, newNotifier)
	first := send(t, svc, "a1:a2", "a1", "before")
	cursor := first.SendTime + 1
	got := pullAsync(t, svc, pigeonhole.PullRequest{Chat: "a2:a1", Cursor: cursor, Wait: longWait})
	untilWaiting(t, n, 1)
	m := send(t, svc, "a1:a2", "a2", "awaited")
	p := <-got
	if len(p.Messages) != 1 || p.Messages[0].Text != "awaited" {
		t.Fatalf("woken page: got %q, want [awaited]", texts(p.Messages))
	}
	if got, want := p.NextCursor, m.SendTime+1; got != want {
		t.Fatalf("next_cursor: got %d, want %d", got, want)
	}
}

func testWaitIgnoresOtherChats(t *testing.T, opener Opener, newNotifier NewNotifier) {
	svc, n := openWaiting(t, opener, newNotifier)
	chat, _ := pigeonhole.ParseChatID("a1:a2")
	woken := make(chan bool, 1)
	c, cancel := context.WithTimeout(ctx(t), shortWait)
	defer cancel()
	go func() { woken <- n.Wait(c, []pigeonhole.Watch{{Chat: chat, From: 0}}) }()
	untilWaiting(t, n, 1)
	if got := n.Waiters(); got != 1 {
		t.Fatalf("%d calls waiting, want 1", got)
	}
	send(t, svc, "a1:a3", "a1", "elsewhere")
	if <-woken {
		t.Fatalf("a send to another chat woke the waiter")
	}
	if got := n.Waiters(); got != 0 {
		t.Fatalf("%d calls waiting after the wait ended, want 0", got)
	}
}

func testWaitTimesOutWithTheSameCursor(t *testing.T, opener Opener, newNotifier NewNotifier) {
	svc, _ := openWaiting(t, opener, newNotifier)
	m := send(t, svc, "a1:a2", "a1", "seen")
	cursor := m.SendTime + 1
	start := time.Now()
	p := pull(t, svc, pigeonhole.PullRequest{Chat: "a1:a2", Cursor: cursor, Wait: shortWait})
	if len(p.Messages) != 0 || p.HasMore || p.NextCursor != cursor {
		t.Fatalf("timed-out page: got %d messages, has_more %v, next_cursor %d; want none, false, %d",
			len(p.Messages), p.HasMore, p.NextCursor, cursor)
	}
	if waited := time.Since(start); waited < shortWait {
		t.Fatalf("answered after %v, before the wait of %v was up", waited, shortWait)
	}
	// A page that is not empty answers at once, whatever the wait.
	p = pull(t, svc, pigeonhole.PullRequest{Chat: "a1:a2", Cursor: 0, Wait: longWait})
	if got := texts(p.Messages); len(got) != 1 || got[0] != "seen" {
		t.Fatalf("page from 0: got %q, want [seen]", got)
	}
}

func testWaitWakesAcrossInstances(t *testing.T, opener Opener, newNotifier NewNotifier) {
	waiting, n := openWaiting(t, opener, newNotifier)
	other := open(t, opener, nil) // another replica, on the same database
	got := pullAsync(t, waiting, pigeonhole.PullRequest{Chat: "a1:a2", Wait: longWait})
	untilWaiting(t, n, 1)
	send(t, other, "a1:a2", "a1", "from elsewhere")
	p := <-got
	if got := texts(p.Messages); len(got) != 1 || got[0] != "from elsewhere" {
		t.Fatalf("woken page: got %q, want [from elsewhere]", got)
	}
}

func testStopAnswersWaitersAtOnce(t *testing.T, opener Opener, newNotifier NewNotifier) {
	svc, n := openWaiting(t, opener, newNotifier)
	got := pullAsync(t, svc, pigeonhole.PullRequest{Chat: "a1:a2", Cursor: 42, Wait: longWait})
	untilWaiting(t, n, 1)
	n.Stop()
	p := <-got
	if len(p.Messages) != 0 || p.NextCursor != 42 {
		t.Fatalf("page of a stopped wait: got %d messages, next_cursor %d; want none, 42", len(p.Messages), p.NextCursor)
	}
	// Later waits answer at once too.
	p = pull(t, svc, pigeonhole.PullRequest{Chat: "a1:a2", Cursor: 42, Wait: longWait})
	if len(p.Messages) != 0 || p.NextCursor != 42 {
		t.Fatalf("page after stop: got %d messages, next_cursor %d; want none, 42", len(p.Messages), p.NextCursor)
	}
}

func testHeads(t *testing.T, opener Opener) {
	store := opener(t, nil)
	t.Cleanup(func() { store.Close() })
	svc := pigeonhole.NewService(store, pigeonhole.Config{})
	old := send(t, svc, "a1:a2", "a1", "old")
	send(t, svc, "a1:a3", "a1", "x")
	last := send(t, svc, "a1:a3", "a3", "y")
	heads, err := store.Heads(ctx(t), old.SendTime+1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(heads) != 1 || heads[0].Chat.String() != "a1:a3" || heads[0].LastSendTime != last.SendTime {
		t.Fatalf("heads since after the old chat: got %+v, want [a1:a3 at %d]", heads, last.SendTime)
	}
	if heads, err = store.Heads(ctx(t), 0, 1); err != nil || len(heads) != 1 || heads[0].Chat.String() != "a1:a3" {
		t.Fatalf("newest head: got %+v, %v; want [a1:a3]", heads, err)
	}
	if heads, err = store.Heads(ctx(t), 0, 10); err != nil || len(heads) != 2 {
		t.Fatalf("all heads: got %+v, %v; want two chats", heads, err)
	}
}
