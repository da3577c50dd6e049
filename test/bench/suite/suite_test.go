package main

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/test/bench/internal/load"
)

// runsOf returns results whose total throughput and p99 are the given
// values, pairwise.
func runsOf(scenario string, throughputs, p99s []float64) []*load.Result {
	var runs []*load.Result
	for i := range throughputs {
		runs = append(runs, &load.Result{
			Options: load.Options{Scenario: scenario},
			Total:   load.OpResult{Requests: 100, Errors: 1, Throughput: throughputs[i], Latency: load.Latency{P99: p99s[i]}},
		})
	}
	return runs
}

func TestSummary(t *testing.T) {
	t.Run("MediansAreTakenFigureByFigure", func(t *testing.T) {
		o := outcome{runs: runsOf(load.ScenarioSend, []float64{300, 100, 200}, []float64{9, 30, 20})}
		f := o.summary()
		if f.Throughput != 200 || f.P99 != 20 {
			t.Fatalf("got throughput %v p99 %v, want 200 and 20", f.Throughput, f.P99)
		}
		if got, want := f.Errors, int64(3); got != want {
			t.Fatalf("errors: got %d, want the sum %d", got, want)
		}
		if got := o.medianRun().Total.Throughput; got != 200 {
			t.Fatalf("median run has throughput %v, want 200", got)
		}
	})
	t.Run("EvenCountAveragesTheMiddlePair", func(t *testing.T) {
		o := outcome{runs: runsOf(load.ScenarioSend, []float64{1, 2, 3, 4}, []float64{1, 2, 3, 4})}
		if got := o.summary().Throughput; got != 2.5 {
			t.Fatalf("got %v, want 2.5", got)
		}
	})
}

func TestWriteMarkdown(t *testing.T) {
	ping := load.Options{Scenario: load.ScenarioPing}
	send := load.Options{Scenario: load.ScenarioSend}
	doc := document{
		Started: time.Now(), Runs: 1, Duration: time.Second, PlotsFile: "benchmarks.html",
		LoadStart: "0.10, 0.20, 0.30", LoadEnd: "0.10, 0.20, 0.30",
		Outcomes: []outcome{
			{store: storeEmbedded, bench: benchmark{"ping c=200", ping}, runs: runsOf(load.ScenarioPing, []float64{1000}, []float64{5})},
			{store: storeEmbedded, bench: benchmark{"send c=200", send}, runs: runsOf(load.ScenarioSend, []float64{250}, []float64{9})},
		},
		Skipped: []string{"the mysql store (not installed)"},
	}
	var b strings.Builder
	if err := writeMarkdown(&b, doc); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"## embedded store", "| send c=200 | 100 | 250 | 25% |", "[benchmarks.html](benchmarks.html)",
		"Not measured: the mysql store",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("benchmarks.md lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "busy with other work") {
		t.Errorf("an idle machine is reported busy")
	}
	// The suite's own load at its end is not other work; a load above the
	// CPU count before it starts is.
	doc.LoadEnd = "9.00, 5.00, 3.00"
	b.Reset()
	if err := writeMarkdown(&b, doc); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "busy with other work") {
		t.Errorf("the suite's own load at its end is reported as other work")
	}
	doc.LoadStart = fmt.Sprintf("%d.50, 1.00, 1.00", runtime.NumCPU())
	b.Reset()
	if err := writeMarkdown(&b, doc); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "busy with other work") {
		t.Errorf("a machine loaded before the suite started is not reported busy")
	}
}

// latencyRuns returns latency results whose ping, pull and send p50s are
// the given triples.
func latencyRuns(p50s ...[3]float64) []*load.Result {
	var runs []*load.Result
	for _, p := range p50s {
		runs = append(runs, &load.Result{
			Options: load.Options{Scenario: load.ScenarioLatency},
			Ops: []load.OpResult{
				{Op: "ping", Latency: load.Latency{P50: p[0]}},
				{Op: "pull", Latency: load.Latency{P50: p[1]}},
				{Op: "send", Latency: load.Latency{P50: p[2]}},
			},
		})
	}
	return runs
}

