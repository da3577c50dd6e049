package pigeonhole_test

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

func TestQuote(t *testing.T) {
	long := strings.Repeat("a", pigeonhole.MaxQuotedBytes)
	for _, tc := range []struct{ name, in, want string }{
		{"Short", "a1:a2", `"a1:a2"`},
		{"Escaped", "a\"b\n", `"a\"b\n"`},
		{"ExactlyTheLimit", long, `"` + long + `"`},
		{"CutAndMarked", long + "bcd", `"` + long + `"…`},
		{"CutOnARuneBoundary", long[1:] + "é", `"` + long[1:] + `"…`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := pigeonhole.Quote(tc.in); got != tc.want {
				t.Fatalf("Quote(%q): got %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzQuote checks that a quote is valid UTF-8, at most a bounded size
// whatever the input, and unquotes to a prefix of the input (up to the
// replacement of invalid bytes).
func FuzzQuote(f *testing.F) {
	f.Add("a1:a2")
	f.Add(strings.Repeat("\x00é", 200))
	f.Fuzz(func(t *testing.T, s string) {
		q := pigeonhole.Quote(s)
		if !utf8.ValidString(q) {
			t.Fatalf("Quote(%q) = %q is not valid UTF-8", s, q)
		}
		// Each byte quotes to at most 4 (\xff), plus quotes and the mark.
		if max := 4*pigeonhole.MaxQuotedBytes + 2 + len("…"); len(q) > max {
			t.Fatalf("Quote of %d bytes is %d bytes, more than %d", len(s), len(q), max)
		}
		quoted := strings.TrimSuffix(q, "…")
		back, err := strconv.Unquote(quoted)
		if err != nil {
			t.Fatalf("Quote(%q) = %s does not unquote: %v", s, q, err)
		}
		if !strings.HasPrefix(s, back) {
			t.Fatalf("Quote(%q) = %s is not of a prefix", s, q)
		}
		if cut := q != quoted; cut != (len(s) > pigeonhole.MaxQuotedBytes) {
			t.Fatalf("Quote(%q) = %s: marked %v for %d bytes", s, q, cut, len(s))
		}
	})
}
