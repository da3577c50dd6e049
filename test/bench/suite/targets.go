package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pigeonhole-im/pigeonhole/test/bench/internal/load"
)

// target is one figure of the performance targets with what it came to:
// a bound the figure must reach, and the figure's value in each run.
type target struct {
	figure  string
	store   string // "" for a figure that compares the stores
	atLeast bool   // the figure must be ≥ bound; otherwise ≤ bound
	bound   float64
	unit    string    // "×", "ms", "MiB" or "" (a count)
	values  []float64 // one per run; none when it was not measured
	// everyRun: only met when every run meets it (an error in any run
	// is an error), not by the median.
	everyRun bool
}

// Ratios to ping pair the runs by their number: run i of a benchmark is
// divided by run i of ping c=200 on the same stack, and the figure's median
// and range are over those quotients. Latencies and error counts are taken
// run by run; peak memory is one figure per process over the whole suite.

// targets computes every target's values from the suite's outcomes, in the
// order of the table.
func targets(d document) []target {
	stores := storesOf(d.Outcomes)
	var ts []target
	perStore := func(figure string, atLeast bool, bound float64, unit string, values func(store string) []float64) {
		for _, s := range stores {
			ts = append(ts, target{figure: figure, store: s, atLeast: atLeast, bound: bound, unit: unit, values: values(s)})
		}
	}
	vsPing := func(name string) func(string) []float64 {
		return func(store string) []float64 {
			return pairwise(outcomeOf(d.Outcomes, store, name), outcomeOf(d.Outcomes, store, benchPing), throughputRatio)
		}
	}
	perStore("newest-page pull c=200 vs ping c=200", true, 0.5, "×", vsPing(benchNewest))
	perStore("tail poll, nothing new, c=200 vs ping c=200", true, 0.6, "×", vsPing(benchTail))
	perStore("send c=200 vs ping c=200", true, 0.4, "×", vsPing(benchSend200))
	perStore("send c=20 vs ping c=200", true, 0.2, "×", vsPing(benchSend20))
	perStore("send c=20 p99", false, 10, "ms", func(store string) []float64 {
		return each(outcomeOf(d.Outcomes, store, benchSend20), func(r *load.Result) float64 { return r.Total.Latency.P99 })
	})
	perStore("c=1 p50 newest-page pull", false, 0.5, "ms", func(store string) []float64 {
		return each(outcomeOf(d.Outcomes, store, benchLatency), opP50(load.OpPull))
	})
	perStore("c=1 p50 send", false, 1, "ms", func(store string) []float64 {
		return each(outcomeOf(d.Outcomes, store, benchLatency), opP50(load.OpSend))
	})
	ts = append(ts, target{figure: "embedded store sends vs MySQL sends, c=200", atLeast: true, bound: 1, unit: "×",
		values: pairwise(outcomeOf(d.Outcomes, storeEmbedded, benchSend200), outcomeOf(d.Outcomes, storeMySQL, benchSend200), throughputRatio)})
	perStore("errors at c=2000 (send and pull)", false, 0, "", func(store string) []float64 {
		return pairwise(outcomeOf(d.Outcomes, store, benchSend2000), outcomeOf(d.Outcomes, store, benchPull2000),
			func(a, b *load.Result) float64 { return float64(a.Total.Errors + b.Total.Errors) })
	})
	for i := range ts {
		ts[i].everyRun = ts[i].unit == ""
	}
	for _, m := range d.Memory {
		t := target{figure: "peak RSS, " + m.process, store: m.store, bound: 256, unit: "MiB"}
		if m.mib >= 0 {
			t.values = []float64{m.mib}
		}
		ts = append(ts, t)
	}
	return ts
}

// outcomeOf returns the outcome of the benchmark name on store, or nil.
func outcomeOf(outcomes []outcome, store, name string) *outcome {
	i := slices.IndexFunc(outcomes, func(o outcome) bool { return o.store == store && o.bench.name == name })
	if i < 0 {
		return nil
	}
	return &outcomes[i]
}

// each returns f of every run of o (none when o is nil).
func each(o *outcome, f func(*load.Result) float64) []float64 {
	if o == nil {
		return nil
	}
	var vs []float64
	for _, r := range o.runs {
		vs = append(vs, f(r))
	}
	return vs
}

