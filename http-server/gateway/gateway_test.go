package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/route"
	"google.golang.org/protobuf/proto"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
	"github.com/pigeonhole-im/pigeonhole/http-server/pb"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

func TestProbes(t *testing.T) {
	t.Run("PingAnswersPongExactly", func(t *testing.T) {
		w := perform(newEngine(t, mustService(t), gateway.Config{}), "GET", "/ping", "")
		if got, want := w.Code, 200; got != want {
			t.Fatalf("status: got %d, want %d", got, want)
		}
		if got, want := w.Body.String(), `{"message":"pong"}`; got != want {
			t.Fatalf("body: got %s, want %s", got, want)
		}
		if got, want := string(w.Header().ContentType()), "application/json; charset=utf-8"; got != want {
			t.Fatalf("Content-Type: got %q, want %q", got, want)
		}
	})
	t.Run("HealthzIsOK", func(t *testing.T) {
		w := perform(newEngine(t, mustService(t), gateway.Config{}), "GET", "/healthz", "")
		if got, want := w.Code, 200; got != want {
			t.Fatalf("status: got %d, want %d", got, want)
		}
		if got, want := w.Body.String(), `{"status":"ok"}`; got != want {
			t.Fatalf("body: got %s, want %s", got, want)
		}
	})
	t.Run("ReadyzIsReadyWhileTheStoreIsOpen", func(t *testing.T) {
		w := perform(newEngine(t, mustService(t), gateway.Config{}), "GET", "/readyz", "")
		if got, want := w.Code, 200; got != want {
			t.Fatalf("status: got %d, want %d (%s)", got, want, w.Body.String())
		}
		if got, want := w.Body.String(), `{"status":"ready"}`; got != want {
			t.Fatalf("body: got %s, want %s", got, want)
		}
	})
	t.Run("ReadyzIs503AfterTheStoreCloses", func(t *testing.T) {
		store := mustOpenStore(t)
		e := newEngine(t, pigeonhole.NewService(store, pigeonhole.Config{}), gateway.Config{})
		if err := store.Close(); err != nil {
			t.Fatalf("close store: %v", err)
		}
		w := perform(e, "GET", "/readyz", "")
		assertError(t, w, 503, "unavailable")
		if got, want := string(w.Header().Peek("Retry-After")), "1"; got != want {
			t.Fatalf("Retry-After: got %q, want %q", got, want)
		}
	})
}

func TestRoutes(t *testing.T) {
	e := newEngine(t, mustService(t), gateway.Config{})
	t.Run("UnknownRouteIsJSON404", func(t *testing.T) {
		assertError(t, perform(e, "GET", "/api/nope", ""), 404, "not_found")
	})
	for _, tc := range []struct{ method, path, allow string }{
		{"DELETE", "/api/send", "POST"},
		{"GET", "/api/send", "POST"},
		{"PUT", "/api/pull", "GET, POST"},
		{"POST", "/ping", "GET"},
	} {
		t.Run("WrongMethodIsJSON405/"+tc.method+tc.path, func(t *testing.T) {
			w := perform(e, tc.method, tc.path, "")
			assertError(t, w, 405, "method_not_allowed")
			if got := string(w.Header().Peek("Allow")); got != tc.allow {
				t.Fatalf("Allow: got %q, want %q", got, tc.allow)
			}
		})
	}
	t.Run("RegisterOnAPlainEngine", func(t *testing.T) {
		// route.NewEngine neither streams bodies nor handles 405 itself.
		plain := route.NewEngine(config.NewOptions([]config.Option{server.WithDisablePrintRoute(true)}))
		gateway.Register(plain, mustService(t), gateway.Config{})
		assertError(t, perform(plain, "DELETE", "/api/send", ""), 405, "method_not_allowed")
		assertError(t, perform(plain, "GET", "/nope", ""), 404, "not_found")
		w := perform(plain, "POST", "/api/send", `{"chat":"a1:a2","text":"hello","sender":"a1"}`)
		if got, want := w.Code, 200; got != want {
			t.Fatalf("send: got %d, want %d (%s)", got, want, w.Body.String())
		}
		w = perform(plain, "GET", "/api/pull", `{"chat":"a1:a2"}`, header("Content-Type", "application/json"))
		var page pullBody
		decode(t, w.Body.Bytes(), &page)
		if got, want := len(page.Messages), 1; got != want {
			t.Fatalf("messages: got %d, want %d", got, want)
		}
		big := `{"chat":"a1:a2","sender":"a1","text":"` + strings.Repeat("x", gateway.DefaultMaxBodyBytes) + `"}`
		assertError(t, perform(plain, "POST", "/api/send", big), 413, "too_large")
	})
}

