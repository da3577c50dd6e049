package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// testHead checks Store.Head: 0 for a chat without messages (unknown, or a
// group nobody wrote to), and the newest send time once there are
// messages, on the instance that stored them and on another.
func testHead(t *testing.T, opener Opener) {
	a, b := opener(t, nil), opener(t, nil)
	t.Cleanup(func() { a.Close(); b.Close() })
	svc := pigeonhole.NewService(a, pigeonhole.Config{})
	head := func(store pigeonhole.Store, chat string) int64 {
		t.Helper()
		id, err := pigeonhole.ParseChatID(chat)
		if err != nil {
			t.Fatal(err)
		}
		h, err := store.Head(ctx(t), id)
		if err != nil {
			t.Fatalf("head of %s: %v", chat, err)
		}
		return h
	}
	if got := head(b, "h1:h2"); got != 0 {
		t.Fatalf("head of an unknown chat: got %d, want 0", got)
	}
	group := createGroup(t, svc, "h1", "a group", "h2")
	if got := head(b, group.Chat.String()); got != 0 {
		t.Fatalf("head of a group without messages: got %d, want 0", got)
	}
	for i := range 3 {
		m := send(t, svc, "h2:h1", "h1", fmt.Sprint(i))
		for name, store := range map[string]pigeonhole.Store{"the same instance": a, "another instance": b} {
			if got := head(store, "h1:h2"); got != m.SendTime {
				t.Fatalf("head on %s after send %d: got %d, want %d", name, i, got, m.SendTime)
			}
		}
	}
}

// testTailOnAnotherInstance sends to a few chats through one store
// instance while another serves their followers' tail polls (most of
// them empty) and newest pages, as two replicas on one database do.
// Every follower must see every message of its chat exactly once and in
// order, and after each acknowledged send, the other instance's newest
// page and a tail poll from the message must hold it: a replica never
// answers "nothing new" or an old newest page from what it read before.
func testTailOnAnotherInstance(t *testing.T, opener Opener) {
	const chats, writersPerChat, perWriter = 3, 3, 30
	writer, reader := open(t, opener, nil), open(t, opener, nil)
	c := ctx(t)
	chat := func(i int) string { return fmt.Sprintf("t%d:t%d", i, i+1) }
	var wg sync.WaitGroup
	errs := make(chan error, chats*(writersPerChat+1))
	for i := range chats {
		// The reader has the chat's start in memory (when it caches) before
		// the sends begin, so its tail polls start past what it read.
		pull(t, reader, pigeonhole.PullRequest{Chat: chat(i), Limit: 10})
		for w := range writersPerChat {
			wg.Go(func() {
				sender := fmt.Sprintf("t%d", i+w%2)
				prev := int64(0)
				for n := range perWriter {
					m, err := writer.Send(c, pigeonhole.SendRequest{Chat: chat(i), Sender: sender, Text: fmt.Sprintf("w%d-%03d", w, n)})
					if err != nil {
						errs <- fmt.Errorf("chat %d writer %d send %d: %w", i, w, n, err)
						return
					}
					if err := visibleOn(c, reader, m, prev); err != nil {
						errs <- fmt.Errorf("chat %d writer %d send %d: %w", i, w, n, err)
						return
					}
					prev = m.SendTime
				}
			})
		}
	}
	seen := make([][]pigeonhole.Message, chats)
	var followers sync.WaitGroup
	for i := range chats {
		followers.Go(func() {
			var err error
			if seen[i], err = follow(c, reader, chat(i), 4, writersPerChat*perWriter); err != nil {
				errs <- fmt.Errorf("follower of chat %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	followers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range chats {
		final := pullAll(t, writer, chat(i), 0, 100, false)
		if got, want := len(final), writersPerChat*perWriter; got != want {
			t.Fatalf("chat %d: stored %d messages, want %d", i, got, want)
		}
		if !slices.EqualFunc(seen[i], final, func(a, b pigeonhole.Message) bool { return a.SendTime == b.SendTime && a.Text == b.Text }) {
			t.Fatalf("chat %d: the follower saw %v, want %v", i, texts(seen[i]), texts(final))
		}
	}
}

// visibleOn checks that svc, another instance than the one that stored m,
// shows m at once: a page from prev (the writer's message before m, which
// svc has read: it lies inside what svc has in memory when it caches) to
// past m holds m, its newest page reaches m's send time (and holds m when
// it reaches back past it), and a tail poll from m starts with it.
func visibleOn(c context.Context, svc *pigeonhole.Service, m pigeonhole.Message, prev int64) error {
	page, err := svc.Pull(c, pigeonhole.PullRequest{Chat: m.Chat.String(), Cursor: prev, Limit: pigeonhole.DefaultMaxPull})
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(page.Messages, func(x pigeonhole.Message) bool { return x.SendTime == m.SendTime }) {
		return fmt.Errorf("the other instance's page from %d is %v, which skips %q@%d", prev, texts(page.Messages), m.Text, m.SendTime)
	}
	newest, err := svc.Pull(c, pigeonhole.PullRequest{Chat: m.Chat.String(), Reverse: true, Limit: 5})
	if err != nil {
		return err
	}
	switch msgs := newest.Messages; {
	case len(msgs) == 0 || msgs[0].SendTime < m.SendTime:
		return fmt.Errorf("the other instance's newest page %v misses %q@%d", texts(msgs), m.Text, m.SendTime)
	case msgs[len(msgs)-1].SendTime <= m.SendTime && !slices.ContainsFunc(msgs, func(x pigeonhole.Message) bool { return x.SendTime == m.SendTime }):
		return fmt.Errorf("the other instance's newest page %v skips %q@%d", texts(msgs), m.Text, m.SendTime)
	}
	tail, err := svc.Pull(c, pigeonhole.PullRequest{Chat: m.Chat.String(), Cursor: m.SendTime, Limit: 5})
	if err != nil {
		return err
	}
	if len(tail.Messages) == 0 || tail.Messages[0].SendTime != m.SendTime || tail.Messages[0].Text != m.Text {
		return fmt.Errorf("the other instance's tail from %d is %v, want it to start with %q", m.SendTime, texts(tail.Messages), m.Text)
	}
	return nil
}

// testReadsOfAGoneCallerAreRefused reads through a store for a caller
// whose context has ended: a chat's head, a page and the newest chats must
// each fail with deadline_exceeded rather than run (a store may run its
// short reads without the caller's cancellation, but not start them for a
// caller already gone).
func testReadsOfAGoneCallerAreRefused(t *testing.T, opener Opener) {
	store := opener(t, nil)
	t.Cleanup(func() { store.Close() })
	svc := pigeonhole.NewService(store, pigeonhole.Config{})
	m := send(t, svc, "g1:g2", "g1", "hello")
	gone, cancel := context.WithCancel(ctx(t))
	cancel()
	reads := map[string]func() error{
		"Head": func() error { _, err := store.Head(gone, m.Chat); return err },
		"Range": func() error {
			_, err := store.Range(gone, pigeonhole.Range{Chat: m.Chat, From: 0, Limit: 10})
			return err
		},
		"Heads": func() error { _, err := store.Heads(gone, 0, 10); return err },
	}
	for name, read := range reads {
		if err := read(); pigeonhole.ErrorCode(err) != pigeonhole.CodeDeadlineExceeded {
			t.Errorf("%s for a caller gone: got %v, want deadline_exceeded", name, err)
		}
	}
}
