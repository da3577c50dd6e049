package pigeonhole

import (
	"context"
	"fmt"
)

// Caller is who makes a request: the member id a verified credential (a
// token's subject) names. The layer that verifies credentials puts it in
// the request's context with WithCaller; the Service reads it from there
// and applies the access rules:
//   - Send: an omitted sender is the caller; any other sender is
//     permission_denied.
//   - Pull: the caller must be a member of the chat (Membership), else
//     permission_denied.
//   - Groups, inbox, read markers: the acting member is the caller; naming
//     anyone else is permission_denied. A group's creator joins it as its
//     owner; only members may see a group.
//
// A request without a Caller is refused with unauthenticated when the
// service requires callers (Config.RequireCaller), and is served without
// these rules otherwise, as in a deployment without authentication.
type Caller struct {
	Member string
}

type callerKey struct{}

// WithCaller returns a copy of ctx that carries c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller ctx carries, if any.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// Membership answers who belongs to a chat. The service asks it on every
// pull by a caller; implementations must be safe for concurrent use.
type Membership interface {
	// IsMember reports whether member belongs to chat. Errors are the
	// store's unavailable, deadline_exceeded, internal.
	IsMember(ctx context.Context, chat ChatID, member string) (bool, error)
}

// PairMembership is the membership of two-member chats: the chat id names
// its members, so no storage is asked.
type PairMembership struct{}

var _ Membership = PairMembership{}

// IsMember implements Membership.
func (PairMembership) IsMember(_ context.Context, chat ChatID, member string) (bool, error) {
	return chat.HasMember(member), nil
}

// storeMembership is the service's default membership: a two-member chat's
// members from its id, a group's from the store. An unknown group has no
// members, so a caller learns nothing of which groups exist.
type storeMembership struct{ store Store }

func (m storeMembership) IsMember(ctx context.Context, chat ChatID, member string) (bool, error) {
	if !chat.IsGroup() {
		return chat.HasMember(member), nil
	}
	g, err := m.store.Group(ctx, chat)
	if ErrorCode(err) == CodeNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return g.HasMember(member), nil
}

// errNoCaller is the answer to a request without a caller when callers are
// required.
var errNoCaller = Errorf(CodeUnauthenticated, "a credential is required")

// caller returns the request's caller: ok is false when there is none and
// none is required. Errors: unauthenticated.
func (s *Service) caller(ctx context.Context) (c Caller, ok bool, err error) {
	c, ok = CallerFrom(ctx)
	if !ok && s.cfg.RequireCaller {
		return Caller{}, false, errNoCaller
	}
	return c, ok, nil
}

// bindSender applies the sender rule: the sender is the caller. Errors:
// unauthenticated, permission_denied.
func (s *Service) bindSender(ctx context.Context, req SendRequest) (SendRequest, error) {
	c, ok, err := s.caller(ctx)
	if err != nil || !ok {
		return req, err
	}
	switch req.Sender {
	case "":
		req.Sender = c.Member
	case c.Member:
	default:
		return req, Errorf(CodePermissionDenied, "you may send only as %q, not as %q", c.Member, req.Sender)
	}
	return req, nil
}

// actAs applies the acting-member rule of the conversation requests (the
// member whose inbox or marker it is, or who creates or changes a group):
// with a caller, an empty member is the caller and any other member is
// permission_denied; without one, the request's own member stands.
// Errors: unauthenticated, permission_denied.
func (s *Service) actAs(ctx context.Context, named string) (string, error) {
	c, ok, err := s.caller(ctx)
	if err != nil || !ok {
		return named, err
	}
	if named != "" && named != c.Member {
		return "", Errorf(CodePermissionDenied, "you may act only as %s, not as %s", Quote(c.Member), Quote(named))
	}
	return c.Member, nil
}

// authorizeRead applies the read rule: the caller must be a member of the
// chat. Errors: unauthenticated, permission_denied, and Membership's.
func (s *Service) authorizeRead(ctx context.Context, chat ChatID) error {
	c, ok, err := s.caller(ctx)
	if err != nil || !ok {
		return err
	}
	member, err := s.cfg.Membership.IsMember(ctx, chat, c.Member)
	if err != nil {
		return fmt.Errorf("membership: %w", err)
	}
	if !member {
		return Errorf(CodePermissionDenied, "%q is not a member of chat %q", c.Member, chat.String())
	}
	return nil
}
