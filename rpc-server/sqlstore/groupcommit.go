package sqlstore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// groupCommit coalesces concurrent appends into transactions. While a
// transaction runs, new appends queue; the next transaction takes all of
// them (up to MaxBatch), so under load each commit (and its fsync) is
// shared by many messages, and at low load an append waits for no one.
//
// One transaction runs at a time, which makes the batches as big as the
// load allows, unless the newest running one has been running for
// StallAfter: then another starts (up to Lanes at once) with the queued
// appends whose chats are in no running transaction. So a transaction
// held up (say by a chat whose row another replica holds locked) delays
// appends to unrelated chats by StallAfter rather than until it ends, as
// long as fewer than Lanes are held up. A chat is never in two running
// transactions: appends to one chat commit in the order they were queued
// and never contend inside a process.
type groupCommit struct {
	queue         chan *appendRequest // holds at most queueDepth: see waiting
	maxBatch      int
	maxBatchBytes int
	queueDepth    int // the most appends waiting
	// waiting counts the appends queued or pending that no transaction
	// has taken (nor dropped): append counts one in, take counts them out.
	waiting    atomic.Int64
	lanes      int
	stallAfter time.Duration
	run        func([]pigeonhole.Message) []appendResult
	quit       chan struct{}
	stopped    chan struct{} // closed when the dispatcher has returned
	once       sync.Once
}

type appendRequest struct {
	ctx  context.Context
	msg  pigeonhole.Message
	chat string
	done chan appendResult // buffered: a transaction never blocks on a reply
}

type appendResult struct {
	msg pigeonhole.Message
	err error
}

var errClosed = pigeonhole.Errorf(pigeonhole.CodeUnavailable, "the message store is shutting down")

func newGroupCommit(opts Options, run func([]pigeonhole.Message) []appendResult) *groupCommit {
	g := &groupCommit{
		queue:         make(chan *appendRequest, opts.QueueDepth),
		maxBatch:      opts.MaxBatch,
		maxBatchBytes: opts.MaxBatchBytes,
		queueDepth:    opts.QueueDepth,
		lanes:         opts.Lanes,
		stallAfter:    opts.StallAfter,
		run:           run,
		quit:          make(chan struct{}),
		stopped:       make(chan struct{}),
	}
	go g.dispatch()
	return g
}

// append queues m and waits for its commit. An append whose ctx ends while
// queued is dropped before its transaction starts; one whose ctx ends
// during the transaction may still commit (a retry with the same
// client_msg_id then returns it). Once queued, an append is told it failed
// because the store closed only if no transaction took it.
func (g *groupCommit) append(ctx context.Context, m pigeonhole.Message) (pigeonhole.Message, error) {
	req := &appendRequest{ctx: ctx, msg: m, chat: m.Chat.String(), done: make(chan appendResult, 1)}
	select {
	case <-g.quit:
		return pigeonhole.Message{}, errClosed
	default:
	}
	if g.waiting.Add(1) > int64(g.queueDepth) {
		g.waiting.Add(-1)
		return pigeonhole.Message{}, pigeonhole.Errorf(pigeonhole.CodeUnavailable, "the message service is overloaded; retry shortly")
	}
	g.queue <- req // never blocks: it holds no more than are waiting
	select {
	case r := <-req.done:
		return r.msg, r.err
	case <-ctx.Done():
		return pigeonhole.Message{}, pigeonhole.Wrap(pigeonhole.CodeDeadlineExceeded, ctx.Err(), "the request timed out")
	case <-g.stopped:
		// Every transaction had answered its appends before the
		// dispatcher stopped; one that did not answer req never took it.
		select {
		case r := <-req.done:
			return r.msg, r.err
		default:
			return pigeonhole.Message{}, errClosed
		}
	}
}

// running is a transaction in flight.
type running struct {
	started time.Time
	batch   []*appendRequest
	chats   []string // the distinct chats of batch
}

