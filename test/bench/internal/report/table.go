// Package report presents load.Results: as a text table for the terminal
// and as a self-contained HTML page with latency-percentile and throughput
// plots.
package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/pigeonhole-im/pigeonhole/test/bench/internal/load"
)

// maxListedAnomalies is how many anomalies the table lists; the JSON has
// more and the counts cover all.
const maxListedAnomalies = 10

// WriteTable writes res as text: a row of figures per kind of request and
// the total, the failures by kind, and the follow and reference sections
// when present.
func WriteTable(w io.Writer, res *load.Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nmeasured %.2fs\n\n", res.Summary, res.WindowSecs)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\trequests\terrors\tthroughput/s\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tmax ms\tmean ms\t")
	rows := res.Ops
	if len(rows) > 1 {
		rows = append(rows[:len(rows):len(rows)], res.Total)
	}
	for _, op := range rows {
		l := op.Latency
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t\n",
			op.Op, op.Requests, op.Errors, op.Throughput, l.P50, l.P90, l.P99, l.P999, l.Max, l.Mean)
	}
	tw.Flush()
	for _, op := range res.Ops {
		if op.Messages > 0 {
			fmt.Fprintf(&b, "%s: %d messages received, %.2f per request\n", op.Op, op.Messages,
				float64(op.Messages)/float64(max(op.Requests-op.Errors, 1)))
		}
	}
	if pre := res.Prefill; pre != nil {
		fmt.Fprintf(&b, "prefill: %d messages in %.2fs (%.0f/s), not measured\n", pre.Messages, pre.Seconds, pre.Throughput)
	}
	writeFailures(&b, res)
	if res.Follow != nil {
		writeFollow(&b, res.Follow)
	}
	if res.Reference != nil {
		writeReference(&b, res.Reference)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeFailures lists failures by op and kind, most frequent first.
func writeFailures(b *strings.Builder, res *load.Result) {
	if res.Total.Errors == 0 {
		b.WriteString("errors: none\n")
		return
	}
	b.WriteString("errors:\n")
	for _, op := range res.Ops {
		for _, f := range op.Failures {
			fmt.Fprintf(b, "  %-5s %-32s %8d  e.g. %.100s\n", op.Op, f.Kind, f.Count, oneLine(f.Example))
		}
	}
}

// writeFollow writes the delivery figures and the verification's verdict.
func writeFollow(b *strings.Builder, f *load.Follow) {
	fmt.Fprintf(b, "\nfollow: %d senders and %d followers on %d chats\n", f.Senders, f.Followers, f.Chats)
	fmt.Fprintf(b, "  sends %d, acknowledged %d; deliveries seen %d of %d expected; unacknowledged but seen %d\n",
		f.Sent, f.Acked, f.Delivered, f.Expected, f.UnackedSeen)
	fmt.Fprintf(b, "  followers caught up %.3fs after the senders stopped\n", f.DrainSecs)
	how := "polling"
	if f.WaitMs > 0 {
		how = fmt.Sprintf("long polls of wait_ms %d", f.WaitMs)
	}
	fmt.Fprintf(b, "  follower pulls %d (%s): %.2f per delivered message\n", f.Pulls, how, f.PullsPerMsg)
	d := f.Delivery
	fmt.Fprintf(b, "  delivery latency ms (acknowledgement to follower): p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
		d.P50, d.P90, d.P99, d.P999, d.Max)
	if f.OK {
		b.WriteString("  verification: OK, every follower saw every acknowledged message of its chat exactly once and in order\n")
		return
	}
	if f.Acked == 0 {
		b.WriteString("  verification: FAILED, no send was acknowledged\n")
	}
	if len(f.AnomalyCounts) > 0 {
		kinds := make([]string, 0, len(f.AnomalyCounts))
		for kind, n := range f.AnomalyCounts {
			kinds = append(kinds, fmt.Sprintf("%s %d", kind, n))
		}
		sort.Strings(kinds)
		fmt.Fprintf(b, "  verification: FAILED, anomalies: %s\n", strings.Join(kinds, ", "))
		for i, a := range f.Anomalies {
			if i == maxListedAnomalies {
				fmt.Fprintf(b, "    … and more (see --json)\n")
				break
			}
			fmt.Fprintf(b, "    %s\n", a)
		}
	}
}

// writeReference writes JMeter's Summary Report row.
func writeReference(b *strings.Builder, r *load.Reference) {
	b.WriteString("\nJMeter Summary Report (times in ms)\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "Label\t# Samples\tAverage\tMin\tMax\tStd. Dev.\tError %\tThroughput\t")
	fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f%%\t%.1f/sec\t\n",
		r.Label, r.Samples, r.Average, r.Min, r.Max, r.StdDev, r.ErrorPct, r.Throughput)
	tw.Flush()
}

// oneLine folds s onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
