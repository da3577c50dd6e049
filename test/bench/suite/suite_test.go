package main

import (
	"fmt"
	"runtime"
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
