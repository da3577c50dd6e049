package jwtauth

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ReadSecret reads an HS256 secret from a file; surrounding whitespace
// (a trailing newline) is not part of it.
func ReadSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("jwt secret: %w", err)
	}
	secret := bytes.TrimSpace(b)
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("jwt secret %s: must be at least %d bytes, has %d", path, MinSecretBytes, len(secret))
	}
	return secret, nil
}

// Claims are what a token issued by SignHS256 says.
type Claims struct {
	Subject  string // the caller's member id
	Issuer   string // optional
	Audience string // optional
	TTL      time.Duration
}

// SignHS256 issues a token for development and tests: the identity
// provider's job in production. Whether the subject is one the verifiers
// accept is for the caller to check.
func SignHS256(secret []byte, c Claims, now time.Time) (string, error) {
	if c.Subject == "" {
		return "", fmt.Errorf("sub must not be empty")
	}
	if c.TTL <= 0 {
		return "", fmt.Errorf("ttl must be positive")
	}
	claims := jwt.RegisteredClaims{
		Subject:   c.Subject,
		Issuer:    c.Issuer,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(c.TTL)),
	}
	if c.Audience != "" {
		claims.Audience = jwt.ClaimStrings{c.Audience}
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}
