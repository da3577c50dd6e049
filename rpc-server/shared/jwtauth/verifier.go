// Package jwtauth verifies the bearer tokens (JWTs) that callers present,
// for both servers: the gateway checks its clients' tokens and the message
// service checks them again on every RPC, so that neither trusts the hop in
// front of it. Signatures are checked by golang-jwt; keys come from a
// shared HS256 secret, from a JWKS document (file or URL, keys chosen by
// kid), or both. A token's algorithm must match the kind of key that
// verifies it: HS256 is only ever checked against the secret, and the
// asymmetric algorithms only against the JWKS keys, so "none" and HS/RS
// confusion are refused by construction.
package jwtauth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Defaults for the zero fields of Config.
const (
	// DefaultLeeway is the clock skew allowed on exp and nbf.
	DefaultLeeway = 30 * time.Second
	// DefaultCacheSize is how many verified tokens are remembered.
	DefaultCacheSize = 16384
)

// MaxTokenBytes is the longest token accepted; longer ones are refused
// before any parsing.
const MaxTokenBytes = 8 << 10

// MinSecretBytes is the shortest HS256 secret accepted (RFC 7518 §3.2: at
// least the hash's size).
const MinSecretBytes = 32

// asymmetricMethods are the algorithms JWKS keys verify; which one applies
// to a key is then fixed by its type (golang-jwt refuses a key of another
// type).
var asymmetricMethods = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Config tells a Verifier where its keys are and what tokens must say.
type Config struct {
	// Secret is the HS256 key; nil: HS256 tokens are refused.
	Secret []byte
	// Keys verifies asymmetric tokens by kid (see NewJWKS); nil: they are
	// refused.
	Keys *JWKS
	// Issuer and Audience, when set, must be the token's iss and one of
	// its aud.
	Issuer, Audience string
	// Leeway is the clock skew allowed on exp and nbf (default
	// DefaultLeeway).
	Leeway time.Duration
	// CacheSize bounds the verified tokens remembered (default
	// DefaultCacheSize).
	CacheSize int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Subject, when set, checks a token's subject (sub): a token whose
	// subject it refuses is refused.
	Subject func(string) error
}

// Verifier checks tokens and remembers the good ones until they expire, so
// a caller's signature is verified once per token rather than once per
// request. It is safe for concurrent use.
type Verifier struct {
	cfg    Config
	parser *jwt.Parser
	cache  *cache
}

// New returns a verifier; at least one of Secret and Keys must be set.
func New(cfg Config) (*Verifier, error) {
	if cfg.Secret == nil && cfg.Keys == nil {
		return nil, errors.New("jwtauth: no key: give an HS256 secret, a JWKS, or both")
	}
	if cfg.Secret != nil && len(cfg.Secret) < MinSecretBytes {
		return nil, fmt.Errorf("jwtauth: the HS256 secret must be at least %d bytes", MinSecretBytes)
	}
	if cfg.Leeway <= 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var methods []string
	if cfg.Secret != nil {
		methods = append(methods, jwt.SigningMethodHS256.Alg())
	}
	if cfg.Keys != nil {
		methods = append(methods, asymmetricMethods...)
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(methods),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(cfg.Now),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	return &Verifier{cfg: cfg, parser: jwt.NewParser(opts...), cache: newCache(cfg.CacheSize)}, nil
}

// Authenticate verifies token (the bearer token, without "Bearer ") and
// returns its subject. Errors are *Refusal: their text says what is wrong
// with the token, nothing of the keys, and may be shown to the caller.
func (v *Verifier) Authenticate(token string) (string, error) {
	now := v.cfg.Now()
	if sub, ok := v.cache.get(token, now); ok {
		return sub, nil
	}
	if len(token) > MaxTokenBytes {
		return "", &Refusal{Reason: fmt.Sprintf("the token is longer than %d bytes", MaxTokenBytes)}
	}
	var claims jwt.RegisteredClaims
	if _, err := v.parser.ParseWithClaims(token, &claims, v.key); err != nil {
		return "", refusal(err)
	}
	if claims.Subject == "" {
		return "", &Refusal{Reason: "the token has no subject (sub)"}
	}
	if v.cfg.Subject != nil {
		if err := v.cfg.Subject(claims.Subject); err != nil {
			return "", &Refusal{Reason: "the token's subject is not a member id", Cause: err}
		}
	}
	// Remembered until exp plus the leeway: exactly as long as parsing it
	// again would accept it.
	v.cache.put(token, claims.Subject, claims.ExpiresAt.Add(v.cfg.Leeway))
	return claims.Subject, nil
}

// Refusal is why a token was refused. Reason is written for the caller;
// Cause, if any, is for logs only.
type Refusal struct {
	Reason string
	Cause  error
}

func (r *Refusal) Error() string { return r.Reason }

// Unwrap exposes the cause to errors.Is/As.
func (r *Refusal) Unwrap() error { return r.Cause }

// key picks the key for a token by its algorithm: the secret for HS256,
// the JWKS key named by kid for the others (the parser has already
// refused any algorithm not configured).
func (v *Verifier) key(t *jwt.Token) (any, error) {
	if t.Method.Alg() == jwt.SigningMethodHS256.Alg() {
		return v.cfg.Secret, nil
	}
	return v.cfg.Keys.key(t)
}

// refusal is the client-safe error for a token the parser refused.
func refusal(err error) error {
	var reason string
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		reason = "the token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		reason = "the token is not valid yet"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		reason = "the token has no expiry (exp)"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		reason = "the token is from another issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		reason = "the token is for another audience"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		reason = "the token's signature does not verify"
	case errors.Is(err, jwt.ErrTokenMalformed):
		reason = "the token is malformed"
	default:
		reason = "the token is invalid"
	}
	return &Refusal{Reason: reason, Cause: err}
}
