package rpcclient

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBatchNeverCarriesMoreThanItsBounds(t *testing.T) {
	b := &batcher[int, int]{max: 4, cost: func(n int) int { return n }, maxCost: 10}
	for _, tc := range []struct {
		name  string
		queue []int
		want  int
	}{
		{"Empty", nil, 0},
		{"ByCount", []int{1, 1, 1, 1, 1, 1}, 4},
		{"ByCost", []int{4, 4, 4, 1}, 2},
		{"ExactlyTheCost", []int{5, 5, 1}, 2},
		{"ALoneItemOverTheCostStillGoes", []int{50, 1}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.queue = nil
			for _, in := range tc.queue {
				b.queue = append(b.queue, &pending[int, int]{in: in})
			}
			if got := b.next(); got != tc.want {
				t.Fatalf("next batch: got %d items, want %d", got, tc.want)
			}
		})
	}
}

// goroutineID is the running goroutine's number, from its stack's header.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := strings.Cut(strings.TrimPrefix(string(buf), "goroutine "), " ")
	return id
}

func TestALoneCallIsSentByItsCaller(t *testing.T) {
	var sentBy string
	b := &batcher[int, int]{lanes: 2, max: 8, call: func(_ context.Context, items []int, _, _ []string) []outcome[int] {
		sentBy = goroutineID()
		return []outcome[int]{{out: items[0] * 10}}
	}}
	got, err := b.do(context.Background(), 4, "id", "")
	if err != nil || got != 40 {
		t.Fatalf("do: %v, %v; want 40", got, err)
	}
	if caller := goroutineID(); sentBy != caller {
		t.Fatalf("the lone call was sent by goroutine %s, its caller is %s", sentBy, caller)
	}
	if b.inflight != 0 {
		t.Fatalf("%d lanes in flight after the call, want 0", b.inflight)
	}
}

func TestCallsQueuedBehindALoneCallAreBatched(t *testing.T) {
	release := make(chan struct{})
	sizes := make(chan int, 10)
	b := &batcher[int, int]{lanes: 1, max: 8, call: func(_ context.Context, items []int, _, _ []string) []outcome[int] {
		sizes <- len(items)
		if items[0] == 0 {
			<-release // the lone call holds the only lane
		}
		out := make([]outcome[int], len(items))
		for i, in := range items {
			out[i] = outcome[int]{out: in * 10}
		}
		return out
	}}
	var wg sync.WaitGroup
	results := make([]int, 6)
	wg.Go(func() { results[0], _ = b.do(context.Background(), 0, "", "") })
	if n := <-sizes; n != 1 {
		t.Fatalf("first batch of %d, want the lone call", n)
	}
	for i := 1; i < 6; i++ {
		wg.Go(func() { results[i], _ = b.do(context.Background(), i, "", "") })
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		b.mu.Lock()
		queued := len(b.queue)
		b.mu.Unlock()
		if queued == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued behind the lone one, want 5", queued)
		}
	}
	close(release)
	wg.Wait()
	if n := <-sizes; n != 5 {
		t.Fatalf("the calls queued meanwhile went in a batch of %d, want 5", n)
	}
	for i, r := range results {
		if r != i*10 {
			t.Fatalf("call %d got %d, want %d", i, r, i*10)
		}
	}
	// The lane ends once it finds the queue empty.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		b.mu.Lock()
		inflight := b.inflight
		b.mu.Unlock()
		if inflight == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d lanes in flight long after the calls, want 0", inflight)
		}
	}
}

func TestALoneCallWhoseCallerGaveUpIsNotSent(t *testing.T) {
	b := &batcher[int, int]{lanes: 1, max: 8, call: func(context.Context, []int, []string, []string) []outcome[int] {
		t.Error("a call whose caller had given up was sent")
		return []outcome[int]{{}}
	}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.do(ctx, 1, "", ""); err == nil {
		t.Fatal("do with a context that had ended: no error")
	}
}
