package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cloudwego/hertz/pkg/common/ut"
	"github.com/cloudwego/hertz/pkg/route"
	"google.golang.org/protobuf/proto"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
	"github.com/pigeonhole-im/pigeonhole/http-server/pb"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// pullBody is the JSON answer to a pull.
type pullBody struct {
	Messages   []messageBody `json:"messages"`
	HasMore    bool          `json:"has_more"`
	NextCursor int64         `json:"next_cursor"`
}

type messageBody struct {
	Chat     string `json:"chat"`
	Text     string `json:"text"`
	Sender   string `json:"sender"`
	SendTime int64  `json:"send_time"`
}

// mustPull performs a pull that must succeed and returns its answer.
func mustPull(tb testing.TB, e *route.Engine, method, url, body string, headers ...ut.Header) pullBody {
	tb.Helper()
	w := perform(e, method, url, body, headers...)
	if w.Code != 200 {
		tb.Fatalf("pull %s %s %q: got %d %s, want 200", method, url, body, w.Code, w.Body.String())
	}
	var out pullBody
	decode(tb, w.Body.Bytes(), &out)
	if out.Messages == nil {
		tb.Fatalf("messages is missing or null in %s", w.Body.String())
	}
	return out
}

// seed sends texts to chat a1:a2 through the real service, alternating
// senders, and returns their send times.
func seed(tb testing.TB, svc gateway.MessageService, texts ...string) []int64 {
	tb.Helper()
	var times []int64
	for i, text := range texts {
		m, err := svc.Send(context.Background(), pigeonhole.SendRequest{Chat: "a1:a2", Text: text, Sender: []string{"a1", "a2"}[i%2]})
		if err != nil {
			tb.Fatalf("seed: %v", err)
		}
		times = append(times, m.SendTime)
	}
	return times
}

func TestOriginalAssignmentExamples(t *testing.T) {
	e := newEngine(t, mustService(t), gateway.Config{})
	sent := mustSend(t, e, "/api/send", `{"chat":"a1:a2","text":"hello","sender":"a1"}`, header("Content-Type", "application/json"))
	page := mustPull(t, e, "GET", "/api/pull", `{"chat":"a1:a2","cursor":0,"limit":1,"reverse":false}`, header("Content-Type", "application/json"))
	want := messageBody{Chat: "a1:a2", Text: "hello", Sender: "a1", SendTime: sent.SendTime}
	if len(page.Messages) != 1 || page.Messages[0] != want {
		t.Fatalf("messages: got %+v, want [%+v]", page.Messages, want)
	}
	if got, want := page.NextCursor, sent.SendTime+1; got != want {
		t.Fatalf("next_cursor: got %d, want %d", got, want)
	}
	if page.HasMore {
		t.Fatalf("has_more: got true, want false")
	}
}

