package program

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Limits of the side listeners (metrics, health, profiles): small headers,
// a bounded wait for them, idle connections dropped after a minute.
const (
	sideMaxHeaderBytes    = 16 << 10
	sideReadHeaderTimeout = 5 * time.Second
	sideIdleTimeout       = time.Minute
	sideShutdownWait      = 5 * time.Second
)

// ServeHTTP serves h on ln until ctx ends, then shuts down, giving
// requests in flight a few seconds. It is for the programs' side
// listeners, whose requests are small and few; it returns the error that
// ended serving, or the shutdown's.
func ServeHTTP(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		MaxHeaderBytes:    sideMaxHeaderBytes,
		ReadHeaderTimeout: sideReadHeaderTimeout,
		IdleTimeout:       sideIdleTimeout,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), sideShutdownWait)
	defer cancel()
	err := srv.Shutdown(shutdown)
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}
