package kitexrpc

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// goroutineID is the running goroutine's number, from its stack's header.
func goroutineID() uint64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	buf, _, _ = bytes.Cut(bytes.TrimPrefix(buf, []byte("goroutine ")), []byte(" "))
	id, _ := strconv.ParseUint(string(buf), 10, 64)
	return id
}

func TestWorkersReuseAGoroutine(t *testing.T) {
	w := newWorkers(4, time.Minute)
	ids := make(map[uint64]bool)
	for range 100 {
		done := make(chan uint64)
		w.run(func() { done <- goroutineID() })
		ids[<-done] = true
		// Give the worker time to wait again (if it has not, run starts
		// another goroutine, which the bound below allows for).
		time.Sleep(time.Millisecond)
	}
	if len(ids) > 10 {
		t.Fatalf("100 functions run one after another ran on %d goroutines, want a few", len(ids))
	}
}

func TestWorkersKeepAtMostMaxIdleAndExitWhenIdle(t *testing.T) {
	w := newWorkers(3, 50*time.Millisecond)
	release := make(chan struct{})
	var started, finished sync.WaitGroup
	for range 10 {
		started.Add(1)
		finished.Add(1)
		w.run(func() {
			defer finished.Done()
			started.Done()
			<-release
		})
	}
	started.Wait() // ten at once: ten goroutines
	close(release)
	finished.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for w.idle.Load() != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers wait after ten finished, want 3 (maxIdle)", w.idle.Load())
		}
		time.Sleep(time.Millisecond)
	}
	for w.idle.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers still wait long after idleFor", w.idle.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// deep grows the stack by about n KiB, as the embedded store's reads do.
//
//go:noinline
func deep(n int) byte {
	var pad [1000]byte
	pad[n%1000] = byte(n)
	if n == 0 {
		return pad[0]
	}
	return deep(n-1) + pad[n%1000]
}

// BenchmarkDeepItem runs a function that needs a 32 KiB stack, the way a
// batch ran its items before workers (a goroutine each) and now.
func BenchmarkDeepItem(b *testing.B) {
	item := func() { deep(24) }
	b.Run("GoroutineEach", func(b *testing.B) {
		var wg sync.WaitGroup
		for b.Loop() {
			wg.Go(item)
			wg.Wait()
		}
	})
	b.Run("Workers", func(b *testing.B) {
		w := newWorkers(4, time.Minute)
		var wg sync.WaitGroup
		for b.Loop() {
			wg.Add(1)
			w.run(func() {
				defer wg.Done()
				item()
			})
			wg.Wait()
		}
	})
}

func TestBatchItemThatPanicsIsAnsweredAlone(t *testing.T) {
	h := &Handler{log: slog.New(slog.NewTextHandler(io.Discard, nil)), obs: noObserver{}, work: newWorkers(4, time.Minute)}
	items := []int{0, 1, 2, 3, 4}
	out, code, _ := runBatch(h, context.Background(), items, nil, nil,
		func(_ context.Context, i int, _ string, item int) (string, error) {
			if item == 2 {
				panic("boom")
			}
			return "ok" + strconv.Itoa(item), nil
		},
		func(code int32, msg string) string { return "failed " + strconv.Itoa(int(code)) })
	if code != 0 {
		t.Fatalf("batch code %d, want 0", code)
	}
	want := []string{"ok0", "ok1", "failed " + strconv.Itoa(int(pigeonhole.CodeInternal.Number())), "ok3", "ok4"}
	if !slices.Equal(out, want) {
		t.Fatalf("answers %q, want %q", out, want)
	}
}