func TestPull(t *testing.T) {
	svc := mustService(t)
	e := newEngine(t, svc, gateway.Config{})
	times := seed(t, svc, "m1", "m2", "m3")
	wantFirstTwo := func(tb testing.TB, page pullBody) {
		tb.Helper()
		want := []messageBody{{"a1:a2", "m1", "a1", times[0]}, {"a1:a2", "m2", "a2", times[1]}}
		if len(page.Messages) != 2 || page.Messages[0] != want[0] || page.Messages[1] != want[1] || !page.HasMore || page.NextCursor != times[2] {
			tb.Fatalf("page: got %+v, want messages %+v, has_more, next_cursor %d", page, want, times[2])
		}
	}
	t.Run("ByQuery", func(t *testing.T) {
		wantFirstTwo(t, mustPull(t, e, "GET", "/api/pull?chat=a2:a1&cursor=0&limit=2&reverse=false", ""))
	})
	t.Run("JSONBodyOnGET", func(t *testing.T) {
		wantFirstTwo(t, mustPull(t, e, "GET", "/api/pull", `{"chat":"a1:a2","limit":2}`, header("Content-Type", "application/json")))
	})
	t.Run("JSONBodyOnPOST", func(t *testing.T) {
		wantFirstTwo(t, mustPull(t, e, "POST", "/api/pull", `{"chat":"a1:a2","cursor":0,"limit":2,"reverse":false}`))
	})
	t.Run("NumericStringsAndProtoNames", func(t *testing.T) {
		wantFirstTwo(t, mustPull(t, e, "POST", "/api/pull", `{"chat":"a1:a2","cursor":"0","limit":"2","reverse":false}`))
	})
	t.Run("FormBody", func(t *testing.T) {
		wantFirstTwo(t, mustPull(t, e, "POST", "/api/pull", "chat=a1:a2&limit=2", header("Content-Type", "application/x-www-form-urlencoded")))
	})
	t.Run("ReverseByQuery", func(t *testing.T) {
		for _, reverse := range []string{"true", "1"} {
			page := mustPull(t, e, "GET", "/api/pull?chat=a1:a2&limit=1&reverse="+reverse, "")
			if len(page.Messages) != 1 || page.Messages[0].Text != "m3" || !page.HasMore || page.NextCursor != times[1] {
				t.Fatalf("reverse=%s: got %+v, want m3, has_more, next_cursor %d", reverse, page, times[1])
			}
		}
	})
	t.Run("ExactJSONShape", func(t *testing.T) {
		w := perform(e, "GET", fmt.Sprintf("/api/pull?chat=a1:a2&cursor=%d", times[2]), "")
		want := fmt.Sprintf(`{"messages":[{"chat":"a1:a2","text":"m3","sender":"a1","send_time":%d}],"has_more":false,"next_cursor":%d}`, times[2], times[2]+1)
		if got := w.Body.String(); got != want {
			t.Fatalf("body:\n got %s\nwant %s", got, want)
		}
	})
	t.Run("EmptyPageHasAllFields", func(t *testing.T) {
		w := perform(e, "GET", "/api/pull?chat=b1:b2&cursor=7", "")
		if got, want := w.Body.String(), `{"messages":[],"has_more":false,"next_cursor":7}`; got != want {
			t.Fatalf("body: got %s, want %s", got, want)
		}
	})
	t.Run("ProtobufRequestAndResponse", func(t *testing.T) {
		in, err := proto.Marshal(&pb.PullRequest{Chat: "a1:a2", Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		w := perform(e, "POST", "/api/pull", string(in), header("Content-Type", "application/protobuf"), header("Accept", "application/protobuf"))
		if got, want := string(w.Header().ContentType()), "application/protobuf"; w.Code != 200 || got != want {
			t.Fatalf("got %d %q, want 200 %q", w.Code, got, want)
		}
		var out pb.PullResponse
		if err := proto.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("unmarshal: %v", err)
		}
		if len(out.Messages) != 2 || out.Messages[1].Text != "m2" || out.Messages[1].SendTime != times[1] || out.Messages[1].Chat != "a1:a2" || !out.HasMore || out.NextCursor != times[2] {
			t.Fatalf("response: got %v", &out)
		}
	})
}

func TestPullErrors(t *testing.T) {
	e := newEngine(t, mustService(t), gateway.Config{})
	for _, tc := range []struct {
		name, method, url, body string
		status                  int
		code, message           string // message: a substring
	}{
		{"MalformedJSON", "GET", "/api/pull", `{"chat":`, 400, "invalid_argument", "invalid JSON body"},
		{"CursorNotANumber", "GET", "/api/pull", `{"chat":"a1:a2","cursor":"abc"}`, 400, "invalid_argument", "int64 field cursor"},
		{"LimitIsABool", "POST", "/api/pull", `{"chat":"a1:a2","limit":true}`, 400, "invalid_argument", "int32 field limit"},
		{"InvalidUTF8", "POST", "/api/pull", "{\"chat\":\"a1:\xfe\"}", 400, "invalid_argument", "UTF-8"},
		{"BadChatID", "GET", "/api/pull?chat=a1", "", 400, "invalid_argument", `chat "a1"`},
		{"NegativeLimit", "GET", "/api/pull?chat=a1:a2&limit=-1", "", 400, "invalid_argument", "limit must not be negative"},
		{"NegativeCursor", "POST", "/api/pull", `{"chat":"a1:a2","cursor":-5}`, 400, "invalid_argument", "cursor must not be negative"},
		{"NonNumericCursorInQuery", "GET", "/api/pull?chat=a1:a2&cursor=12x", "", 400, "invalid_argument", `cursor must be an integer, got "12x"`},
		{"LimitOverflowsInQuery", "GET", "/api/pull?chat=a1:a2&limit=99999999999", "", 400, "invalid_argument", "limit must be a 32-bit integer"},
		{"BadReverseInQuery", "GET", "/api/pull?chat=a1:a2&reverse=yes", "", 400, "invalid_argument", "reverse must be true or false"},
		{"HugeValueIsNotEchoed", "GET", "/api/pull?chat=a1:a2&cursor=" + strings.Repeat("9x", 5000), "", 400, "invalid_argument", "cursor must be an integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := assertError(t, perform(e, tc.method, tc.url, tc.body), tc.status, tc.code)
			if !strings.Contains(got.Message, tc.message) {
				t.Fatalf("message %q does not contain %q", got.Message, tc.message)
			}
			if len(got.Message) > 400 {
				t.Fatalf("message is %d bytes; it must not echo the input", len(got.Message))
			}
		})
	}
	t.Run("StoreClosedIs503", func(t *testing.T) {
		store := mustOpenStore(t)
		closed := newEngine(t, pigeonhole.NewService(store, pigeonhole.Config{}), gateway.Config{})
		store.Close()
		assertError(t, perform(closed, "GET", "/api/pull?chat=a1:a2", ""), 503, "unavailable")
	})
	t.Run("ExpiredDeadlineIs504", func(t *testing.T) {
		slow := newEngine(t, mustService(t), gateway.Config{RequestTimeout: 1})
		assertError(t, perform(slow, "GET", "/api/pull?chat=a1:a2", ""), 504, "deadline_exceeded")
	})
}