// dispatch owns the queue's order, the appends waiting for a transaction
// and the running transactions; it hands each transaction to a worker. It
// reads the queue only when it could start a transaction with what it
// finds there: not while a transaction runs that is not yet stalled, so
// that under load appends pile up without waking it, as they used to for
// a lane busy with its own transaction.
func (g *groupCommit) dispatch() {
	defer close(g.stopped)
	work := make(chan *running)
	finished := make(chan *running, g.lanes)
	var workers sync.WaitGroup
	for range g.lanes {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for tx := range work {
				g.commit(tx)
				finished <- tx
			}
		}()
	}
	defer workers.Wait()
	defer close(work)

	var pending []*appendRequest // in the order queued
	busy := map[string]bool{}    // the chats of the running transactions
	inFlight := map[*running]bool{}
	stall := time.NewTimer(time.Hour)
	stall.Stop()
	for {
		for g.mayStart(pending, inFlight) {
			tx := &running{started: time.Now()}
			tx.batch, pending = g.take(pending, busy)
			if len(tx.batch) == 0 {
				break
			}
			for _, req := range tx.batch {
				if !busy[req.chat] {
					busy[req.chat] = true
					tx.chats = append(tx.chats, req.chat)
				}
			}
			inFlight[tx] = true
			work <- tx
		}
		// Wake up when the newest transaction stalls; read the queue when
		// what is there could start one.
		stall.Stop()
		stalled := false
		if n := len(inFlight); n > 0 && n < g.lanes {
			if wait := g.untilStall(inFlight); wait > 0 {
				stall.Reset(wait)
			} else {
				stalled = true
			}
		}
		var queue chan *appendRequest
		if len(inFlight) == 0 || stalled {
			queue = g.queue
		}
		select {
		case req := <-queue:
			pending = g.drainQueue(append(pending, req))
		case tx := <-finished:
			delete(inFlight, tx)
			for _, c := range tx.chats {
				delete(busy, c)
			}
			pending = g.drainQueue(pending)
		case <-stall.C:
			pending = g.drainQueue(pending)
		case <-g.quit:
			for len(inFlight) > 0 {
				delete(inFlight, <-finished)
			}
			for _, req := range pending {
				req.done <- appendResult{err: errClosed}
			}
			return
		}
	}
}

// mayStart reports whether a transaction may start now: when none runs,
// or when fewer than lanes run and the newest has run for stallAfter.
func (g *groupCommit) mayStart(pending []*appendRequest, inFlight map[*running]bool) bool {
	if len(pending) == 0 {
		return false
	}
	if len(inFlight) == 0 {
		return true
	}
	return len(inFlight) < g.lanes && g.untilStall(inFlight) <= 0
}

// take splits pending into the next batch and the rest: the live appends
// whose chats no running transaction holds, in queue order, up to
// maxBatch appends and maxBatchBytes of text (at least one append).
// Appends whose ctx has ended are dropped. Neither waits any more.
func (g *groupCommit) take(pending []*appendRequest, busy map[string]bool) (batch, rest []*appendRequest) {
	dropped := 0
	defer func() { g.waiting.Add(-int64(len(batch) + dropped)) }()
	rest = pending[:0]
	bytes := 0
	for i, req := range pending {
		switch {
		case req.ctx.Err() != nil:
			dropped++
		case len(batch) == g.maxBatch || len(batch) > 0 && bytes+len(req.msg.Text) > g.maxBatchBytes:
			rest = append(rest, pending[i:]...)
			return batch, rest
		case busy[req.chat]:
			rest = append(rest, req)
		default:
			batch = append(batch, req)
			bytes += len(req.msg.Text)
		}
	}
	return batch, rest
}

// drainQueue appends to pending what is queued, without waiting (no more
// than queueDepth are).
func (g *groupCommit) drainQueue(pending []*appendRequest) []*appendRequest {
	for {
		select {
		case req := <-g.queue:
			pending = append(pending, req)
		default:
			return pending
		}
	}
}

// commit runs one transaction and answers its appends.
func (g *groupCommit) commit(tx *running) {
	msgs := make([]pigeonhole.Message, len(tx.batch))
	for i, req := range tx.batch {
		msgs[i] = req.msg
	}
	results := g.run(msgs)
	for i, req := range tx.batch {
		req.done <- results[i]
	}
}

// untilStall is how long until the newest running transaction counts as
// stalled (not positive: it does).
func (g *groupCommit) untilStall(inFlight map[*running]bool) time.Duration {
	var newest time.Time
	for tx := range inFlight {
		if tx.started.After(newest) {
			newest = tx.started
		}
	}
	return time.Until(newest.Add(g.stallAfter))
}

// close stops the dispatcher after the running transactions have answered
// their appends, and fails the appends that no transaction took.
func (g *groupCommit) close() {
	g.once.Do(func() { close(g.quit) })
	<-g.stopped
}
