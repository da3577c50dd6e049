package rpcclient

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cloudwego/kitex/client/callopt"
)

// A failed call is retried by the client itself, each attempt a Kitex call
// of its own, rather than by Kitex's failure retry. Kitex v0.16.1 ends an
// attempt at its timeout or at the caller's deadline while the attempt
// goes on in a goroutine of its own, still reading and decoding the answer
// into the attempt's result object; its retryer then copies that same
// object for the caller, a data race whenever a call's last attempt is cut
// off with its answer on the way. Here every attempt has its own arguments
// and result (the generated client's), and the result of an attempt that
// failed is never read: an abandoned attempt shares nothing it writes with
// the caller or with the next attempt.
//
// Retrying is always safe: pulls only read and every send carries a
// client_msg_id (the gateway assigns one when the client gave none). Each
// attempt goes through discovery and the balancer again, so a retry may
// reach another replica, and the per-replica circuit breaker steers it
// away from one that keeps failing.

// Retry policy.
const (
	// maxRetries is the most attempts after a call's first.
	maxRetries = 3
	// A retry waits a random pause in [backoffMin, backoffMax), so that a
	// replica that is restarting gets a moment.
	backoffMin, backoffMax = 5 * time.Millisecond, 50 * time.Millisecond
	// Retries stop while at least retryBreakerRate of the attempts of the
	// last retryWindow failed (once there are retryBreakerSamples of them):
	// a service that fails that broadly is not helped by more load. 30%
	// still retries through the loss of one of a few replicas.
	retryBreakerRate    = 0.3
	retryBreakerSamples = 10
	retryWindow         = 10 * time.Second
)

// attempt makes one Kitex call on ctx with opts.
type attempt[T any] func(ctx context.Context, opts ...callopt.Option) (T, error)

// call makes a call to the service on behalf of the caller of ctx: try, on
// the outgoing context, repeated as the retry policy allows. Each attempt
// carries the time the caller still waits (deadlineOption). The error is
// the last attempt's, unmapped.
func call[T any](c *Client, ctx context.Context, try attempt[T]) (T, error) {
	out := c.outgoing(ctx)
	return retried(c, ctx, func() (T, error) { return try(out, deadlineOption(ctx, c.timeout)...) })
}

// callWaiting is call for a waiting call (see waitCall): its attempts go
// without a Kitex timeout on a context that never ends, and the end of
// ctx closes the connection the current one waits on.
func callWaiting[T any](c *Client, ctx context.Context, try attempt[T]) (T, error) {
	w := new(waitCall)
	stop := context.AfterFunc(ctx, w.end)
	defer func() {
		w.finish()
		stop()
	}()
	out := context.WithValue(context.WithoutCancel(c.outgoing(ctx)), waitCallKey{}, w)
	return retried(c, ctx, func() (T, error) { return try(out) })
}

// retried makes attempts of a call on behalf of the caller of ctx, as the
// retry policy allows, and returns the last one's outcome.
func retried[T any](c *Client, ctx context.Context, attempt func() (T, error)) (T, error) {
	for retries := 0; ; retries++ {
		resp, err := attempt()
		c.failures.record(err)
		if err == nil || retries == maxRetries || !worthRetrying(ctx, err) || c.failures.tooHigh() || !pause(ctx) {
			return resp, err
		}
	}
}

// worthRetrying reports whether a failed attempt is worth another: not
// when its caller (or, in a batch, every caller) has stopped waiting.
func worthRetrying(ctx context.Context, err error) bool {
	return ctx.Err() == nil && !errors.Is(err, errCallersGone)
}

// pause waits before a retry; it reports false if ctx ended meanwhile.
func pause(ctx context.Context) bool {
	t := time.NewTimer(backoffMin + rand.N(backoffMax-backoffMin))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// failureRate counts the attempts, and the failed ones, over the last
// retryWindow, in one-second buckets.
type failureRate struct {
	now func() time.Time // time.Now but in tests

	mu      sync.Mutex
	buckets [retryWindow / time.Second]rateBucket
}

type rateBucket struct {
	second             int64 // Unix second it counts; older counts are stale
	attempts, failures int64
}

// record counts an attempt that ended with err. An attempt that no caller
// waited for (errCallersGone) says nothing about the service.
func (f *failureRate) record(err error) {
	if errors.Is(err, errCallersGone) {
		return
	}
	now := f.now().Unix()
	f.mu.Lock()
	defer f.mu.Unlock()
	b := &f.buckets[now%int64(len(f.buckets))]
	if b.second != now {
		*b = rateBucket{second: now}
	}
	b.attempts++
	if err != nil {
		b.failures++
	}
}

// tooHigh reports whether retries should stop: at least retryBreakerRate
// of at least retryBreakerSamples attempts in the window failed.
func (f *failureRate) tooHigh() bool {
	now := f.now().Unix()
	f.mu.Lock()
	defer f.mu.Unlock()
	var attempts, failures int64
	for _, b := range f.buckets {
		if now-b.second < int64(len(f.buckets)) {
			attempts += b.attempts
			failures += b.failures
		}
	}
	return attempts >= retryBreakerSamples && float64(failures) >= retryBreakerRate*float64(attempts)
}
