package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// stallingServer answers /ping at once, except that the first request
// arriving stallAfter or more after start makes every request arriving in
// the next stallFor wait until that stall is over: a server that stalls
// once, as on a long fsync or a GC pause.
func stallingServer(t *testing.T, start *time.Time, stallAfter, stallFor time.Duration) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	var stallUntil time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		now := time.Now()
		if stallUntil.IsZero() && now.Sub(*start) >= stallAfter {
			stallUntil = now.Add(stallFor)
		}
		until := stallUntil
		mu.Unlock()
		if now.Before(until) {
			time.Sleep(until.Sub(now))
		}
		w.Write([]byte(`{"message":"pong"}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// pingWork pings srv.
func pingWork(c *Client) Work {
	return func(ctx context.Context, _ int, _ int64) Outcome {
		return Outcome{Op: OpPing, Err: c.Ping(ctx)}
	}
}

// atLeast reports how many recorded latencies are at least d, to within
// the histogram's precision, by testing the n-th largest for each n.
func atLeast(rec *Recorder, d time.Duration) int {
	h := rec.Histogram(OpPing)
	n := int(h.Count())
	for k := n; k > 0; k-- {
		// The k-th largest of n is the (n-k+1)-th smallest.
		if time.Duration(h.ValueAt(float64(n-k+1)/float64(n))) >= d {
			return k
		}
	}
	return 0
}

func TestScheduleOpenLoop(t *testing.T) {
	// A modest rate, so that the test holds on a small machine busy with
	// other packages' tests: its bounds only get easier when the
	// generator falls behind, since lateness only adds latency.
	const (
		rate       = 200.0
		stallAfter = 300 * time.Millisecond
		stallFor   = 200 * time.Millisecond
	)
	t.Run("RequestsScheduledDuringAStallCountItsLength", func(t *testing.T) {
		var start time.Time
		srv := stallingServer(t, &start, stallAfter, stallFor)
		client := NewClient(srv.URL, 8, 5*time.Second)
		defer client.Close()
		start = time.Now()
		rec := NewRecorder(start, 0, time.Second)
		Schedule{Workers: 8, Start: start, Duration: time.Second, Rate: rate}.Run(context.Background(), rec, pingWork(client))
		if f := rec.Failures(OpPing); len(f) != 0 {
			t.Fatalf("failures: %v", f)
		}
		h := rec.Histogram(OpPing)
		t.Logf("%d requests, max %v, %d took %v or more", h.Count(), time.Duration(h.Max()), atLeast(rec, stallFor/2), stallFor/2)
		// The request that set the stall off waited all of it.
		if got, want := time.Duration(h.Max()), stallFor; got < want {
			t.Fatalf("max latency %v, want at least the stall's %v", got, want)
		}
		// Every request scheduled in the first half of the stall finished
		// after it ended, so its latency is at least half the stall,
		// although in a closed loop none of them would have been sent
		// until the stall was over (coordinated omission).
		if got, want := atLeast(rec, stallFor/2), int(rate*(stallFor/2).Seconds())-1; got < want {
			t.Fatalf("%d requests took %v or more, want at least %d", got, stallFor/2, want)
		}
		if got, want := h.Count(), uint64(rate); got != want {
			t.Fatalf("%d requests in 1s at %v/s, want %d", got, rate, want)
		}
	})
}

func TestScheduleRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"message":"pong"}`))
	}))
	defer srv.Close()
	client := NewClient(srv.URL, 4, 5*time.Second)
	defer client.Close()
	for _, rate := range []float64{0, 2000} {
		start := time.Now()
		rec := NewRecorder(start, 50*time.Millisecond, 0)
		Schedule{Workers: 4, Start: start, Warmup: 50 * time.Millisecond, Requests: 137, Rate: rate}.
			Run(context.Background(), rec, pingWork(client))
		if got, want := rec.Histogram(OpPing).Count(), uint64(137); got != want {
			t.Errorf("rate %v: measured %d requests, want %d", rate, got, want)
		}
		if done, _ := rec.counters(); done <= 137 {
			t.Errorf("rate %v: %d requests in all, want the warm-up's on top of 137", rate, done)
		}
	}
}
