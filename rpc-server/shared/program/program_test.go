package program_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/envflag"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/program"
)

func TestSettings(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })

	env := map[string]string{"PIGEONHOLE_LOG_LEVEL": "warn", "PIGEONHOLE_MEMORY_LIMIT_MIB": "64"}
	getenv := func(k string) string { return env[k] }
	var s program.Settings
	fs := envflag.New("test", getenv, io.Discard)
	s.Define(fs)
	if err := fs.Parse([]string{"--exit-wait", "2s"}); err != nil {
		t.Fatal(err)
	}
	if s.LogLevel != slog.LevelWarn || s.MemoryLimitMiB != 64 || s.ExitWait != 2*time.Second {
		t.Fatalf("got %+v", s)
	}
	var out bytes.Buffer
	log := s.Start(getenv, &out)
	if got := debug.SetMemoryLimit(-1); got != 64<<20 {
		t.Fatalf("memory limit: got %d, want %d", got, 64<<20)
	}
	log.Info("hidden")
	log.Warn("shown")
	if strings.Contains(out.String(), "hidden") || !strings.Contains(out.String(), `"msg":"shown"`) {
		t.Fatalf("log: %s", out.String())
	}

	// GOMEMLIMIT, set by the operator, wins over the flag.
	debug.SetMemoryLimit(math.MaxInt64)
	env["GOMEMLIMIT"] = "1GiB"
	s.Start(getenv, io.Discard)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("memory limit with GOMEMLIMIT set: got %d, want it untouched", got)
	}
}

func TestServeProfiles(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := (program.Settings{}).ServeProfiles(t.Context(), log); err != nil {
		t.Fatalf("off: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(t.Context())
	if err := (program.Settings{PprofAddr: addr}).ServeProfiles(ctx, log); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "goroutine profile") {
		t.Fatalf("goroutine profile: %d %.100s", resp.StatusCode, body)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := http.Get("http://" + addr + "/debug/pprof/"); err != nil {
			break // closed with its context
		}
		if time.Now().After(deadline) {
			t.Fatal("profiles still served after the context ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestGrowMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(100 << 20)) // as Start sets it
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int64
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			program.Settings{MemoryLimitMiB: 100}.GrowMemoryLimit(ctx, func(string) string { return "" }, 1<<20, n.Load)
		}()
		for _, waiting := range []int64{0, 10, 3} {
			n.Store(waiting)
			time.Sleep(time.Second)
			synctest.Wait()
			if got, want := debug.SetMemoryLimit(-1), (100+waiting)<<20; got != want {
				t.Fatalf("%d waiting: limit %d MiB, want %d MiB", waiting, got>>20, want>>20)
			}
		}
		cancel()
		<-done
	})
	// No limit, or GOMEMLIMIT: nothing to grow.
	before := debug.SetMemoryLimit(-1)
	program.Settings{}.GrowMemoryLimit(t.Context(), func(string) string { return "" }, 1<<20, func() int64 { return 10 })
	program.Settings{MemoryLimitMiB: 100}.GrowMemoryLimit(t.Context(), func(string) string { return "1GiB" }, 1<<20, func() int64 { return 10 })
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Fatalf("limit changed to %d without a limit of its own", got)
	}
}
