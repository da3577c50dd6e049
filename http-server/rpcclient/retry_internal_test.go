package rpcclient

import (
	"errors"
	"testing"
	"time"
)

func TestFailureRate(t *testing.T) {
	clock := time.Unix(1_000_000, 0)
	newRate := func() *failureRate { return &failureRate{now: func() time.Time { return clock }} }
	failed := errors.New("the replica is lost")
	record := func(f *failureRate, ok, failures int) {
		for range ok {
			f.record(nil)
		}
		for range failures {
			f.record(failed)
		}
	}

	t.Run("RetriesWhileFewerThanThirtyPercentFail", func(t *testing.T) {
		f := newRate()
		record(f, 8, 3) // 27%
		if f.tooHigh() {
			t.Fatal("retries stopped at 3 failures in 11 attempts")
		}
		record(f, 0, 1) // 33%
		if !f.tooHigh() {
			t.Fatal("retries go on at 4 failures in 12 attempts")
		}
	})
	t.Run("TooFewAttemptsNeverStopRetries", func(t *testing.T) {
		f := newRate()
		record(f, 0, retryBreakerSamples-1)
		if f.tooHigh() {
			t.Fatalf("retries stopped after %d attempts", retryBreakerSamples-1)
		}
	})
	t.Run("OldAttemptsAreForgotten", func(t *testing.T) {
		f := newRate()
		record(f, 0, 20)
		defer func(start time.Time) { clock = start }(clock)
		clock = clock.Add(retryWindow - time.Second)
		if !f.tooHigh() {
			t.Fatal("failures forgotten before the window passed")
		}
		record(f, 1, 0)
		clock = clock.Add(time.Second)
		if f.tooHigh() {
			t.Fatal("failures older than the window still stop retries")
		}
	})
	t.Run("AttemptsNoCallerAwaitedDoNotCount", func(t *testing.T) {
		f := newRate()
		for range 20 {
			f.record(errCallersGone)
		}
		record(f, 10, 0)
		if f.tooHigh() {
			t.Fatal("attempts no caller awaited counted as failures")
		}
	})
}

// BenchmarkFailureRate is the retry breaker's cost on every attempt of
// every call, from many goroutines at once.
func BenchmarkFailureRate(b *testing.B) {
	f := &failureRate{now: time.Now}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			f.record(nil)
		}
	})
}
