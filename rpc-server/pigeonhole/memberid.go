package pigeonhole

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
)

// memberIDProfile is the PRECIS profile (RFC 8264) member ids are compared
// in: the FreeformClass, which takes letters of every script, digits,
// symbols and emoji but refuses control, format and default-ignorable
// code points (zero-width and bidi controls, tags, the Hangul fillers
// U+3164 and U+FFA0, the grapheme joiner U+034F); full- and half-width
// forms mapped to their usual width; NFC. UsernameCasePreserved would
// refuse the emoji and symbols ids have always been allowed to hold.
var memberIDProfile = precis.NewFreeform(precis.FoldWidth, precis.DisallowEmpty)

// ValidateMemberID checks a member id for a new chat: it passes
// ValidateStoredMemberID, is in the canonical form of the PRECIS profile
// above (so two ids that look the same are the same bytes), does not
// start with a combining mark, and holds no blank symbol (U+2800, which
// PRECIS takes as a symbol). Errors: invalid_argument.
//
// A non-canonical id is refused rather than mapped: mapping would send a
// client typing "José" decomposed into the composed chat, while what was
// stored under the decomposed id before stays there, so one id would name
// two chats depending on when it was used. Refused, every new chat has a
// canonical id, and chats stored under another form stay whole.
func ValidateMemberID(id string) error {
	if err := ValidateStoredMemberID(id); err != nil {
		return err
	}
	if printableASCII(id) {
		return nil // its own canonical form: the common case, without allocating
	}
	if first, _ := utf8.DecodeRuneInString(id); unicode.Is(unicode.M, first) {
		return Errorf(CodeInvalidArgument, "member id %s starts with a combining mark", Quote(id))
	}
	for _, r := range id {
		if r == '\u2800' {
			return Errorf(CodeInvalidArgument, "member id %s contains %q, which is not allowed", Quote(id), r)
		}
	}
	canonical, err := memberIDProfile.String(id)
	switch {
	case err != nil:
		return Errorf(CodeInvalidArgument, "member id %s contains characters that are not allowed (invisible or ignorable)", Quote(id))
	case canonical != id:
		return Errorf(CodeInvalidArgument, "member id %s is not in canonical form (NFC, usual width): use %s", Quote(id), Quote(canonical))
	}
	return nil
}

// printableASCII reports whether s holds printable ASCII only (no space).
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
