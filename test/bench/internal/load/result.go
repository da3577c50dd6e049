package load

import (
	"cmp"
	"slices"
	"time"

	"github.com/pigeonhole-im/pigeonhole/test/bench/internal/histogram"
)

// Result is everything a run measured, in the form --json writes.
// Latencies are in milliseconds, throughputs in requests per second.
type Result struct {
	Options    Options    `json:"options"`
	Summary    string     `json:"summary"` // Options in words
	Started    time.Time  `json:"started"`
	WindowSecs float64    `json:"window_secs"` // the measured window
	Total      OpResult   `json:"total"`       // every op together
	Ops        []OpResult `json:"ops"`         // each op that was made
	Series     []Second   `json:"series"`      // throughput over time, warm-up included
	Prefill    *Prefill   `json:"prefill,omitempty"`
	Follow     *Follow    `json:"follow,omitempty"`
	Reference  *Reference `json:"reference,omitempty"`
}

// OpResult is the figures of one kind of request, or of all of them.
type OpResult struct {
	Op         string         `json:"op"`
	Requests   int64          `json:"requests"` // intended to start in the measured window, failed ones included
	Errors     int64          `json:"errors"`
	Throughput float64        `json:"throughput_rps"`     // completed in the measured window, per second
	Messages   int64          `json:"messages,omitempty"` // received by pulls
	Latency    Latency        `json:"latency_ms"`         // of successful requests
	Failures   []FailureCount `json:"failures,omitempty"`
}

// Latency is a latency distribution's figures in milliseconds, with the
// points of its percentile plot.
type Latency struct {
	Min    float64 `json:"min"`
	Mean   float64 `json:"mean"`
	StdDev float64 `json:"std_dev"`
	P50    float64 `json:"p50"`
	P90    float64 `json:"p90"`
	P99    float64 `json:"p99"`
	P999   float64 `json:"p99_9"`
	Max    float64 `json:"max"`
	// Percentiles are (percentile, ms) pairs evenly spaced on a log scale
	// of 1/(1-q), as HdrHistogram plots them.
	Percentiles [][2]float64 `json:"percentiles"`
}

// FailureCount is how many requests failed in one way.
type FailureCount struct {
	Kind    string `json:"kind"`
	Count   int64  `json:"count"`
	Example string `json:"example"` // the first one's detail
}

// Second is one point of the throughput time series.
type Second struct {
	At       float64 `json:"at_secs"` // end of the interval, since the start of the run
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	RPS      float64 `json:"rps"`
	Warmup   bool    `json:"warmup"`
}

// ms converts nanoseconds to milliseconds.
func ms[T int64 | float64](ns T) float64 { return float64(ns) / 1e6 }

// LatencyOf summarises h, whose values are nanoseconds.
func LatencyOf(h *histogram.Histogram) Latency {
	l := Latency{
		Min:    ms(h.Min()),
		Mean:   ms(h.Mean()),
		StdDev: ms(h.StdDev()),
		P50:    ms(h.ValueAt(0.50)),
		P90:    ms(h.ValueAt(0.90)),
		P99:    ms(h.ValueAt(0.99)),
		P999:   ms(h.ValueAt(0.999)),
		Max:    ms(h.Max()),
	}
	for _, p := range h.Distribution() {
		l.Percentiles = append(l.Percentiles, [2]float64{p.Quantile * 100, ms(p.Value)})
	}
	return l
}

// newResult summarises rec for the ops in ops.
func newResult(opts Options, rec *Recorder, series []Second, ops ...Op) *Result {
	window := rec.window()
	res := &Result{
		Options:    opts,
		Summary:    opts.String(),
		Started:    rec.start,
		WindowSecs: window.Seconds(),
		Series:     series,
	}
	all := histogram.New()
	res.Total.Op = "total"
	for _, op := range ops {
		h := rec.Histogram(op)
		all.Merge(h)
		r := OpResult{Op: op.String(), Latency: LatencyOf(h), Failures: rec.Failures(op)}
		for _, f := range r.Failures {
			r.Errors += f.Count
		}
		r.Requests = int64(h.Count()) + r.Errors
		r.Throughput = rec.throughput(op)
		if op == OpPull {
			r.Messages = rec.items.Load()
		}
		res.Ops = append(res.Ops, r)
		res.Total.Requests += r.Requests
		res.Total.Throughput += r.Throughput
		res.Total.Errors += r.Errors
		res.Total.Messages += r.Messages
		res.Total.Failures = mergeFailures(res.Total.Failures, r.Failures)
	}
	res.Total.Latency = LatencyOf(all)
	return res
}

// mergeFailures adds the counts of more to those of fs, kind by kind.
func mergeFailures(fs, more []FailureCount) []FailureCount {
	for _, m := range more {
		i := slices.IndexFunc(fs, func(f FailureCount) bool { return f.Kind == m.Kind })
		if i < 0 {
			fs = append(fs, m)
		} else {
			fs[i].Count += m.Count
		}
	}
	sortFailures(fs)
	return fs
}

// perSecond is n per second of d.
func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// sortFailures puts the most frequent first.
func sortFailures(fs []FailureCount) {
	slices.SortFunc(fs, func(a, b FailureCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Kind, b.Kind))
	})
}
