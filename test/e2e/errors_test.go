package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// maxText is the rpc-server's default limit on a message text.
const maxText = 64 << 10

// TestErrors checks that each kind of error crosses the real hop (gateway,
// Kitex, rpc-server, store) as the right HTTP status and JSON code.
func TestErrors(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, sys *system) {
		send := func(t *testing.T, body map[string]string) response {
			t.Helper()
			return sys.api.postJSON(t, "/api/send", body)
		}

		t.Run("MalformedChatIs400", func(t *testing.T) {
			send(t, map[string]string{"chat": "a1-a2", "text": "hi", "sender": "a1"}).
				wantError(t, http.StatusBadRequest, "invalid_argument")
		})
		t.Run("SenderNotAMemberIs400", func(t *testing.T) {
			send(t, map[string]string{"chat": "a1:a2", "text": "hi", "sender": "a3"}).
				wantError(t, http.StatusBadRequest, "invalid_argument")
		})
		t.Run("NegativeLimitIs400", func(t *testing.T) {
			sys.api.do(t, http.MethodGet, "/api/pull?chat=a1:a2&limit=-1", "").
				wantError(t, http.StatusBadRequest, "invalid_argument")
		})
		t.Run("ClientMsgIDReusedForAnotherTextIs409", func(t *testing.T) {
			first := map[string]string{"chat": "a1:a2", "text": "first", "sender": "a1", "client_msg_id": "e2e-conflict"}
			if resp := send(t, first); resp.status != http.StatusOK {
				t.Fatalf("first send: status %d; body: %s", resp.status, resp.body)
			}
			second := map[string]string{"chat": "a1:a2", "text": "second", "sender": "a1", "client_msg_id": "e2e-conflict"}
			send(t, second).wantError(t, http.StatusConflict, "conflict")
		})
		t.Run("TextOf64KiBIsStored", func(t *testing.T) {
			text := strings.Repeat("x", maxText)
			s := sys.api.send(t, "big:text", text, "big")
			got := sys.api.pullQuery(t, "big:text", s.SendTime, 1, false)
			if len(got.Messages) != 1 || got.Messages[0].Text != text {
				t.Fatalf("the 64 KiB text did not come back whole (%d messages)", len(got.Messages))
			}
		})
		t.Run("TextOver64KiBIs413", func(t *testing.T) {
			send(t, map[string]string{"chat": "a1:a2", "text": strings.Repeat("x", maxText+1), "sender": "a1"}).
				wantError(t, http.StatusRequestEntityTooLarge, "too_large")
		})
		t.Run("UnknownRouteIs404", func(t *testing.T) {
			sys.api.do(t, http.MethodGet, "/api/messages", "").wantError(t, http.StatusNotFound, "not_found")
		})
		t.Run("WrongMethodIs405WithAllow", func(t *testing.T) {
			resp := sys.api.do(t, http.MethodDelete, "/api/send", "")
			resp.wantError(t, http.StatusMethodNotAllowed, "method_not_allowed")
			if allow := resp.header.Get("Allow"); !strings.Contains(allow, http.MethodPost) {
				t.Errorf("Allow = %q, want it to list POST", allow)
			}
		})
		t.Run("UnsupportedContentTypeIs415", func(t *testing.T) {
			sys.api.do(t, http.MethodPost, "/api/send", "chat=a1:a2", "Content-Type", "text/plain").
				wantError(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
		})

		// Last: it stops the rpc-server.
		t.Run("StoppedRPCServerIs503AndRecovers", func(t *testing.T) {
			sys.rpc.Stop()
			resp := send(t, map[string]string{"chat": "a1:a2", "text": "into the void", "sender": "a1"})
			resp.wantError(t, http.StatusServiceUnavailable, "unavailable")
			if resp.header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			sys.api.do(t, http.MethodGet, "/readyz", "").wantError(t, http.StatusServiceUnavailable, "unavailable")

			sys.rpc.Start()
			sys.api.send(t, "a1:a2", "back again", "a1")
		})
	})
}
