package pigeonhole

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"
)

// Config holds the service's limits. Zero fields take the defaults.
type Config struct {
	MaxTextBytes int // default DefaultMaxTextBytes
	DefaultLimit int // default DefaultPullLimit
	MaxLimit     int // default DefaultMaxPull
	// RequireCaller refuses every Send and Pull whose context carries no
	// Caller (see Caller), with unauthenticated.
	RequireCaller bool
	// Membership answers who may read a chat (default: two-member chats
	// by their id, groups from the store).
	Membership Membership
	// MaxPageBytes is the byte budget of a page's texts (default
	// DefaultMaxPageBytes). Below MaxTextBytes it is raised to it, so that
	// a page of one message is never over the budget.
	MaxPageBytes int
	MaxWait      time.Duration // default DefaultMaxWait
	// Notifier wakes waiting pulls and inbox calls. Without one nothing
	// waits: Wait is checked and then ignored.
	Notifier Notifier
	// MaxGroupMembers bounds a group (default DefaultMaxGroupMembers).
	MaxGroupMembers int
	// Random is where group ids come from (default crypto/rand.Reader).
	Random io.Reader
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
	if c.MaxWait <= 0 {
		c.MaxWait = DefaultMaxWait
	}
	if c.MaxPageBytes <= 0 {
		c.MaxPageBytes = DefaultMaxPageBytes
	}
	c.MaxPageBytes = max(c.MaxPageBytes, c.MaxTextBytes)
	if c.MaxGroupMembers <= 0 {
		c.MaxGroupMembers = DefaultMaxGroupMembers
	}
	if c.Random == nil {
		c.Random = rand.Reader
	}
	if c.DefaultLimit > c.MaxLimit {
		c.DefaultLimit = c.MaxLimit
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
	cfg = cfg.withDefaults()
	if cfg.Membership == nil {
		cfg.Membership = storeMembership{store}
	}
	return &Service{store: store, cfg: cfg}
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
// message. With a Caller in ctx, an empty Sender is the caller. A chat
// whose ids fail ChatID.CheckNew takes sends only when it holds messages
// already. Errors: invalid_argument, too_large, conflict (same key,
// different text), unauthenticated and permission_denied (see Caller; also
// a sender not in the group), not_found (unknown group), and the store's
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
	if err := s.checkNew(ctx, m.Chat); err != nil {
		return Message{}, err
	}
	stored, err := s.store.Append(ctx, m)
	if err != nil {
		return Message{}, fmt.Errorf("append: %w", err)
	}
	if s.cfg.Notifier != nil {
		s.cfg.Notifier.Sent(stored.Chat, stored.SendTime)
	}
	if stored.Text != req.Text {
		return Message{}, Errorf(CodeConflict, "client_msg_id %s was already used by %s in chat %s for a different text",
			Quote(req.ClientMsgID), Quote(req.Sender), Quote(m.Chat.String()))
	}
	return stored, nil
}

// checkNew lets a send into chat through when chat passes ChatID.CheckNew,
// or already holds messages: a chat stored before the rule for new ids
// (under a decomposed "José", say) goes on under the id it has.
func (s *Service) checkNew(ctx context.Context, chat ChatID) error {
	err := chat.CheckNew()
	if err == nil {
		return nil
	}
	rows, rerr := s.store.Range(ctx, Range{Chat: chat, Limit: 1})
	if rerr != nil {
		return fmt.Errorf("range: %w", rerr)
	}
	if len(rows) == 0 {
		return err
	}
	return nil
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
	if chat.IsGroup() {
		// The store checks membership when it stores the message.
		if err := ValidateStoredMemberID(req.Sender); err != nil {
			return Message{}, Errorf(CodeInvalidArgument, "sender: %s", ErrorMessage(err))
		}
	} else if !chat.HasMember(req.Sender) {
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

// Pull returns one page of a chat (see PullRequest and Page): at most the
// limit, and no more text than its byte budget unless its one message
// alone is larger (stored before a smaller MaxTextBytes). Errors:
// invalid_argument, unauthenticated and permission_denied (see Caller), and
// the store's unavailable, deadline_exceeded, internal.
//
// A forward pull with Wait whose page is empty waits, holding nothing of
// the store, until the chat may have a message at or after the cursor,
// then reads again; when the wait ends first it answers the empty page
// (NextCursor is the cursor).
func (s *Service) Pull(ctx context.Context, req PullRequest) (Page, error) {
	if req.Wait == 0 || s.cfg.Notifier == nil {
		page, _, err := s.pullNow(ctx, req)
		return page, err
	}
	// A pull that may wait reads aside, so that its goroutine waits with a
	// small stack.
	var q pageQuery
	page, err := aside(func() (page Page, err error) {
		page, q, err = s.pullNow(ctx, req)
		return page, err
	})
	if err != nil || len(page.Messages) > 0 || req.Reverse {
		return page, err
	}
	return s.wait(ctx, q, min(req.Wait, s.cfg.MaxWait), page)
}

// pullNow is Pull without the wait: req's page and its validated query.
func (s *Service) pullNow(ctx context.Context, req PullRequest) (Page, pageQuery, error) {
	chat, err := ParseChatID(req.Chat)
	if err != nil {
		return Page{}, pageQuery{}, err
	}
	if err := s.authorizeRead(ctx, chat); err != nil {
		return Page{}, pageQuery{}, err
	}
	if req.Cursor < 0 {
		return Page{}, pageQuery{}, Errorf(CodeInvalidArgument, "cursor must not be negative, got %d", req.Cursor)
	}
	if req.Wait < 0 {
		return Page{}, pageQuery{}, Errorf(CodeInvalidArgument, "wait_ms must not be negative, got %d", req.Wait.Milliseconds())
	}
	limit, clamped, err := s.pageLimit(req.Limit)
	if err != nil {
		return Page{}, pageQuery{}, err
	}
	budget := pageBudget{most: s.cfg.MaxPageBytes, least: s.cfg.MaxTextBytes}
	if req.MaxBytes > 0 {
		budget.most = min(max(req.MaxBytes, s.cfg.MaxTextBytes), s.cfg.MaxPageBytes)
	}
	q := pageQuery{chat: chat, cursor: req.Cursor, limit: limit, budget: budget, reverse: req.Reverse, clamped: clamped}
	page, err := s.readPage(ctx, q)
	return page, q, err
}

// pageQuery is a validated pull.
type pageQuery struct {
	chat    ChatID
	cursor  int64
	limit   int
	budget  pageBudget
	reverse bool
	clamped bool // the service's maximum cut the limit
}

// readPage reads q's page from the store.
func (s *Service) readPage(ctx context.Context, q pageQuery) (Page, error) {
	rows, err := s.store.Range(ctx, pageRange(q.chat, q.cursor, q.limit, q.budget.most, q.reverse))
	if err != nil {
		return Page{}, fmt.Errorf("range: %w", err)
	}
	page := newPage(rows, q.cursor, q.limit, q.budget, q.reverse)
	// A page cut by this replica's maximum is not the request's answer
	// for good: a replica allowing more answers with more.
	page.Final = page.Final && !q.clamped
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
