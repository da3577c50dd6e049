package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/pigeonhole-im/pigeonhole/test/bench/internal/load"
)

// document is what docs/benchmarks.md is written from.
type document struct {
	Started   time.Time
	Elapsed   time.Duration
	Commit    string
	Runs      int
	Duration  time.Duration
	Warmup    time.Duration
	Outcomes  []outcome
	Skipped   []string // stores that could not run, with why
	Memory    []peakRSS
	PlotsFile string // the HTML page, relative to the document
	LoadStart string // /proc/loadavg when the suite started
	LoadEnd   string // and when it ended
}

// writeMarkdown writes the document: method, machine, figures.
func writeMarkdown(w io.Writer, d document) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\n")
	fmt.Fprintf(&b, "Measured by `make bench` (`go run ./test/bench/suite`) on %s at commit `%s`; the suite took %v.\n",
		d.Started.UTC().Format("2006-01-02 15:04 MST"), d.Commit, d.Elapsed.Round(time.Second))
	fmt.Fprintf(&b, "Plots of every benchmark's median run: [%s](%s).\n\n", d.PlotsFile, d.PlotsFile)
	writeMethod(&b, d)
	writeMachine(&b, d)
	writeTargets(&b, d)
	for _, store := range storesOf(d.Outcomes) {
		writeStore(&b, store, d.Outcomes)
	}
	if len(d.Memory) > 0 {
		fmt.Fprintf(&b, "\n## Peak memory\n\nPeak resident set size (VmHWM) of each server over the whole suite, c=2000 included (target ≤ 256 MiB):\n\n")
		fmt.Fprintf(&b, "| store | process | peak RSS (MiB) |\n|---|---|--:|\n")
		for _, m := range d.Memory {
			fmt.Fprintf(&b, "| %s | %s | %.0f |\n", m.store, m.process, m.mib)
		}
	}
	for _, s := range d.Skipped {
		fmt.Fprintf(&b, "\nNot measured: %s\n", s)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeMethod(b *strings.Builder, d document) {
	fmt.Fprintf(b, "## Method\n\n")
	fmt.Fprintf(b, `- The stack is one rpc-server and one http-server built from this commit and started by
  test/harness on 127.0.0.1, once per store: the embedded store (SQLite, WAL, synchronous=FULL)
  in a temporary directory, and MySQL on a throwaway MariaDB started by
  rpc-server/mysql/mysqltest (64 MiB buffer pool, durable commits), whose table holds a
  million filler messages (1,000 other chats of 1,000) before the first benchmark. The servers
  run with their defaults: the gateway coalesces concurrent requests into batch RPCs and
  answers a pull whose page the service marked final again from its page cache, and the
  rpc-server answers pages of history it has read before from its range cache (a page that
  reaches a chat's newest message is never final and always comes from the store). The load
  generator runs in the same process as the suite, on the same machine: servers and generator
  share its CPUs.
- Each benchmark is %d runs of %v measured after %v of warm-up, closed loop (each connection
  sends its next request when the last one is answered); pull 10k-chat warms up for at least
  %v, in which its 10,000 distinct pages reach the gateway's page cache. Figures are the
  median of the runs, each figure on its own; errors are the sum over the runs.
- Latency is from the start of a request to the end of its answer; percentiles come from a
  log-linear histogram accurate to 0.4%%.
- "vs ping" is the throughput relative to GET /ping at c=200 on the same stack: how much of
  what the gateway can answer at all a real request keeps.
- send: POST /api/send spread round-robin over 16 chats. pull: GET /api/pull pages of 10
  messages, each from a random message of a random one of 16 chats prefilled with 100
  messages; pull 10k-chat: the same from one chat of 10,000 messages, the pull target's shape
  (the prefill reads each chat back once, so its history is in the range cache). mixed: one
  send per four pulls. pull-newest: GET /api/pull of the newest 10 messages (reverse=true,
  cursor=0, in query parameters) of a random one of %d chats of %d messages. poll-tail: each
  connection reads its chat's newest message (chats as for pull-newest), pulls forward from it
  to get next_cursor, then polls with that cursor while nothing is sent: every answer must be
  the empty page with the same next_cursor (no wait_ms). latency: one connection making a ping,
  a newest-page pull and a send in turn, over the chats of pull-newest, each kind timed on its
  own; the pull's page must start with the message the last send to that chat stored. Every
  answer is checked; a wrong page counts as an error. follow: 4 senders and 4 followers on 4 chats,
  followers tailing with next_cursor; delivery latency runs from a send's acknowledgement to
  a follower seeing the message, and every run verifies exactly-once, in-order delivery.
  reference: the original assignment's JMeter plan (20 threads × 10 sends, 10 s ramp-up),
  reported in JMeter's Summary Report columns. send c=2000 and pull c=2000 are the overload
  runs: 2,000 concurrent connections, where the target is zero errors.
- Reproduce one benchmark by hand with, for example,
  `+"`go run ./test/bench --scenario send --target http://127.0.0.1:8080 -c 200 --duration %v`"+`.

`, d.Runs, d.Duration, d.Warmup, historyWarmup, newestChats, newestPrefill, d.Duration)
}

// writeMachine describes the machine from /proc/cpuinfo, nproc and free,
// and how busy it was: other work on it skews every figure.
func writeMachine(b *strings.Builder, d document) {
	fmt.Fprintf(b, "## Machine\n\n")
	fmt.Fprintf(b, "- CPU: %s; %d CPUs (nproc: %s)\n", cpuModel(), runtime.NumCPU(), command("nproc"))
	fmt.Fprintf(b, "- Kernel: %s; Go: %s\n", command("uname", "-sr"), runtime.Version())
	fmt.Fprintf(b, "- Load average (1, 5, 15 min; `/proc/loadavg`) when the suite started: %s; when it ended: %s\n",
		d.LoadStart, d.LoadEnd)
	// Only the load before the suite tells of other work: the suite's own
	// servers and load generator keep more than two CPUs' worth of
	// threads runnable, so the load at its end is always high.
	if busy(d.LoadStart) {
		fmt.Fprintf(b, "- **The machine was busy with other work** (a load average above its %d CPUs when the suite started): the figures "+
			"understate what the servers can do and vary from run to run more than usual. Compare figures within "+
			"one run of the suite (such as \"vs ping\") rather than across runs.\n", runtime.NumCPU())
	}
	fmt.Fprintf(b, "- Memory (`free -m`):\n\n```\n%s\n```\n\n", command("free", "-m"))
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadAverage returns the three load averages of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(b))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], ", ")
}

