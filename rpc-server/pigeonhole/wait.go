package pigeonhole

import (
	"context"
	"fmt"
	"time"
)

// DefaultMaxWait is the longest a pull waits for a message (--max-wait).
const DefaultMaxWait = 30 * time.Second

// Watch asks to be told when chat may hold a message with SendTime >= From:
// a forward page from cursor From would no longer be empty. A Watch with
// Member set instead of Chat asks the same of every chat of the member's
// (an inbox waiting for activity at or after From), including chats that
// do not exist yet.
type Watch struct {
	Chat   ChatID
	Member string
	From   int64
}

// Notifier tells waiting pulls and inbox calls when to read again. A wake is a hint, never
// data: the woken pull reads through the store as any pull does, so a
// wrong wake costs one read and a missed one costs the wait; neither can
// reorder or skip a message.
type Notifier interface {
	// Wait returns true as soon as one of watches may be satisfied, and
	// false when ctx ends first or the notifier stops (then at once,
	// and so for every later call).
	Wait(ctx context.Context, watches []Watch) bool
	// Sent tells the notifier of a message this process has stored, so
	// that its waiters wake without waiting for the database to be looked
	// at. A message in a two-member chat also wakes its two members'
	// Member watches.
	Sent(chat ChatID, sendTime int64)
	// Joined tells the notifier that members were added to a group (or
	// created it) in this process, so that their Member watches wake.
	Joined(members []string)
}

// ChatHead is a chat's newest send time.
type ChatHead struct {
	Chat         ChatID
	LastSendTime int64
}

// wait runs a waiting pull: page is the empty answer to q's first read.
// It waits for a message in the chat, then reads again; the page that
// reaches the caller is always one a plain read returned. When the wait
// ends without a message (the time is up, the caller gave up, the
// notifier stopped), it answers page: empty, with the request's cursor.
func (s *Service) wait(ctx context.Context, q pageQuery, wait time.Duration, page Page) (Page, error) {
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	watch := []Watch{{Chat: q.chat, From: q.cursor}}
	for s.cfg.Notifier.Wait(waitCtx, watch) {
		next, err := aside(func() (Page, error) { return s.readPage(ctx, q) })
		if err != nil || len(next.Messages) > 0 {
			return next, err
		}
	}
	return page, nil
}

// waitInbox runs a waiting inbox call: page is the empty answer to its
// first read. It watches the member (every two-member chat naming them,
// and groups they join in this process) and the groups among their newest
// MaxInboxLimit chats (a group's members are not in its id), then reads
// again through Inbox's own path on each wake. When the wait ends without
// activity it answers page: empty, with the request's cursor. Reading the
// member's newest chats costs one inbox read of MaxInboxLimit entries per
// waiting call (not per wake).
func (s *Service) waitInbox(ctx context.Context, req InboxRequest, cur inboxCursor, limit int, wait time.Duration, page InboxPage) (InboxPage, error) {
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	from := cur.After + 1 // activity newer than the cursor's
	known, err := aside(func() ([]InboxEntry, error) {
		return s.store.Inbox(ctx, InboxRange{Member: req.Member, Limit: MaxInboxLimit})
	})
	if err != nil {
		return InboxPage{}, fmt.Errorf("inbox: %w", err)
	}
	watches := []Watch{{Member: req.Member, From: from}}
	// Activity since the first read (a group created or joined through
	// another replica meanwhile, say) shows in known: read again at once.
	fresh := false
	for _, e := range known {
		fresh = fresh || e.Activity >= from
		if e.Chat.IsGroup() {
			watches = append(watches, Watch{Chat: e.Chat, From: from})
		}
	}
	for fresh || s.cfg.Notifier.Wait(waitCtx, watches) {
		fresh = false
		next, err := aside(func() (InboxPage, error) { return s.readInbox(ctx, req.Member, cur, limit) })
		if err != nil || len(next.Chats) > 0 {
			return next, err
		}
	}
	return page, nil
}

// aside runs f on a goroutine of its own and returns its result; a panic
// in f is raised again in the caller.
//
// A waiting call does its reads aside. A goroutine's stack grows to the
// deepest its calls have gone and shrinks again only while it uses less
// than a quarter of it: a read through the store (SQLite's translated C
// above all) takes a stack of 16 KiB, which the call then held for the
// whole of its wait. Read aside, the waiting goroutine keeps about
// 8 KiB: half the memory of 10,000 waiting calls' stacks, 165 MB to 83 MB
// measured (docs/performance.md, "Long polls"), for one short-lived
// goroutine per read.
func aside[T any](f func() (T, error)) (T, error) {
	var out T
	var err error
	var panicked any
	done := make(chan struct{})
	go func() {
		defer func() {
			panicked = recover()
			close(done)
		}()
		out, err = f()
	}()
	<-done
	if panicked != nil {
		panic(panicked)
	}
	return out, err
}
