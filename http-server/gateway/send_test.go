package gateway_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/cloudwego/hertz/pkg/common/ut"
	"github.com/cloudwego/hertz/pkg/route"
	"google.golang.org/protobuf/proto"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
	"github.com/pigeonhole-im/pigeonhole/http-server/pb"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// sendBody is the JSON answer to a send.
type sendBody struct {
	SendTime int64  `json:"send_time"`
	Chat     string `json:"chat"`
}

// mustSend performs a send that must succeed and returns its answer.
func mustSend(tb testing.TB, e *route.Engine, url, body string, headers ...ut.Header) sendBody {
	tb.Helper()
	w := perform(e, "POST", url, body, headers...)
	if w.Code != 200 {
		tb.Fatalf("send %s %q: got %d %s, want 200", url, body, w.Code, w.Body.String())
	}
	if got, want := string(w.Header().ContentType()), "application/json; charset=utf-8"; got != want {
		tb.Fatalf("Content-Type: got %q, want %q", got, want)
	}
	var out sendBody
	decode(tb, w.Body.Bytes(), &out)
	if out.SendTime <= 0 {
		tb.Fatalf("send_time: got %d, want > 0", out.SendTime)
	}
	return out
}

// onlyMessage pulls chat a1:a2 and returns its single message.
func onlyMessage(tb testing.TB, e *route.Engine) messageBody {
	tb.Helper()
	page := mustPull(tb, e, "GET", "/api/pull?chat=a1:a2", "")
	if len(page.Messages) != 1 {
		tb.Fatalf("messages: got %d, want 1: %+v", len(page.Messages), page.Messages)
	}
	return page.Messages[0]
}

func TestSend(t *testing.T) {
	t.Run("JSONAnswersTheCanonicalChatInFieldOrder", func(t *testing.T) {
		e := newEngine(t, mustService(t), gateway.Config{})
		w := perform(e, "POST", "/api/send", `{"chat":"a2:a1","text":"hello","sender":"a2"}`,
			header("Content-Type", "application/json; charset=UTF-8"))
		var out sendBody
		decode(t, w.Body.Bytes(), &out)
		if got, want := w.Body.String(), fmt.Sprintf(`{"send_time":%d,"chat":"a1:a2"}`, out.SendTime); got != want {
			t.Fatalf("body: got %s, want %s", got, want)
		}
	})
	t.Run("FormURLEncoded", func(t *testing.T) {
		e := newEngine(t, mustService(t), gateway.Config{})
		mustSend(t, e, "/api/send", "chat=a1%3Aa2&text=hi+there%21&sender=a1", header("Content-Type", "application/x-www-form-urlencoded"))
		if got, want := onlyMessage(t, e).Text, "hi there!"; got != want {
			t.Fatalf("text: got %q, want %q", got, want)
		}
	})
	t.Run("Multipart", func(t *testing.T) {
		e := newEngine(t, mustService(t), gateway.Config{})
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for _, kv := range [][2]string{{"chat", "a1:a2"}, {"text", "multi\npart"}, {"sender", "a2"}} {
			if err := mw.WriteField(kv[0], kv[1]); err != nil {
				t.Fatal(err)
			}
		}
		if err := mw.Close(); err != nil {
			t.Fatal(err)
		}
		mustSend(t, e, "/api/send", body.String(), header("Content-Type", mw.FormDataContentType()))
		if got, want := onlyMessage(t, e), (messageBody{Chat: "a1:a2", Text: "multi\npart", Sender: "a2"}); got.Text != want.Text || got.Sender != want.Sender {
			t.Fatalf("message: got %+v, want %+v", got, want)
		}
	})
	t.Run("QueryWhenThereIsNoBody", func(t *testing.T) {
		e := newEngine(t, mustService(t), gateway.Config{})
		mustSend(t, e, "/api/send?chat=a1:a2&text=from+query&sender=a1", "")
		if got, want := onlyMessage(t, e).Text, "from query"; got != want {
			t.Fatalf("text: got %q, want %q", got, want)
		}
	})
	t.Run("JSONLabelledAsFormIsJSON", func(t *testing.T) {
		e := newEngine(t, mustService(t), gateway.Config{})
		mustSend(t, e, "/api/send", ` {"chat":"a1:a2","text":"curl -d","sender":"a1"}`, header("Content-Type", "application/x-www-form-urlencoded"))
		if got, want := onlyMessage(t, e).Text, "curl -d"; got != want {
			t.Fatalf("text: got %q, want %q", got, want)
		}
	})
	t.Run("ProtobufRequestAndResponse", func(t *testing.T) {
		e := newEngine(t, mustService(t), gateway.Config{})
		in, err := proto.Marshal(&pb.SendRequest{Chat: "a2:a1", Text: "pb ✓", Sender: "a1"})
		if err != nil {
			t.Fatal(err)
		}
		w := perform(e, "POST", "/api/send", string(in),
			header("Content-Type", "application/x-protobuf"), header("Accept", "application/x-protobuf"))
		if got, want := w.Code, 200; got != want {
			t.Fatalf("status: got %d, want %d (%q)", got, want, w.Body.String())
		}
		if got, want := string(w.Header().ContentType()), "application/x-protobuf"; got != want {
			t.Fatalf("Content-Type: got %q, want %q", got, want)
		}
		var out pb.SendResponse
		if err := proto.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("unmarshal: %v", err)
		}
		if out.Chat != "a1:a2" || out.SendTime <= 0 {
			t.Fatalf("response: got chat %q send_time %d, want a1:a2 and > 0", out.Chat, out.SendTime)
		}
		if got, want := onlyMessage(t, e).SendTime, out.SendTime; got != want {
			t.Fatalf("stored send_time: got %d, want %d", got, want)
		}
	})
	t.Run("UnknownFieldsAreIgnored", func(t *testing.T) {
		e := newEngine(t, mustService(t), gateway.Config{})
		mustSend(t, e, "/api/send", `{"chat":"a1:a2","text":"x","sender":"a1","receiver":"a2","extra":{"n":[1]}}`)
	})
}

