package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

func TestByteBudget(t *testing.T) {
	ctx := context.Background()
	t.Run("ExcessIsRefusedAfterTheWait", func(t *testing.T) {
		b := newByteBudget(100, 20*time.Millisecond)
		release, err := b.acquire(ctx, 60)
		if err != nil {
			t.Fatalf("first acquire: %v", err)
		}
		defer release()
		start := time.Now()
		_, err = b.acquire(ctx, 60)
		if got := pigeonhole.ErrorCode(err); got != pigeonhole.CodeUnavailable {
			t.Fatalf("second acquire: got %v, want unavailable", err)
		}
		if waited := time.Since(start); waited < 20*time.Millisecond {
			t.Fatalf("refused after %v, before the wait", waited)
		}
	})
	t.Run("AWaiterGetsReleasedBytes", func(t *testing.T) {
		b := newByteBudget(100, 10*time.Second)
		release, err := b.acquire(ctx, 60)
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan error, 1)
		go func() {
			r, err := b.acquire(ctx, 60)
			if err == nil {
				r()
			}
			got <- err
		}()
		release()
		if err := <-got; err != nil {
			t.Fatalf("waiter: %v", err)
		}
	})
	t.Run("OversizedTakesTheWholeBudget", func(t *testing.T) {
		b := newByteBudget(100, 10*time.Millisecond)
		release, err := b.acquire(ctx, 1000)
		if err != nil {
			t.Fatalf("oversized acquire on an idle budget: %v", err)
		}
		if _, err := b.acquire(ctx, 1); err == nil {
			t.Fatalf("acquired beside an answer holding the whole budget")
		}
		release()
		if r, err := b.acquire(ctx, 100); err != nil {
			t.Fatalf("after release: %v", err)
		} else {
			r()
		}
	})
	t.Run("EndsWithTheContext", func(t *testing.T) {
		b := newByteBudget(10, time.Hour)
		release, _ := b.acquire(ctx, 10)
		defer release()
		short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		if _, err := b.acquire(short, 1); pigeonhole.ErrorCode(err) != pigeonhole.CodeUnavailable {
			t.Fatalf("got %v, want unavailable when the request ends", err)
		}
	})
}
