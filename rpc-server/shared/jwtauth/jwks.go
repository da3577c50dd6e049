package jwtauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// Defaults for the zero fields of JWKSConfig.
const (
	// DefaultJWKSRefresh is how often a JWKS URL is fetched again.
	DefaultJWKSRefresh = time.Hour
	// DefaultUnknownKIDEvery bounds the extra fetches that tokens naming
	// an unknown kid cause: one per period at most, so forged kids cannot
	// turn the service into a flood of requests to the identity provider.
	DefaultUnknownKIDEvery = 30 * time.Second
)

// MaxJWKSBytes is the largest JWKS document read.
const MaxJWKSBytes = 1 << 20

// JWKSConfig tells where a JWKS is. Exactly one of URL and Document.
type JWKSConfig struct {
	// URL is fetched at start, every RefreshInterval (default
	// DefaultJWKSRefresh), and when a token names a kid the set lacks, at
	// most once per UnknownKIDEvery (default DefaultUnknownKIDEvery).
	URL             string
	RefreshInterval time.Duration
	UnknownKIDEvery time.Duration
	// Document is a JWKS (JSON), as read from a file; it never changes.
	Document []byte
	// Client fetches URL (default: a client with a 10 s timeout).
	Client *http.Client
	// Logger receives failed fetches (default slog.Default()).
	Logger *slog.Logger
}

// JWKS is a set of public keys chosen by kid.
type JWKS struct {
	keys keyfunc.Keyfunc
}

// NewJWKS loads the set. For a URL, a failed first fetch is logged, not
// returned: the set is fetched again when tokens need it, so a service
// may start before its identity provider. Background fetches stop when
// ctx ends.
func NewJWKS(ctx context.Context, cfg JWKSConfig) (*JWKS, error) {
	if (cfg.URL == "") == (cfg.Document == nil) {
		return nil, errors.New("jwtauth: give exactly one of a JWKS URL and a JWKS document")
	}
	if cfg.Document != nil {
		k, err := keyfunc.NewJWKSetJSON(json.RawMessage(cfg.Document))
		if err != nil {
			return nil, fmt.Errorf("jwtauth: JWKS: %w", err)
		}
		return &JWKS{keys: k}, nil
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = DefaultJWKSRefresh
	}
	if cfg.UnknownKIDEvery <= 0 {
		cfg.UnknownKIDEvery = DefaultUnknownKIDEvery
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	client := *cfg.Client
	client.Transport = limitedBody{next: client.Transport}
	k, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.URL}, keyfunc.Override{
		Client:            &client,
		RefreshInterval:   cfg.RefreshInterval,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(cfg.UnknownKIDEvery), 1),
		// A token with an unknown kid beyond the rate is refused at once
		// rather than held until the next fetch is allowed.
		RateLimitWaitMax: time.Millisecond,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "fetching the JWKS failed", slog.String("url", u), slog.Any("error", err))
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("jwtauth: JWKS: %w", err)
	}
	return &JWKS{keys: k}, nil
}

// key returns the key that verifies t: the one its kid names (or, with no
// kid, every key of the set, each tried in turn).
func (s *JWKS) key(t *jwt.Token) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.keys.KeyfuncCtx(ctx)(t)
}

// limitedBody bounds what a JWKS fetch reads.
type limitedBody struct{ next http.RoundTripper }

func (l limitedBody) RoundTrip(req *http.Request) (*http.Response, error) {
	next := l.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, MaxJWKSBytes), resp.Body}
	return resp, nil
}