func TestSendIdempotency(t *testing.T) {
	e := newEngine(t, mustService(t), gateway.Config{})
	body := `{"chat":"a1:a2","text":"once","sender":"a1"}`
	first := mustSend(t, e, "/api/send", body, header("Idempotency-Key", "k-1"))
	t.Run("HeaderRetryReturnsTheFirstSendTime", func(t *testing.T) {
		if got, want := mustSend(t, e, "/api/send", body, header("Idempotency-Key", "k-1")).SendTime, first.SendTime; got != want {
			t.Fatalf("send_time on retry: got %d, want %d", got, want)
		}
	})
	t.Run("BodyKeyIsTheSameKey", func(t *testing.T) {
		for _, b := range []string{
			`{"chat":"a1:a2","text":"once","sender":"a1","client_msg_id":"k-1"}`,
			`{"chat":"a1:a2","text":"once","sender":"a1","clientMsgId":"k-1"}`,
		} {
			if got, want := mustSend(t, e, "/api/send", b, header("Idempotency-Key", "k-1")).SendTime, first.SendTime; got != want {
				t.Fatalf("send_time for %s: got %d, want %d", b, got, want)
			}
		}
		if got, want := mustSend(t, e, "/api/send?chat=a1:a2&text=once&sender=a1&client_msg_id=k-1", "").SendTime, first.SendTime; got != want {
			t.Fatalf("send_time by query: got %d, want %d", got, want)
		}
	})
	t.Run("StoredOnce", func(t *testing.T) {
		if got := len(mustPull(t, e, "GET", "/api/pull?chat=a1:a2", "").Messages); got != 1 {
			t.Fatalf("messages: got %d, want 1", got)
		}
	})
	t.Run("HeaderAndBodyDifferIs400", func(t *testing.T) {
		w := perform(e, "POST", "/api/send", `{"chat":"a1:a2","text":"once","sender":"a1","client_msg_id":"k-2"}`, header("Idempotency-Key", "k-1"))
		if msg := assertError(t, w, 400, "invalid_argument").Message; !strings.Contains(msg, "Idempotency-Key") {
			t.Fatalf("message %q does not name the header", msg)
		}
	})
	t.Run("SameKeyOtherTextIs409", func(t *testing.T) {
		w := perform(e, "POST", "/api/send", `{"chat":"a1:a2","text":"twice","sender":"a1"}`, header("Idempotency-Key", "k-1"))
		assertError(t, w, 409, "conflict")
	})
}

