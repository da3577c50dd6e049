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

// ChatID is a canonical chat id: either two member ids joined by ':', the
// smaller (byte order) first, or a group id (see NewGroupID), which holds no
// ':' and so never collides with a two-member id. The zero value is not a
// valid chat id; obtain one from ParseChatID or NewGroupID.
type ChatID struct {
	a, b string // a group has its id in a and an empty b
}

// ParseChatID validates s as a chat to read and returns its canonical
// form. "a2:a1" and "a1:a2" name the same chat; a group id is its own
// canonical form. It takes any member ids the service has ever stored (see
// ValidateStoredMemberID), so that chats created before the rule for new
// ids keep working; ChatID.CheckNew tells whether a new chat may be
// created under it. It returns invalid_argument errors only.
func ParseChatID(s string) (ChatID, error) {
	if s == "" {
		return ChatID{}, Errorf(CodeInvalidArgument, "chat is required")
	}
	first, second, ok := strings.Cut(s, ":")
	if !ok {
		if validGroupID(s) {
			return ChatID{a: s}, nil
		}
		return ChatID{}, Errorf(CodeInvalidArgument, "chat %s must be two member ids joined by ':' or a group id", Quote(s))
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

// String is the canonical form, e.g. "a1:a2" or a group's id.
func (c ChatID) String() string {
	if c.b == "" {
		return c.a
	}
	return c.a + ":" + c.b
}

// IsGroup reports whether c is a group id, whose members the store keeps.
func (c ChatID) IsGroup() bool { return c.a != "" && c.b == "" }

// IsZero reports whether c is the zero (invalid) chat id.
func (c ChatID) IsZero() bool { return c.a == "" }

// Members returns the two member ids of a two-member chat in canonical
// order; for a group it returns the group id and "".
func (c ChatID) Members() (string, string) { return c.a, c.b }

// CheckNew reports whether a new chat may be created under c: both its
// member ids pass ValidateMemberID. A group passes: its id is the
// service's, and whether it exists is the store's to say. Errors:
// invalid_argument.
func (c ChatID) CheckNew() error {
	if c.IsGroup() {
		return nil
	}
	if err := ValidateMemberID(c.a); err != nil {
		return Errorf(CodeInvalidArgument, "chat %s: %s", Quote(c.String()), ErrorMessage(err))
	}
	if err := ValidateMemberID(c.b); err != nil {
		return Errorf(CodeInvalidArgument, "chat %s: %s", Quote(c.String()), ErrorMessage(err))
	}
	return nil
}

// HasMember reports whether id is one of a two-member chat's members. It is
// false for every id on a group: a group's members are in the store.
func (c ChatID) HasMember(id string) bool { return id != "" && c.b != "" && (id == c.a || id == c.b) }
