package gateway

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// encodingJSON is what encoding/json writes for s with HTML escaping off,
// the reference appendString must match byte for byte.
func encodingJSON(tb testing.TB, s string) string {
	tb.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		tb.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// replaceInvalid is s with every invalid UTF-8 byte as U+FFFD, which is
// what a JSON string written for s must decode to.
func replaceInvalid(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

var stringCases = []string{
	"", "plain", `quote " and \ backslash`, "tab\tnewline\ncr\rbs\bff\f", "\x00\x01\x1f\x7f",
	"<html>&amp;", "emoji 🐦 ünïcödé 中文", "line\u2028sep\u2029para", "bad \xff byte", "cut \xe2\x82",
	"\xed\xa0\x80 surrogate", "\xf4\x90\x80\x80 beyond U+10FFFF", "a1:a2",
}

func TestAppendString(t *testing.T) {
	for _, s := range stringCases {
		checkString(t, s)
	}
	if got, want := string(appendString(nil, "a\u2028\x01\"")), `"a\u2028\u0001\""`; got != want {
		t.Fatalf("appendString: got %s, want %s", got, want)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range stringCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkString(t, s) })
}

func checkString(t *testing.T, s string) {
	t.Helper()
	got := appendString([]byte("prefix"), s)
	if !bytes.HasPrefix(got, []byte("prefix")) {
		t.Fatalf("appendString clobbered dst: %q", got)
	}
	got = got[len("prefix"):]
	if want := encodingJSON(t, s); string(got) != want {
		t.Fatalf("appendString(%q): got %s, want %s", s, got, want)
	}
	var back string
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("appendString(%q) = %s does not parse: %v", s, got, err)
	}
	if want := replaceInvalid(s); back != want {
		t.Fatalf("round trip of %q: got %q, want %q", s, back, want)
	}
}

func TestAppendResponses(t *testing.T) {
	chat, err := pigeonhole.ParseChatID("zé:a1")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("Send", func(t *testing.T) {
		got := string(appendSendResponse(nil, pigeonhole.Message{Chat: chat, SendTime: 1700000000000001}))
		if want := `{"send_time":1700000000000001,"chat":"a1:zé"}`; got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	})
	t.Run("Pull", func(t *testing.T) {
		page := pigeonhole.Page{Messages: []pigeonhole.Message{
			{Chat: chat, Sender: "a1", Text: "hi\n\"there\"", SendTime: 5},
			{Chat: chat, Sender: "zé", Text: "🐦", SendTime: 9},
		}, HasMore: true, NextCursor: 10}
		got := string(appendPullResponse(nil, page))
		want := `{"messages":[{"chat":"a1:zé","text":"hi\n\"there\"","sender":"a1","send_time":5},` +
			`{"chat":"a1:zé","text":"🐦","sender":"zé","send_time":9}],"has_more":true,"next_cursor":10}`
		if got != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	})
	t.Run("EmptyPull", func(t *testing.T) {
		if got, want := string(appendPullResponse(nil, pigeonhole.Page{})), `{"messages":[],"has_more":false,"next_cursor":0}`; got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	})
	t.Run("Error", func(t *testing.T) {
		if got, want := string(appendError(nil, "invalid_argument", `chat "x"`)), `{"code":"invalid_argument","message":"chat \"x\""}`; got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	})
}

// FuzzAppendPullResponse checks that any page encodes to JSON that
// encoding/json reads back to the same values.
func FuzzAppendPullResponse(f *testing.F) {
	f.Add("hello", "a1", int64(1), int64(2), true)
	f.Add("\x00\xff\u2028", "\"", int64(-1), int64(1<<62), false)
	chat, err := pigeonhole.ParseChatID("a1:a2")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text, sender string, sendTime, next int64, more bool) {
		page := pigeonhole.Page{Messages: []pigeonhole.Message{
			{Chat: chat, Sender: sender, Text: text, SendTime: sendTime},
			{Chat: chat, Sender: text, Text: sender, SendTime: next},
		}, HasMore: more, NextCursor: next}
		out := appendPullResponse(nil, page)
		var back struct {
			Messages []struct {
				Chat     string `json:"chat"`
				Text     string `json:"text"`
				Sender   string `json:"sender"`
				SendTime int64  `json:"send_time"`
			} `json:"messages"`
			HasMore    bool  `json:"has_more"`
			NextCursor int64 `json:"next_cursor"`
		}
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&back); err != nil {
			t.Fatalf("%s does not parse: %v", out, err)
		}
		if len(back.Messages) != 2 || back.HasMore != more || back.NextCursor != next {
			t.Fatalf("page fields: got %+v", back)
		}
		for i, m := range page.Messages {
			got := back.Messages[i]
			if got.Chat != "a1:a2" || got.Text != replaceInvalid(m.Text) || got.Sender != replaceInvalid(m.Sender) || got.SendTime != m.SendTime {
				t.Fatalf("message %d: got %+v, want %+v", i, got, m)
			}
		}
	})
}

func TestClip(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc…"},
		{"ééé", 3, "é…"}, // never splits a rune
	} {
		if got := clip(tc.in, tc.n); got != tc.want {
			t.Errorf("clip(%q, %d): got %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
