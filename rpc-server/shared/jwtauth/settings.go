package jwtauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/envflag"
)

// The values of --auth.
const (
	// ModeOff: no credentials are asked for or checked.
	ModeOff = "off"
	// ModeJWT: every send and pull needs a bearer token (a JWT).
	ModeJWT = "jwt"
)

// DefaultMode is --auth's default: off, so the original assignment's
// clients work unchanged (and the servers then listen on loopback only).
const DefaultMode = ModeOff

// Settings are the authentication flags both servers have.
type Settings struct {
	Auth       string
	SecretFile string
	JWKSURL    string
	JWKSFile   string
	Issuer     string
	Audience   string
}

// Define adds the flags to fs.
func (s *Settings) Define(fs *envflag.Set) {
	fs.String(&s.Auth, "auth", "PIGEONHOLE_AUTH", DefaultMode, "off, or jwt: callers present Authorization: Bearer <JWT> whose sub is their member id")
	fs.String(&s.SecretFile, "jwt-secret-file", "PIGEONHOLE_JWT_SECRET_FILE", "", "file holding the HS256 secret (at least 32 bytes)")
	fs.String(&s.JWKSURL, "jwks-url", "PIGEONHOLE_JWKS_URL", "", "URL of the identity provider's JWKS (RS256, ES256, EdDSA keys by kid)")
	fs.String(&s.JWKSFile, "jwks-file", "PIGEONHOLE_JWKS_FILE", "", "file holding a JWKS, instead of --jwks-url")
	fs.String(&s.Issuer, "jwt-issuer", "PIGEONHOLE_JWT_ISSUER", "", "required iss of tokens; empty: not checked")
	fs.String(&s.Audience, "jwt-audience", "PIGEONHOLE_JWT_AUDIENCE", "", "required aud of tokens; empty: not checked")
}

// Check reports settings that contradict each other.
func (s Settings) Check() error {
	switch s.Auth {
	case ModeOff:
		return nil
	case ModeJWT:
	default:
		return fmt.Errorf("--auth must be %s or %s, got %q", ModeOff, ModeJWT, s.Auth)
	}
	if s.JWKSURL != "" && s.JWKSFile != "" {
		return errors.New("--jwks-url and --jwks-file: give one")
	}
	if s.SecretFile == "" && s.JWKSURL == "" && s.JWKSFile == "" {
		return errors.New("--auth jwt needs --jwt-secret-file, --jwks-url or --jwks-file")
	}
	return nil
}

// On reports whether callers must authenticate.
func (s Settings) On() bool { return s.Auth == ModeJWT }

// LogAttrs are the settings as logged at start (file names, no secrets).
func (s Settings) LogAttrs() []any {
	return []any{"auth", s.Auth, "jwt_secret_file", s.SecretFile, "jwks_url", s.JWKSURL,
		"jwks_file", s.JWKSFile, "jwt_issuer", s.Issuer, "jwt_audience", s.Audience}
}

// Verifier builds the verifier the settings describe, accepting the
// subjects subject accepts (see Config.Subject): nil when auth is off.
// Background JWKS fetches stop when ctx ends.
func (s Settings) Verifier(ctx context.Context, log *slog.Logger, subject func(string) error) (*Verifier, error) {
	if err := s.Check(); err != nil || !s.On() {
		return nil, err
	}
	cfg := Config{Issuer: s.Issuer, Audience: s.Audience, Subject: subject}
	if s.SecretFile != "" {
		secret, err := ReadSecret(s.SecretFile)
		if err != nil {
			return nil, err
		}
		cfg.Secret = secret
	}
	switch {
	case s.JWKSURL != "":
		keys, err := NewJWKS(ctx, JWKSConfig{URL: s.JWKSURL, Logger: log})
		if err != nil {
			return nil, err
		}
		cfg.Keys = keys
	case s.JWKSFile != "":
		doc, err := os.ReadFile(s.JWKSFile)
		if err != nil {
			return nil, fmt.Errorf("jwks: %w", err)
		}
		keys, err := NewJWKS(ctx, JWKSConfig{Document: doc})
		if err != nil {
			return nil, err
		}
		cfg.Keys = keys
	}
	return New(cfg)
}
