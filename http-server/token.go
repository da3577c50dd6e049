package main

import (
	"fmt"
	"io"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/envflag"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/jwtauth"
)

// DefaultTokenTTL is how long a token from the token command is valid.
const DefaultTokenTTL = time.Hour

// token is the token command: it prints an HS256 token for a member, for
// development and tests (an identity provider issues them in production).
func token(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		sub, secretFile, issuer, audience string
		ttl                               time.Duration
	)
	fs := envflag.New("http-server token", getenv, stderr)
	fs.String(&sub, "sub", "", "", "member id the token is for (required)")
	fs.Duration(&ttl, "ttl", "", DefaultTokenTTL, "how long the token is valid")
	fs.String(&secretFile, "jwt-secret-file", "PIGEONHOLE_JWT_SECRET_FILE", "", "file holding the HS256 secret (required)")
	fs.String(&issuer, "jwt-issuer", "PIGEONHOLE_JWT_ISSUER", "", "iss of the token; empty: none")
	fs.String(&audience, "jwt-audience", "PIGEONHOLE_JWT_AUDIENCE", "", "aud of the token; empty: none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if sub == "" || secretFile == "" {
		return fmt.Errorf("--sub and --jwt-secret-file are required")
	}
	if err := pigeonhole.ValidateMemberID(sub); err != nil {
		return fmt.Errorf("--sub: %s", pigeonhole.ErrorMessage(err))
	}
	secret, err := jwtauth.ReadSecret(secretFile)
	if err != nil {
		return err
	}
	tok, err := jwtauth.SignHS256(secret, jwtauth.Claims{Subject: sub, Issuer: issuer, Audience: audience, TTL: ttl}, time.Now())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}
