package rpcclient

import (
	"context"
	"sync"
)

// batcher coalesces concurrent calls into batch RPCs. A call joins a queue;
// while fewer than lanes batch RPCs are in flight, a new lane starts and
// sends everything queued (up to max items) as one RPC, and goes on with
// what queued meanwhile until the queue is empty. An idle gateway thus
// sends each call at once, alone, and a busy one sends one RPC for many
// calls: one encoding, one write and one read on each side instead of many.
// A call that finds no lane busy and nothing queued is sent by its caller
// (see alone).
//
// No goroutine lives longer than the queue is non-empty, so a batcher
// needs no closing.
type batcher[In, Out any] struct {
	lanes, max int
	// cost, when set, is what an item weighs against maxCost: a batch
	// carries no more than maxCost in all, unless it is a lone item.
	cost    func(In) int
	maxCost int
	// call sends one batch RPC on ctx (see batchContext); ids and creds
	// are the items' request ids and credentials (creds nil when no caller
	// has one). It returns one outcome per item, in order.
	call func(ctx context.Context, items []In, ids, creds []string) []outcome[Out]

	mu       sync.Mutex
	queue    []*pending[In, Out]
	inflight int
}

type pending[In, Out any] struct {
	ctx  context.Context
	in   In
	id   string
	cred string
	done chan outcome[Out] // buffered: a lane never blocks on a caller gone
}

type outcome[Out any] struct {
	out Out
	err error
}

// do queues in and waits for its outcome, or for ctx to end.
func (b *batcher[In, Out]) do(ctx context.Context, in In, id, cred string) (Out, error) {
	p := &pending[In, Out]{ctx: ctx, in: in, id: id, cred: cred, done: make(chan outcome[Out], 1)}
	b.mu.Lock()
	start := b.inflight < b.lanes
	if start {
		b.inflight++
	}
	if start && len(b.queue) == 0 {
		b.mu.Unlock()
		return b.alone(p)
	}
	b.queue = append(b.queue, p)
	b.mu.Unlock()
	if start {
		go b.lane()
	}
	select {
	case o := <-p.done:
		return o.out, o.err
	case <-ctx.Done():
		var zero Out
		return zero, transportError(ctx.Err())
	}
}

// alone sends p's call by itself, as the lane it has started, on its
// caller's goroutine: with nothing queued to join it (an idle gateway),
// a lane of its own would cost a goroutine, its stack's growth through
// the RPC client, and two hand-offs. Calls queued meanwhile are left to a
// lane that goes on in a goroutine.
func (b *batcher[In, Out]) alone(p *pending[In, Out]) (Out, error) {
	var o outcome[Out]
	if p.ctx.Err() == nil { // a caller who has given up is not sent
		var creds []string
		if p.cred != "" {
			creds = []string{p.cred}
		}
		ctx, cancel := batchContext([]context.Context{p.ctx})
		o = b.call(ctx, []In{p.in}, []string{p.id}, creds)[0]
		cancel()
	}
	b.mu.Lock()
	more := len(b.queue) > 0
	if !more {
		b.inflight--
	}
	b.mu.Unlock()
	if more {
		go b.lane() // the lane this call counted
	}
	if err := p.ctx.Err(); err != nil {
		var zero Out
		return zero, transportError(err)
	}
	return o.out, o.err
}

// lane sends batches until the queue is empty.
func (b *batcher[In, Out]) lane() {
	batch := make([]*pending[In, Out], 0, b.max)
	for {
		b.mu.Lock()
		n := b.next()
		if n == 0 {
			b.inflight--
			b.mu.Unlock()
			return
		}
		batch = append(batch[:0], b.queue[:n]...)
		clear(b.queue[:n])
		b.queue = b.queue[n:]
		if len(b.queue) == 0 {
			b.queue = nil // let the backing array go
		}
		b.mu.Unlock()

		// Calls whose caller has given up are not sent.
		live := batch[:0]
		// Each batch has slices of its own: an attempt Kitex has given up
		// on (its timeout passed) may still be encoding them after the
		// call returns.
		items := make([]In, 0, len(batch))
		ids := make([]string, 0, len(batch))
		callers := make([]context.Context, 0, len(batch))
		var creds []string // only when some caller has a credential
		for _, p := range batch {
			if p.ctx.Err() == nil {
				live = append(live, p)
				items = append(items, p.in)
				ids = append(ids, p.id)
				callers = append(callers, p.ctx)
				if p.cred != "" && creds == nil {
					creds = make([]string, len(live)-1, len(batch))
				}
				if creds != nil {
					creds = append(creds, p.cred)
				}
			}
		}
		if len(live) == 0 {
			continue
		}
		ctx, cancel := batchContext(callers)
		for i, o := range b.call(ctx, items, ids, creds) {
			live[i].done <- o
		}
		cancel()
		clear(batch) // drop the references until the next batch
	}
}

// next is how many of the queued calls the next batch carries: up to max,
// and as many as fit in maxCost, one at least. b.mu is held.
func (b *batcher[In, Out]) next() int {
	n := min(len(b.queue), b.max)
	if b.cost == nil {
		return n
	}
	total := 0
	for i, p := range b.queue[:n] {
		if total += b.cost(p.in); i > 0 && total > b.maxCost {
			return i
		}
	}
	return n
}
