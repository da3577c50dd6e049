package gateway_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/route"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
	"github.com/pigeonhole-im/pigeonhole/http-server/pagecache"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/jwtauth"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// mustToken is an HS256 token for member, valid for ttl from now.
func mustToken(tb testing.TB, member string, ttl time.Duration) string {
	tb.Helper()
	tok, err := jwtauth.SignHS256(testSecret, jwtauth.Claims{Subject: member, TTL: ttl}, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

func bearer(token string) string { return "Bearer " + token }

// newAuthEngine is a gateway with authentication over a service that
// requires callers, as both servers run with --auth jwt.
func newAuthEngine(tb testing.TB, cfg gateway.Config) *route.Engine {
	tb.Helper()
	v, err := jwtauth.New(jwtauth.Config{Secret: testSecret, Subject: pigeonhole.ValidateMemberID})
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Auth = v
	svc := pigeonhole.NewService(mustOpenStore(tb), pigeonhole.Config{RequireCaller: true})
	return newEngine(tb, svc, cfg)
}

func TestAuthentication(t *testing.T) {
	e := newAuthEngine(t, gateway.Config{})
	a1 := bearer(mustToken(t, "a1", time.Hour))

	t.Run("ProbesNeedNoToken", func(t *testing.T) {
		for _, path := range []string{"/ping", "/healthz", "/readyz"} {
			if w := perform(e, "GET", path, ""); w.Code != 200 {
				t.Fatalf("%s: got %d %s", path, w.Code, w.Body.String())
			}
		}
	})
	t.Run("NoTokenIsChallenged", func(t *testing.T) {
		for _, req := range [][2]string{{"POST", "/api/send?chat=a1:a2&sender=a1&text=hi"}, {"GET", "/api/pull?chat=a1:a2"}} {
			w := perform(e, req[0], req[1], "")
			assertError(t, w, 401, "unauthenticated")
			if got, want := string(w.Header().Peek("WWW-Authenticate")), "Bearer"; got != want {
				t.Fatalf("%s: WWW-Authenticate: got %q, want %q", req[1], got, want)
			}
		}
	})
	t.Run("BadTokensAreInvalid", func(t *testing.T) {
		expired, err := jwtauth.SignHS256(testSecret, jwtauth.Claims{Subject: "a1", TTL: time.Minute}, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		other, err := jwtauth.SignHS256([]byte("another secret of thirty-two byt"), jwtauth.Claims{Subject: "a1", TTL: time.Hour}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for name, value := range map[string]string{
			"Expired":     bearer(expired),
			"OtherSecret": bearer(other),
			"Garbage":     "Bearer not.a.jwt",
			"Empty":       "Bearer ",
			"BasicScheme": "Basic YTE6eA==",
		} {
			w := perform(e, "GET", "/api/pull?chat=a1:a2", "", header("Authorization", value))
			assertError(t, w, 401, "unauthenticated")
			if got, want := string(w.Header().Peek("WWW-Authenticate")), `Bearer error="invalid_token"`; got != want {
				t.Fatalf("%s: WWW-Authenticate: got %q, want %q", name, got, want)
			}
		}
	})
	t.Run("SenderIsFilledFromTheToken", func(t *testing.T) {
		mustSend(t, e, "/api/send", `{"chat":"a1:a2","text":"hi"}`, header("Content-Type", "application/json"), header("Authorization", a1))
		page := mustPull(t, e, "GET", "/api/pull?chat=a1:a2", "", header("Authorization", a1))
		if len(page.Messages) != 1 || page.Messages[0].Sender != "a1" {
			t.Fatalf("got %+v", page.Messages)
		}
	})
	t.Run("SchemeIsCaseInsensitive", func(t *testing.T) {
		mustPull(t, e, "GET", "/api/pull?chat=a1:a2", "", header("Authorization", "bearer "+strings.TrimPrefix(a1, "Bearer ")))
	})
	t.Run("SpoofedSenderIsDenied", func(t *testing.T) {
		w := perform(e, "POST", "/api/send?"+url.Values{"chat": {"a1:a2"}, "sender": {"a2"}, "text": {"as a2"}}.Encode(), "", header("Authorization", a1))
		assertError(t, w, 403, "permission_denied")
	})
	t.Run("ForeignChatPullIsDenied", func(t *testing.T) {
		w := perform(e, "GET", "/api/pull?chat=a2:a3", "", header("Authorization", a1))
		assertError(t, w, 403, "permission_denied")
	})
}

// TestCachedPagesStayWithTheirCaller checks that a final page kept by the
// page cache for one member is not answered to a caller who may not read
// the chat.
func TestCachedPagesStayWithTheirCaller(t *testing.T) {
	e := newAuthEngine(t, gateway.Config{Pages: pagecache.New(1 << 20)})
	a1, a3 := bearer(mustToken(t, "a1", time.Hour)), bearer(mustToken(t, "a3", time.Hour))
	mustSend(t, e, "/api/send?chat=a1:a2&text=one", "", header("Authorization", a1))
	mustSend(t, e, "/api/send?chat=a1:a2&text=two", "", header("Authorization", a1))
	// A page that ends before the newest message is final: cached.
	const first = "/api/pull?chat=a1:a2&limit=1"
	for range 2 {
		mustPull(t, e, "GET", first, "", header("Authorization", a1))
	}
	assertError(t, perform(e, "GET", first, "", header("Authorization", a3)), 403, "permission_denied")
}
