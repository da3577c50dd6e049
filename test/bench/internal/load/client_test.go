package load

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// apiHandler answers the API's requests as a well-behaved server does:
// a send echoes the length of its body as send_time, a pull answers one
// message naming the pull's cursor and a ping pongs.
func apiHandler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/send", func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("send: Content-Type %q", got)
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("send: %v", err)
		}
		fmt.Fprintf(w, `{"send_time":%d}`, len(body))
	})
	mux.HandleFunc("GET /api/pull", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		fmt.Fprintf(w, `{"messages":[{"chat":%q,"text":"from %s","sender":"a","send_time":7}],"has_more":true,"next_cursor":8}`,
			q.Get("chat"), q.Get("cursor"))
	})
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"message":"pong"}`))
	})
	return mux
}

// countingServer starts a server of h that counts the connections it
// accepts in conns.
func countingServer(t *testing.T, h http.Handler, conns *atomic.Int64) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// newTestClient returns a client of srvURL closed when the test ends.
func newTestClient(t *testing.T, srvURL string, timeout time.Duration) *Client {
	c := NewClient(srvURL, 8, timeout)
	t.Cleanup(c.Close)
	return c
}

// wantKind fails the test unless err is a Failure of kind.
func wantKind(t *testing.T, err error, kind string) *Failure {
	t.Helper()
	f, ok := errors.AsType[*Failure](err)
	if !ok || f.Kind != kind || failureKind(err) != kind {
		t.Fatalf("error %v (%T), want a failure of kind %q", err, err, kind)
	}
	return f
}

// pullOne pulls chat from cursor 3 into a fresh page and checks it.
func pullOne(t *testing.T, c *Client, chat string) {
	t.Helper()
	var page Page
	if err := c.Pull(t.Context(), "", c.PullURL(chat, 3, 10), &page); err != nil {
		t.Fatal(err)
	}
	want := Message{Chat: chat, Text: "from 3", Sender: "a", SendTime: 7}
	if len(page.Messages) != 1 || page.Messages[0] != want || !page.HasMore || page.NextCursor != 8 {
		t.Fatalf("page %+v, want one message %+v, has_more, next_cursor 8", page, want)
	}
}

func TestClientDecodesAnswers(t *testing.T) {
	var conns atomic.Int64
	srv := countingServer(t, apiHandler(t), &conns)
	c := newTestClient(t, srv.URL, 5*time.Second)
	body := []byte(`{"chat":"a:b","text":"hi","sender":"a"}`)
	var ack SendAck
	if err := c.Send(t.Context(), "", body, &ack); err != nil {
		t.Fatal(err)
	}
	if ack.SendTime != int64(len(body)) {
		t.Errorf("send_time %d, want %d", ack.SendTime, len(body))
	}
	if err := c.Send(t.Context(), "", body, nil); err != nil {
		t.Fatal(err)
	}
	pullOne(t, c, "a b:c&d") // escaped in the query
	if err := c.Pull(t.Context(), "", c.PullURL("a:b", 0, 10), nil); err != nil {
		t.Fatal(err)
	}
	if n, err := c.PullSize(t.Context(), "", c.PullURL("a:b", 3, 10)); err != nil || n != 1 {
		t.Fatalf("page size %d, %v; want 1", n, err)
	}
	for range 100 {
		if err := c.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for requests one after another, want 1 kept alive", n)
	}
}

func TestClientPathPrefix(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("/base", apiHandler(t)))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL+"/base/", 5*time.Second)
	if err := c.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	pullOne(t, c, "a:b")
}

func TestClientChunked(t *testing.T) {
	text := strings.Repeat("x", 3*readBufferSize) // longer than the read buffer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Trailer", "X-Check") // a trailer to skip
		for _, part := range []string{`{"messages":[{"text":"`, text, `"}],`, `"next_cursor":5}`} {
			io.WriteString(w, part)
			w.(http.Flusher).Flush() // each write its own chunk
		}
		w.Header().Set("X-Check", "done")
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, 5*time.Second)
	for range 3 { // the connection stays usable after each
		var page Page
		if err := c.Pull(t.Context(), "", c.PullURL("a:b", 0, 10), &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Messages) != 1 || page.Messages[0].Text != text || page.NextCursor != 5 {
			t.Fatalf("page of %d messages, next_cursor %d", len(page.Messages), page.NextCursor)
		}
	}
}

func TestClientConnectionClose(t *testing.T) {
	var conns atomic.Int64
	var requests atomic.Int64
	srv := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if requests.Add(1) == 1 {
			w.Header().Set("Connection", "close")
		}
		w.Write([]byte(`{"message":"pong"}`))
	}), &conns)
	c := newTestClient(t, srv.URL, 5*time.Second)
	for range 4 {
		if err := c.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	// The first request ends its connection; the others share the one
	// dialled after it.
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

func TestClientStatus(t *testing.T) {
	long := strings.Repeat("e", 300)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ping" {
			http.Error(w, long, http.StatusTooManyRequests)
			return
		}
		w.Write([]byte(`<html>not JSON</html>`))
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, 5*time.Second)
	f := wantKind(t, c.Ping(t.Context()), "status 429")
	if f.Detail != long[:256] {
		t.Errorf("detail %q, want the first 256 bytes of the body", f.Detail)
	}
	wantKind(t, c.Send(t.Context(), "", []byte(`{}`), &SendAck{}), "body: not the API's JSON")
	if err := c.Send(t.Context(), "", []byte(`{}`), nil); err != nil {
		t.Errorf("send without an ack to decode: %v", err)
	}
}

// rawServer accepts connections and answers every request on them with
// answer, which writes raw bytes; it returns the server's base URL.
func rawServer(t *testing.T, answer func(c net.Conn, req *http.Request)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					answer(c, req)
				}
			})
		}
	})
	return "http://" + ln.Addr().String()
}

func TestClientRawAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer string // "" closes the connection without a word
		kind   string // "" for a success
	}{
		{"NoAnswer", "", "transport: connection closed by server"},
		{"CutShort", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"messages\":", "transport: connection closed by server"},
		{"CutShortChunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"me", "transport: connection closed by server"},
		{"NotHTTP", "SSH-2.0-OpenSSH\r\n\r\n", "transport: malformed response"},
		{"TooLarge", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", "transport: response too large"},
		{"UntilClose", "HTTP/1.0 200 OK\r\n\r\n{\"next_cursor\":3}", ""},
		{"Interim", "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 17\r\n\r\n{\"next_cursor\":3}", ""},
		{"BareLF", "HTTP/1.1 200 OK\nContent-Length: 17\n\n{\"next_cursor\":3}", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := rawServer(t, func(c net.Conn, _ *http.Request) {
				if tc.answer == "" || tc.kind != "" || strings.HasPrefix(tc.answer, "HTTP/1.0") {
					defer c.Close()
				}
				io.WriteString(c, tc.answer)
			})
			c := newTestClient(t, base, 5*time.Second)
			for range 2 { // and again, on a new connection if need be
				var page Page
				err := c.Pull(t.Context(), "", c.PullURL("a:b", 0, 10), &page)
				if tc.kind != "" {
					wantKind(t, err, tc.kind)
					continue
				}
				if err != nil || page.NextCursor != 3 {
					t.Fatalf("page %+v, error %v", page, err)
				}
			}
		})
	}
}

// blockingServer answers /ping only once the test ends.
func blockingServer(t *testing.T) *httptest.Server {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // before srv.Close, which waits for handlers
	return srv
}

func TestClientCanceled(t *testing.T) {
	srv := blockingServer(t)
	c := newTestClient(t, srv.URL, time.Minute)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	wantKind(t, c.Ping(ctx), "transport: canceled")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v to notice the cancellation", took)
	}
	// A context already over fails at once, with its cause in the detail.
	ctx, cancelCause := context.WithCancelCause(t.Context())
	cancelCause(errors.New("the run is over"))
	if f := wantKind(t, c.Ping(ctx), "transport: canceled"); !strings.Contains(f.Detail, "the run is over") {
		t.Errorf("detail %q does not give the cause", f.Detail)
	}
}

func TestClientTimeout(t *testing.T) {
	srv := blockingServer(t)
	c := newTestClient(t, srv.URL, 100*time.Millisecond)
	start := time.Now()
	wantKind(t, c.Ping(t.Context()), "transport: timeout")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v to time out after 100ms", took)
	}
	// A context deadline before the client's timeout counts too.
	c = newTestClient(t, srv.URL, time.Minute)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	wantKind(t, c.Ping(ctx), "transport: timeout")
}

func TestClientConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newTestClient(t, "http://"+addr, 5*time.Second)
	wantKind(t, c.Ping(t.Context()), "transport: connection refused")
}

func TestClientIdleTooLong(t *testing.T) {
	var conns atomic.Int64
	srv := countingServer(t, apiHandler(t), &conns)
	c := newTestClient(t, srv.URL, 5*time.Second)
	for range 2 {
		if err := c.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
		c.idle[0].idleSince = time.Now().Add(-maxIdleAge)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want a new one after the first was idle too long", n)
	}
	if len(c.idle) != 1 {
		t.Errorf("%d idle connections, want 1", len(c.idle))
	}
}

func TestClientTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 1 {
			t.Errorf("protocol %s, want HTTP/1.1", r.Proto)
		}
		w.Write([]byte(`{"send_time":9}`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake the client refuses
	srv.StartTLS()
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, 5*time.Second)
	wantKind(t, c.Ping(t.Context()), "transport: other (*tls.CertificateVerificationError)")
	c.tls.RootCAs = x509.NewCertPool()
	c.tls.RootCAs.AddCert(srv.Certificate())
	for range 3 {
		var ack SendAck
		if err := c.Send(t.Context(), "", []byte(`{}`), &ack); err != nil || ack.SendTime != 9 {
			t.Fatalf("ack %+v, error %v", ack, err)
		}
	}
}

func TestClientConcurrent(t *testing.T) {
	const workers, each = 50, 40
	var conns atomic.Int64
	srv := countingServer(t, apiHandler(t), &conns)
	c := NewClient(srv.URL, workers, 5*time.Second)
	defer c.Close()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			chat := "c" + strconv.Itoa(w)
			body := []byte(`{"chat":"` + chat + `"}`)
			for i := range each {
				switch i % 3 {
				case 0:
					var ack SendAck
					if err := c.Send(t.Context(), "", body, &ack); err != nil || ack.SendTime != int64(len(body)) {
						t.Errorf("send: ack %+v, error %v", ack, err)
					}
				case 1:
					var page Page
					err := c.Pull(t.Context(), "", c.PullURL(chat, int64(i), 10), &page)
					if err != nil || len(page.Messages) != 1 || page.Messages[0].Text != "from "+strconv.Itoa(i) {
						t.Errorf("pull: page %+v, error %v", page, err)
					}
				default:
					if err := c.Ping(t.Context()); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if n := conns.Load(); n > workers {
		t.Errorf("%d connections for %d workers", n, workers)
	}
}

func TestPageSizeCountsMessages(t *testing.T) {
	for _, tc := range []struct {
		body string
		want int
		ok   bool
	}{
		{`{"messages":[],"has_more":false,"next_cursor":3}`, 0, true},
		{`{"messages":[{"chat":"a:b","text":"x","sender":"a","send_time":1},{"chat":"a:b","text":"y","sender":"b","send_time":2}]}`, 2, true},
		// A text quoting the key is escaped, so it is not counted.
		{`{"messages":[{"chat":"a:b","text":"\"send_time\": 5","sender":"a","send_time":1}]}`, 1, true},
		{`{"messages":[{"send_time":1}`, 0, false},
		{`<html>oops</html>`, 0, false},
		{`{"messages":[]} trailing`, 0, false},
		{`{"messages":[{"text":"bad \q escape","send_time":1}]}`, 0, false},
		{`{"messages":[{"send_time":1,}]}`, 0, false},
	} {
		var p PageSize
		err := p.decodeBody([]byte(tc.body))
		if (err == nil) != tc.ok || p.Messages != tc.want {
			t.Errorf("%s: %d messages, %v; want %d, ok %v", tc.body, p.Messages, err, tc.want, tc.ok)
		}
	}
}
