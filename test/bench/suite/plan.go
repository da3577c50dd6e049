package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/pigeonhole-im/pigeonhole/test/bench/internal/load"
)

// benchmark is one entry of the suite: a scenario with its options.
type benchmark struct {
	name string
	opts load.Options
}

// historyWarmup is the least warm-up of the 10k-chat pull: its 10,000
// distinct pages (one per cursor) reach the gateway's page cache within
// it at the rates of this machine, so the figures are the steady state a
// reader of that history meets rather than the cache filling.
const historyWarmup = 3 * time.Second

// Names of the benchmarks that the targets table reads.
const (
	benchPing     = "ping c=200"
	benchSend20   = "send c=20"
	benchSend200  = "send c=200"
	benchNewest   = "pull-newest c=200"
	benchTail     = "poll-tail c=200"
	benchLatency  = "latency c=1"
	benchSend2000 = "send c=2000"
	benchPull2000 = "pull c=2000"
)

// The newest-page, tail and latency benchmarks read newestChats chats of
// newestPrefill messages each: as many chats as a client opens in the
// measurement they are compared with, each with more history than a page
// (so the newest page is full and has more behind it), and a prefill
// small enough (2,000 sends) to repeat before every run.
const (
	newestChats   = 100
	newestPrefill = 20
)

// plan returns the suite's benchmarks against target, each measured for
// duration after warmup (the reference scenario keeps its own shape).
func plan(target string, duration, warmup time.Duration) []benchmark {
	base := load.Defaults()
	base.Target, base.Duration, base.Warmup = target, duration, warmup
	with := func(scenario string, c int, edit func(*load.Options)) load.Options {
		o := base
		o.Scenario, o.Concurrency = scenario, c
		if edit != nil {
			edit(&o)
		}
		return o
	}
	newest := func(o *load.Options) { o.Chats, o.Prefill = newestChats, newestPrefill }
	return []benchmark{
		{benchPing, with(load.ScenarioPing, 200, nil)},
		{benchSend20, with(load.ScenarioSend, 20, nil)},
		{benchSend200, with(load.ScenarioSend, 200, nil)},
		{"pull c=200", with(load.ScenarioPull, 200, nil)},
		// The pulls a client makes most: the newest page when a chat
		// opens, and polls of its tail that find nothing new.
		{benchNewest, with(load.ScenarioPullNewest, 200, newest)},
		{benchTail, with(load.ScenarioPollTail, 200, newest)},
		// What one request costs when it waits for nothing else.
		{benchLatency, with(load.ScenarioLatency, 1, newest)},
		// The pull target: pages of 10 from random places in a
		// chat of 10,000 messages (on MySQL in a table of a million rows),
		// measured once the caches hold the chat's pages.
		{"pull 10k-chat c=200", with(load.ScenarioPull, 200, func(o *load.Options) {
			o.Chats, o.Prefill = 1, 10_000
			o.Warmup = max(o.Warmup, historyWarmup)
		})},
		{"mixed 1:4 c=200", with(load.ScenarioMixed, 200, nil)},
		{"follow 4+4", with(load.ScenarioFollow, 8, nil)},
		// Inbox pages of members of 200 chats each.
		{"inbox c=200", with(load.ScenarioInbox, 200, nil)},
		{"reference 20×10", with(load.ScenarioReference, 20, nil)},
		// Overload: the target is zero errors, queueing rather than failing.
		{benchSend2000, with(load.ScenarioSend, 2000, nil)},
		{benchPull2000, with(load.ScenarioPull, 2000, nil)},
	}
}

// outcome is the runs of one benchmark on one store.
type outcome struct {
	store string
	bench benchmark
	runs  []*load.Result
}

// runBenchmark runs b n times, logging a line per run to log.
func runBenchmark(ctx context.Context, store string, b benchmark, n int, log io.Writer) (outcome, error) {
	out := outcome{store: store, bench: b}
	for i := range n {
		res, err := load.Run(ctx, b.opts, nil)
		if err != nil {
			return out, fmt.Errorf("%s on %s, run %d: %w", b.name, store, i+1, err)
		}
		fmt.Fprintf(log, "  %-19s run %d: %9.1f req/s  p50 %7.3f ms  p99 %7.3f ms  errors %d%s%s\n",
			b.name, i+1, res.Total.Throughput, res.Total.Latency.P50, res.Total.Latency.P99, res.Total.Errors, verdict(res), opP50s(res))
		out.runs = append(out.runs, res)
	}
	return out, nil
}

