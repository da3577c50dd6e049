package program_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/program"
)

func TestProbe(t *testing.T) {
	var ready atomic.Bool
	ready.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" || !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	t.Run("ReadyOnAnyHostAddress", func(t *testing.T) {
		for _, addr := range []string{":" + port, "0.0.0.0:" + port, "127.0.0.1:" + port} {
			if err := program.Probe(t.Context(), addr, "/readyz"); err != nil {
				t.Errorf("Probe(%q): %v", addr, err)
			}
		}
	})
	t.Run("NotReadyIsAnError", func(t *testing.T) {
		ready.Store(false)
		defer ready.Store(true)
		if err := program.Probe(t.Context(), ":"+port, "/readyz"); err == nil || !strings.Contains(err.Error(), "503") {
			t.Fatalf("got %v, want a 503 error", err)
		}
	})
	t.Run("NothingListeningIsAnError", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		if err := program.Probe(t.Context(), addr, "/readyz"); err == nil {
			t.Fatal("a closed port answered")
		}
	})
	t.Run("FreePortCannotBeProbed", func(t *testing.T) {
		if err := program.Probe(t.Context(), ":0", "/readyz"); err == nil {
			t.Fatal("a free port was probed")
		}
	})
}