func TestRequestID(t *testing.T) {
	var seen string
	fake := &fakeService{send: func(ctx context.Context, req pigeonhole.SendRequest) (pigeonhole.Message, error) {
		seen = gateway.RequestID(ctx)
		return pigeonhole.Message{}, pigeonhole.Errorf(pigeonhole.CodeInvalidArgument, "no")
	}}
	e := newEngine(t, fake, gateway.Config{})
	t.Run("GeneratedWhenAbsent", func(t *testing.T) {
		first := string(perform(e, "GET", "/ping", "").Header().Peek("X-Request-Id"))
		second := string(perform(e, "GET", "/ping", "").Header().Peek("X-Request-Id"))
		if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(first) {
			t.Fatalf("generated id %q is not 32 hex digits", first)
		}
		if first == second {
			t.Fatalf("two requests got the same id %q", first)
		}
	})
	t.Run("KeptWhenSane", func(t *testing.T) {
		w := perform(e, "GET", "/nope", "", header("X-Request-Id", "req-42.A_b"))
		if got, want := string(w.Header().Peek("X-Request-Id")), "req-42.A_b"; got != want {
			t.Fatalf("id: got %q, want %q", got, want)
		}
	})
	for name, id := range map[string]string{"TooLong": strings.Repeat("a", 65), "WithSpace": "a b", "NonASCII": "ä"} {
		t.Run("ReplacedWhen"+name, func(t *testing.T) {
			got := string(perform(e, "GET", "/ping", "", header("X-Request-Id", id)).Header().Peek("X-Request-Id"))
			if got == id || len(got) != 32 {
				t.Fatalf("id %q: got %q, want a fresh 32-digit id", id, got)
			}
		})
	}
	t.Run("ReachesTheService", func(t *testing.T) {
		w := perform(e, "POST", "/api/send", `{}`, header("X-Request-Id", "trace-7"))
		assertError(t, w, 400, "invalid_argument")
		if got, want := seen, "trace-7"; got != want {
			t.Fatalf("service saw request id %q, want %q", got, want)
		}
	})
	t.Run("ContextHelpers", func(t *testing.T) {
		if got := gateway.RequestID(context.Background()); got != "" {
			t.Fatalf("RequestID of a bare context: got %q, want empty", got)
		}
		if got, want := gateway.RequestID(gateway.WithRequestID(context.Background(), "x1")), "x1"; got != want {
			t.Fatalf("RequestID: got %q, want %q", got, want)
		}
	})
}

