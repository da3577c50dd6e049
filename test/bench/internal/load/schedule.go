package load

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Schedule says when a run's requests are made: by Workers goroutines, one
// connection each, either back to back (closed loop, Rate 0) or at Rate
// requests per second in total (open loop), for Warmup and then for
// Duration or until Requests measured requests have been made.
type Schedule struct {
	Workers  int
	Start    time.Time
	Warmup   time.Duration
	Duration time.Duration // ignored when Requests > 0
	Requests int64
	Rate     float64
}

// Work makes request number seq on behalf of worker and says how it went.
// seq counts from 0 across all workers.
type Work func(ctx context.Context, worker int, seq int64) Outcome

// Run makes the schedule's requests with do, recording each in rec, and
// returns when they are all done or ctx ends. It marks the end of rec's
// measured window.
//
// In an open loop request seq is intended to start at Start + seq/Rate; a
// worker that falls behind (all workers waiting on a slow server) makes
// its overdue requests at once, and each one's latency counts from its
// intended start. So a stall shows as the latency every request scheduled
// during it suffered, not as one slow request and a gap (no coordinated
// omission).
func (s Schedule) Run(ctx context.Context, rec *Recorder, do Work) {
	var next, measured atomic.Int64
	measureFrom := s.Start.Add(s.Warmup)
	deadline := measureFrom.Add(s.Duration)
	// admit reports whether the schedule has room for a request intended
	// to start at intended, and counts it if it is measured.
	admit := func(intended time.Time) bool {
		if s.Requests == 0 {
			return intended.Before(deadline)
		}
		return intended.Before(measureFrom) || measured.Add(1) <= s.Requests
	}
	var wg sync.WaitGroup
	for w := range s.Workers {
		if s.Rate > 0 {
			wg.Go(func() { s.openWorker(ctx, rec, do, w, &next, admit) })
		} else {
			wg.Go(func() { closedWorker(ctx, rec, do, w, &next, admit) })
		}
	}
	wg.Wait()
	rec.Finish(time.Now())
}

// closedWorker makes requests back to back; each one's latency counts from
// its actual start.
func closedWorker(ctx context.Context, rec *Recorder, do Work, w int, next *atomic.Int64, admit func(time.Time) bool) {
	for ctx.Err() == nil {
		start := time.Now()
		if !admit(start) {
			return
		}
		out := do(ctx, w, next.Add(1)-1)
		rec.Record(w, out, start, time.Now())
	}
}

// openWorker takes the next slot of the shared timetable, waits for its
// intended start if that is still ahead, and makes the request. Slots are
// handed out in time order to whichever worker is free.
func (s Schedule) openWorker(ctx context.Context, rec *Recorder, do Work, w int, next *atomic.Int64,
	admit func(time.Time) bool) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for ctx.Err() == nil {
		seq := next.Add(1) - 1
		intended := s.intendedStart(seq)
		if !admit(intended) {
			return
		}
		if wait := time.Until(intended); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		out := do(ctx, w, seq)
		rec.Record(w, out, intended, time.Now())
	}
}

// intendedStart is when request seq of an open loop should start.
func (s Schedule) intendedStart(seq int64) time.Time {
	return s.Start.Add(time.Duration(math.Round(float64(seq) * float64(time.Second) / s.Rate)))
}
