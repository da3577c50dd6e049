package rangecache

import (
	"context"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// The cache keeps message history only: groups, inboxes and read markers
// change in place, so they always come from the wrapped store.

// CreateGroup implements pigeonhole.Conversations.
func (s *Store) CreateGroup(ctx context.Context, g pigeonhole.Group) (pigeonhole.Group, error) {
	return s.inner.CreateGroup(ctx, g)
}

// Group implements pigeonhole.Conversations.
func (s *Store) Group(ctx context.Context, chat pigeonhole.ChatID) (pigeonhole.Group, error) {
	return s.inner.Group(ctx, chat)
}

// ChangeGroup implements pigeonhole.Conversations.
func (s *Store) ChangeGroup(ctx context.Context, chat pigeonhole.ChatID, change func(pigeonhole.Group) (pigeonhole.Group, error)) (pigeonhole.Group, error) {
	return s.inner.ChangeGroup(ctx, chat, change)
}

// Inbox implements pigeonhole.Conversations.
func (s *Store) Inbox(ctx context.Context, q pigeonhole.InboxRange) ([]pigeonhole.InboxEntry, error) {
	return s.inner.Inbox(ctx, q)
}

// MarkRead implements pigeonhole.Conversations.
func (s *Store) MarkRead(ctx context.Context, chat pigeonhole.ChatID, member string, sendTime int64) (pigeonhole.ReadState, error) {
	return s.inner.MarkRead(ctx, chat, member, sendTime)
}
