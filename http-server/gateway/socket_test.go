package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
)

// startServer runs gateway.New on a free 127.0.0.1 port until the end of
// the test and returns its base URL and a client for it.
func startServer(tb testing.TB, svc gateway.MessageService, cfg gateway.Config) (string, *http.Client) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	h := gateway.New(ln.Addr().String(), svc, cfg, server.WithListener(ln), server.WithExitWaitTime(time.Second))
	done := make(chan error, 1)
	go func() { done <- h.Run() }()
	client := &http.Client{Timeout: 10 * time.Second}
	base := "http://" + ln.Addr().String()
	tb.Cleanup(func() {
		client.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
		<-done
	})
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base, client
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("server did not come up: %v", err)
		}
	}
}

// reply is a response read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
	closed bool // the server asked to close the connection
}

// do sends one request over the socket and reads the answer.
func do(tb testing.TB, client *http.Client, method, url string, body io.Reader, contentLength int64, headers ...string) reply {
	tb.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		tb.Fatal(err)
	}
	req.ContentLength = contentLength
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read response: %v", err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: out, closed: resp.Close}
}

func TestOverTCP(t *testing.T) {
	base, client := startServer(t, mustService(t), gateway.Config{Logger: discardLogger()})
	send := `{"chat":"a1:a2","text":"hello","sender":"a1"}`
	r := do(t, client, "POST", base+"/api/send", strings.NewReader(send), int64(len(send)), "Content-Type", "application/json")
	if r.status != 200 {
		t.Fatalf("send: got %d %s, want 200", r.status, r.body)
	}
	var sent sendBody
	decode(t, r.body, &sent)

	t.Run("GETWithJSONBody", func(t *testing.T) {
		pull := `{"chat":"a1:a2","cursor":0,"limit":1,"reverse":false}`
		r := do(t, client, "GET", base+"/api/pull", strings.NewReader(pull), int64(len(pull)), "Content-Type", "application/json")
		if r.status != 200 {
			t.Fatalf("pull: got %d %s, want 200", r.status, r.body)
		}
		if got, want := r.header.Get("Content-Type"), "application/json; charset=utf-8"; got != want {
			t.Fatalf("Content-Type: got %q, want %q", got, want)
		}
		var page pullBody
		decode(t, r.body, &page)
		want := messageBody{Chat: "a1:a2", Text: "hello", Sender: "a1", SendTime: sent.SendTime}
		if len(page.Messages) != 1 || page.Messages[0] != want || page.NextCursor != sent.SendTime+1 {
			t.Fatalf("page: got %+v, want [%+v] next_cursor %d", page, want, sent.SendTime+1)
		}
	})
	t.Run("POSTPullRoundTrip", func(t *testing.T) {
		pull := `{"chat":"a2:a1"}`
		r := do(t, client, "POST", base+"/api/pull", strings.NewReader(pull), int64(len(pull)))
		var page pullBody
		decode(t, r.body, &page)
		if r.status != 200 || len(page.Messages) != 1 || page.Messages[0].SendTime != sent.SendTime {
			t.Fatalf("pull: got %d %+v", r.status, page)
		}
	})
	t.Run("BodyLargerThanHertzPrefetch", func(t *testing.T) {
		// 60 KiB: more than the 8 KiB Hertz reads before the handler.
		big := `{"chat":"a1:a2","sender":"a2","text":"` + strings.Repeat("b", 60<<10) + `"}`
		r := do(t, client, "POST", base+"/api/send", strings.NewReader(big), int64(len(big)))
		if r.status != 200 || r.closed {
			t.Fatalf("send: got %d %s (closed %v), want 200 on a kept connection", r.status, r.body, r.closed)
		}
	})
	for name, contentLength := range map[string]int64{"WithContentLength": 2 << 20, "Chunked": -1} {
		t.Run("TwoMiBBodyIsJSON413/"+name, func(t *testing.T) {
			huge := `{"chat":"a1:a2","sender":"a1","text":"` + strings.Repeat("h", 2<<20) + `"}`
			if contentLength > 0 {
				contentLength = int64(len(huge))
			}
			// io.MultiReader hides the length, so net/http sends chunked
			// when contentLength is -1.
			r := do(t, client, "POST", base+"/api/send", io.MultiReader(strings.NewReader(huge)), contentLength)
			if r.status != 413 {
				t.Fatalf("status: got %d %q, want 413", r.status, clipBody(r.body))
			}
			if got, want := r.header.Get("Content-Type"), "application/json; charset=utf-8"; got != want {
				t.Fatalf("Content-Type: got %q, want %q", got, want)
			}
			if !r.closed {
				t.Fatalf("the server kept the connection after refusing the body")
			}
			var e errorBody
			if err := json.Unmarshal(r.body, &e); err != nil || e.Code != "too_large" || e.Message != "the request body is larger than the limit of 1048576 bytes" {
				t.Fatalf("body: got %q (%v)", clipBody(r.body), err)
			}
		})
	}
	t.Run("ServesAfterA413", func(t *testing.T) {
		r := do(t, client, "GET", base+"/ping", nil, 0)
		if r.status != 200 || string(r.body) != `{"message":"pong"}` {
			t.Fatalf("ping: got %d %s", r.status, r.body)
		}
	})
}

func clipBody(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
