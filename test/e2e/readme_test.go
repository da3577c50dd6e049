package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestOriginalReadmeExamples replays the requests of the original
// assignment's README byte for byte, as its clients (curl, Insomnia) send
// them, and checks the answers those clients rely on.
func TestOriginalReadmeExamples(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, sys *system) {
		t.Run("PingAnswersPong", func(t *testing.T) {
			// curl localhost:8080/ping
			resp := sys.api.do(t, http.MethodGet, "/ping", "")
			if resp.status != http.StatusOK {
				t.Fatalf("status %d, want 200; body: %s", resp.status, resp.body)
			}
			if got, want := string(resp.body), `{"message":"pong"}`; got != want {
				t.Fatalf("body %s, want %s", got, want)
			}
		})

		t.Run("SendAnswers200", func(t *testing.T) {
			body := "{\n\t\"chat\": \"a1:a2\",\n\t\"text\": \"hello\",\n\t\"sender\": \"a1\"\n}"
			resp := sys.api.do(t, http.MethodPost, "/api/send", body, "Content-Type", "application/json")
			if resp.status != http.StatusOK {
				t.Fatalf("status %d, want 200; body: %s", resp.status, resp.body)
			}
		})

		t.Run("PullWithJSONBodyOnGETReturnsTheMessage", func(t *testing.T) {
			body := "{\n\t\"chat\": \"a1:a2\",\n\t\"cursor\": 0,\n\t\"limit\": 1,\n\t\"reverse\": false\n}"
			resp := sys.api.do(t, http.MethodGet, "/api/pull", body, "Content-Type", "application/json")
			if resp.status != http.StatusOK {
				t.Fatalf("status %d, want 200; body: %s", resp.status, resp.body)
			}
			obj := resp.object(t)
			if got, want := keys(obj), "[has_more messages next_cursor]"; got != want {
				t.Errorf("keys %s, want %s; body: %s", got, want, resp.body)
			}
			if _, ok := obj["has_more"].(bool); !ok {
				t.Errorf("has_more is %T, want a JSON boolean; body: %s", obj["has_more"], resp.body)
			}
			wantNumber(t, "next_cursor", obj["next_cursor"], 1)
			msgs, ok := obj["messages"].([]any)
			if !ok || len(msgs) != 1 {
				t.Fatalf("messages is %v, want an array of one message; body: %s", obj["messages"], resp.body)
			}
			m, ok := msgs[0].(map[string]any)
			if !ok {
				t.Fatalf("messages[0] is %T, want an object", msgs[0])
			}
			if got, want := keys(m), "[chat send_time sender text]"; got != want {
				t.Errorf("message keys %s, want %s", got, want)
			}
			for key, want := range map[string]string{"chat": "a1:a2", "text": "hello", "sender": "a1"} {
				if got := m[key]; got != want {
					t.Errorf("messages[0].%s = %#v, want %q", key, got, want)
				}
			}
			wantNumber(t, "messages[0].send_time", m["send_time"], 1)
		})
	})
}

// wantNumber checks that v, decoded with UseNumber, is a JSON integer no
// smaller than least; a string of digits, as proto3 JSON writes an int64,
// is not a number to the original's clients.
func wantNumber(t *testing.T, name string, v any, least int64) {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Errorf("%s is %#v (%T), want a JSON number", name, v, v)
		return
	}
	i, err := n.Int64()
	if err != nil {
		t.Errorf("%s = %s, want an integer", name, n)
		return
	}
	if i < least {
		t.Errorf("%s = %d, want at least %d", name, i, least)
	}
}