// busy reports whether a load average string (from loadAverage) starts
// above the machine's CPU count.
func busy(load string) bool {
	first, _, _ := strings.Cut(load, ",")
	v, err := strconv.ParseFloat(first, 64)
	return err == nil && v > float64(runtime.NumCPU())
}

// command returns a command's trimmed output, or why there is none.
func command(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return strings.TrimRight(string(out), "\n")
}

// storesOf lists the stores of outcomes in order of appearance.
func storesOf(outcomes []outcome) []string {
	var stores []string
	for _, o := range outcomes {
		if len(stores) == 0 || stores[len(stores)-1] != o.store {
			stores = append(stores, o.store)
		}
	}
	return stores
}

// writeStore writes the figures table of one store.
func writeStore(b *strings.Builder, store string, outcomes []outcome) {
	fmt.Fprintf(b, "## %s store\n\n", store)
	fmt.Fprintf(b, "| benchmark | requests | throughput (req/s) | vs ping | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors |\n")
	fmt.Fprintf(b, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	var ping float64
	var notes []string
	for _, o := range outcomes {
		if o.store != store {
			continue
		}
		f := o.summary()
		if o.bench.opts.Scenario == load.ScenarioPing {
			ping = f.Throughput
		}
		// Follow and reference are paced by their own rules (pollers,
		// a ramp-up), not by what the server can take.
		vs := "–"
		// So is latency, one request at a time.
		if paced := o.bench.opts.Scenario == load.ScenarioFollow || o.bench.opts.Scenario == load.ScenarioReference ||
			o.bench.opts.Scenario == load.ScenarioLatency; ping > 0 && !paced {
			vs = fmt.Sprintf("%.0f%%", 100*f.Throughput/ping)
		}
		fmt.Fprintf(b, "| %s | %d | %.0f | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %d |\n",
			o.bench.name, f.Requests, f.Throughput, vs, f.P50, f.P90, f.P99, f.P999, f.Max, f.Errors)
		if o.runs[0].Follow != nil {
			notes = append(notes, fmt.Sprintf("follow: delivery latency p50 %.2f ms, p99 %.2f ms; delivery verified in %d of %d runs.",
				f.DeliveryP50, f.DeliveryP99, f.Verified, len(o.runs)))
		}
		if o.bench.opts.Scenario == load.ScenarioLatency {
			notes = append(notes, fmt.Sprintf("latency: p50 / p99 of ping %.3f / %.3f ms, newest-page pull %.3f / %.3f ms, send %.3f / %.3f ms (medians).",
				median(o.runs, opP50(load.OpPing)), median(o.runs, opP99(load.OpPing)),
				median(o.runs, opP50(load.OpPull)), median(o.runs, opP99(load.OpPull)),
				median(o.runs, opP50(load.OpSend)), median(o.runs, opP99(load.OpSend))))
		}
		if r := f.Reference; r != nil {
			notes = append(notes, fmt.Sprintf("reference, JMeter Summary Report (medians): %d samples, average %.0f ms, "+
				"min %.0f ms, max %.0f ms, std. dev. %.2f ms, error %.2f%%, throughput %.1f/sec "+
				"(the 10 s ramp-up bounds it near 20/sec, as in JMeter).",
				r.Samples, r.Average, r.Min, r.Max, r.StdDev, r.ErrorPct, r.Throughput))
		}
	}
	b.WriteString("\n")
	for _, n := range notes {
		fmt.Fprintf(b, "- %s\n", n)
	}
	b.WriteString("\n")
}
