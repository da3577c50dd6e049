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
	"testing"
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
