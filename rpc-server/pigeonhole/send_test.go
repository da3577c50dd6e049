package pigeonhole_test

import (
	"strings"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

func TestSendRequestValidate(t *testing.T) {
	const max = 16
	t.Run("Valid", func(t *testing.T) {
		m, err := pigeonhole.SendRequest{Chat: "b:a", Sender: "b", Text: "hi", ClientMsgID: "id-1"}.Validate(max)
		if err != nil {
			t.Fatal(err)
		}
		if m.Chat.String() != "a:b" || m.Sender != "b" || m.Text != "hi" || m.ClientMsgID != "id-1" || m.SendTime != 0 {
			t.Fatalf("got %+v", m)
		}
	})
	for _, tc := range []struct {
		name string
		req  pigeonhole.SendRequest
		want pigeonhole.Code
	}{
		{"BadChat", pigeonhole.SendRequest{Chat: "ab", Sender: "ab", Text: "x"}, pigeonhole.CodeInvalidArgument},
		{"SenderNotMember", pigeonhole.SendRequest{Chat: "a:b", Sender: "c", Text: "x"}, pigeonhole.CodeInvalidArgument},
		{"SenderCaseMatters", pigeonhole.SendRequest{Chat: "a:b", Sender: "A", Text: "x"}, pigeonhole.CodeInvalidArgument},
		{"EmptyText", pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: ""}, pigeonhole.CodeInvalidArgument},
		{"TextTooLarge", pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: strings.Repeat("x", max+1)}, pigeonhole.CodeTooLarge},
		{"TextInvalidUTF8", pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: "\xc3"}, pigeonhole.CodeInvalidArgument},
		{"KeyTooLong", pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: "x", ClientMsgID: strings.Repeat("k", 65)}, pigeonhole.CodeInvalidArgument},
		{"KeyWithSpace", pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: "x", ClientMsgID: "k 1"}, pigeonhole.CodeInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.req.Validate(max)
			if got := pigeonhole.ErrorCode(err); got != tc.want {
				t.Fatalf("got %q (%v), want %q", got, err, tc.want)
			}
			if msg := pigeonhole.ErrorMessage(err); msg == "" || msg == "internal error" {
				t.Fatalf("message for the client is %q", msg)
			}
		})
	}
	// A field left out is named, not quoted back empty.
	for _, tc := range []struct {
		name string
		req  pigeonhole.SendRequest
		want string
	}{
		{"MissingChat", pigeonhole.SendRequest{Sender: "a", Text: "x"}, "chat is required"},
		{"MissingSender", pigeonhole.SendRequest{Chat: "a:b", Text: "x"}, "sender is required"},
		{"MissingText", pigeonhole.SendRequest{Chat: "a:b", Sender: "a"}, "text is required"},
		{"MissingEverything", pigeonhole.SendRequest{}, "chat is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.req.Validate(max)
			if got, want := pigeonhole.ErrorCode(err), pigeonhole.CodeInvalidArgument; got != want {
				t.Fatalf("code: got %q (%v), want %q", got, err, want)
			}
			if got := pigeonhole.ErrorMessage(err); got != tc.want {
				t.Fatalf("message: got %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("TextAtLimit", func(t *testing.T) {
		if _, err := (pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: strings.Repeat("😀", max/4)}).Validate(max); err != nil {
			t.Fatalf("text of exactly %d bytes: %v", max, err)
		}
	})
}

// FuzzSendRequestValidate checks that any request is either rejected with
// invalid_argument or too_large, or yields a message in canonical form that
// validates again unchanged.
func FuzzSendRequestValidate(f *testing.F) {
	f.Add("a1:a2", "a1", "hello", "")
	f.Add("a2:a1", "a2", "😀", "k-1")
	f.Add("a:b", "c", "x", "")
	f.Add("a:b", "a", "\xff", "k k")
	f.Fuzz(func(t *testing.T, chat, sender, text, key string) {
		m, err := pigeonhole.SendRequest{Chat: chat, Sender: sender, Text: text, ClientMsgID: key}.Validate(64)
		if err != nil {
			if c := pigeonhole.ErrorCode(err); c != pigeonhole.CodeInvalidArgument && c != pigeonhole.CodeTooLarge {
				t.Fatalf("code %q for %q %q %q %q", c, chat, sender, text, key)
			}
			return
		}
		again, err := pigeonhole.SendRequest{Chat: m.Chat.String(), Sender: m.Sender, Text: m.Text, ClientMsgID: m.ClientMsgID}.Validate(64)
		if err != nil || again != m {
			t.Fatalf("canonical request %+v did not validate to itself: %+v, %v", m, again, err)
		}
		if m.Sender != sender || m.Text != text || m.ClientMsgID != key {
			t.Fatalf("validation changed fields: %+v", m)
		}
	})
}
