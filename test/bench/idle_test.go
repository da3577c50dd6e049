package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// idleWaiters is how many long polls BenchmarkIdleLongPolls holds, unless
// PIGEONHOLE_IDLE_WAITERS says otherwise.
const idleWaiters = 10_000

// idleWindow is how long it measures: one --max-wait (the default), so
// that every waiter's expiry and new poll falls in the window once.
const idleWindow = 30 * time.Second

// BenchmarkIdleLongPolls holds idleWaiters long polls (wait_ms 30000), each
// on a chat of its own, through one gateway and one replica on the
// embedded store, with nothing sent; each poll that expires polls again.
// Once all wait, it measures the CPU both servers use together, in percent
// of one core: %cpu-waiting until the first poll expires (holding the
// waits only), then %cpu-both over idleWindow (every poll expires and is
// renewed once in it); and each one's RSS at the end. Run it without
// -race (a race build measures the detector):
//
//	go test -run '^$' -bench IdleLongPolls -benchtime 1x ./test/bench
func BenchmarkIdleLongPolls(b *testing.B) {
	if harness.RaceEnabled {
		b.Skip("servers built with -race measure the detector")
	}
	// Each waiter holds a socket in this process and one in the gateway
	// (the gateway's waiting calls share a few connections to the
	// replica): where the open-file limit cannot be raised far enough,
	// fewer waiters are held.
	want := idleWaiters
	if v := os.Getenv("PIGEONHOLE_IDLE_WAITERS"); v != "" {
		var err error
		if want, err = strconv.Atoi(v); err != nil || want < 1 {
			b.Fatalf("PIGEONHOLE_IDLE_WAITERS=%q: want a positive number", v)
		}
	}
	limit := raiseOpenFiles(uint64(want + 500))
	waiters := min(want, int(limit)-500)
	if waiters < want/2 {
		b.Skipf("%d open files per process hold only %d waiters", limit, waiters)
	}
	b.Logf("%d long polls (open-file limit %d)", waiters, limit)
	// PIGEONHOLE_IDLE_PROFILE=dir keeps CPU profiles of both servers,
	// taken over the quiet window and over the window of renewals
	// (*.window.pprof), their heap profiles and goroutines at
	// the end, and the runtime's memory figures (heap?debug=1) at both, in
	// dir.
	profiles := os.Getenv("PIGEONHOLE_IDLE_PROFILE")
	var rpcArgs, gwArgs []string
	// PIGEONHOLE_IDLE_MEMORY_LIMIT_MIB=n runs both servers with
	// --memory-limit-mib n instead of their default.
	var limitArgs []string
	if v := os.Getenv("PIGEONHOLE_IDLE_MEMORY_LIMIT_MIB"); v != "" {
		limitArgs = []string{"--memory-limit-mib", v}
	}
	if profiles != "" {
		for _, args := range []*[]string{&rpcArgs, &gwArgs} {
			addr, err := harness.FreeAddr()
			if err != nil {
				b.Fatal(err)
			}
			*args = []string{"--pprof-addr", addr}
		}
	}
	rpc := harness.StartRPCServer(b, harness.RPCOptions{ExtraArgs: append(rpcArgs, limitArgs...)})
	gw := harness.StartGateway(b, harness.GatewayOptions{Services: []string{rpc.Addr},
		ExtraArgs: append(append([]string{"--max-waiters", strconv.Itoa(waiters)}, gwArgs...), limitArgs...)})
	client := &http.Client{
		Timeout:   time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: waiters, DisableCompression: true},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var polls, failures atomic.Int64
	first := time.Now() // the first poll's start: no poll expires before first+30s
	for i := range waiters {
		url := fmt.Sprintf("%s/api/pull?chat=idle%d:peer&wait_ms=30000", gw.URL, i)
		go func() {
			for ctx.Err() == nil {
				polls.Add(1)
				if err := getDiscard(ctx, client, url); err != nil && ctx.Err() == nil {
					failures.Add(1)
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
		if i%50 == 49 {
			time.Sleep(50 * time.Millisecond) // 1,000 new waiters a second
		}
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		waiting, err := scrapeGauge(client, gw.MetricsURL, "pigeonhole_waiting_pulls")
		if err == nil && int(waiting) == waiters {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%v of %d long polls waiting after 2 minutes (%v; %d failed polls)", waiting, waiters, err, failures.Load())
		}
	}
	// Between the last poll's start and the first one's expiry, nobody
	// polls: the servers only hold the waits (and look for new messages).
	quiet := time.Until(first.Add(30*time.Second)) - time.Second
	if quiet < 5*time.Second {
		b.Fatalf("the polls took %v to start: no quiet window before they expire", time.Since(first))
	}
	if profiles != "" {
		// The runtime's memory figures with every waiter's first poll
		// waiting (before any renewal).
		saveProfile(b, rpcArgs[1], "heap?debug=1", filepath.Join(profiles, "rpc-server.first.heap.txt"))
		saveProfile(b, gwArgs[1], "heap?debug=1", filepath.Join(profiles, "http-server.first.heap.txt"))
	}
	pollsBefore, before := polls.Load(), cpuTime(b, rpc.PID())+cpuTime(b, gw.PID())
	if profiles != "" {
		cpu := fmt.Sprintf("profile?seconds=%d", int(quiet.Seconds())-1)
		go saveProfile(b, rpcArgs[1], cpu, filepath.Join(profiles, "rpc-server.pprof"))
		go saveProfile(b, gwArgs[1], cpu, filepath.Join(profiles, "http-server.pprof"))
	}
	time.Sleep(quiet)
	waitingPercent := 100 * (cpuTime(b, rpc.PID()) + cpuTime(b, gw.PID()) - before).Seconds() / quiet.Seconds()
	if n := polls.Load() - pollsBefore; n != 0 {
		b.Fatalf("%d new polls in the quiet window", n)
	}
	b.Logf("quiet window of %v: %.1f%% of a core", quiet.Round(time.Second), waitingPercent)
	b.ResetTimer()
	var cpuPercent float64
	for range b.N {
		pollsBefore, before := polls.Load(), cpuTime(b, rpc.PID())+cpuTime(b, gw.PID())
		var windowProfiles sync.WaitGroup
		if profiles != "" {
			cpu := fmt.Sprintf("profile?seconds=%d", int(idleWindow.Seconds())-2)
			windowProfiles.Go(func() { saveProfile(b, rpcArgs[1], cpu, filepath.Join(profiles, "rpc-server.window.pprof")) })
			windowProfiles.Go(func() { saveProfile(b, gwArgs[1], cpu, filepath.Join(profiles, "http-server.window.pprof")) })
		}
		time.Sleep(idleWindow)
		cpuPercent = 100 * (cpuTime(b, rpc.PID()) + cpuTime(b, gw.PID()) - before).Seconds() / idleWindow.Seconds()
		windowProfiles.Wait()
		if profiles != "" {
			saveProfile(b, rpcArgs[1], "heap", filepath.Join(profiles, "rpc-server.heap.pprof"))
			saveProfile(b, gwArgs[1], "heap", filepath.Join(profiles, "http-server.heap.pprof"))
			// The text form ends with the runtime's MemStats: stacks,
			// heap in use and what was returned to the system.
			saveProfile(b, rpcArgs[1], "heap?debug=1", filepath.Join(profiles, "rpc-server.heap.txt"))
			saveProfile(b, gwArgs[1], "heap?debug=1", filepath.Join(profiles, "http-server.heap.txt"))
			saveProfile(b, rpcArgs[1], "goroutine?debug=1", filepath.Join(profiles, "rpc-server.goroutines.txt"))
			saveProfile(b, gwArgs[1], "goroutine?debug=1", filepath.Join(profiles, "http-server.goroutines.txt"))
		}
		b.Logf("%d new polls in the window", polls.Load()-pollsBefore)
	}
	b.StopTimer()
	b.ReportMetric(float64(waiters), "waiters")
	b.ReportMetric(waitingPercent, "%cpu-waiting")
	b.ReportMetric(cpuPercent, "%cpu-both")
	b.ReportMetric(rssMiB(b, rpc.PID()), "MiB-rss-replica")
	b.ReportMetric(rssMiB(b, gw.PID()), "MiB-rss-gateway")
	if n := failures.Load(); n > 0 {
		b.Errorf("%d long polls failed", n)
	}
	cancel()
}

// saveProfile saves to path the profile (a path under /debug/pprof/) of
// the server whose profiling endpoints listen on addr.
func saveProfile(tb testing.TB, addr, profile, path string) {
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/%s", addr, profile))
	if err != nil {
		tb.Errorf("profile of %s: %v", addr, err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err == nil {
		_, err = io.Copy(f, resp.Body)
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		tb.Errorf("profile of %s: %v", addr, err)
	}
}

// getDiscard GETs url and reads the answer, which must be 200.
func getDiscard(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// scrapeGauge reads one unlabelled sample from a Prometheus text page.
func scrapeGauge(client *http.Client, url, name string) (float64, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %s", url, name)
}

// raiseOpenFiles lifts this process's open-file limit towards n, for it
// and the servers it starts (they inherit it), and returns the limit.
func raiseOpenFiles(n uint64) uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Cur < n {
		want := lim
		want.Cur, want.Max = n, max(lim.Max, n)
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) == nil {
			return n
		}
		lim.Cur = max(lim.Cur, min(lim.Max, n))
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
			syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		}
	}
	return lim.Cur
}

// cpuTime is the user and system CPU time process pid has used.
func cpuTime(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// The fields after the command (which may hold spaces) start at state.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}

// rssMiB is process pid's resident set size in MiB.
func rssMiB(tb testing.TB, pid int) float64 {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kib / 1024
		}
	}
	tb.Fatalf("no VmRSS for pid %d", pid)
	return 0
}
