package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// byteBudget bounds the bytes of service answers the gateway holds at
// once: a pull's page from the moment it is admitted until its encoded
// answer is handed to Hertz. An answer that does not fit waits at most
// wait for others to finish and is then refused with unavailable (503 and
// Retry-After), so a burst of large pages queues for a bounded time
// rather than without bound. One answer larger than the whole budget
// waits for the budget to be free and then holds all of it.
type byteBudget struct {
	total int64
	wait  time.Duration

	mu    sync.Mutex
	free  int64
	freed chan struct{} // closed, and replaced, whenever bytes come back
}

func newByteBudget(total int64, wait time.Duration) *byteBudget {
	return &byteBudget{total: total, wait: wait, free: total, freed: make(chan struct{})}
}

// errBudgetFull is the answer to a request whose page did not fit.
var errBudgetFull = pigeonhole.Errorf(pigeonhole.CodeUnavailable,
	"the gateway is holding too many large answers; retry shortly")

// acquire takes n bytes (at most the whole budget) and returns the
// function that gives them back. Errors: unavailable when they did not
// come free within the budget's wait or before ctx ended.
func (b *byteBudget) acquire(ctx context.Context, n int64) (release func(), err error) {
	n = min(n, b.total)
	var timer <-chan time.Time
	for {
		b.mu.Lock()
		if b.free >= n {
			b.free -= n
			b.mu.Unlock()
			return func() { b.release(n) }, nil
		}
		freed := b.freed
		b.mu.Unlock()
		if timer == nil {
			t := time.NewTimer(b.wait)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-freed:
		case <-timer:
			return nil, errBudgetFull
		case <-ctx.Done():
			return nil, errBudgetFull
		}
	}
}

func (b *byteBudget) release(n int64) {
	b.mu.Lock()
	b.free += n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

// answerBytes estimates the bytes a page occupies while it is answered:
// its texts and ids as decoded from the RPC, and as much again for the
// encoded body (JSON escaping can grow a text further, but rarely does).
func answerBytes(page pigeonhole.Page) int64 {
	const perMessage = 64 // send time, field names, punctuation
	var n int64
	for _, m := range page.Messages {
		n += int64(len(m.Text)+len(m.Sender)+len(m.ClientMsgID)) + perMessage
	}
	return 2 * n
}
