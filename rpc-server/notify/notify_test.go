package notify_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/notify"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// source counts the looks and reports head, when set, to each.
type source struct {
	mu    sync.Mutex
	looks int
	head  *pigeonhole.ChatHead
}

func (s *source) Heads(ctx context.Context, since int64, limit int) ([]pigeonhole.ChatHead, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.looks++
	if s.head == nil {
		return nil, nil
	}
	return []pigeonhole.ChatHead{*s.head}, nil
}

func (s *source) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.looks
	s.looks = 0
	return n
}

// TestLooksBackOffWhileNothingIsNew holds a waiter: the notifier looks
// every Interval while the source reports messages, IdleFactor times less
// often while it reports none, and not at all once nobody waits.
func TestLooksBackOffWhileNothingIsNew(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &source{}
		n := notify.New(src, notify.Config{Interval: 5 * time.Millisecond})
		defer n.Stop()
		chat, _ := pigeonhole.ParseChatID("a:b")
		other, _ := pigeonhole.ParseChatID("c:d")
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan bool)
		go func() { done <- n.Wait(ctx, []pigeonhole.Watch{{Chat: chat, From: 1}}) }()

		time.Sleep(time.Second)
		if got, want := src.count(), 1000/(5*notify.IdleFactor); got < want-3 || got > want+3 {
			t.Errorf("nothing new: %d looks in a second, want about %d", got, want)
		}
		src.mu.Lock()
		src.head = &pigeonhole.ChatHead{Chat: other, LastSendTime: 2} // activity, not for the waiter
		src.mu.Unlock()
		time.Sleep(time.Second)
		if got := src.count(); got < 190 || got > 200 {
			t.Errorf("messages in every look: %d looks in a second, want about 200", got)
		}
		cancel()
		if <-done {
			t.Fatal("a message in another chat woke the waiter")
		}
		synctest.Wait()
		src.count() // a look that fired with the test's own wake-up
		time.Sleep(time.Second)
		if got := src.count(); got != 0 {
			t.Errorf("nobody waiting: %d looks in a second, want none", got)
		}
	})
}

// TestMaxWaiters holds MaxWaiters calls waiting: one more is answered at
// once, as a call without a wait, and may wait again once one has left.
func TestMaxWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := notify.New(&source{}, notify.Config{MaxWaiters: 1})
		defer n.Stop()
		chat, _ := pigeonhole.ParseChatID("a:b")
		watch := []pigeonhole.Watch{{Chat: chat, From: 1}}
		ctx, cancel := context.WithCancel(t.Context())
		go n.Wait(ctx, watch)
		synctest.Wait()
		start := time.Now()
		if n.Wait(t.Context(), watch) || time.Since(start) != 0 {
			t.Fatal("a call past MaxWaiters waited")
		}
		cancel()
		synctest.Wait()
		ctx, cancel = context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if n.Wait(ctx, watch); time.Since(start) != time.Second {
			t.Fatalf("once the first call left, the next waited %v, want its second", time.Since(start))
		}
	})
}
