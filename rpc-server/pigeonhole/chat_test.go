package pigeonhole_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

func TestParseChatID(t *testing.T) {
	t.Run("Canonical", func(t *testing.T) {
		for in, want := range map[string]string{
			"a1:a2":                        "a1:a2",
			"a2:a1":                        "a1:a2",
			"a:a":                          "a:a",
			"B:a":                          "B:a", // byte order: upper case sorts first
			"a:B":                          "B:a",
			"李雷:han":                       "han:李雷",
			"😀:x":                          "x:😀",
			strings.Repeat("z", 64) + ":y": "y:" + strings.Repeat("z", 64),
		} {
			c, err := pigeonhole.ParseChatID(in)
			if err != nil {
				t.Fatalf("ParseChatID(%q): %v", in, err)
			}
			if got := c.String(); got != want {
				t.Fatalf("ParseChatID(%q): got %q, want %q", in, got, want)
			}
		}
	})
	t.Run("CaseSensitive", func(t *testing.T) {
		a, _ := pigeonhole.ParseChatID("Al:bo")
		b, _ := pigeonhole.ParseChatID("al:bo")
		if a == b {
			t.Fatalf("Al:bo and al:bo are the same chat")
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		for _, in := range []string{
			"", ":", "a", "a:", ":b", "a:b:c", "a :b", "a:\tb", "a:b\n", "a\x00:b", "a:\x7f",
			"a\u200b:b", "a:\xff", strings.Repeat("z", 65) + ":y", "a:b\u2028",
		} {
			_, err := pigeonhole.ParseChatID(in)
			if got, want := pigeonhole.ErrorCode(err), pigeonhole.CodeInvalidArgument; got != want {
				t.Fatalf("ParseChatID(%q): got code %q, want %q", in, got, want)
			}
		}
	})
	t.Run("Members", func(t *testing.T) {
		c, _ := pigeonhole.ParseChatID("zed:amy")
		if a, b := c.Members(); a != "amy" || b != "zed" {
			t.Fatalf("members: got %q %q", a, b)
		}
		if !c.HasMember("zed") || !c.HasMember("amy") || c.HasMember("Amy") || c.HasMember("") {
			t.Fatalf("HasMember wrong for %v", c)
		}
	})
}

// FuzzParseChatID checks that any input is either rejected with
// invalid_argument or parses to a canonical id that parses to itself, in
// either member order.
func FuzzParseChatID(f *testing.F) {
	for _, s := range []string{"a1:a2", "a2:a1", "a:a", "x:😀", ":", "a:b:c", "a\x00:b", "\xff:a", strings.Repeat("q", 64) + ":r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := pigeonhole.ParseChatID(s)
		if err != nil {
			if got := pigeonhole.ErrorCode(err); got != pigeonhole.CodeInvalidArgument {
				t.Fatalf("ParseChatID(%q): code %q, want invalid_argument", s, got)
			}
			return
		}
		canon := c.String()
		if !utf8.ValidString(canon) || len(canon) > pigeonhole.MaxChatIDBytes {
			t.Fatalf("canonical %q of %q is invalid", canon, s)
		}
		a, b := c.Members()
		if a > b || strings.Contains(a, ":") || strings.Contains(b, ":") {
			t.Fatalf("canonical %q is not sorted or has extra ':'", canon)
		}
		for _, again := range []string{canon, b + ":" + a} {
			c2, err := pigeonhole.ParseChatID(again)
			if err != nil || c2 != c {
				t.Fatalf("ParseChatID(%q) = %v, %v; want %v", again, c2, err, c)
			}
		}
	})
}
