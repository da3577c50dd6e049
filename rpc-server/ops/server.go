package ops

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/program"
)

// Serve answers GET /metrics, /healthz (the process is alive) and /readyz
// (ready reports nil: storage is reachable) on ln until ctx ends.
func Serve(ctx context.Context, ln net.Listener, metrics http.Handler, ready func(context.Context) error) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		rctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := ready(rctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{
				"code": string(pigeonhole.ErrorCode(err)), "message": pigeonhole.ErrorMessage(err),
			})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	return program.ServeHTTP(ctx, ln, mux)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
