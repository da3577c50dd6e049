package e2e

import (
	"net/http"
	"testing"
)

// TestIdempotencyKey checks that a send retried with the same
// Idempotency-Key header is stored once, through the gateway and the RPC.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, sys *system) {
		const chat = "i1:i2"

		t.Run("RetryReturnsTheFirstSendTimeAndStoresOnce", func(t *testing.T) {
			first := sys.api.send(t, chat, "only once", "i1", "Idempotency-Key", "retry-1")
			retry := sys.api.send(t, chat, "only once", "i1", "Idempotency-Key", "retry-1")
			if retry.SendTime != first.SendTime {
				t.Fatalf("retry send_time = %d, want the first one, %d", retry.SendTime, first.SendTime)
			}
			p := sys.api.pullQuery(t, chat, 0, 10, false)
			if len(p.Messages) != 1 || p.Messages[0].SendTime != first.SendTime {
				t.Fatalf("chat holds %v, want the one message sent at %d", p.Messages, first.SendTime)
			}
		})

		t.Run("HeaderAndBodyKeysAreTheSameKey", func(t *testing.T) {
			first := sys.api.send(t, chat, "keyed", "i2", "Idempotency-Key", "retry-2")
			var retry sent
			body := map[string]string{"chat": chat, "text": "keyed", "sender": "i2", "client_msg_id": "retry-2"}
			sys.api.postJSON(t, "/api/send", body).decode(t, http.StatusOK, &retry)
			if retry.SendTime != first.SendTime {
				t.Fatalf("retry with client_msg_id: send_time %d, want %d", retry.SendTime, first.SendTime)
			}
		})

		t.Run("KeysAreScopedToTheSender", func(t *testing.T) {
			a := sys.api.send(t, chat, "same key", "i1", "Idempotency-Key", "retry-3")
			b := sys.api.send(t, chat, "same key", "i2", "Idempotency-Key", "retry-3")
			if a.SendTime == b.SendTime {
				t.Fatalf("two senders with one key got one send_time %d; want two messages", a.SendTime)
			}
		})

		t.Run("SameKeyWithAnotherTextIs409", func(t *testing.T) {
			sys.api.send(t, chat, "original", "i1", "Idempotency-Key", "retry-4")
			body := map[string]string{"chat": chat, "text": "changed", "sender": "i1"}
			sys.api.postJSON(t, "/api/send", body, "Idempotency-Key", "retry-4").
				wantError(t, http.StatusConflict, "conflict")
		})

		t.Run("DifferentHeaderAndBodyKeysAre400", func(t *testing.T) {
			body := map[string]string{"chat": chat, "text": "which?", "sender": "i1", "client_msg_id": "body-key"}
			sys.api.postJSON(t, "/api/send", body, "Idempotency-Key", "header-key").
				wantError(t, http.StatusBadRequest, "invalid_argument")
		})
	})
}
