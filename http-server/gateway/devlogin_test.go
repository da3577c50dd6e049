package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
)

func TestDevLogin(t *testing.T) {
	t.Run("OffByDefault", func(t *testing.T) {
		e := newAuthEngine(t, gateway.Config{})
		assertError(t, perform(e, "POST", "/api/dev-login", `{"sub":"a1"}`, header("Content-Type", "application/json")), 404, "not_found")
	})

	e := newAuthEngine(t, gateway.Config{DevLogin: &gateway.DevLogin{Secret: testSecret, TTL: time.Minute}})
	t.Run("MintsATokenTheServersAccept", func(t *testing.T) {
		w := perform(e, "POST", "/api/dev-login", `{"sub":"a1"}`, header("Content-Type", "application/json"))
		var got struct {
			Token     string `json:"token"`
			ExpiresIn int    `json:"expires_in"`
		}
		decode(t, w.Body.Bytes(), &got)
		if w.Code != 200 || got.Token == "" || got.ExpiresIn != 60 {
			t.Fatalf("got %d %s", w.Code, w.Body.String())
		}
		w = perform(e, "POST", "/api/send", `{"chat":"a1:a2","text":"hi"}`,
			header("Content-Type", "application/json"), header("Authorization", bearer(got.Token)))
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"send_time"`) {
			t.Fatalf("send with the minted token: %d %s", w.Code, w.Body.String())
		}
	})
	t.Run("RefusesBadMemberIDs", func(t *testing.T) {
		for _, body := range []string{`{"sub":""}`, `{"sub":"a:b"}`, `not json`} {
			assertError(t, perform(e, "POST", "/api/dev-login", body, header("Content-Type", "application/json")), 400, "invalid_argument")
		}
	})
}
