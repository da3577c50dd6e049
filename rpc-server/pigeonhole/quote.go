package pigeonhole

import (
	"strconv"
	"unicode/utf8"
)

// MaxQuotedBytes is the most bytes of one input that an error message
// quotes. Inputs are bounded (a body by the gateway's limit, a text by
// MaxTextBytes), but an error that echoed them whole could still be
// several times their size once escaped; a prefix is enough to show the
// client which value was refused.
const MaxQuotedBytes = 128

// Quote returns s as a Go-quoted string for an error message, cut to its
// first MaxQuotedBytes bytes (on a rune boundary) and marked with "…"
// after the closing quote when cut. Every message that echoes client
// input quotes it with Quote, so no error answer grows with its input.
func Quote(s string) string {
	if len(s) <= MaxQuotedBytes {
		return strconv.Quote(s)
	}
	cut := MaxQuotedBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}
