package hostile

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestHTTPRequestSmuggling sends, on one connection, a send with
// ambiguous framing followed by a second, complete send. The gateway must
// refuse the first with a JSON 400 and close the connection, so that the
// second is never read as a request.
func TestHTTPRequestSmuggling(t *testing.T) {
	t.Parallel()
	sys := startHTTPSystem(t)
	const inner = `{"chat":"s1:s2","text":"smuggled","sender":"s1"}`
	smuggled := fmt.Sprintf("POST /api/send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Content-Length: %d\r\n\r\n%s", len(inner), inner)
	chunked := func(framing string) string {
		return "POST /api/send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + framing +
			"\r\n0\r\n\r\n" + smuggled
	}
	for _, tc := range []struct{ name, request string }{
		{"LengthAndChunked", chunked("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n")},
		{"XChunked", chunked("Transfer-Encoding: xchunked\r\n")},
		{"IdentityChunked", chunked("Transfer-Encoding: identity, chunked\r\n")},
		{"ChunkedIdentity", chunked("Transfer-Encoding: chunked, identity\r\n")},
		{"ConflictingLengths", "POST /api/send HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n{" + smuggled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, closed := sys.exchange(t, tc.request)
			if status != http.StatusBadRequest || !strings.Contains(string(body), `"code":"invalid_argument"`) {
				t.Fatalf("answer: got %d %s, want 400 invalid_argument", status, body)
			}
			if !closed {
				t.Fatalf("the connection stayed open after ambiguous framing")
			}
		})
	}
	if status, body := sys.get(t, "/api/pull?chat=s1:s2"); status != http.StatusOK || strings.Contains(string(body), "smuggled") {
		t.Fatalf("pull: got %d %s, want an empty page", status, body)
	}
}

// TestHTTPMetricsCardinality sends 2,000 distinct request methods: each
// is refused (501) and counted as "other", so /metrics stays small.
func TestHTTPMetricsCardinality(t *testing.T) {
	t.Parallel()
	sys := startHTTPSystem(t)
	for i := range 2000 {
		req, err := http.NewRequest(fmt.Sprintf("M%0200d", i), sys.gw.URL+fmt.Sprintf("/x/%d", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := sys.client.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotImplemented {
			t.Fatalf("method %d: got %d, want 501", i, resp.StatusCode)
		}
	}
	status, body := sys.getURL(t, sys.gw.MetricsURL) // /metrics has a listener of its own
	if status != http.StatusOK {
		t.Fatalf("/metrics: %d", status)
	}
	t.Logf("/metrics after 2000 distinct methods: %d bytes", len(body))
	if len(body) > 256<<10 {
		t.Fatalf("/metrics is %d bytes, more than 256 KiB", len(body))
	}
}

// TestHTTPErrorAnswerSize sends a form of almost 1 MiB whose chat id is
// made of bytes that quoting escapes to four times their size; the answer
// must quote only a short prefix of it.
func TestHTTPErrorAnswerSize(t *testing.T) {
	t.Parallel()
	sys := startHTTPSystem(t)
	hostile := strings.Repeat("%01", 340<<10) // 340 KiB of \x01 once decoded
	for _, field := range []string{"chat", "sender", "client_msg_id"} {
		t.Run(field, func(t *testing.T) {
			values := map[string]string{"chat": "a:b", "text": "x", "sender": "a", "client_msg_id": "m"}
			values[field] = hostile
			form := "chat=" + values["chat"] + "&text=x&sender=" + values["sender"] + "&client_msg_id=" + values["client_msg_id"]
			resp, err := sys.client.Post(sys.gw.URL+"/api/send", "application/x-www-form-urlencoded", strings.NewReader(form))
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			defer resp.Body.Close()
			var n int64
			buf := make([]byte, 32<<10)
			for {
				m, err := resp.Body.Read(buf)
				n += int64(m)
				if err != nil {
					break
				}
			}
			t.Logf("form body %d bytes: answer %d %d bytes", len(form), resp.StatusCode, n)
			if resp.StatusCode < 400 || n > 4<<10 {
				t.Fatalf("answer %d of %d bytes, want an error of at most 4 KiB", resp.StatusCode, n)
			}
		})
	}
}
