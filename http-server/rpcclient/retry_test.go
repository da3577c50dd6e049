package rpcclient_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/pkg/endpoint"
	"github.com/cloudwego/kitex/server"

	"github.com/pigeonhole-im/pigeonhole/http-server/rpcclient"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// serverMW is a server middleware that runs before for every request the
// service receives; before's error, if any, fails the RPC instead. A
// request before holds is still answered once let go, even past its
// deadline.
func serverMW(before func(ctx context.Context) error) server.Option {
	return server.WithMiddleware(func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req, resp any) error {
			if err := before(ctx); err != nil {
				return err
			}
			return next(context.WithoutCancel(ctx), req, resp)
		}
	})
}

// TestFailedCallsAreRetriedThreeTimes fails every attempt on the service:
// a call is tried once and retried three times, then fails unavailable.
func TestFailedCallsAreRetriedThreeTimes(t *testing.T) {
	for _, maxBatch := range []int{1, 16} {
		t.Run(fmt.Sprintf("MaxBatch=%d", maxBatch), func(t *testing.T) {
			svc := startService(t, serverMW(func(context.Context) error { return errors.New("the replica is lost mid-call") }))
			obs := &attempts{}
			c, err := rpcclient.New(rpcclient.Config{Addrs: []string{svc.addr}, Timeout: 2 * time.Second, Observer: obs, MaxBatch: maxBatch})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Pull(context.Background(), pigeonhole.PullRequest{Chat: "a:b"})
			if got, want := pigeonhole.ErrorCode(err), pigeonhole.CodeUnavailable; got != want {
				t.Fatalf("got %s (%v), want %s", got, err, want)
			}
			obs.mu.Lock()
			defer obs.mu.Unlock()
			ok := len(obs.calls) == 4
			for i, a := range obs.calls {
				ok = ok && strings.HasSuffix(a, fmt.Sprintf("retry=%v err=true", i > 0))
			}
			if !ok {
				t.Fatalf("attempts: %s; want a first and 3 retries, all failed", strings.Join(obs.calls, "; "))
			}
		})
	}
}

// TestCallerWhoLeavesEndsTheCall has the caller give up as the service
// takes an attempt (the first, or the last after three failed ones): the
// call returns at once, is not retried, and the answer that
// comes later is read by the abandoned attempt alone. Kitex's own retry
// copied that attempt's result for the caller while the answer was being
// decoded into it; the race detector checks that nothing else touches it.
func TestCallerWhoLeavesEndsTheCall(t *testing.T) {
	for _, maxBatch := range []int{1, 16} {
		for _, failFirst := range []int{0, 3} {
			t.Run(fmt.Sprintf("MaxBatch=%d/FailFirst=%d", maxBatch, failFirst), func(t *testing.T) {
				testCallerWhoLeaves(t, maxBatch, failFirst)
			})
		}
	}
}

func testCallerWhoLeaves(t *testing.T, maxBatch, failFirst int) {
	// The service makes the caller leave as it takes the attempt, then
	// answers: the answer comes late, and nothing the caller does after the
	// call returns happens before it.
	ctx, leave := context.WithCancel(context.Background())
	defer leave()
	// returned is closed once the call has returned: the service holds its
	// answer until then, so the answer can never beat the caller's leaving
	// (if the call wrongly waits for it, the test fails after the hold).
	returned := make(chan struct{})
	var mu sync.Mutex
	received := 0
	svc := startService(t, serverMW(func(context.Context) error {
		mu.Lock()
		received++
		n := received
		mu.Unlock()
		switch {
		case n <= failFirst:
			return errors.New("the replica is lost mid-call")
		case n == failFirst+1:
			leave()
			select {
			case <-returned:
			case <-time.After(5 * time.Second):
			}
		}
		return nil
	}))
	// read is told when each attempt has read its answer (or failed).
	read := make(chan error, failFirst+1)
	obs := &attempts{}
	c, err := rpcclient.New(rpcclient.Config{
		Addrs: []string{svc.addr}, Timeout: 10 * time.Second, Observer: obs, MaxBatch: maxBatch,
		Options: []client.Option{client.WithMiddleware(func(next endpoint.Endpoint) endpoint.Endpoint {
			return func(ctx context.Context, req, resp any) error {
				err := next(ctx, req, resp)
				read <- err
				return err
			}
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Pull(ctx, pigeonhole.PullRequest{Chat: "a:b"})
	close(returned)
	if got, want := pigeonhole.ErrorCode(err), pigeonhole.CodeDeadlineExceeded; got != want {
		t.Fatalf("got %s (%v), want %s", got, err, want)
	}
	for i := range failFirst + 1 {
		select {
		case err := <-read:
			if (err == nil) != (i == failFirst) {
				t.Fatalf("attempt %d: %v; want %d failed ones, then the abandoned one reading its answer", i, err, failFirst)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("attempt %d never ended", i)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if received != failFirst+1 {
		t.Fatalf("the service received %d attempts; want %d, none after the caller left", received, failFirst+1)
	}
}
