package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// opsReadyTimeout bounds the readiness check of the operations listener.
const opsReadyTimeout = 2 * time.Second

// OpsHandler answers what operators and orchestrators ask, on a listener
// apart from the API's: GET /metrics (m, when not nil), /healthz (the
// process is up) and /readyz (a replica answers and reaches its storage).
func OpsHandler(svc MessageService, m *Metrics) http.Handler {
	mux := http.NewServeMux()
	if m != nil {
		mux.Handle("GET /metrics", m)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeOpsJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), opsReadyTimeout)
		defer cancel()
		if err := svc.Ready(ctx); err != nil {
			code, message := classify(err)
			writeOpsJSON(w, http.StatusServiceUnavailable, map[string]string{"code": string(pigeonhole.CodeUnavailable), "message": string(code) + ": " + message})
			return
		}
		writeOpsJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	return mux
}

// ServeOps serves OpsHandler on ln until ctx ends, then shuts down.
func ServeOps(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdown)
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}

func writeOpsJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}
