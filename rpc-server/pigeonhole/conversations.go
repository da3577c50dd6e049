package pigeonhole

import (
	"context"
	"fmt"
)

// CreateGroup creates a group with a new id and returns it; its creator
// (the caller, with authentication) joins it as its owner. Errors:
// invalid_argument, too_large (members or title over the limits),
// unauthenticated, permission_denied (acting as someone else), and the
// store's.
func (s *Service) CreateGroup(ctx context.Context, req CreateGroupRequest) (Group, error) {
	var err error
	if req.Actor, err = s.actAs(ctx, req.Actor); err != nil {
		return Group{}, err
	}
	g, err := req.newGroup(s.cfg.MaxGroupMembers)
	if err != nil {
		return Group{}, err
	}
	if g.Chat, err = NewGroupID(s.cfg.Random); err != nil {
		return Group{}, err
	}
	created, err := s.store.CreateGroup(ctx, g)
	if err != nil {
		return Group{}, fmt.Errorf("create group: %w", err)
	}
	if s.cfg.Notifier != nil {
		s.cfg.Notifier.Joined(created.Members)
	}
	return created, nil
}

// GroupRequest asks for a chat's title and members.
type GroupRequest struct {
	Chat string
	// Actor, when set (always, with authentication on), must be a member.
	Actor string
}

// Group returns a chat's title and members; a two-member chat has no
// title and its two members. Errors: invalid_argument, not_found (unknown
// group), permission_denied (Actor is not a member), and the store's.
func (s *Service) Group(ctx context.Context, req GroupRequest) (Group, error) {
	var err error
	if req.Actor, err = s.actAs(ctx, req.Actor); err != nil {
		return Group{}, err
	}
	chat, err := ParseChatID(req.Chat)
	if err != nil {
		return Group{}, err
	}
	var g Group
	if chat.IsGroup() {
		if g, err = s.store.Group(ctx, chat); err != nil {
			return Group{}, fmt.Errorf("group: %w", err)
		}
	} else {
		a, b := chat.Members()
		g = Group{Chat: chat, Members: []string{a, b}}
		if a == b {
			g.Members = g.Members[:1]
		}
	}
	if req.Actor != "" && !g.HasMember(req.Actor) {
		return Group{}, Errorf(CodePermissionDenied, "%s is not a member of chat %s", Quote(req.Actor), Quote(chat.String()))
	}
	return g, nil
}

// ChangeMembers adds and removes a group's members and returns the group
// as changed. Members may add; the owner may remove anyone; anyone may
// remove themselves. The rules are checked against the group as stored,
// under the lock appends take, so a send racing a removal is stored before
// it or refused after it. Errors: invalid_argument, not_found,
// permission_denied, conflict, too_large, and the store's.
func (s *Service) ChangeMembers(ctx context.Context, req ChangeMembersRequest) (Group, error) {
	var err error
	if req.Actor, err = s.actAs(ctx, req.Actor); err != nil {
		return Group{}, err
	}
	chat, change, err := req.change(s.cfg.MaxGroupMembers)
	if err != nil {
		return Group{}, err
	}
	g, err := s.store.ChangeGroup(ctx, chat, change.Apply)
	if err != nil {
		return Group{}, fmt.Errorf("change group: %w", err)
	}
	if s.cfg.Notifier != nil && len(change.Add) > 0 {
		s.cfg.Notifier.Joined(change.Add)
	}
	return g, nil
}

// IsMember reports whether member may read and write chat: one of a
// two-member chat's ids, or a member of a group (false for an unknown
// group). Errors: the store's.
func (s *Service) IsMember(ctx context.Context, chat ChatID, member string) (bool, error) {
	if !chat.IsGroup() {
		return chat.HasMember(member), nil
	}
	g, err := s.store.Group(ctx, chat)
	switch {
	case ErrorCode(err) == CodeNotFound:
		return false, nil
	case err != nil:
		return false, fmt.Errorf("group: %w", err)
	}
	return g.HasMember(member), nil
}

