package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/test/bench/internal/load"
	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// smokeRun runs the command with args plus --target, --json and --html,
// requires it to succeed, and returns the JSON result.
func smokeRun(t *testing.T, target string, args ...string) *load.Result {
	t.Helper()
	dir := t.TempDir()
	jsonPath, htmlPath := filepath.Join(dir, "result.json"), filepath.Join(dir, "result.html")
	args = append(args, "--target", target, "--json", jsonPath, "--html", htmlPath, "--quiet")
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), args, &stdout, &stderr); err != nil {
		t.Fatalf("bench %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, &stdout, &stderr)
	}
	t.Logf("bench %s:\n%s", strings.Join(args, " "), &stdout)
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var res load.Result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("decode %s: %v", jsonPath, err)
	}
	page, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte("<svg")) || bytes.Contains(page, []byte("<script")) {
		t.Errorf("%s is not a self-contained page of plots", htmlPath)
	}
	if res.Total.Errors != 0 {
		t.Errorf("%d errors: %+v", res.Total.Errors, res.Total.Failures)
	}
	if len(res.Series) == 0 {
		t.Error("no throughput series")
	}
	return &res
}

// requireOp returns the figures of op, failing unless it made at least
// min requests.
func requireOp(t *testing.T, res *load.Result, op string, min int64) load.OpResult {
	t.Helper()
	for _, r := range res.Ops {
		if r.Op == op {
			if r.Requests < min {
				t.Errorf("%s: %d requests, want at least %d", op, r.Requests, min)
			}
			if r.Latency.P50 <= 0 || r.Latency.Max < r.Latency.P99 {
				t.Errorf("%s: implausible latencies %+v", op, r.Latency)
			}
			return r
		}
	}
	t.Fatalf("no figures for %s in %+v", op, res.Ops)
	return load.OpResult{}
}

