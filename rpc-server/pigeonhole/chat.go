package pigeonhole

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxMemberIDBytes is the longest member id, in bytes.
const MaxMemberIDBytes = 64

// MaxChatIDBytes is the longest canonical chat id: two member ids and ':'.
const MaxChatIDBytes = 2*MaxMemberIDBytes + 1

// ChatID is a canonical chat id: two member ids joined by ':', the smaller
// (byte order) first. The zero value is not a valid chat id; obtain one from
// ParseChatID.
type ChatID struct {
	a, b string
}

// ParseChatID validates s as a chat to read and returns its canonical
// form. "a2:a1" and "a1:a2" name the same chat. It takes any member ids
// the service has ever stored (see ValidateStoredMemberID), so that chats
// created before the rule for new ids keep working; ChatID.CheckNew tells
// whether a new chat may be created under it. It returns invalid_argument
// errors only.
func ParseChatID(s string) (ChatID, error) {
	if s == "" {
		return ChatID{}, Errorf(CodeInvalidArgument, "chat is required")
	}
	first, second, ok := strings.Cut(s, ":")
	if !ok {
		return ChatID{}, Errorf(CodeInvalidArgument, "chat %s must be two member ids joined by ':'", Quote(s))
	}
	if err := ValidateStoredMemberID(first); err != nil {
		return ChatID{}, Errorf(CodeInvalidArgument, "chat %s: %s", Quote(s), ErrorMessage(err))
	}
	if err := ValidateStoredMemberID(second); err != nil {
		return ChatID{}, Errorf(CodeInvalidArgument, "chat %s: %s", Quote(s), ErrorMessage(err))
	}
	if second < first {
		first, second = second, first
	}
	return ChatID{a: first, b: second}, nil
}

// ValidateStoredMemberID checks a member id against the rule ids were
// stored under before ValidateMemberID: 1–64 bytes of valid UTF-8 with no
// ':', no whitespace and no control or format characters. Every id a
// chat was ever stored under passes it.
func ValidateStoredMemberID(id string) error {
	switch {
	case id == "":
		return Errorf(CodeInvalidArgument, "member id must not be empty")
	case len(id) > MaxMemberIDBytes:
		return Errorf(CodeInvalidArgument, "member id %s is longer than %d bytes", Quote(id), MaxMemberIDBytes)
	case !utf8.ValidString(id):
		return Errorf(CodeInvalidArgument, "member id %s is not valid UTF-8", Quote(id))
	}
	for _, r := range id {
		// IsGraphic excludes control and format characters (zero-width
		// spaces and the like), which would make two ids look identical.
		if r == ':' || unicode.IsSpace(r) || !unicode.IsGraphic(r) {
			return Errorf(CodeInvalidArgument, "member id %s contains %q, which is not allowed", Quote(id), r)
		}
	}
	return nil
}

// String is the canonical form, e.g. "a1:a2".
func (c ChatID) String() string {
	if c.a == "" {
		return ""
	}
	return c.a + ":" + c.b
}

// IsZero reports whether c is the zero (invalid) chat id.
func (c ChatID) IsZero() bool { return c.a == "" }

// Members returns the two member ids in canonical order.
func (c ChatID) Members() (string, string) { return c.a, c.b }

// CheckNew reports whether a new chat may be created under c: both its
// member ids pass ValidateMemberID. Errors: invalid_argument.
func (c ChatID) CheckNew() error {
	if err := ValidateMemberID(c.a); err != nil {
		return Errorf(CodeInvalidArgument, "chat %s: %s", Quote(c.String()), ErrorMessage(err))
	}
	if err := ValidateMemberID(c.b); err != nil {
		return Errorf(CodeInvalidArgument, "chat %s: %s", Quote(c.String()), ErrorMessage(err))
	}
	return nil
}

// HasMember reports whether id is one of the chat's two members.
func (c ChatID) HasMember(id string) bool { return id != "" && (id == c.a || id == c.b) }
