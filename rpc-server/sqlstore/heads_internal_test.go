package sqlstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestHeadReadsAreSharedButNeverStale holds a read of heads while more
// callers ask: they must share the next read, one statement for all of
// them, and never be answered by the read that was running when they asked
// (it may have begun before an append they must see).
func TestHeadReadsAreSharedButNeverStale(t *testing.T) {
	release := make(chan struct{})
	started := make(chan []string, 10)
	reads := 0
	h := &headReader{read: func(_ context.Context, chats []string) (map[string]int64, error) {
		reads++ // one read at a time: no lock needed
		started <- chats
		<-release
		heads := map[string]int64{}
		for _, c := range chats {
			heads[c] = int64(reads)
		}
		return heads, nil
	}}
	ctx := t.Context()
	type answer struct {
		chat string
		head int64
		err  error
	}
	answers := make(chan answer, 10)
	ask := func(chat string) {
		head, err := h.head(ctx, chat)
		answers <- answer{chat, head, err}
	}
	go ask("a")
	if got := <-started; len(got) != 1 || got[0] != "a" {
		t.Fatalf("first read: got %v, want [a]", got)
	}
	// The first read runs; three more callers ask meanwhile, two for the
	// same chat.
	var asked sync.WaitGroup
	for _, chat := range []string{"a", "b", "b"} {
		asked.Go(func() { ask(chat) })
	}
	waitHeadQueue(t, h, 3)
	release <- struct{}{} // the first read answers "a" only
	if a := <-answers; a.chat != "a" || a.head != 1 || a.err != nil {
		t.Fatalf("the first caller: got %+v, want a from read 1", a)
	}
	if got := <-started; fmt.Sprint(got) != "[a b]" {
		t.Fatalf("second read: got %v, want [a b] (one statement for the three callers)", got)
	}
	release <- struct{}{}
	asked.Wait()
	for range 3 {
		if a := <-answers; a.head != 2 || a.err != nil {
			t.Fatalf("a caller that asked during read 1: got %+v, want read 2's answer", a)
		}
	}
	if reads != 2 {
		t.Fatalf("%d reads, want 2", reads)
	}
}

// TestHeadCallerLeavesWhenItsContextEnds: a caller whose context ends while
// the read it waits for is held up returns deadline_exceeded at once.
func TestHeadCallerLeavesWhenItsContextEnds(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	h := &headReader{read: func(context.Context, []string) (map[string]int64, error) {
		<-release
		return nil, nil
	}}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.head(ctx, "a"); err == nil {
		t.Fatal("head returned without an error while its read was held up")
	}
}

// waitHeadQueue waits until n callers are queued for the next read.
func waitHeadQueue(t *testing.T, h *headReader, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		h.mu.Lock()
		queued := len(h.queue)
		h.mu.Unlock()
		if queued == n {
			return
		}
	}
	t.Fatalf("callers did not queue")
}
