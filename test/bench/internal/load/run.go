package load

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// Run runs the scenario opts describe against opts.Target and returns what
// it measured. Progress lines go to progress once a second (nil for none).
// It returns an error when the run could not be made (bad options, a
// prefill that failed); failed requests during the measurement are figures
// of the Result, not errors. A follow run whose deliveries broke the
// contract returns its Result with Follow.OK false.
func Run(ctx context.Context, opts Options, progress io.Writer) (*Result, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Seed == 0 {
		opts.Seed = rand.Uint64() | 1
	}
	if opts.Scenario == ScenarioLatency {
		opts.Concurrency = 1 // latency without queueing: one request at a time
	}
	conns := opts.Concurrency
	if opts.Scenario == ScenarioFollow {
		conns = opts.Senders + opts.Followers
	}
	client := NewClient(opts.Target, conns, opts.Timeout)
	defer client.Close()
	creds, err := newCredentials(opts)
	if err != nil {
		return nil, err
	}
	client.creds = creds
	r := &runner{opts: opts, client: client, progress: progress}
	r.tag = newRunTag(r.rng(0))
	switch opts.Scenario {
	case ScenarioSend:
		return r.send(ctx)
	case ScenarioPull:
		return r.pull(ctx)
	case ScenarioMixed:
		return r.mixed(ctx)
	case ScenarioFollow:
		return r.follow(ctx)
	case ScenarioReference:
		return r.reference(ctx)
	case ScenarioPing:
		return r.ping(ctx)
	case ScenarioInbox:
		return r.inbox(ctx)
	case ScenarioPullNewest:
		return r.pullNewest(ctx)
	case ScenarioPollTail:
		return r.pollTail(ctx)
	case ScenarioLatency:
		return r.latency(ctx)
	}
	return nil, fmt.Errorf("unknown scenario %q", opts.Scenario)
}

// runner is one run: its options, client and progress output.
type runner struct {
	opts     Options
	client   *Client
	progress io.Writer
	tag      string // names the run's chats
}

// rng returns the random source of worker w: each worker has its own, so
// that random choices need no lock and a seed repeats a run's choices.
func (r *runner) rng(w int) *rand.Rand {
	return rand.New(rand.NewPCG(r.opts.Seed, uint64(w)+1))
}

// rngs returns one random source per worker.
func (r *runner) rngs(workers int) []*rand.Rand {
	out := make([]*rand.Rand, workers)
	for w := range out {
		out[w] = r.rng(w + 1)
	}
	return out
}

// measure runs do on the options' schedule with workers workers, printing
// progress, and summarises the ops in ops.
func (r *runner) measure(ctx context.Context, workers int, do Work, ops ...Op) *Result {
	start := time.Now()
	rec := NewRecorder(start, r.opts.Warmup, r.opts.window())
	prog := startProgress(rec, r.progress, nil)
	Schedule{
		Workers:  workers,
		Start:    start,
		Warmup:   r.opts.Warmup,
		Duration: r.opts.Duration,
		Requests: r.opts.Requests,
		Rate:     r.opts.Rate,
	}.Run(ctx, rec, do)
	return newResult(r.opts, rec, prog.Stop(), ops...)
}

// send measures POST /api/send, spread round-robin over the chats. It uses
// only the original API: any 200 is a success and the answer is not read.
func (r *runner) send(ctx context.Context) (*Result, error) {
	chats := newChatSet(r.client, r.tag, r.opts.Chats, r.opts.TextBytes, r.opts.Limit)
	do := func(ctx context.Context, _ int, seq int64) Outcome {
		k := int(seq % int64(chats.len()))
		return Outcome{Op: OpSend, Err: r.client.Send(ctx, chats.members[k][0], chats.sendBodies[k], nil)}
	}
	return r.measure(ctx, r.opts.Concurrency, do, OpSend), nil
}

// ping measures GET /ping: the gateway alone, the ceiling that send and
// pull throughputs are compared with.
func (r *runner) ping(ctx context.Context) (*Result, error) {
	do := func(ctx context.Context, _ int, _ int64) Outcome {
		return Outcome{Op: OpPing, Err: r.client.Ping(ctx)}
	}
	return r.measure(ctx, r.opts.Concurrency, do, OpPing), nil
}

// pull measures GET /api/pull of pages of Limit messages after Prefill
// messages were sent to each chat. Each pull reads forward from a uniformly
// random prefilled message of a uniformly random chat, as a reader catching
// up somewhere in a history does, so nearly every page is full (only pages
// starting within Limit of a chat's end are shorter). With no prefill every
// pull reads from cursor 0 and finds nothing.
func (r *runner) pull(ctx context.Context) (*Result, error) {
	chats := newChatSet(r.client, r.tag, r.opts.Chats, r.opts.TextBytes, r.opts.Limit)
	pre, err := r.prefill(ctx, chats)
	if err != nil {
		return nil, err
	}
	rngs := r.rngs(r.opts.Concurrency)
	do := func(ctx context.Context, w int, _ int64) Outcome {
		return r.pullRandom(ctx, chats, rngs[w])
	}
	res := r.measure(ctx, r.opts.Concurrency, do, OpPull)
	res.Prefill = pre
	return res, nil
}

// mixed measures sends and pulls interleaved in the ratio Sends:Pulls:
// of every Sends+Pulls consecutive requests the first Sends are sends (to
// a random chat) and the rest pulls (as in the pull scenario).
func (r *runner) mixed(ctx context.Context) (*Result, error) {
	chats := newChatSet(r.client, r.tag, r.opts.Chats, r.opts.TextBytes, r.opts.Limit)
	pre, err := r.prefill(ctx, chats)
	if err != nil {
		return nil, err
	}
	rngs := r.rngs(r.opts.Concurrency)
	cycle := int64(r.opts.Sends + r.opts.Pulls)
	do := func(ctx context.Context, w int, seq int64) Outcome {
		if seq%cycle < int64(r.opts.Sends) {
			k := rngs[w].IntN(chats.len())
			return Outcome{Op: OpSend, Err: r.client.Send(ctx, chats.members[k][0], chats.sendBodies[k], nil)}
		}
		return r.pullRandom(ctx, chats, rngs[w])
	}
	res := r.measure(ctx, r.opts.Concurrency, do, OpSend, OpPull)
	res.Prefill = pre
	return res, nil
}

// pullRandom pulls one page of a random chat from a random prefilled
// message, counting its messages.
func (r *runner) pullRandom(ctx context.Context, chats *chatSet, rng *rand.Rand) Outcome {
	k := rng.IntN(chats.len())
	n, err := r.client.PullSize(ctx, chats.members[k][0], chats.pullURL(k, chats.cursor(k, rng)))
	return Outcome{Op: OpPull, Items: n, Err: err}
}
