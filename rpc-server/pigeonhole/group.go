package pigeonhole

import (
	"slices"
	"unicode/utf8"
)

// Group limits.
const (
	// DefaultMaxGroupMembers is the default most members of one group.
	DefaultMaxGroupMembers = 1000
	// MaxTitleBytes is the longest group title, in bytes.
	MaxTitleBytes = 256
)

// Group is a chat with a member list kept by the store.
type Group struct {
	Chat  ChatID
	Title string
	// Owner may remove anyone; "" when the group was created without an
	// acting member (with authentication off) or the owner has left.
	Owner string
	// Members are distinct member ids in byte order.
	Members []string
	// CreatedAt is microseconds since the Unix epoch, from the store's
	// clock.
	CreatedAt int64
}

// HasMember reports whether id is one of g's members.
func (g Group) HasMember(id string) bool {
	_, ok := slices.BinarySearch(g.Members, id)
	return ok
}

// CreateGroupRequest asks for a new group.
type CreateGroupRequest struct {
	// Actor is the acting member: with authentication on, the verified
	// caller; with it off, optional. When set, it joins the members and
	// becomes the owner.
	Actor   string
	Members []string
	Title   string
}

// ChangeMembersRequest adds and removes members of a group.
type ChangeMembersRequest struct {
	Chat string
	// Actor is the acting member (required): members may add, the owner
	// may remove anyone, anyone may remove themselves.
	Actor  string
	Add    []string
	Remove []string
}

// validateTitle checks a group title: valid UTF-8 of at most MaxTitleBytes.
func validateTitle(title string) error {
	switch {
	case len(title) > MaxTitleBytes:
		return Errorf(CodeTooLarge, "title is %d bytes, more than the limit of %d", len(title), MaxTitleBytes)
	case !utf8.ValidString(title):
		return Errorf(CodeInvalidArgument, "title is not valid UTF-8")
	}
	return nil
}

// memberSet validates ids and returns them distinct, in byte order. More
// than max ids is too_large before any is looked at, so a huge list costs
// nothing.
func memberSet(ids []string, max int, what string) ([]string, error) {
	if len(ids) > max {
		return nil, Errorf(CodeTooLarge, "%s names %d members, more than the limit of %d", what, len(ids), max)
	}
	for _, id := range ids {
		if err := ValidateMemberID(id); err != nil {
			return nil, Errorf(CodeInvalidArgument, "%s: %s", what, ErrorMessage(err))
		}
	}
	set := slices.Clone(ids)
	slices.Sort(set)
	return slices.Compact(set), nil
}

// newGroup validates req and returns the group to create, without its id
// and creation time. Errors: invalid_argument, too_large.
func (req CreateGroupRequest) newGroup(maxMembers int) (Group, error) {
	if err := validateTitle(req.Title); err != nil {
		return Group{}, err
	}
	members, err := memberSet(req.Members, maxMembers, "members")
	if err != nil {
		return Group{}, err
	}
	if req.Actor != "" {
		if err := ValidateMemberID(req.Actor); err != nil {
			return Group{}, Errorf(CodeInvalidArgument, "member (the creator): %s", ErrorMessage(err))
		}
		if _, in := slices.BinarySearch(members, req.Actor); !in {
			members = append(members, req.Actor)
			slices.Sort(members)
		}
	}
	if len(members) == 0 {
		return Group{}, Errorf(CodeInvalidArgument, "a group needs at least one member")
	}
	if len(members) > maxMembers {
		return Group{}, Errorf(CodeTooLarge, "a group may have at most %d members", maxMembers)
	}
	return Group{Title: req.Title, Owner: req.Actor, Members: members}, nil
}

// MemberChange is a validated change of a group's members, applied by
// Apply to the group as stored, under the store's lock on the chat.
type MemberChange struct {
	Actor      string
	Add        []string // distinct, byte order
	Remove     []string // distinct, byte order
	MaxMembers int
}

// Apply returns g with the change made, after checking that the actor may
// make it against g as it is now. Errors: permission_denied (the actor is
// not a member, or removes someone else without owning the group),
// conflict (a group keeps at least one member), too_large (more members
// than the limit).
func (c MemberChange) Apply(g Group) (Group, error) {
	if !g.HasMember(c.Actor) {
		return Group{}, Errorf(CodePermissionDenied, "%s is not a member of chat %s", Quote(c.Actor), Quote(g.Chat.String()))
	}
	for _, id := range c.Remove {
		if id != c.Actor && c.Actor != g.Owner {
			return Group{}, Errorf(CodePermissionDenied, "only the owner of chat %s may remove %s", Quote(g.Chat.String()), Quote(id))
		}
	}
	members := make([]string, 0, len(g.Members)+len(c.Add))
	for _, id := range g.Members {
		if _, removed := slices.BinarySearch(c.Remove, id); !removed {
			members = append(members, id)
		}
	}
	members = append(members, c.Add...)
	slices.Sort(members)
	members = slices.Compact(members)
	switch {
	case len(members) == 0:
		return Group{}, Errorf(CodeConflict, "chat %s would have no members left", Quote(g.Chat.String()))
	case len(members) > c.MaxMembers:
		return Group{}, Errorf(CodeTooLarge, "chat %s would have %d members, more than the limit of %d", Quote(g.Chat.String()), len(members), c.MaxMembers)
	}
	out := g
	out.Members = members
	if _, stays := slices.BinarySearch(members, g.Owner); !stays {
		out.Owner = ""
	}
	return out, nil
}

// change validates req into a MemberChange. Errors: invalid_argument,
// conflict (a member both added and removed), too_large.
func (req ChangeMembersRequest) change(maxMembers int) (ChatID, MemberChange, error) {
	chat, err := ParseChatID(req.Chat)
	if err != nil {
		return ChatID{}, MemberChange{}, err
	}
	if !chat.IsGroup() {
		return ChatID{}, MemberChange{}, Errorf(CodeInvalidArgument, "chat %s has two fixed members; only a group's members change", Quote(chat.String()))
	}
	if err := ValidateStoredMemberID(req.Actor); err != nil {
		return ChatID{}, MemberChange{}, Errorf(CodeInvalidArgument, "member (who makes the change): %s", ErrorMessage(err))
	}
	add, err := memberSet(req.Add, maxMembers, "add")
	if err != nil {
		return ChatID{}, MemberChange{}, err
	}
	remove, err := memberSet(req.Remove, maxMembers, "remove")
	if err != nil {
		return ChatID{}, MemberChange{}, err
	}
	if len(add)+len(remove) == 0 {
		return ChatID{}, MemberChange{}, Errorf(CodeInvalidArgument, "add or remove must name a member")
	}
	for _, id := range add {
		if _, both := slices.BinarySearch(remove, id); both {
			return ChatID{}, MemberChange{}, Errorf(CodeConflict, "%s is both added and removed", Quote(id))
		}
	}
	return chat, MemberChange{Actor: req.Actor, Add: add, Remove: remove, MaxMembers: maxMembers}, nil
}
