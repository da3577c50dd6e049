package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// ReadyTimeout bounds how long a start waits for a server to become ready.
const ReadyTimeout = 30 * time.Second

// pollInterval is how often readiness is probed.
const pollInterval = 20 * time.Millisecond

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago. Another process may take it before the caller binds it; the Start*
// functions retry on a new port when that happens.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("harness: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// WaitTCP waits until addr accepts a TCP connection, p exits, or ctx ends.
func WaitTCP(ctx context.Context, p *Process, addr string) error {
	return poll(ctx, p, func(ctx context.Context) error {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return conn.Close()
	})
}

// WaitHTTP waits until a GET of url answers 200, p exits, or ctx ends.
func WaitHTTP(ctx context.Context, p *Process, url string) error {
	// No keep-alive: an idle connection left open would hold up the
	// server's graceful shutdown.
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	return poll(ctx, p, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s %s", url, resp.Status, strings.TrimSpace(string(body)))
		}
		return nil
	})
}

// poll calls probe until it succeeds. It gives up when p exits or ctx
// ends, and then says what the last probe saw and what p logged.
func poll(ctx context.Context, p *Process, probe func(context.Context) error) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var last error
	for {
		probeCtx, cancel := context.WithTimeout(ctx, time.Second)
		last = probe(probeCtx)
		cancel()
		if last == nil {
			// A process that failed to bind may still be exiting while
			// another one answers on the port: it must be alive.
			if p.Running() {
				return nil
			}
			last = errors.New("answered, but not by our process")
		}
		select {
		case <-p.Exited():
			return fmt.Errorf("harness: %s (pid %d) exited during start-up (%v); log %s:\n%s",
				p.Name(), p.PID(), p.ExitError(), p.LogPath(), p.LogTail(8<<10))
		case <-ctx.Done():
			return fmt.Errorf("harness: %s (pid %d) not ready: %w (last probe: %v); log %s:\n%s",
				p.Name(), p.PID(), ctx.Err(), last, p.LogPath(), p.LogTail(8<<10))
		case <-tick.C:
		}
	}
}