func TestSendErrors(t *testing.T) {
	e := newEngine(t, mustService(t), gateway.Config{})
	for _, tc := range []struct {
		name, body, contentType string
		status                  int
		code, message           string // message: a substring
	}{
		{"MalformedJSON", `{"chat":"a1:a2",`, "", 400, "invalid_argument", "invalid JSON body"},
		{"WrongType", `{"chat":12,"text":"x","sender":"a1"}`, "", 400, "invalid_argument", "string field chat"},
		{"InvalidUTF8", "{\"chat\":\"a1:a2\",\"text\":\"\xff\",\"sender\":\"a1\"}", "", 400, "invalid_argument", "UTF-8"},
		{"BadChatID", `{"chat":"a1a2","text":"x","sender":"a1"}`, "", 400, "invalid_argument", `chat "a1a2" must be two member ids joined by ':' or a group id`},
		{"SenderNotMember", `{"chat":"a1:a2","text":"x","sender":"a3"}`, "", 400, "invalid_argument", `sender "a3" is not a member of chat "a1:a2"`},
		{"EmptyText", `{"chat":"a1:a2","text":"","sender":"a1"}`, "", 400, "invalid_argument", "text is required"},
		{"BadClientMsgID", `{"chat":"a1:a2","text":"x","sender":"a1","client_msg_id":"a b"}`, "", 400, "invalid_argument", "client_msg_id"},
		{"BrokenProtobuf", "\x0a\xff", "application/x-protobuf", 400, "invalid_argument", "invalid protobuf body"},
		{"MultipartWithoutBoundary", "--x\r\n", "multipart/form-data", 400, "invalid_argument", "boundary"},
		{"BrokenMultipart", "--x\r\nContent-Disposition: form-data; name=\"chat\"\r\n\r\na1:a2", "multipart/form-data; boundary=x", 400, "invalid_argument", "invalid multipart"},
		{"TextOver64KiB", `{"chat":"a1:a2","sender":"a1","text":"` + strings.Repeat("y", 64<<10+1) + `"}`, "", 413, "too_large", "more than the limit of 65536"},
		{"BodyOver1MiB", `{"chat":"a1:a2","sender":"a1","text":"` + strings.Repeat("z", 1<<20) + `"}`, "", 413, "too_large", "limit of 1048576 bytes"},
		{"TextPlainBody", "hello", "text/plain", 415, "unsupported_media_type", `"text/plain"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []ut.Header
			if tc.contentType != "" {
				headers = append(headers, header("Content-Type", tc.contentType))
			}
			got := assertError(t, perform(e, "POST", "/api/send", tc.body, headers...), tc.status, tc.code)
			if !strings.Contains(got.Message, tc.message) {
				t.Fatalf("message %q does not contain %q", got.Message, tc.message)
			}
			if len(got.Message) > 400 {
				t.Fatalf("message is %d bytes; it must not echo the input", len(got.Message))
			}
		})
	}
	t.Run("ChunkedBodyOver1MiB", func(t *testing.T) {
		body := strings.NewReader(`{"text":"` + strings.Repeat("z", 2<<20) + `"}`)
		w := ut.PerformRequest(e, "POST", "/api/send", &ut.Body{Body: body, Len: -1})
		assertError(t, w, 413, "too_large")
	})
	t.Run("TextPlainWithoutBodyUsesTheQuery", func(t *testing.T) {
		mustSend(t, e, "/api/send?chat=a1:a2&text=q&sender=a1", "", header("Content-Type", "text/plain"))
	})
	t.Run("StoreClosedIs503", func(t *testing.T) {
		store := mustOpenStore(t)
		closed := newEngine(t, pigeonhole.NewService(store, pigeonhole.Config{}), gateway.Config{})
		store.Close()
		w := perform(closed, "POST", "/api/send", `{"chat":"a1:a2","text":"x","sender":"a1"}`)
		assertError(t, w, 503, "unavailable")
		if got, want := string(w.Header().Peek("Retry-After")), "1"; got != want {
			t.Fatalf("Retry-After: got %q, want %q", got, want)
		}
	})
	t.Run("ExpiredDeadlineIs504", func(t *testing.T) {
		slow := newEngine(t, mustService(t), gateway.Config{RequestTimeout: 1})
		assertError(t, perform(slow, "POST", "/api/send", `{"chat":"a1:a2","text":"x","sender":"a1"}`), 504, "deadline_exceeded")
	})
}
