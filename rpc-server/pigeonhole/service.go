package pigeonhole

import (
	"context"
	"fmt"
)

// Config holds the service's limits. Zero fields take the defaults.
type Config struct {
	MaxTextBytes int // default DefaultMaxTextBytes
	DefaultLimit int // default DefaultPullLimit
	MaxLimit     int // default DefaultMaxPull
	// RequireCaller refuses every Send and Pull whose context carries no
	// Caller (see Caller), with unauthenticated.
	RequireCaller bool
	// Membership answers who may read a chat (default PairMembership).
	Membership Membership
}

func (c Config) withDefaults() Config {
	if c.MaxTextBytes <= 0 {
		c.MaxTextBytes = DefaultMaxTextBytes
	}
	if c.MaxLimit <= 0 {
		c.MaxLimit = DefaultMaxPull
	}
	if c.DefaultLimit <= 0 {
		c.DefaultLimit = DefaultPullLimit
	}
	if c.DefaultLimit > c.MaxLimit {
		c.DefaultLimit = c.MaxLimit
	}
	if c.Membership == nil {
		c.Membership = PairMembership{}
	}
	return c
}

// Service applies the rules of chat ids, senders, texts and paging on top
// of a Store. It is safe for concurrent use.
type Service struct {
	store Store
	cfg   Config
}

// NewService returns a service over store with the given limits.
func NewService(store Store, cfg Config) *Service {
	return &Service{store: store, cfg: cfg.withDefaults()}
}

// Config returns the effective limits.
func (s *Service) Config() Config { return s.cfg }

// SendRequest is a message as a client sends it.
type SendRequest struct {
	Chat        string
	Sender      string
	Text        string
	ClientMsgID string
}

// Send validates and stores a message and returns it as stored, with its
// canonical chat id and assigned send time. A repeated send with the same
// (chat, sender, client_msg_id) stores nothing and returns the first
// message. With a Caller in ctx, an empty Sender is the caller. Errors:
// invalid_argument, too_large, conflict (same key, different text),
// unauthenticated and permission_denied (see Caller), and the store's
// unavailable, deadline_exceeded, internal.
func (s *Service) Send(ctx context.Context, req SendRequest) (Message, error) {
	req, err := s.bindSender(ctx, req)
	if err != nil {
		return Message{}, err
	}
	m, err := req.Validate(s.cfg.MaxTextBytes)
	if err != nil {
		return Message{}, err
	}
	stored, err := s.store.Append(ctx, m)
	if err != nil {
		return Message{}, fmt.Errorf("append: %w", err)
	}
	if stored.Text != req.Text {
		return Message{}, Errorf(CodeConflict, "client_msg_id %s was already used by %s in chat %s for a different text",
			Quote(req.ClientMsgID), Quote(req.Sender), Quote(m.Chat.String()))
	}
	return stored, nil
}

// Validate checks a send request against the rules and returns the message
// to store, with its canonical chat id. Errors: invalid_argument, too_large.
func (req SendRequest) Validate(maxTextBytes int) (Message, error) {
	chat, err := ParseChatID(req.Chat)
	if err != nil {
		return Message{}, err
	}
	if req.Sender == "" {
		return Message{}, Errorf(CodeInvalidArgument, "sender is required")
	}
	if !chat.HasMember(req.Sender) {
		return Message{}, Errorf(CodeInvalidArgument, "sender %s is not a member of chat %s", Quote(req.Sender), Quote(chat.String()))
	}
	if err := validateText(req.Text, maxTextBytes); err != nil {
		return Message{}, err
	}
	if err := validateClientMsgID(req.ClientMsgID); err != nil {
		return Message{}, err
	}
	return Message{Chat: chat, Sender: req.Sender, Text: req.Text, ClientMsgID: req.ClientMsgID}, nil
}

// Pull returns one page of a chat (see PullRequest and Page). Errors:
// invalid_argument, unauthenticated and permission_denied (see Caller), and
// the store's unavailable, deadline_exceeded, internal.
func (s *Service) Pull(ctx context.Context, req PullRequest) (Page, error) {
	chat, err := ParseChatID(req.Chat)
	if err != nil {
		return Page{}, err
	}
	if err := s.authorizeRead(ctx, chat); err != nil {
		return Page{}, err
	}
	if req.Cursor < 0 {
		return Page{}, Errorf(CodeInvalidArgument, "cursor must not be negative, got %d", req.Cursor)
	}
	limit, clamped, err := s.pageLimit(req.Limit)
	if err != nil {
		return Page{}, err
	}
	rows, err := s.store.Range(ctx, pageRange(chat, req.Cursor, limit, req.Reverse))
	if err != nil {
		return Page{}, fmt.Errorf("range: %w", err)
	}
	page := newPage(rows, req.Cursor, limit, req.Reverse)
	// A page cut by this replica's maximum is not the request's answer
	// for good: a replica allowing more answers with more.
	page.Final = page.Final && !clamped
	return page, nil
}

// pageLimit returns the page size for the requested limit, and whether the
// service's maximum cut it below what was asked (the default included).
func (s *Service) pageLimit(limit int32) (size int, clamped bool, err error) {
	switch {
	case limit < 0:
		return 0, false, Errorf(CodeInvalidArgument, "limit must not be negative, got %d", limit)
	case limit == 0:
		return s.cfg.DefaultLimit, s.cfg.DefaultLimit < DefaultPullLimit, nil
	case int(limit) > s.cfg.MaxLimit:
		return s.cfg.MaxLimit, true, nil
	}
	return int(limit), false, nil
}

// Ready reports whether the service can reach its storage.
func (s *Service) Ready(ctx context.Context) error { return s.store.Ping(ctx) }
