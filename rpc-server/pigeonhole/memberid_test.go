package pigeonhole_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

const (
	joseNFC = "Jos\u00e9"
	joseNFD = "Jose\u0301"
)

func TestValidateMemberID(t *testing.T) {
	t.Run("CanonicalIDsAreNew", func(t *testing.T) {
		for _, id := range []string{"a1", "Al", "al", "李雷", "😀", joseNFC, "Ωmega", "user.name-1_x@host", "ひらがな", "한국어"} {
			if err := pigeonhole.ValidateMemberID(id); err != nil {
				t.Fatalf("ValidateMemberID(%q): %v", id, err)
			}
		}
	})
	t.Run("LookAlikesAreRefused", func(t *testing.T) {
		for name, id := range map[string]string{
			"Decomposed":         joseNFD,
			"FullWidth":          "\uff21\uff4c",   // Ａｌ
			"HangulFiller":       "a\u3164",        // ㅤ
			"HalfwidthFiller":    "\uffa0",         // ﾠ
			"BrailleBlank":       "\u2800",         // ⠀
			"GraphemeJoiner":     "a\u034f",        // combining grapheme joiner
			"CombiningOnly":      "\u0301\u0302",   // marks with no base
			"LeadingCombining":   "\u0301a",        // a mark before its base
			"ZeroWidthSpace":     "a\u200b",        // already refused, still refused
			"BidiOverride":       "a\u202eb",       // already refused, still refused
			"TagCharacter":       "a\U000E0041",    // already refused, still refused
			"HangulChoseongFill": "\u115f\u1160ab", // jamo fillers
		} {
			err := pigeonhole.ValidateMemberID(id)
			if got, want := pigeonhole.ErrorCode(err), pigeonhole.CodeInvalidArgument; got != want {
				t.Fatalf("%s: ValidateMemberID(%q): got code %q, want %q", name, id, got, want)
			}
		}
	})
	t.Run("NonCanonicalNamesTheCanonicalForm", func(t *testing.T) {
		err := pigeonhole.ValidateMemberID(joseNFD)
		if msg := pigeonhole.ErrorMessage(err); !strings.Contains(msg, `"`+joseNFC+`"`) {
			t.Fatalf("message %q does not name the canonical form", msg)
		}
	})
	t.Run("StoredIDsStillParse", func(t *testing.T) {
		// Chats stored before the rule for new ids must stay readable.
		for _, id := range []string{joseNFD, "a\u3164", "\u2800", "\u0301"} {
			c, err := pigeonhole.ParseChatID(id + ":bob")
			if err != nil {
				t.Fatalf("ParseChatID(%q): %v", id+":bob", err)
			}
			if got, want := pigeonhole.ErrorCode(c.CheckNew()), pigeonhole.CodeInvalidArgument; got != want {
				t.Fatalf("CheckNew(%q): got code %q, want %q", c, got, want)
			}
		}
		c, _ := pigeonhole.ParseChatID(joseNFC + ":bob")
		if err := c.CheckNew(); err != nil {
			t.Fatalf("CheckNew(%q): %v", c, err)
		}
	})
}

// FuzzValidateMemberID checks that an id accepted for a new chat is also a
// valid stored id, is NFC and its own width-folded form, and does not
// start with a mark; and that no input makes it fail with another code.
func FuzzValidateMemberID(f *testing.F) {
	for _, s := range []string{"a1", joseNFC, joseNFD, "😀", "\uff21", "a\u3164", "\uffa0", "\u2800", "a\u034f", "\u0301", "a\u200b", "\xff", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		err := pigeonhole.ValidateMemberID(id)
		if err != nil {
			if got := pigeonhole.ErrorCode(err); got != pigeonhole.CodeInvalidArgument {
				t.Fatalf("ValidateMemberID(%q): code %q, want invalid_argument", id, got)
			}
			return
		}
		if err := pigeonhole.ValidateStoredMemberID(id); err != nil {
			t.Fatalf("%q is new but not a valid stored id: %v", id, err)
		}
		if !norm.NFC.IsNormalString(id) {
			t.Fatalf("%q accepted but not NFC", id)
		}
		if first, _ := utf8.DecodeRuneInString(id); unicode.Is(unicode.M, first) {
			t.Fatalf("%q accepted but starts with a mark", id)
		}
		if c, err := pigeonhole.ParseChatID(id + ":" + id); err != nil || c.CheckNew() != nil {
			t.Fatalf("chat %q of an accepted id: %v, %v", id+":"+id, err, c.CheckNew())
		}
	})
}

func BenchmarkValidateMemberID(b *testing.B) {
	for _, id := range []string{"alice-1234", joseNFC + "-李雷"} {
		b.Run(id, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := pigeonhole.ValidateMemberID(id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