func TestErrorMapping(t *testing.T) {
	t.Run("StatusTable", func(t *testing.T) {
		want := map[pigeonhole.Code]int{
			pigeonhole.CodeInvalidArgument: 400, pigeonhole.CodeTooLarge: 413, pigeonhole.CodeNotFound: 404,
			pigeonhole.CodeConflict: 409, pigeonhole.CodeUnauthenticated: 401, pigeonhole.CodePermissionDenied: 403,
			pigeonhole.CodeRateLimited: 429, pigeonhole.CodeUnavailable: 503, pigeonhole.CodeDeadlineExceeded: 504,
			pigeonhole.CodeInternal: 500, gateway.CodeMethodNotAllowed: 405, gateway.CodeUnsupportedMediaType: 415,
			"no_such_code": 500,
		}
		for code, status := range want {
			if got := gateway.StatusCode(code); got != status {
				t.Errorf("StatusCode(%q): got %d, want %d", code, got, status)
			}
		}
	})
	// The real service cannot produce these on demand; the fake returns
	// each code as a service error and the gateway must map it.
	for _, tc := range []struct {
		code       pigeonhole.Code
		status     int
		retryAfter string
	}{
		{pigeonhole.CodeRateLimited, 429, "1"},
		{pigeonhole.CodeUnauthenticated, 401, ""},
		{pigeonhole.CodePermissionDenied, 403, ""},
		{pigeonhole.CodeNotFound, 404, ""},
		{pigeonhole.CodeUnavailable, 503, "1"},
	} {
		t.Run("ServiceError/"+string(tc.code), func(t *testing.T) {
			fake := &fakeService{pull: func(context.Context, pigeonhole.PullRequest) (pigeonhole.Page, error) {
				return pigeonhole.Page{}, pigeonhole.Errorf(tc.code, "because %s", tc.code)
			}}
			w := perform(newEngine(t, fake, gateway.Config{}), "GET", "/api/pull?chat=a:b", "")
			e := assertError(t, w, tc.status, string(tc.code))
			if got, want := e.Message, "because "+string(tc.code); got != want {
				t.Fatalf("message: got %q, want %q", got, want)
			}
			if got := string(w.Header().Peek("Retry-After")); got != tc.retryAfter {
				t.Fatalf("Retry-After: got %q, want %q", got, tc.retryAfter)
			}
		})
	}
	t.Run("PlainErrorIs500AndLogged", func(t *testing.T) {
		var log testLog
		fake := &fakeService{send: func(context.Context, pigeonhole.SendRequest) (pigeonhole.Message, error) {
			return pigeonhole.Message{}, errors.New("sql: connection refused at db.go:12")
		}}
		e := newEngine(t, fake, gateway.Config{Logger: log.logger()})
		w := perform(e, "POST", "/api/send", `{"chat":"a:b","text":"x","sender":"a"}`, header("X-Request-Id", "r-500"))
		if got, want := assertError(t, w, 500, "internal").Message, "internal error"; got != want {
			t.Fatalf("message: got %q, want %q", got, want)
		}
		for _, want := range []string{`"request_id":"r-500"`, "sql: connection refused at db.go:12", `"status":500`} {
			if !strings.Contains(log.String(), want) {
				t.Fatalf("log %s lacks %s", log.String(), want)
			}
		}
	})
	t.Run("InternalCauseStaysInTheLog", func(t *testing.T) {
		var log testLog
		fake := &fakeService{pull: func(context.Context, pigeonhole.PullRequest) (pigeonhole.Page, error) {
			return pigeonhole.Page{}, pigeonhole.Wrap(pigeonhole.CodeUnavailable, errors.New("dial tcp 10.0.0.9:3306: refused"), "the message store is unavailable")
		}}
		w := perform(newEngine(t, fake, gateway.Config{Logger: log.logger()}), "GET", "/api/pull?chat=a:b", "")
		if got, want := assertError(t, w, 503, "unavailable").Message, "the message store is unavailable"; got != want {
			t.Fatalf("message: got %q, want %q", got, want)
		}
		if strings.Contains(w.Body.String(), "10.0.0.9") || !strings.Contains(log.String(), "10.0.0.9") {
			t.Fatalf("cause must be in the log only: body %s, log %s", w.Body.String(), log.String())
		}
	})
	t.Run("PanicIs500WithStackInTheLog", func(t *testing.T) {
		var log testLog
		fake := &fakeService{pull: func(context.Context, pigeonhole.PullRequest) (pigeonhole.Page, error) {
			panic("boom")
		}}
		e := newEngine(t, fake, gateway.Config{Logger: log.logger()})
		w := perform(e, "GET", "/api/pull?chat=a:b", "", header("X-Request-Id", "r-panic"))
		assertError(t, w, 500, "internal")
		if got, want := string(w.Header().Peek("X-Request-Id")), "r-panic"; got != want {
			t.Fatalf("X-Request-Id after a panic: got %q, want %q", got, want)
		}
		for _, want := range []string{"handler panicked", `"panic":"boom"`, `"request_id":"r-panic"`, "goroutine "} {
			if !strings.Contains(log.String(), want) {
				t.Fatalf("log lacks %q: %s", want, log.String())
			}
		}
		// The engine keeps serving.
		if got, want := perform(e, "GET", "/ping", "").Code, 200; got != want {
			t.Fatalf("ping after panic: got %d, want %d", got, want)
		}
	})
	t.Run("BareDeadlineIs504", func(t *testing.T) {
		fake := &fakeService{pull: func(ctx context.Context, _ pigeonhole.PullRequest) (pigeonhole.Page, error) {
			<-ctx.Done()
			return pigeonhole.Page{}, ctx.Err()
		}}
		w := perform(newEngine(t, fake, gateway.Config{RequestTimeout: time.Millisecond}), "GET", "/api/pull?chat=a:b", "")
		if got, want := assertError(t, w, 504, "deadline_exceeded").Message, "the request timed out"; got != want {
			t.Fatalf("message: got %q, want %q", got, want)
		}
	})
	t.Run("ServiceContextHasTheRequestTimeout", func(t *testing.T) {
		var left time.Duration
		fake := &fakeService{ready: func(ctx context.Context) error {
			deadline, ok := ctx.Deadline()
			if !ok {
				return errors.New("no deadline")
			}
			left = time.Until(deadline)
			return nil
		}}
		w := perform(newEngine(t, fake, gateway.Config{RequestTimeout: 3 * time.Second}), "GET", "/readyz", "")
		if got, want := w.Code, 200; got != want {
			t.Fatalf("status: got %d, want %d", got, want)
		}
		if left <= 2*time.Second || left > 3*time.Second {
			t.Fatalf("deadline %v away, want about 3s", left)
		}
	})
	t.Run("ProtobufErrorWhenAccepted", func(t *testing.T) {
		e := newEngine(t, mustService(t), gateway.Config{})
		w := perform(e, "GET", "/api/pull?chat=bad", "", header("Accept", "application/x-protobuf"))
		if got, want := w.Code, http.StatusBadRequest; got != want {
			t.Fatalf("status: got %d, want %d", got, want)
		}
		if got, want := string(w.Header().ContentType()), "application/x-protobuf"; got != want {
			t.Fatalf("Content-Type: got %q, want %q", got, want)
		}
		var perr pb.Error
		if err := proto.Unmarshal(w.Body.Bytes(), &perr); err != nil {
			t.Fatalf("unmarshal pb.Error: %v", err)
		}
		if got, want := perr.Code, "invalid_argument"; got != want {
			t.Fatalf("code: got %q, want %q", got, want)
		}
		if got, want := perr.Message, `chat "bad" must be two member ids joined by ':' or a group id`; got != want {
			t.Fatalf("message: got %q, want %q", got, want)
		}
	})
}