// verdict is a follow run's verification result, for the log.
func verdict(res *load.Result) string {
	switch {
	case res.Follow == nil:
		return ""
	case res.Follow.OK:
		return "  follow: verified"
	default:
		return fmt.Sprintf("  follow: FAILED %v", res.Follow.AnomalyCounts)
	}
}

// opP50s is, for a run of several kinds of request, each kind's p50, for
// the log.
func opP50s(res *load.Result) string {
	if len(res.Ops) < 2 {
		return ""
	}
	var b strings.Builder
	for _, op := range res.Ops {
		fmt.Fprintf(&b, "  %s p50 %.3f ms", op.Op, op.Latency.P50)
	}
	return b.String()
}

// figures are the medians of a benchmark's runs (errors are summed).
type figures struct {
	Throughput, P50, P90, P99, P999, Max float64
	Requests, Errors                     int64
	DeliveryP50, DeliveryP99             float64
	Verified                             int // follow runs that verified
	Reference                            *load.Reference
}

// median returns the median of the values f picks from the runs.
func median(runs []*load.Result, f func(*load.Result) float64) float64 {
	vs := make([]float64, len(runs))
	for i, r := range runs {
		vs[i] = f(r)
	}
	slices.Sort(vs)
	if len(vs) == 0 {
		return 0
	}
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

// summary computes the medians of o's runs.
func (o outcome) summary() figures {
	m := func(f func(*load.Result) float64) float64 { return median(o.runs, f) }
	fig := figures{
		Throughput: m(func(r *load.Result) float64 { return r.Total.Throughput }),
		P50:        m(func(r *load.Result) float64 { return r.Total.Latency.P50 }),
		P90:        m(func(r *load.Result) float64 { return r.Total.Latency.P90 }),
		P99:        m(func(r *load.Result) float64 { return r.Total.Latency.P99 }),
		P999:       m(func(r *load.Result) float64 { return r.Total.Latency.P999 }),
		Max:        m(func(r *load.Result) float64 { return r.Total.Latency.Max }),
		Requests:   int64(m(func(r *load.Result) float64 { return float64(r.Total.Requests) })),
	}
	for _, r := range o.runs {
		fig.Errors += r.Total.Errors
		if r.Follow != nil && r.Follow.OK {
			fig.Verified++
		}
	}
	if o.runs[0].Follow != nil {
		fig.DeliveryP50 = m(func(r *load.Result) float64 { return r.Follow.Delivery.P50 })
		fig.DeliveryP99 = m(func(r *load.Result) float64 { return r.Follow.Delivery.P99 })
	}
	if o.runs[0].Reference != nil {
		ref := func(f func(*load.Reference) float64) float64 {
			return m(func(r *load.Result) float64 { return f(r.Reference) })
		}
		fig.Reference = &load.Reference{
			Label:      o.runs[0].Reference.Label,
			Samples:    int64(ref(func(r *load.Reference) float64 { return float64(r.Samples) })),
			Average:    ref(func(r *load.Reference) float64 { return r.Average }),
			Min:        ref(func(r *load.Reference) float64 { return r.Min }),
			Max:        ref(func(r *load.Reference) float64 { return r.Max }),
			StdDev:     ref(func(r *load.Reference) float64 { return r.StdDev }),
			ErrorPct:   ref(func(r *load.Reference) float64 { return r.ErrorPct }),
			Throughput: ref(func(r *load.Reference) float64 { return r.Throughput }),
		}
	}
	return fig
}

// medianRun returns the run of median throughput, whose plots stand for
// the benchmark.
func (o outcome) medianRun() *load.Result {
	runs := slices.Clone(o.runs)
	slices.SortFunc(runs, func(a, b *load.Result) int {
		switch {
		case a.Total.Throughput < b.Total.Throughput:
			return -1
		case a.Total.Throughput > b.Total.Throughput:
			return 1
		}
		return 0
	})
	return runs[len(runs)/2]
}
