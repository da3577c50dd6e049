package sqlstore

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

func TestSpreaderCoalescesSendsToOneGroup(t *testing.T) {
	chat, _ := pigeonhole.NewGroupID(zeroReader{})
	release := make(chan struct{})
	var mu sync.Mutex
	var updates []int64
	s := newSpreader(func(_ context.Context, c string, activity int64) error {
		if c != chat.String() {
			t.Errorf("update of %q, want %q", c, chat)
		}
		mu.Lock()
		updates = append(updates, activity)
		first := len(updates) == 1
		mu.Unlock()
		if first {
			<-release
		}
		return nil
	})
	var wg sync.WaitGroup
	spread := func(at int64) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.spread(context.Background(), pigeonhole.Message{Chat: chat, SendTime: at})
		}()
	}
	spread(1)
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(updates) == 1 })
	for at := int64(2); at <= 20; at++ {
		spread(at)
	}
	waitFor(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.groups[chat.String()].next != nil && s.groups[chat.String()].next.activity == 20
	})
	close(release)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(updates) != 2 || updates[0] != 1 || updates[1] != 20 {
		t.Fatalf("updates %v, want [1 20]: the 19 sends during the first share the second", updates)
	}
	waitFor(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.groups) == 0 })
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
