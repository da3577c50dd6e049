package pigeonhole

import (
	"encoding/base32"
	"fmt"
	"io"
)

// A group id is "g" and 26 characters of lower-case base32 (RFC 4648
// alphabet, no padding) encoding 128 random bits: short, safe in URLs and
// without ':', so it never parses as a two-member id.
const (
	groupIDPrefix   = 'g'
	groupIDRandom   = 16 // bytes
	groupIDEncoded  = 26 // base32 characters of groupIDRandom bytes
	groupIDAlphabet = "abcdefghijklmnopqrstuvwxyz234567"
)

var groupIDEncoding = base32.NewEncoding(groupIDAlphabet).WithPadding(base32.NoPadding)

// NewGroupID returns a fresh group id from random (crypto/rand.Reader in
// production). The service generates group ids; clients never choose them.
func NewGroupID(random io.Reader) (ChatID, error) {
	var b [groupIDRandom]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return ChatID{}, Wrap(CodeInternal, fmt.Errorf("group id: %w", err), "internal error")
	}
	return ChatID{a: string(groupIDPrefix) + groupIDEncoding.EncodeToString(b[:])}, nil
}

// validGroupID reports whether s has the form NewGroupID produces.
func validGroupID(s string) bool {
	if len(s) != 1+groupIDEncoded || s[0] != groupIDPrefix {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return false
		}
	}
	// The last character carries only 128 mod 5 = 3 bits: one with other
	// bits set would be a second spelling of the same id.
	b, err := groupIDEncoding.DecodeString(s[1:])
	return err == nil && groupIDEncoding.EncodeToString(b) == s[1:]
}
