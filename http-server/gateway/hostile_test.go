package gateway_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
)

// rawExchange writes request bytes on a fresh connection and reads the
// first answer, and whether the server then closed the connection (false
// when a second answer, or nothing, came within a short wait).
func rawExchange(tb testing.TB, base, request string) (*http.Response, []byte, bool) {
	tb.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		tb.Fatal(err)
	}
	if _, err := io.WriteString(conn, request); err != nil {
		tb.Fatalf("write: %v", err)
	}
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		tb.Fatalf("read answer: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		tb.Fatalf("read answer body: %v", err)
	}
	conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond)) //nolint:errcheck
	_, err = r.ReadByte()
	return resp, body, err == io.EOF
}

func TestStrictFraming(t *testing.T) {
	base, client := startServer(t, mustService(t), gateway.Config{Logger: discardLogger()})
	// smuggled is a complete send; if the gateway read it as a request
	// of its own, the chat would hold a message.
	const inner = `{"chat":"s1:s2","text":"smuggled","sender":"s1"}`
	smuggled := fmt.Sprintf("POST /api/send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		len(inner), inner)
	chunk := func(framing string) string {
		return "POST /api/send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + framing +
			"\r\n0\r\n\r\n" + smuggled
	}
	for name, request := range map[string]string{
		"LengthAndChunked":   chunk("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
		"XChunked":           chunk("Transfer-Encoding: xchunked\r\n"),
		"IdentityChunked":    chunk("Transfer-Encoding: identity, chunked\r\n"),
		"ChunkedIdentity":    chunk("Transfer-Encoding: chunked, identity\r\n"),
		"ConflictingLengths": "POST /api/send HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n{" + smuggled,
		"UnknownMethodToo":   strings.Replace(chunk("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), "POST", "BREW", 1),
	} {
		t.Run(name, func(t *testing.T) {
			resp, body, closed := rawExchange(t, base, request)
			if resp.StatusCode != 400 || !strings.Contains(string(body), `"code":"invalid_argument"`) {
				t.Fatalf("answer: got %d %s, want 400 invalid_argument", resp.StatusCode, body)
			}
			if !closed {
				t.Fatalf("the connection stayed open after ambiguous framing")
			}
		})
	}
	t.Run("NothingSmuggledIsStored", func(t *testing.T) {
		r := do(t, client, "GET", base+"/api/pull?chat=s1:s2", nil, 0)
		if r.status != 200 || strings.Contains(string(r.body), "smuggled") {
			t.Fatalf("pull: got %d %s, want an empty page", r.status, r.body)
		}
	})
	t.Run("PlainChunkedStillWorks", func(t *testing.T) {
		body := `{"chat":"c1:c2","text":"chunked","sender":"c1"}`
		resp, answer, _ := rawExchange(t, base, "POST /api/send HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"+
			fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body))
		if resp.StatusCode != 200 {
			t.Fatalf("chunked send: got %d %s", resp.StatusCode, answer)
		}
	})
}

func TestUnknownMethods(t *testing.T) {
	m := gateway.NewMetrics()
	e := newEngine(t, mustService(t), gateway.Config{Metrics: m})
	w := perform(e, "BREW", "/api/send", "")
	assertError(t, w, 501, "not_implemented")
	w = perform(e, "DELETE", "/api/send", "")
	assertError(t, w, 405, "method_not_allowed")

	t.Run("MetricsStayBounded", func(t *testing.T) {
		for i := range 2000 {
			perform(e, fmt.Sprintf("M%0200d", i), fmt.Sprintf("/p%d", i), "")
		}
		body := scrape(t, m)
		if len(body) > 256<<10 {
			t.Fatalf("/metrics is %d bytes after 2000 distinct methods", len(body))
		}
		if want := `pigeonhole_http_requests_total{code="not_implemented",method="other",route="unmatched",status="501"} 2001`; !strings.Contains(body, want) {
			t.Fatalf("metrics lack %s", want)
		}
	})
}

func TestErrorAnswersAreSmall(t *testing.T) {
	e := newEngine(t, mustService(t), gateway.Config{})
	big := strings.Repeat("\x01é", 340<<10) // about 1 MiB, escaped 3 times larger
	for name, req := range map[string]struct{ contentType, body string }{
		"FormChat":     {"application/x-www-form-urlencoded", "chat=" + big + "&text=x&sender=a"},
		"JSONChat":     {"application/json", `{"chat":"` + big + `","text":"x","sender":"a"}`},
		"FormSender":   {"application/x-www-form-urlencoded", "chat=a:b&text=x&sender=" + big},
		"ContentType":  {big[:4000], "x"},
		"FormClientID": {"application/x-www-form-urlencoded", "chat=a:b&text=x&sender=a&client_msg_id=" + big},
	} {
		t.Run(name, func(t *testing.T) {
			w := perform(e, "POST", "/api/send", req.body, header("Content-Type", req.contentType))
			if w.Code < 400 {
				t.Fatalf("status %d for a hostile send", w.Code)
			}
			if n := w.Body.Len(); n > 4<<10 {
				t.Fatalf("error answer of %d bytes: %.200s…", n, w.Body.String())
			}
		})
	}
}

// TestHertzOwnErrorsAreJSON covers the requests Hertz refuses before any
// handler runs: each answer is the gateway's JSON error, and the
// connection is closed after it.
func TestHertzOwnErrorsAreJSON(t *testing.T) {
	base, _ := startServer(t, mustService(t), gateway.Config{
		Logger: discardLogger(), MaxHeaderBytes: 4 << 10, ReadTimeout: 300 * time.Millisecond,
	})
	for _, tc := range []struct {
		name, request string
		status        int
		code          string
	}{
		{"HeaderTooLarge", "GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 5<<10) + "\r\n\r\n", 431, "header_too_large"},
		{"BadContentLength", "POST /api/send HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400, "invalid_argument"},
		{"NegativeContentLength", "POST /api/send HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, "invalid_argument"},
		{"MalformedRequestLine", "GET /ping\r\nHost: x\r\n\r\n", 400, "invalid_argument"},
		{"NoHost", "GET /ping HTTP/1.1\r\n\r\n", 400, "invalid_argument"},
		{"StalledHeader", "GET /ping HTTP/1.1\r\nHost: x\r\n", 400, "invalid_argument"},
		{"StalledBody", "POST /api/send HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{", 400, "invalid_argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body, closed := rawExchange(t, base, tc.request)
			if resp.StatusCode != tc.status || !strings.Contains(string(body), `"code":"`+tc.code+`"`) {
				t.Fatalf("answer: got %d %s, want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
			if got, want := resp.Header.Get("Content-Type"), "application/json; charset=utf-8"; got != want {
				t.Fatalf("Content-Type: got %q, want %q", got, want)
			}
			if tc.name != "NoHost" && !closed {
				t.Fatalf("the connection stayed open after %s", tc.name)
			}
		})
	}
	t.Run("ExpectContinueStillWorks", func(t *testing.T) {
		body := `{"chat":"e1:e2","text":"continued","sender":"e1"}`
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck
		fmt.Fprintf(conn, "POST /api/send HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", len(body))
		r := bufio.NewReader(conn)
		line, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
			t.Fatalf("interim answer: got %q (%v), want 100 Continue", line, err)
		}
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		io.WriteString(conn, body) //nolint:errcheck
		resp, err := http.ReadResponse(r, nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("send after 100 Continue: %v %v", resp, err)
		}
		resp.Body.Close()
	})
}