// Inbox returns one page of a member's chats, newest activity first (see
// InboxPage for the cursor's guarantee). With a caller, it is the caller's
// inbox. Errors: invalid_argument, unauthenticated, permission_denied (another
// member's inbox), and the store's.
//
// A call with Wait and a last page's cursor ("newer than everything
// listed") whose page lists no chat waits, holding nothing of the store,
// until one of the member's chats may have newer activity, then reads
// again; when the wait ends first it answers the empty page, whose
// NextCursor is the cursor. (A cursor mid-listing whose page is empty
// answers at once: its NextCursor is the one to wait with.)
func (s *Service) Inbox(ctx context.Context, req InboxRequest) (InboxPage, error) {
	var err error
	if req.Member, err = s.actAs(ctx, req.Member); err != nil {
		return InboxPage{}, err
	}
	if err := ValidateStoredMemberID(req.Member); err != nil {
		return InboxPage{}, Errorf(CodeInvalidArgument, "member: %s", ErrorMessage(err))
	}
	limit, err := inboxLimit(req.Limit)
	if err != nil {
		return InboxPage{}, err
	}
	cur, err := decodeInboxCursor(req.Cursor)
	if err != nil {
		return InboxPage{}, err
	}
	if req.Wait < 0 {
		return InboxPage{}, Errorf(CodeInvalidArgument, "wait_ms must not be negative, got %d", req.Wait.Milliseconds())
	}
	mayWait := req.Cursor != "" && cur.Before == nil && req.Wait != 0 && s.cfg.Notifier != nil
	if !mayWait {
		return s.readInbox(ctx, req.Member, cur, limit)
	}
	// A call that may wait reads aside, so that its goroutine waits with a
	// small stack.
	page, err := aside(func() (InboxPage, error) { return s.readInbox(ctx, req.Member, cur, limit) })
	if err != nil || len(page.Chats) > 0 {
		return page, err
	}
	return s.waitInbox(ctx, req, cur, limit, min(req.Wait, s.cfg.MaxWait), page)
}

// readInbox reads one page of member's inbox from cur.
func (s *Service) readInbox(ctx context.Context, member string, cur inboxCursor, limit int) (InboxPage, error) {
	rows, err := s.store.Inbox(ctx, InboxRange{Member: member, After: cur.After, Before: cur.Before, Limit: limit + 1})
	if err != nil {
		return InboxPage{}, fmt.Errorf("inbox: %w", err)
	}
	return newInboxPage(rows, cur, limit), nil
}

// MarkRead moves a member's read marker forward and returns it with the
// unread count after it. Errors: invalid_argument (including a member not
// in a two-member chat), permission_denied (not in the group), not_found
// (unknown group), and the store's.
func (s *Service) MarkRead(ctx context.Context, req ReadRequest) (ReadState, error) {
	var err error
	if req.Member, err = s.actAs(ctx, req.Member); err != nil {
		return ReadState{}, err
	}
	chat, err := ParseChatID(req.Chat)
	if err != nil {
		return ReadState{}, err
	}
	if err := ValidateStoredMemberID(req.Member); err != nil {
		return ReadState{}, Errorf(CodeInvalidArgument, "member: %s", ErrorMessage(err))
	}
	if !chat.IsGroup() && !chat.HasMember(req.Member) {
		return ReadState{}, Errorf(CodeInvalidArgument, "member %s is not a member of chat %s", Quote(req.Member), Quote(chat.String()))
	}
	if req.SendTime < 0 {
		return ReadState{}, Errorf(CodeInvalidArgument, "send_time must not be negative, got %d", req.SendTime)
	}
	st, err := s.store.MarkRead(ctx, chat, req.Member, req.SendTime)
	if err != nil {
		return ReadState{}, fmt.Errorf("mark read: %w", err)
	}
	return st, nil
}
