package e2e

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// scriptStartTimeout covers run.sh's own build, which may have to link.
const scriptStartTimeout = 3 * time.Minute

// serverPIDs matches the line where run.sh names its children.
var serverPIDs = regexp.MustCompile(`rpc-server pid (\d+), http-server pid (\d+)`)

// runScript is one run of scripts/run.sh.
type runScript struct {
	proc            *harness.Process
	rpcPID, httpPID int
}

// TestRunScript runs the README's quick start, scripts/run.sh, on free
// ports and a temporary data directory, and checks that it serves, stops
// cleanly on SIGTERM, keeps messages across runs, and gives up when a
// server dies.
func TestRunScript(t *testing.T) {
	t.Parallel()
	root, err := harness.WorkspaceRoot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	env, httpAddr, rpcAddr := scriptEnv(t)
	script := filepath.Join(root, "scripts", "run.sh")
	client := newAPI(t, "http://"+httpAddr)
	var first sent

	run := startScript(t, script, env, client.base)
	t.Run("ServesOnTheConfiguredAddresses", func(t *testing.T) {
		first = client.send(t, "run1:run2", "hello from run.sh", "run1")
	})
	t.Run("SIGTERMStopsBothServersGatewayFirstAndExitsZero", func(t *testing.T) {
		client.client.CloseIdleConnections()
		if err := run.proc.Stop(); err != nil { // SIGTERM to the script alone
			t.Fatal(err)
		}
		wantClosed(t, httpAddr, rpcAddr)
		for _, pid := range []int{run.httpPID, run.rpcPID} {
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("server pid %d still exists after run.sh exited (kill -0: %v)", pid, err)
			}
		}
		log := run.proc.LogTail(1 << 20)
		gw, rpc := strings.Index(log, "http-server stopped"), strings.Index(log, "rpc-server stopped")
		if gw < 0 || rpc < 0 || gw > rpc {
			t.Errorf("want \"http-server stopped\" then \"rpc-server stopped\" in the log:\n%s", log)
		}
	})

	run = startScript(t, script, env, client.base)
	t.Run("ASecondRunKeepsTheMessages", func(t *testing.T) {
		p := client.pullQuery(t, "run1:run2", 0, 10, false)
		if len(p.Messages) != 1 || p.Messages[0].SendTime != first.SendTime {
			t.Fatalf("second run's chat holds %v, want the message sent at %d", p.Messages, first.SendTime)
		}
	})
	t.Run("ExitsNonZeroWhenAServerDies", func(t *testing.T) {
		client.client.CloseIdleConnections()
		if err := syscall.Kill(run.rpcPID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		select {
		case <-run.proc.Exited():
		case <-time.After(harness.StopTimeout):
			t.Fatal("run.sh still running after its rpc-server was killed")
		}
		if run.proc.ExitError() == nil {
			t.Error("run.sh exited 0 after its rpc-server was killed; want non-zero")
		}
		wantClosed(t, httpAddr)
	})
}

// scriptEnv returns run.sh's environment and the addresses in it: free
// ports, a temporary data directory, and a bin directory seeded with the
// harness's binaries so that run.sh's own go build finds them up to date
// instead of linking (it rebuilds them if the sources have changed since).
func scriptEnv(t *testing.T) (env []string, httpAddr, rpcAddr string) {
	t.Helper()
	bins := harness.MustBuild(t)
	binDir := t.TempDir()
	for _, src := range []string{bins.RPCServer, bins.HTTPServer} {
		copyFile(t, src, filepath.Join(binDir, filepath.Base(src)))
	}
	addrs := make([]string, 3)
	for i := range addrs {
		addr, err := harness.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = addr
	}
	goflags := os.Getenv("GOFLAGS")
	if harness.RaceEnabled {
		goflags += " -race"
	}
	env = []string{
		"PIGEONHOLE_HTTP_ADDR=" + addrs[0],
		"PIGEONHOLE_RPC_ADDR=" + addrs[1],
		"PIGEONHOLE_METRICS_ADDR=" + addrs[2],
		"PIGEONHOLE_DATA_DIR=" + t.TempDir(),
		"PIGEONHOLE_BIN_DIR=" + binDir,
		"GOFLAGS=" + goflags,
	}
	return env, addrs[0], addrs[1]
}

// startScript starts run.sh and waits until baseURL is ready and the
// script has said so. If the test ends with the script still running, it
// is stopped with SIGTERM, and whatever survives is killed.
func startScript(t *testing.T, path string, env []string, baseURL string) *runScript {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "run.log")
	p, err := harness.Start(harness.Command{Name: "run.sh", Path: path, Env: env, LogPath: logPath, Setpgid: true})
	if err != nil {
		t.Fatal(err)
	}
	run := &runScript{proc: p}
	t.Cleanup(func() { run.cleanup(t) })
	ctx, cancel := context.WithTimeout(t.Context(), scriptStartTimeout)
	defer cancel()
	if err := harness.WaitHTTP(ctx, p, baseURL+"/readyz"); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(p.LogTail(1<<20), "is ready at "+baseURL) {
		if ctx.Err() != nil || !p.Running() {
			t.Fatalf("run.sh did not say it is ready at %s; log:\n%s", baseURL, p.LogTail(16<<10))
		}
		time.Sleep(20 * time.Millisecond)
	}
	m := serverPIDs.FindStringSubmatch(p.LogTail(1 << 20))
	if m == nil {
		t.Fatalf("run.sh did not name its servers' pids; log:\n%s", p.LogTail(16<<10))
	}
	run.rpcPID, _ = strconv.Atoi(m[1])
	run.httpPID, _ = strconv.Atoi(m[2])
	return run
}

// cleanup stops a script the test left running and kills what survives:
// the script's process group, and the rpc-server, which run.sh puts in a
// group of its own.
func (r *runScript) cleanup(t *testing.T) {
	if r.proc.Running() {
		if err := r.proc.Stop(); err != nil {
			t.Error(err)
		}
	}
	r.proc.SignalGroup(syscall.SIGKILL)
	if r.rpcPID != 0 && syscall.Kill(r.rpcPID, 0) == nil {
		t.Errorf("rpc-server (pid %d) outlived run.sh; killing it", r.rpcPID)
		syscall.Kill(r.rpcPID, syscall.SIGKILL)
	}
	if t.Failed() {
		t.Logf("end of run.sh log %s:\n%s", r.proc.LogPath(), r.proc.LogTail(16<<10))
	}
}

// wantClosed checks that nothing accepts connections on addrs any more.
func wantClosed(t *testing.T, addrs ...string) {
	t.Helper()
	for _, addr := range addrs {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			t.Errorf("%s still accepts connections", addr)
		} else if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial %s: %v, want connection refused", addr, err)
		}
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
