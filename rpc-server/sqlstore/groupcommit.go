package sqlstore

import (
	"context"
	"hash/maphash"
	"sync"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// groupCommit coalesces concurrent appends into one transaction per lane.
// While a lane's transaction runs, new appends queue; the next transaction
// takes all of them (up to MaxBatch), so under load each commit (and its
// fsync) is shared by many messages, and at low load an append waits for no
// one. A chat always maps to the same lane, so appends to one chat never
// contend inside a process, and unrelated chats proceed in parallel lanes.
type groupCommit struct {
	lanes    []chan *appendRequest
	seed     maphash.Seed
	maxBatch int
	run      func([]pigeonhole.Message) []appendResult
	quit     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
}

type appendRequest struct {
	ctx  context.Context
	msg  pigeonhole.Message
	done chan appendResult // buffered: the lane never blocks on a reply
}

type appendResult struct {
	msg pigeonhole.Message
	err error
}

var errClosed = pigeonhole.Errorf(pigeonhole.CodeUnavailable, "the message store is shutting down")

func newGroupCommit(opts Options, run func([]pigeonhole.Message) []appendResult) *groupCommit {
	g := &groupCommit{
		lanes:    make([]chan *appendRequest, opts.Lanes),
		seed:     maphash.MakeSeed(),
		maxBatch: opts.MaxBatch,
		run:      run,
		quit:     make(chan struct{}),
	}
	for i := range g.lanes {
		g.lanes[i] = make(chan *appendRequest, opts.QueueDepth)
		g.wg.Add(1)
		go g.serve(g.lanes[i])
	}
	return g
}

// append queues m on its chat's lane and waits for its commit. An append
// whose ctx ends while queued is dropped before its transaction starts; one
// whose ctx ends during the transaction may still commit (a retry with the
// same client_msg_id then returns it).
func (g *groupCommit) append(ctx context.Context, m pigeonhole.Message) (pigeonhole.Message, error) {
	req := &appendRequest{ctx: ctx, msg: m, done: make(chan appendResult, 1)}
	lane := g.lanes[maphash.String(g.seed, m.Chat.String())%uint64(len(g.lanes))]
	select {
	case <-g.quit:
		return pigeonhole.Message{}, errClosed
	default:
	}
	select {
	case lane <- req:
	default:
		return pigeonhole.Message{}, pigeonhole.Errorf(pigeonhole.CodeUnavailable, "the message service is overloaded; retry shortly")
	}
	select {
	case r := <-req.done:
		return r.msg, r.err
	case <-ctx.Done():
		return pigeonhole.Message{}, pigeonhole.Wrap(pigeonhole.CodeDeadlineExceeded, ctx.Err(), "the request timed out")
	case <-g.quit:
		return pigeonhole.Message{}, errClosed
	}
}

func (g *groupCommit) serve(lane chan *appendRequest) {
	defer g.wg.Done()
	batch := make([]*appendRequest, 0, g.maxBatch)
	msgs := make([]pigeonhole.Message, 0, g.maxBatch)
	for {
		select {
		case <-g.quit:
			g.drain(lane)
			return
		case req := <-lane:
			batch = append(batch[:0], req)
		}
	fill:
		for len(batch) < g.maxBatch {
			select {
			case req := <-lane:
				batch = append(batch, req)
			default:
				break fill
			}
		}
		msgs = msgs[:0]
		live := batch[:0]
		for _, req := range batch {
			if req.ctx.Err() == nil {
				live = append(live, req)
				msgs = append(msgs, req.msg)
			}
		}
		if len(live) == 0 {
			continue
		}
		results := g.run(msgs)
		for i, req := range live {
			req.done <- results[i]
		}
	}
}

func (g *groupCommit) drain(lane chan *appendRequest) {
	for {
		select {
		case req := <-lane:
			req.done <- appendResult{err: errClosed}
		default:
			return
		}
	}
}

// close stops every lane after its current transaction.
func (g *groupCommit) close() {
	g.once.Do(func() { close(g.quit) })
	g.wg.Wait()
}
