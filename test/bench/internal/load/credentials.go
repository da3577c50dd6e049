package load

import (
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/jwtauth"
)

// credentials gives the bearer token of the member a request acts as, for
// servers run with authentication: one fixed token (whose subject then acts
// in every chat), or a token per member signed with the servers' HS256
// secret.
type credentials struct {
	fixed  string
	owner  string // the fixed token's subject
	secret []byte
	ttl    time.Duration

	mu     sync.Mutex
	tokens map[string]string
}

// newCredentials returns the credentials of opts, or nil without any.
func newCredentials(opts Options) (*credentials, error) {
	switch {
	case opts.Token != "":
		var claims jwt.RegisteredClaims
		// The servers verify the token; the tool only needs to know whom
		// it names, to send as that member.
		if _, _, err := jwt.NewParser().ParseUnverified(opts.Token, &claims); err != nil {
			return nil, fmt.Errorf("--token: %w", err)
		}
		if claims.Subject == "" {
			return nil, fmt.Errorf("--token: the token has no sub")
		}
		return &credentials{fixed: opts.Token, owner: claims.Subject}, nil
	case opts.TokenSecret != nil:
		// Valid for far longer than any run.
		return &credentials{secret: opts.TokenSecret, ttl: 24 * time.Hour, tokens: make(map[string]string)}, nil
	}
	return nil, nil
}

// token returns the bearer token for member ("" without credentials).
func (c *credentials) token(member string) string {
	switch {
	case c == nil:
		return ""
	case c.fixed != "":
		return c.fixed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if tok, ok := c.tokens[member]; ok {
		return tok
	}
	tok, err := jwtauth.SignHS256(c.secret, jwtauth.Claims{Subject: member, TTL: c.ttl}, time.Now())
	if err != nil {
		return "" // a member id the servers refuse too: the request fails there
	}
	c.tokens[member] = tok
	return tok
}

// member is who acts in a chat whose first member is first: the fixed
// token's subject when there is one.
func (c *credentials) member(first string) string {
	if c != nil && c.owner != "" {
		return c.owner
	}
	return first
}
