package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/cloudwego/hertz/pkg/common/ut"
	"github.com/cloudwego/hertz/pkg/route"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlite"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlstore"
)

// mustOpenStore opens an embedded store in a fresh directory, closed at
// the end of the test.
func mustOpenStore(tb testing.TB) *sqlstore.Store {
	tb.Helper()
	store, err := sqlite.Open(context.Background(), tb.TempDir(), sqlstore.Options{})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { store.Close() })
	return store
}

// mustService is a real message service over a fresh embedded store.
func mustService(tb testing.TB) *pigeonhole.Service {
	tb.Helper()
	return pigeonhole.NewService(mustOpenStore(tb), pigeonhole.Config{})
}

// newEngine is the engine of gateway.New (streamed bodies, as in
// production), for ut.PerformRequest. cfg.Logger defaults to a log the
// test can read.
func newEngine(tb testing.TB, svc gateway.MessageService, cfg gateway.Config) *route.Engine {
	tb.Helper()
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	return gateway.New("127.0.0.1:0", svc, cfg).Engine
}

// testLog collects the gateway's log records as JSON lines.
type testLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *testLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *testLog) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(l, nil)) }

// header is a request header for perform.
func header(key, value string) ut.Header { return ut.Header{Key: key, Value: value} }

// perform sends one in-process request; body "" means none.
func perform(e *route.Engine, method, url, body string, headers ...ut.Header) *ut.ResponseRecorder {
	var b *ut.Body
	if body != "" {
		b = &ut.Body{Body: strings.NewReader(body), Len: len(body)}
	}
	return ut.PerformRequest(e, method, url, b, headers...)
}

// errorBody is the JSON body of every error.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// assertError checks an error answer: status, code, a non-empty message,
// and for 5xx none of Go's error internals.
func assertError(tb testing.TB, w *ut.ResponseRecorder, status int, code string) errorBody {
	tb.Helper()
	if got := w.Code; got != status {
		tb.Fatalf("status: got %d, want %d (body %s)", got, status, w.Body.String())
	}
	if got, want := string(w.Header().ContentType()), "application/json; charset=utf-8"; got != want {
		tb.Fatalf("Content-Type: got %q, want %q", got, want)
	}
	var e errorBody
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		tb.Fatalf("error body %q: %v", w.Body.String(), err)
	}
	if e.Code != code {
		tb.Fatalf("code: got %q, want %q (message %q)", e.Code, code, e.Message)
	}
	if e.Message == "" {
		tb.Fatalf("message is empty")
	}
	if status >= 500 {
		for _, internal := range []string{"goroutine", ".go:", "sql:", "sqlite", "panic", "context deadline exceeded", "boom"} {
			if strings.Contains(e.Message, internal) {
				tb.Fatalf("5xx message %q leaks %q", e.Message, internal)
			}
		}
	}
	return e
}

// decode unmarshals a JSON body strictly into v.
func decode(tb testing.TB, body []byte, v any) {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		tb.Fatalf("decode %q: %v", body, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		tb.Fatalf("trailing data after JSON body %q", body)
	}
}

// fakeService is the one fake: for what a real service cannot do on
// demand (fail with a plain error, panic, observe its context). Nil funcs
// answer zero values.
type fakeService struct {
	send  func(context.Context, pigeonhole.SendRequest) (pigeonhole.Message, error)
	pull  func(context.Context, pigeonhole.PullRequest) (pigeonhole.Page, error)
	inbox func(context.Context, pigeonhole.InboxRequest) (pigeonhole.InboxPage, error)
	ready func(context.Context) error
}

func (f *fakeService) Send(ctx context.Context, req pigeonhole.SendRequest) (pigeonhole.Message, error) {
	if f.send == nil {
		return pigeonhole.Message{}, nil
	}
	return f.send(ctx, req)
}

func (f *fakeService) Pull(ctx context.Context, req pigeonhole.PullRequest) (pigeonhole.Page, error) {
	if f.pull == nil {
		return pigeonhole.Page{}, nil
	}
	return f.pull(ctx, req)
}

func (f *fakeService) Ready(ctx context.Context) error {
	if f.ready == nil {
		return nil
	}
	return f.ready(ctx)
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// errNotFaked answers the calls a fakeService does not fake.
var errNotFaked = pigeonhole.Errorf(pigeonhole.CodeUnavailable, "not faked")

func (f *fakeService) CreateGroup(context.Context, pigeonhole.CreateGroupRequest) (pigeonhole.Group, error) {
	return pigeonhole.Group{}, errNotFaked
}

func (f *fakeService) Group(context.Context, pigeonhole.GroupRequest) (pigeonhole.Group, error) {
	return pigeonhole.Group{}, errNotFaked
}

func (f *fakeService) ChangeMembers(context.Context, pigeonhole.ChangeMembersRequest) (pigeonhole.Group, error) {
	return pigeonhole.Group{}, errNotFaked
}

func (f *fakeService) Inbox(ctx context.Context, req pigeonhole.InboxRequest) (pigeonhole.InboxPage, error) {
	if f.inbox == nil {
		return pigeonhole.InboxPage{}, errNotFaked
	}
	return f.inbox(ctx, req)
}

func (f *fakeService) MarkRead(context.Context, pigeonhole.ReadRequest) (pigeonhole.ReadState, error) {
	return pigeonhole.ReadState{}, errNotFaked
}
