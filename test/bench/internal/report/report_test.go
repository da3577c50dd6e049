package report

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/test/bench/internal/load"
)

// sampleResult is a follow run that found a duplicate, with a summary
// that needs escaping.
func sampleResult() *load.Result {
	lat := load.Latency{P50: 1, P90: 2, P99: 5, P999: 9, Max: 12, Mean: 1.4,
		Percentiles: [][2]float64{{0, 0.2}, {50, 1}, {90, 2}, {99, 5}, {99.9, 9}, {99.95, 12}}}
	return &load.Result{
		Options:    load.Options{Scenario: load.ScenarioFollow, Warmup: 1e9},
		Summary:    `follow against http://x/<script>alert(1)</script>`,
		WindowSecs: 3,
		Ops: []load.OpResult{
			{Op: "send", Requests: 100, Throughput: 33.3, Latency: lat},
			{Op: "pull", Requests: 300, Errors: 2, Throughput: 100, Latency: lat,
				Failures: []load.FailureCount{{Kind: "status 503", Count: 2, Example: `{"code":"unavailable"}`}}},
		},
		Total:  load.OpResult{Op: "total", Requests: 400, Errors: 2, Throughput: 133.3, Latency: lat},
		Series: []load.Second{{At: 1, Requests: 120, RPS: 120, Warmup: true}, {At: 2, Requests: 130, Errors: 2, RPS: 130}, {At: 3.5, Requests: 140, RPS: 93}},
		Follow: &load.Follow{
			Chats: 1, Senders: 1, Followers: 1, Sent: 100, Acked: 100, Expected: 100, Delivered: 100,
			Delivery:      lat,
			AnomalyCounts: map[load.AnomalyKind]int64{load.AnomalyDuplicate: 1},
			Anomalies:     []load.Anomaly{{Kind: load.AnomalyDuplicate, Sender: 0, Seq: 7, Detail: "seen again"}},
		},
	}
}

func TestWriteTable(t *testing.T) {
	var b strings.Builder
	if err := WriteTable(&b, sampleResult()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"total", "status 503", "verification: FAILED, anomalies: duplicate 1",
		"duplicate: follower 0, sender 0 message 7: seen again",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteHTML(t *testing.T) {
	var b strings.Builder
	if err := WriteHTML(&b, "t", []Section{{Heading: "follow", Result: sampleResult()}}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	t.Run("IsSelfContained", func(t *testing.T) {
		if strings.Contains(page, "<script") || strings.Contains(page, "src=") || strings.Contains(page, "href=") {
			t.Fatal("the page runs or fetches something")
		}
	})
	t.Run("PlotsAreWellFormedSVG", func(t *testing.T) {
		svgs := strings.Split(page, "<svg ")[1:]
		if got, want := len(svgs), 2; got != want {
			t.Fatalf("got %d plots, want %d", got, want)
		}
		for _, s := range svgs {
			s = "<svg " + s[:strings.Index(s, "</svg>")+len("</svg>")]
			dec := xml.NewDecoder(strings.NewReader(s))
			for {
				if _, err := dec.Token(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("plot is not well-formed: %v\n%s", err, s)
				}
			}
			// Three lines in the latency plot (send, pull, delivery), two
			// in the throughput plot (requests and errors).
			if n := strings.Count(s, "<polyline"); n != 3 && n != 2 {
				t.Errorf("plot has %d lines", n)
			}
		}
	})
}

func TestPercentileTicks(t *testing.T) {
	var labels []string
	for _, tk := range percentileTicks(4) {
		labels = append(labels, tk.label)
	}
	if got, want := strings.Join(labels, " "), "0% 90% 99% 99.9% 99.99%"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestNiceCeil(t *testing.T) {
	for v, want := range map[float64]float64{0: 1, 0.7: 0.8, 1: 1, 9848: 10000, 10112: 12000, 260: 300} {
		if got := niceCeil(v); got != want {
			t.Errorf("niceCeil(%v) = %v, want %v", v, got, want)
		}
	}
}
