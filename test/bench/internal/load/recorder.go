package load

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pigeonhole-im/pigeonhole/test/bench/internal/histogram"
)

// Op is a kind of request, measured separately.
type Op int

// The kinds of request.
const (
	OpSend Op = iota
	OpPull
	OpPing
	OpInbox
	numOps
)

var opNames = [numOps]string{"send", "pull", "ping", "inbox"}

func (o Op) String() string { return opNames[o] }

// Recorder collects the outcome of every request of a run. Successful
// requests count in a latency histogram per Op; failures count by Op and
// Kind. Requests whose intended start lies before the end of the warm-up
// count only in the progress counters. Throughput counts, like wrk, the
// requests completed within the measured window, whenever they started. It is safe for concurrent use; to
// keep workers from contending, histograms are sharded by worker.
type Recorder struct {
	start       time.Time
	measureFrom time.Time
	deadline    time.Time // end of the measured window; zero when open-ended
	shards      []recorderShard
	completed   [numOps]atomic.Int64 // within the measured window

	done   atomic.Int64 // finished requests, warm-up included, for progress
	failed atomic.Int64 // of which failed
	items  atomic.Int64 // messages received by measured pulls

	mu       sync.Mutex
	failures map[failureKey]*failureCount
	end      time.Time
}

type recorderShard struct {
	mu    sync.Mutex
	hists [numOps]*histogram.Histogram
	_     [64]byte // keeps neighbouring shards' locks off one cache line
}

type failureKey struct {
	op   Op
	kind string
}

type failureCount struct {
	count  int64
	detail string // of the first failure
}

// NewRecorder returns a Recorder for a run that starts at start and measures
// from start+warmup for window, or until Finish when window is 0.
func NewRecorder(start time.Time, warmup, window time.Duration) *Recorder {
	r := &Recorder{
		start:       start,
		measureFrom: start.Add(warmup),
		shards:      make([]recorderShard, 2*runtime.GOMAXPROCS(0)),
		failures:    make(map[failureKey]*failureCount),
	}
	if window > 0 {
		r.deadline = r.measureFrom.Add(window)
	}
	for i := range r.shards {
		for op := range numOps {
			r.shards[i].hists[op] = histogram.New()
		}
	}
	return r
}

// Outcome is how one request went.
type Outcome struct {
	Op    Op
	Items int   // messages a pull received
	Err   error // nil on success
}

// Record counts one request made by worker, intended to start at intended
// and finished at end. Its latency is end - intended: for an open loop, the time since the request
// should have started, so that a stall delays and counts the requests
// queued behind it instead of hiding them.
func (r *Recorder) Record(worker int, out Outcome, intended, end time.Time) {
	r.done.Add(1)
	if out.Err != nil {
		r.failed.Add(1)
	}
	if !end.Before(r.measureFrom) && (r.deadline.IsZero() || end.Before(r.deadline)) {
		r.completed[out.Op].Add(1)
	}
	if intended.Before(r.measureFrom) {
		return
	}
	if out.Err != nil {
		r.recordFailure(out.Op, out.Err)
		return
	}
	if out.Items > 0 {
		r.items.Add(int64(out.Items))
	}
	s := &r.shards[worker%len(r.shards)]
	s.mu.Lock()
	s.hists[out.Op].Record(int64(end.Sub(intended)))
	s.mu.Unlock()
}

// recordFailure counts a measured failure.
func (r *Recorder) recordFailure(op Op, err error) {
	key := failureKey{op: op, kind: failureKind(err)}
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.failures[key]
	if f == nil {
		f = &failureCount{detail: err.Error()}
		r.failures[key] = f
	}
	f.count++
}

// Finish marks the end of the measured window.
func (r *Recorder) Finish(end time.Time) {
	r.mu.Lock()
	r.end = end
	r.mu.Unlock()
}

// Histogram returns the merged latency histogram of op.
func (r *Recorder) Histogram(op Op) *histogram.Histogram {
	h := histogram.New()
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		h.Merge(s.hists[op])
		s.mu.Unlock()
	}
	return h
}

// Failures returns the measured failures of op by kind.
func (r *Recorder) Failures(op Op) []FailureCount {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []FailureCount
	for key, f := range r.failures {
		if key.op == op {
			out = append(out, FailureCount{Kind: key.kind, Count: f.count, Example: f.detail})
		}
	}
	sortFailures(out)
	return out
}

// window returns the measured window's length: to the deadline, or to
// Finish if that came first (an interrupted run) or there is none.
func (r *Recorder) window() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	end := r.end
	if !r.deadline.IsZero() && r.deadline.Before(end) {
		end = r.deadline
	}
	return end.Sub(r.measureFrom)
}

// throughput returns op's completions in the measured window per second.
func (r *Recorder) throughput(op Op) float64 {
	return perSecond(r.completed[op].Load(), r.window())
}

// counters returns the progress counters.
func (r *Recorder) counters() (done, failed int64) {
	return r.done.Load(), r.failed.Load()
}
