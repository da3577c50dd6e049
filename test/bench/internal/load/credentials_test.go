package load

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/jwtauth"
)

func TestCredentials(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	verifier, err := jwtauth.New(jwtauth.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		seen []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Write([]byte(`{"send_time":1}`))
	}))
	t.Cleanup(srv.Close)
	last := func() string {
		mu.Lock()
		defer mu.Unlock()
		return seen[len(seen)-1]
	}

	t.Run("SignedPerMember", func(t *testing.T) {
		c := newTestClient(t, srv.URL, 5*time.Second)
		if c.creds, err = newCredentials(Options{TokenSecret: secret}); err != nil {
			t.Fatal(err)
		}
		for _, member := range []string{"m1", "m2"} {
			if err := c.Send(t.Context(), member, []byte(`{}`), nil); err != nil {
				t.Fatal(err)
			}
			caller, err := verifier.Authenticate(strings.TrimPrefix(last(), "Bearer "))
			if err != nil || caller != member {
				t.Fatalf("token sent for %s: caller %q, %v", member, caller, err)
			}
		}
		if err := c.Ping(t.Context()); err != nil || last() != "" {
			t.Fatalf("ping carried %q, %v; want no token", last(), err)
		}
	})
	t.Run("FixedTokenActsEverywhere", func(t *testing.T) {
		tok, err := jwtauth.SignHS256(secret, jwtauth.Claims{Subject: "owner", TTL: time.Hour}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		c := newTestClient(t, srv.URL, 5*time.Second)
		if c.creds, err = newCredentials(Options{Token: tok}); err != nil {
			t.Fatal(err)
		}
		if got := c.creds.member("someone"); got != "owner" {
			t.Fatalf("member: got %q, want the token's subject", got)
		}
		chats := newChatSet(c, "t", 2, 8, 10)
		if !strings.HasPrefix(chats.names[1], "owner:") && !strings.HasSuffix(chats.names[1], ":owner") {
			t.Fatalf("chat %q lacks the token's subject", chats.names[1])
		}
		if err := c.Send(t.Context(), "owner", []byte(`{}`), nil); err != nil || last() != "Bearer "+tok {
			t.Fatalf("sent %q, %v", last(), err)
		}
	})
	t.Run("NoCredentials", func(t *testing.T) {
		if creds, err := newCredentials(Options{}); creds != nil || err != nil {
			t.Fatalf("got %v, %v", creds, err)
		}
		if _, err := newCredentials(Options{Token: "not a jwt"}); err == nil {
			t.Fatal("a malformed --token was accepted")
		}
	})
}