// pairwise returns f of run i of a and run i of b, for the runs both have.
func pairwise(a, b *outcome, f func(a, b *load.Result) float64) []float64 {
	if a == nil || b == nil {
		return nil
	}
	var vs []float64
	for i := range min(len(a.runs), len(b.runs)) {
		vs = append(vs, f(a.runs[i], b.runs[i]))
	}
	return vs
}

// throughputRatio is a's throughput in units of b's; 0 when b has none.
func throughputRatio(a, b *load.Result) float64 {
	if b.Total.Throughput <= 0 {
		return 0
	}
	return a.Total.Throughput / b.Total.Throughput
}

// opP50 picks a run's p50 of one kind of request (0 when there is none).
func opP50(op load.Op) func(*load.Result) float64 {
	return opLatency(op, func(l load.Latency) float64 { return l.P50 })
}

// opP99 picks a run's p99 of one kind of request (0 when there is none).
func opP99(op load.Op) func(*load.Result) float64 {
	return opLatency(op, func(l load.Latency) float64 { return l.P99 })
}

// opLatency picks a figure of a run's latencies of one kind of request.
func opLatency(op load.Op, f func(load.Latency) float64) func(*load.Result) float64 {
	return func(r *load.Result) float64 {
		for _, o := range r.Ops {
			if o.Op == op.String() {
				return f(o.Latency)
			}
		}
		return 0
	}
}

// met says whether the target is met: "yes" in every run, "median only"
// when the median meets it and some run does not (unless it must hold in
// every run), otherwise "no".
func (t target) met() string {
	if len(t.values) == 0 {
		return "not measured"
	}
	ok := func(v float64) bool {
		if t.atLeast {
			return v >= t.bound
		}
		return v <= t.bound
	}
	allRuns := !slices.ContainsFunc(t.values, func(v float64) bool { return !ok(v) })
	switch {
	case allRuns:
		return "yes"
	case t.everyRun || !ok(t.median()):
		return "no"
	}
	return "median only"
}

// median is the median of the values.
func (t target) median() float64 {
	vs := slices.Sorted(slices.Values(t.values))
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

// format writes v in the target's unit.
func (t target) format(v float64) string {
	switch t.unit {
	case "×":
		return fmt.Sprintf("%.2f×", v)
	case "ms":
		return fmt.Sprintf("%.2f ms", v)
	case "MiB":
		return fmt.Sprintf("%.0f MiB", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// goal writes the bound, as the targets were given.
func (t target) goal() string {
	switch {
	case t.unit == "" && t.bound == 0:
		return "0"
	case t.atLeast:
		return "≥ " + t.format(t.bound)
	}
	return "≤ " + t.format(t.bound)
}

// writeTargets writes the targets table: each figure on each store, its
// target, the median and range over the runs, and whether it was met; and
// after it, what a request at c=1 costs in pings.
func writeTargets(b *strings.Builder, d document) {
	fmt.Fprintf(b, "## Targets\n\n")
	fmt.Fprintf(b, "Each figure against its target, measured in this run of the suite. Ratios to ping divide run i of a "+
		"benchmark by run i of ping c=200 on the same stack; the median and the range (min–max) are over the runs (%d of each). "+
		"\"median only\": the median meets the target, some run does not; errors must be 0 in every run. Peak RSS is one figure per process over the "+
		"whole suite.\n\n", d.Runs)
	fmt.Fprintf(b, "| figure | store | target | median | range | met |\n|---|---|--:|--:|--:|---|\n")
	for _, t := range targets(d) {
		store := t.store
		if store == "" {
			store = "both"
		}
		median, spread := "–", "–"
		if len(t.values) > 0 {
			median = t.format(t.median())
			spread = t.format(slices.Min(t.values)) + " – " + t.format(slices.Max(t.values))
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", t.figure, store, t.goal(), median, spread, t.met())
	}
	b.WriteString("\n")
	for _, store := range storesOf(d.Outcomes) {
		o := outcomeOf(d.Outcomes, store, benchLatency)
		if o == nil {
			continue
		}
		ping := median(o.runs, opP50(load.OpPing))
		if ping <= 0 {
			continue
		}
		fmt.Fprintf(b, "- %s store, c=1: p50 of ping %.3f ms; a newest-page pull costs %.1f pings, a send %.1f (medians of the latency runs).\n",
			store, ping, median(o.runs, opP50(load.OpPull))/ping, median(o.runs, opP50(load.OpSend))/ping)
	}
	b.WriteString("\n")
}
