package jwtauth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/jwtauth"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newClock() *clock { return &clock{now: time.Unix(1_800_000_000, 0)} }

func claims(sub string, now time.Time, ttl time.Duration) jwt.RegisteredClaims {
	return jwt.RegisteredClaims{Subject: sub, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl))}
}

func sign(tb testing.TB, method jwt.SigningMethod, key any, kid string, c jwt.Claims) string {
	tb.Helper()
	t := jwt.NewWithClaims(method, c)
	if kid != "" {
		t.Header["kid"] = kid
	}
	s, err := t.SignedString(key)
	if err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return s
}

func mustVerifier(tb testing.TB, cfg jwtauth.Config) *jwtauth.Verifier {
	tb.Helper()
	v, err := jwtauth.New(cfg)
	if err != nil {
		tb.Fatalf("new verifier: %v", err)
	}
	return v
}

func wantRefused(tb testing.TB, v *jwtauth.Verifier, token string) {
	tb.Helper()
	sub, err := v.Authenticate(token)
	var refusal *jwtauth.Refusal
	if !errors.As(err, &refusal) || refusal.Reason == "" || err.Error() != refusal.Reason {
		tb.Fatalf("got subject %q, error %v (%T), want a refusal", sub, err, err)
	}
}

func wantCaller(tb testing.TB, v *jwtauth.Verifier, token, member string) {
	tb.Helper()
	sub, err := v.Authenticate(token)
	if err != nil {
		tb.Fatalf("authenticate: %v", err)
	}
	if sub != member {
		tb.Fatalf("subject: got %q, want %q", sub, member)
	}
}

// memberID is the subject check the servers use, in short: no ':'.
func memberID(sub string) error {
	if strings.Contains(sub, ":") {
		return errors.New("not a member id")
	}
	return nil
}

// jwksDocument is a JWKS holding the public halves of keys, by kid.
func jwksDocument(tb testing.TB, keys map[string]crypto.Signer) []byte {
	tb.Helper()
	var set jwkset.JWKSMarshal
	for kid, k := range keys {
		jwk, err := jwkset.NewJWKFromKey(k.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid}})
		if err != nil {
			tb.Fatalf("jwk: %v", err)
		}
		set.Keys = append(set.Keys, jwk.Marshal())
	}
	b, err := json.Marshal(set)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func mustJWKS(tb testing.TB, cfg jwtauth.JWKSConfig) *jwtauth.JWKS {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	s, err := jwtauth.NewJWKS(ctx, cfg)
	if err != nil {
		tb.Fatalf("jwks: %v", err)
	}
	return s
}

func TestHS256(t *testing.T) {
	clk := newClock()
	v := mustVerifier(t, jwtauth.Config{Secret: testSecret, Now: clk.Now, Subject: memberID})
	good := sign(t, jwt.SigningMethodHS256, testSecret, "", claims("a1", clk.Now(), time.Hour))
	wantCaller(t, v, good, "a1")

	t.Run("AlgNoneIsRefused", func(t *testing.T) {
		wantRefused(t, v, sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims("a1", clk.Now(), time.Hour)))
	})
	t.Run("OtherSecretIsRefused", func(t *testing.T) {
		wantRefused(t, v, sign(t, jwt.SigningMethodHS256, []byte("another secret of thirty-two byt"), "", claims("a1", clk.Now(), time.Hour)))
	})
	t.Run("HS512IsRefused", func(t *testing.T) {
		wantRefused(t, v, sign(t, jwt.SigningMethodHS512, testSecret, "", claims("a1", clk.Now(), time.Hour)))
	})
	t.Run("TamperedPayloadIsRefused", func(t *testing.T) {
		other := sign(t, jwt.SigningMethodHS256, testSecret, "", claims("a2", clk.Now(), time.Hour))
		parts, otherParts := strings.Split(good, "."), strings.Split(other, ".")
		wantRefused(t, v, parts[0]+"."+otherParts[1]+"."+parts[2])
	})
	t.Run("Malformed", func(t *testing.T) {
		for _, tok := range []string{"", "x", "a.b.c", strings.Repeat("a", jwtauth.MaxTokenBytes+1)} {
			wantRefused(t, v, tok)
		}
	})
	t.Run("WithoutExpiryIsRefused", func(t *testing.T) {
		wantRefused(t, v, sign(t, jwt.SigningMethodHS256, testSecret, "", jwt.RegisteredClaims{Subject: "a1"}))
	})
	t.Run("SubjectMustBeAMemberID", func(t *testing.T) {
		wantRefused(t, v, sign(t, jwt.SigningMethodHS256, testSecret, "", claims("a:1", clk.Now(), time.Hour)))
		wantRefused(t, v, sign(t, jwt.SigningMethodHS256, testSecret, "", claims("", clk.Now(), time.Hour)))
	})
	t.Run("NotYetValidBeyondLeewayIsRefused", func(t *testing.T) {
		c := claims("a1", clk.Now(), time.Hour)
		c.NotBefore = jwt.NewNumericDate(clk.Now().Add(jwtauth.DefaultLeeway + 5*time.Second))
		wantRefused(t, v, sign(t, jwt.SigningMethodHS256, testSecret, "", c))
		c.NotBefore = jwt.NewNumericDate(clk.Now().Add(jwtauth.DefaultLeeway - 5*time.Second))
		wantCaller(t, v, sign(t, jwt.SigningMethodHS256, testSecret, "", c), "a1")
	})
}

