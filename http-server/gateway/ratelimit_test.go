package gateway_test

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
)

// fakeClock is a settable clock for the rate limits.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestRateLimit(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	e := newAuthEngine(t, gateway.Config{
		SendLimit: gateway.Limit{Rate: 0.5, Burst: 2},
		PullLimit: gateway.Limit{Rate: 100, Burst: 200},
		Now:       clk.Now,
	})
	a1, a2 := header("Authorization", bearer(mustToken(t, "a1", time.Hour))), header("Authorization", bearer(mustToken(t, "a2", time.Hour)))
	const send = "/api/send?chat=a1:a2&text=hi"

	for i := range 2 {
		w := perform(e, "POST", send, "", a1)
		if w.Code != 200 {
			t.Fatalf("send %d: got %d %s", i, w.Code, w.Body.String())
		}
		if got, want := string(w.Header().Peek("RateLimit-Policy")), `"send";q=2;w=4`; got != want {
			t.Fatalf("RateLimit-Policy: got %q, want %q", got, want)
		}
		if got, want := string(w.Header().Peek("RateLimit")), `"send";r=`+strconv.Itoa(1-i)+`;t=`+strconv.Itoa(2*(i+1)); got != want {
			t.Fatalf("RateLimit after send %d: got %q, want %q", i, got, want)
		}
	}
	t.Run("OverTheLimitIs429", func(t *testing.T) {
		w := perform(e, "POST", send, "", a1)
		assertError(t, w, 429, "rate_limited")
		if got, want := string(w.Header().Peek("Retry-After")), "2"; got != want {
			t.Fatalf("Retry-After: got %q, want %q", got, want)
		}
	})
	t.Run("OtherCallersHaveTheirOwnBucket", func(t *testing.T) {
		mustSend(t, e, send, "", a2)
	})
	t.Run("PullsHaveTheirOwnBucket", func(t *testing.T) {
		mustPull(t, e, "GET", "/api/pull?chat=a1:a2", "", a1)
	})
	t.Run("RecoversAfterRetryAfter", func(t *testing.T) {
		clk.Advance(time.Second)
		assertError(t, perform(e, "POST", send, "", a1), 429, "rate_limited")
		clk.Advance(time.Second)
		mustSend(t, e, send, "", a1)
	})
	t.Run("UnauthenticatedRequestsSpendNothing", func(t *testing.T) {
		for range 5 {
			assertError(t, perform(e, "POST", send, ""), 401, "unauthenticated")
		}
	})
}

func TestRateLimitByAddressWithoutAuth(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	e := newEngine(t, mustService(t), gateway.Config{PullLimit: gateway.Limit{Rate: 1, Burst: 1}, Now: clk.Now})
	mustPull(t, e, "GET", "/api/pull?chat=a1:a2", "")
	w := perform(e, "GET", "/api/pull?chat=a3:a4", "")
	assertError(t, w, 429, "rate_limited")
	if got, want := string(w.Header().Peek("Retry-After")), "1"; got != want {
		t.Fatalf("Retry-After: got %q, want %q", got, want)
	}
}
