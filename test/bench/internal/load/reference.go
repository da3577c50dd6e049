package load

import (
	"context"
	"math"
	"sync"
	"time"
)

// ReferenceBody is the send of the original assignment's JMeter plan
// (test/load-testing.jmx), byte for byte.
const ReferenceBody = `{"chat":"stress1:stress2","text":"test a decently long message to see 2","sender":"stress1"}`

// referenceSender is the sender of ReferenceBody.
const referenceSender = "stress1"

// Reference is the reference scenario's figures in the columns of
// JMeter's Summary Report. Times are in milliseconds.
type Reference struct {
	Label      string  `json:"label"`
	Samples    int64   `json:"samples"`
	Average    float64 `json:"average_ms"`
	Min        float64 `json:"min_ms"`
	Max        float64 `json:"max_ms"`
	StdDev     float64 `json:"std_dev_ms"`
	ErrorPct   float64 `json:"error_pct"`
	Throughput float64 `json:"throughput_per_sec"`
}

// sample is one JMeter-style sample: a request's start and elapsed time.
type sample struct {
	start   time.Time
	elapsed time.Duration
	failed  bool
}

// reference replays the original assignment's JMeter plan: Concurrency
// threads (20 by default), thread i starting at i×RampUp/threads, each
// making Loops (10) sends of ReferenceBody back to back. Like JMeter it
// counts failed samples in the averages, and its throughput is samples
// over the time from the first sample's start to the last one's end. It
// uses only the original API: a 200 is a success. Duration, Requests, Rate
// and Warmup do not apply.
func (r *runner) reference(ctx context.Context) (*Result, error) {
	threads := r.opts.Concurrency
	body := []byte(ReferenceBody)
	start := time.Now()
	rec := NewRecorder(start, 0, 0)
	prog := startProgress(rec, r.progress, nil)
	samples := make([][]sample, threads)
	var wg sync.WaitGroup
	for t := range threads {
		wg.Go(func() {
			sleep(ctx, time.Duration(t)*r.opts.RampUp/time.Duration(threads))
			for range r.opts.Loops {
				if ctx.Err() != nil {
					return
				}
				begin := time.Now()
				err := r.client.Send(ctx, referenceSender, body, nil)
				end := time.Now()
				rec.Record(t, Outcome{Op: OpSend, Err: err}, begin, end)
				samples[t] = append(samples[t], sample{start: begin, elapsed: end.Sub(begin), failed: err != nil})
			}
		})
	}
	wg.Wait()
	rec.Finish(time.Now())
	res := newResult(r.opts, rec, prog.Stop(), OpSend)
	res.Reference = summarise(samples)
	return res, nil
}

// summarise computes JMeter's Summary Report row from samples.
func summarise(threads [][]sample) *Reference {
	ref := &Reference{Label: "HTTP Request /api/send"}
	var first, last time.Time
	var sum, sumSq float64
	var failed int64
	ref.Min = math.Inf(1)
	for _, samples := range threads {
		for _, s := range samples {
			v := ms(float64(s.elapsed))
			ref.Samples++
			sum += v
			sumSq += v * v
			ref.Min = min(ref.Min, v)
			ref.Max = max(ref.Max, v)
			if s.failed {
				failed++
			}
			if first.IsZero() || s.start.Before(first) {
				first = s.start
			}
			if end := s.start.Add(s.elapsed); end.After(last) {
				last = end
			}
		}
	}
	if ref.Samples == 0 {
		ref.Min = 0
		return ref
	}
	n := float64(ref.Samples)
	ref.Average = sum / n
	ref.StdDev = math.Sqrt(max(sumSq/n-ref.Average*ref.Average, 0))
	ref.ErrorPct = 100 * float64(failed) / n
	ref.Throughput = perSecond(ref.Samples, last.Sub(first))
	return ref
}