func TestExpiryDuringASession(t *testing.T) {
	clk := newClock()
	v := mustVerifier(t, jwtauth.Config{Secret: testSecret, Now: clk.Now})
	token := sign(t, jwt.SigningMethodHS256, testSecret, "", claims("a1", clk.Now(), time.Minute))
	wantCaller(t, v, token, "a1") // verified, then remembered
	clk.Advance(time.Minute + jwtauth.DefaultLeeway - time.Second)
	wantCaller(t, v, token, "a1") // within the leeway
	clk.Advance(2 * time.Second)
	wantRefused(t, v, token) // the cached token expired too
	wantRefused(t, v, token) // and stays refused
}

func TestIssuerAndAudience(t *testing.T) {
	clk := newClock()
	v := mustVerifier(t, jwtauth.Config{Secret: testSecret, Issuer: "https://idp.example", Audience: "pigeonhole", Now: clk.Now})
	c := claims("a1", clk.Now(), time.Hour)
	c.Issuer, c.Audience = "https://idp.example", jwt.ClaimStrings{"other", "pigeonhole"}
	wantCaller(t, v, sign(t, jwt.SigningMethodHS256, testSecret, "", c), "a1")
	wrongIssuer := c
	wrongIssuer.Issuer = "https://evil.example"
	wantRefused(t, v, sign(t, jwt.SigningMethodHS256, testSecret, "", wrongIssuer))
	wrongAudience := c
	wrongAudience.Audience = jwt.ClaimStrings{"other"}
	wantRefused(t, v, sign(t, jwt.SigningMethodHS256, testSecret, "", wrongAudience))
}

func TestJWKSKeyTypes(t *testing.T) {
	clk := newClock()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	doc := jwksDocument(t, map[string]crypto.Signer{"rsa": rsaKey, "ec": ecKey, "ed": edKey})
	v := mustVerifier(t, jwtauth.Config{Keys: mustJWKS(t, jwtauth.JWKSConfig{Document: doc}), Now: clk.Now})
	c := claims("a1", clk.Now(), time.Hour)
	wantCaller(t, v, sign(t, jwt.SigningMethodRS256, rsaKey, "rsa", c), "a1")
	wantCaller(t, v, sign(t, jwt.SigningMethodES256, ecKey, "ec", c), "a1")
	wantCaller(t, v, sign(t, jwt.SigningMethodEdDSA, edKey, "ed", c), "a1")

	t.Run("AlgMustFitTheKey", func(t *testing.T) {
		// An RSA signature presented under the EC key's kid.
		wantRefused(t, v, sign(t, jwt.SigningMethodRS256, rsaKey, "ec", claims("a2", clk.Now(), time.Hour)))
	})
	t.Run("HSWithThePublicKeyIsRefused", func(t *testing.T) {
		// The classic confusion: HS256 keyed with the RSA public key's
		// bytes, which anyone can fetch from the JWKS.
		der, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
		pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		wantRefused(t, v, sign(t, jwt.SigningMethodHS256, pemKey, "rsa", claims("a2", clk.Now(), time.Hour)))
		wantRefused(t, v, sign(t, jwt.SigningMethodHS256, der, "rsa", claims("a2", clk.Now(), time.Hour)))
	})
	t.Run("UnknownKIDIsRefused", func(t *testing.T) {
		other, _ := rsa.GenerateKey(rand.Reader, 2048)
		wantRefused(t, v, sign(t, jwt.SigningMethodRS256, other, "nope", claims("a2", clk.Now(), time.Hour)))
	})
	t.Run("WithBothKeyKinds", func(t *testing.T) {
		both := mustVerifier(t, jwtauth.Config{Secret: testSecret, Keys: mustJWKS(t, jwtauth.JWKSConfig{Document: doc}), Now: clk.Now})
		wantCaller(t, both, sign(t, jwt.SigningMethodHS256, testSecret, "", claims("a3", clk.Now(), time.Hour)), "a3")
		wantCaller(t, both, sign(t, jwt.SigningMethodRS256, rsaKey, "rsa", claims("a4", clk.Now(), time.Hour)), "a4")
		der, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
		wantRefused(t, both, sign(t, jwt.SigningMethodHS256, der, "rsa", claims("a5", clk.Now(), time.Hour)))
	})
}