func TestWriteTargets(t *testing.T) {
	bench := func(name, scenario string) benchmark {
		return benchmark{name, load.Options{Scenario: scenario}}
	}
	withErrors := func(runs []*load.Result, errs ...int64) []*load.Result {
		for i, e := range errs {
			runs[i].Total.Errors = e
		}
		return runs
	}
	three := func(scenario string, throughputs ...float64) []*load.Result {
		return runsOf(scenario, throughputs, []float64{5, 12, 8})
	}
	doc := document{
		Runs: 3,
		Outcomes: []outcome{
			{store: storeEmbedded, bench: bench(benchPing, load.ScenarioPing), runs: three(load.ScenarioPing, 1000, 2000, 1000)},
			// Ratios 0.6, 0.2, 0.55: the median meets ≥ 0.5, one run does not.
			{store: storeEmbedded, bench: bench(benchNewest, load.ScenarioPullNewest), runs: three(load.ScenarioPullNewest, 600, 400, 550)},
			// Ratios 0.7, 0.65, 0.8: met in every run.
			{store: storeEmbedded, bench: bench(benchTail, load.ScenarioPollTail), runs: three(load.ScenarioPollTail, 700, 1300, 800)},
			// Ratios 0.1, 0.1, 0.1, and p99s 5, 12, 8 ms.
			{store: storeEmbedded, bench: bench(benchSend20, load.ScenarioSend), runs: three(load.ScenarioSend, 100, 200, 100)},
			{store: storeEmbedded, bench: bench(benchSend200, load.ScenarioSend), runs: three(load.ScenarioSend, 500, 1000, 500)},
			{store: storeEmbedded, bench: bench(benchLatency, load.ScenarioLatency),
				runs: latencyRuns([3]float64{0.1, 0.4, 0.9}, [3]float64{0.1, 0.6, 1.1}, [3]float64{0.1, 0.45, 0.95})},
			{store: storeEmbedded, bench: bench(benchSend2000, load.ScenarioSend), runs: withErrors(three(load.ScenarioSend, 1, 1, 1), 0, 0, 0)},
			{store: storeEmbedded, bench: bench(benchPull2000, load.ScenarioPull), runs: withErrors(three(load.ScenarioPull, 1, 1, 1), 0, 3, 0)},
			{store: storeMySQL, bench: bench(benchSend200, load.ScenarioSend), runs: three(load.ScenarioSend, 250, 500, 1000)},
		},
		Memory: []peakRSS{{storeEmbedded, "rpc-server", 120}, {storeEmbedded, "http-server", 300}, {storeMySQL, "rpc-server", -1}},
	}
	var b strings.Builder
	writeTargets(&b, doc)
	md := b.String()
	for _, want := range []string{
		"| figure | store | target | median | range | met |",
		"| newest-page pull c=200 vs ping c=200 | embedded | ≥ 0.50× | 0.55× | 0.20× – 0.60× | median only |",
		"| tail poll, nothing new, c=200 vs ping c=200 | embedded | ≥ 0.60× | 0.70× | 0.65× – 0.80× | yes |",
		"| send c=20 vs ping c=200 | embedded | ≥ 0.20× | 0.10× | 0.10× – 0.10× | no |",
		"| send c=20 p99 | embedded | ≤ 10.00 ms | 8.00 ms | 5.00 ms – 12.00 ms | median only |",
		"| c=1 p50 newest-page pull | embedded | ≤ 0.50 ms | 0.45 ms | 0.40 ms – 0.60 ms | median only |",
		"| c=1 p50 send | embedded | ≤ 1.00 ms | 0.95 ms | 0.90 ms – 1.10 ms | median only |",
		// 500/250, 1000/500, 500/1000.
		"| embedded store sends vs MySQL sends, c=200 | both | ≥ 1.00× | 2.00× | 0.50× – 2.00× | median only |",
		// An error in any run misses the target.
		"| errors at c=2000 (send and pull) | embedded | 0 | 0 | 0 – 3 | no |",
		"| peak RSS, rpc-server | embedded | ≤ 256 MiB | 120 MiB | 120 MiB – 120 MiB | yes |",
		"| peak RSS, http-server | embedded | ≤ 256 MiB | 300 MiB | 300 MiB – 300 MiB | no |",
		"| peak RSS, rpc-server | mysql | ≤ 256 MiB | – | – | not measured |",
		// The MySQL stack ran no ping: its ratios are not measured.
		"| send c=200 vs ping c=200 | mysql | ≥ 0.40× | – | – | not measured |",
		"embedded store, c=1: p50 of ping 0.100 ms; a newest-page pull costs 4.5 pings, a send 9.5",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("targets lack %q:\n%s", want, md)
		}
	}
}

// TestPlanHasTheTargetsBenchmarks keeps the targets table and the plan in
// step: every benchmark the table reads is in the plan, with the shape its
// figure is defined for.
func TestPlanHasTheTargetsBenchmarks(t *testing.T) {
	p := plan("http://127.0.0.1:1", time.Second, time.Second)
	for _, c := range []struct {
		name, scenario string
		concurrency    int
	}{
		{benchPing, load.ScenarioPing, 200}, {benchSend20, load.ScenarioSend, 20}, {benchSend200, load.ScenarioSend, 200},
		{benchNewest, load.ScenarioPullNewest, 200}, {benchTail, load.ScenarioPollTail, 200},
		{benchLatency, load.ScenarioLatency, 1}, {benchSend2000, load.ScenarioSend, 2000}, {benchPull2000, load.ScenarioPull, 2000},
	} {
		i := slices.IndexFunc(p, func(b benchmark) bool { return b.name == c.name })
		if i < 0 {
			t.Errorf("no %q in the plan", c.name)
			continue
		}
		if o := p[i].opts; o.Scenario != c.scenario || o.Concurrency != c.concurrency || o.Validate() != nil {
			t.Errorf("%s: scenario %s at c=%d (%v), want %s at c=%d", c.name, o.Scenario, o.Concurrency, o.Validate(), c.scenario, c.concurrency)
		}
	}
	for _, b := range p {
		if s := b.opts.Scenario; (s == load.ScenarioPullNewest || s == load.ScenarioPollTail) && b.opts.Prefill <= b.opts.Limit {
			t.Errorf("%s: %d messages per chat, want more than a page of %d", b.name, b.opts.Prefill, b.opts.Limit)
		}
	}
}