// TestSmoke runs every scenario briefly against real rpc-server and
// http-server processes on the embedded store.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	rpc := harness.StartRPCServer(t, harness.RPCOptions{})
	gw := harness.StartGateway(t, harness.GatewayOptions{Services: []string{rpc.Addr}})
	short := []string{"-c", "4", "--duration", "1s", "--warmup", "200ms"}

	t.Run("Ping", func(t *testing.T) {
		res := smokeRun(t, gw.URL, append([]string{"--scenario", "ping"}, short...)...)
		requireOp(t, res, "ping", 50)
	})

	t.Run("Send", func(t *testing.T) {
		res := smokeRun(t, gw.URL, append([]string{"--scenario", "send", "--chats", "3"}, short...)...)
		requireOp(t, res, "send", 20)
	})

	t.Run("SendOpenLoop", func(t *testing.T) {
		res := smokeRun(t, gw.URL, "--scenario", "send", "-c", "4", "--rate", "100", "--requests", "50", "--warmup", "0s")
		if got, want := requireOp(t, res, "send", 50).Requests, int64(50); got != want {
			t.Errorf("requests: got %d, want %d", got, want)
		}
	})

	t.Run("Pull", func(t *testing.T) {
		res := smokeRun(t, gw.URL, append([]string{"--scenario", "pull", "--chats", "4", "--prefill", "20"}, short...)...)
		pull := requireOp(t, res, "pull", 20)
		if res.Prefill == nil || res.Prefill.Messages != 80 {
			t.Errorf("prefill: got %+v, want 80 messages", res.Prefill)
		}
		// Pages of 10 from a random one of 20 messages hold 8.25 on average.
		if perPull := float64(pull.Messages) / float64(pull.Requests); perPull < 5 || perPull > 10 {
			t.Errorf("%.2f messages per pull, want 5 to 10", perPull)
		}
	})

	t.Run("Mixed", func(t *testing.T) {
		res := smokeRun(t, gw.URL, append([]string{"--scenario", "mixed", "--chats", "4", "--prefill", "10", "--ratio", "1:2"}, short...)...)
		sends, pulls := requireOp(t, res, "send", 5), requireOp(t, res, "pull", 10)
		if ratio := float64(pulls.Requests) / float64(sends.Requests); ratio < 1.5 || ratio > 2.5 {
			t.Errorf("pulls per send %.2f, want about 2", ratio)
		}
	})

	t.Run("Follow", func(t *testing.T) {
		res := smokeRun(t, gw.URL, "--scenario", "follow", "--senders", "3", "--followers", "4", "--chats", "2",
			"--duration", "1500ms", "--warmup", "200ms")
		f := res.Follow
		if f == nil || !f.OK {
			t.Fatalf("follow: %+v, want verified", f)
		}
		if f.Acked < 10 || f.Delivered != f.Expected || f.Expected < f.Acked {
			t.Errorf("follow: acked %d, delivered %d of %d: want every acknowledged message delivered to every follower of its chat",
				f.Acked, f.Delivered, f.Expected)
		}
		if f.Delivery.Max <= 0 {
			t.Errorf("no delivery latency: %+v", f.Delivery)
		}
	})

	t.Run("Inbox", func(t *testing.T) {
		res := smokeRun(t, gw.URL, append([]string{"--scenario", "inbox", "--members", "3", "--member-chats", "12"}, short...)...)
		requireOp(t, res, "inbox", 10) // five statements a page: slower than a send under -race
		if res.Prefill == nil || res.Prefill.Messages != 36 {
			t.Errorf("prefill: got %+v, want 36 messages", res.Prefill)
		}
	})

	t.Run("PullNewest", func(t *testing.T) {
		res := smokeRun(t, gw.URL, append([]string{"--scenario", "pull-newest", "--chats", "4", "--prefill", "15"}, short...)...)
		pull := requireOp(t, res, "pull", 20)
		// Every newest page of a chat of 15 holds the newest 10 (smokeRun
		// fails on any page that does not).
		if got, want := pull.Messages, 10*pull.Requests; got != want {
			t.Errorf("messages: got %d in %d pulls, want %d", got, pull.Requests, want)
		}
	})

	t.Run("PollTail", func(t *testing.T) {
		res := smokeRun(t, gw.URL, append([]string{"--scenario", "poll-tail", "--chats", "3", "--prefill", "5"}, short...)...)
		if pull := requireOp(t, res, "pull", 20); pull.Messages != 0 {
			t.Errorf("tail polls received %d messages, want none", pull.Messages)
		}
	})

	t.Run("Latency", func(t *testing.T) {
		res := smokeRun(t, gw.URL, "--scenario", "latency", "-c", "8", "--chats", "2", "--prefill", "12",
			"--duration", "1s", "--warmup", "200ms")
		if got, want := res.Options.Concurrency, 1; got != want {
			t.Errorf("concurrency: got %d, want %d", got, want)
		}
		ping, pull, send := requireOp(t, res, "ping", 10), requireOp(t, res, "pull", 10), requireOp(t, res, "send", 10)
		// One connection takes the three in turn.
		if n := []int64{ping.Requests, pull.Requests, send.Requests}; slices.Max(n)-slices.Min(n) > 1 {
			t.Errorf("requests of ping, pull, send: %v, want one of each in turn", n)
		}
		if got, want := pull.Messages, 10*pull.Requests; got != want {
			t.Errorf("messages: got %d in %d pulls, want full newest pages, %d", got, pull.Requests, want)
		}
	})

	t.Run("FollowWait", func(t *testing.T) {
		res := smokeRun(t, gw.URL, "--scenario", "follow", "--senders", "2", "--followers", "2", "--chats", "2",
			"--wait", "2s", "--duration", "1500ms", "--warmup", "200ms")
		f := res.Follow
		if f == nil || !f.OK || f.Delivered != f.Expected || f.WaitMs != 2000 {
			t.Fatalf("follow --wait: %+v, want verified long polls", f)
		}
		// Polling every 5 ms would make hundreds of pulls per follower and
		// second; long polls make about one per delivery.
		if f.PullsPerMsg <= 0 || f.PullsPerMsg > 2 {
			t.Errorf("follow --wait: %.2f pulls per delivered message, want about 1", f.PullsPerMsg)
		}
	})

	t.Run("Reference", func(t *testing.T) {
		res := smokeRun(t, gw.URL, "--scenario", "reference", "-c", "4", "--loops", "5", "--ramp-up", "400ms")
		ref := res.Reference
		if ref == nil {
			t.Fatal("no reference figures")
		}
		if got, want := ref.Samples, int64(20); got != want {
			t.Errorf("samples: got %d, want %d", got, want)
		}
		if ref.ErrorPct != 0 || ref.Throughput <= 0 || ref.Min > ref.Average || ref.Average > ref.Max {
			t.Errorf("implausible summary %+v", ref)
		}
	})
}

func TestParseConfig(t *testing.T) {
	t.Run("DefaultsAreTheReferencePlan", func(t *testing.T) {
		cfg, err := parseConfig(nil, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		o := cfg.Load
		if o.Concurrency != 20 || o.Loops != 10 || o.RampUp.String() != "10s" {
			t.Fatalf("got c=%d loops=%d ramp-up=%v, want 20, 10, 10s", o.Concurrency, o.Loops, o.RampUp)
		}
	})
	t.Run("RatioIsSendsToPulls", func(t *testing.T) {
		cfg, err := parseConfig([]string{"--scenario", "mixed", "--ratio", "2:7"}, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		if got := strconv.Itoa(cfg.Load.Sends) + ":" + strconv.Itoa(cfg.Load.Pulls); got != "2:7" {
			t.Fatalf("got %s, want 2:7", got)
		}
	})
	t.Run("RejectsNonsense", func(t *testing.T) {
		for _, args := range [][]string{
			{"--scenario", "nope"}, {"--ratio", "1"}, {"--ratio", "0:0"}, {"-c", "0"},
			{"--target", "localhost:8080"}, {"--limit", "101"}, {"extra"},
		} {
			if _, err := parseConfig(args, &bytes.Buffer{}); err == nil {
				t.Errorf("parseConfig(%q) succeeded, want an error", args)
			}
		}
	})
}