// TestKeyRotation serves a JWKS over HTTP, rotates a new key in, and checks
// that a token with its kid is accepted without waiting for the periodic
// refresh, while kids that stay unknown cause at most one fetch per period.
func TestKeyRotation(t *testing.T) {
	clk := newClock()
	oldKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	newKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var (
		doc     atomic.Pointer[[]byte]
		fetches atomic.Int32
	)
	first := jwksDocument(t, map[string]crypto.Signer{"old": oldKey})
	doc.Store(&first)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(*doc.Load())
	}))
	t.Cleanup(srv.Close)

	keys := mustJWKS(t, jwtauth.JWKSConfig{URL: srv.URL, UnknownKIDEvery: time.Hour, Client: srv.Client()})
	v := mustVerifier(t, jwtauth.Config{Keys: keys, Now: clk.Now})
	wantCaller(t, v, sign(t, jwt.SigningMethodES256, oldKey, "old", claims("a1", clk.Now(), time.Hour)), "a1")

	rotated := jwksDocument(t, map[string]crypto.Signer{"old": oldKey, "new": newKey})
	doc.Store(&rotated)
	before := fetches.Load()
	wantCaller(t, v, sign(t, jwt.SigningMethodES256, newKey, "new", claims("a2", clk.Now(), time.Hour)), "a2")
	if got, want := fetches.Load()-before, int32(1); got != want {
		t.Fatalf("fetches for the rotated kid: got %d, want %d", got, want)
	}

	before = fetches.Load()
	for i := range 20 {
		forged, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		wantRefused(t, v, sign(t, jwt.SigningMethodES256, forged, "forged-"+string(rune('a'+i)), claims("a3", clk.Now(), time.Hour)))
	}
	if got := fetches.Load() - before; got != 0 {
		t.Fatalf("unknown kids within the period caused %d fetches, want 0", got)
	}
}

func TestCacheIsBounded(t *testing.T) {
	clk := newClock()
	v := mustVerifier(t, jwtauth.Config{Secret: testSecret, CacheSize: 4, Now: clk.Now})
	for i := range 10 {
		tok := sign(t, jwt.SigningMethodHS256, testSecret, "", claims("a1", clk.Now().Add(time.Duration(i)*time.Second), time.Hour))
		wantCaller(t, v, tok, "a1")
	}
	if got, want := jwtauth.CacheLen(v), 4; got != want {
		t.Fatalf("cached tokens: got %d, want %d", got, want)
	}
}

func TestSignHS256(t *testing.T) {
	clk := newClock()
	v := mustVerifier(t, jwtauth.Config{Secret: testSecret, Audience: "pigeonhole", Now: clk.Now})
	tok, err := jwtauth.SignHS256(testSecret, jwtauth.Claims{Subject: "a1", Audience: "pigeonhole", TTL: time.Minute}, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	wantCaller(t, v, tok, "a1")
	if _, err := jwtauth.SignHS256(testSecret, jwtauth.Claims{Subject: "", TTL: time.Minute}, clk.Now()); err == nil {
		t.Fatal("signed a token without a subject")
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	v := mustVerifier(b, jwtauth.Config{Secret: testSecret})
	tok := sign(b, jwt.SigningMethodHS256, testSecret, "", claims("a1", time.Now(), time.Hour))
	b.Run("Cached", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := v.Authenticate(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("Uncached", func(b *testing.B) {
		fresh := mustVerifier(b, jwtauth.Config{Secret: testSecret, CacheSize: 1})
		other := sign(b, jwt.SigningMethodHS256, testSecret, "", claims("a2", time.Now(), time.Hour))
		for i := 0; b.Loop(); i++ {
			t := tok
			if i%2 == 1 {
				t = other
			}
			if _, err := fresh.Authenticate(t); err != nil {
				b.Fatal(err)
			}
		}
	})
}
