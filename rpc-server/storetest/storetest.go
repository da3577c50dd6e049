// Package storetest is the conformance suite every pigeonhole.Store must
// pass. A store's own tests call Run with a way to make fresh databases;
// the suite drives the store through pigeonhole.Service, so it checks the
// contract clients see: canonical chat ids, unique increasing send times in
// commit order, paging and cursors, idempotent sends, limits and
// durability, groups and their membership, inboxes, read markers and
// unread counts, alone and with several store instances on one database;
// RunWaiting adds waiting pulls (long polls) woken by a notifier.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// Opener opens one more independent store instance (with its own
// connections, as another replica would have) on one database, with the
// given clock (nil means time.Now). The suite closes what it opens.
type Opener func(tb testing.TB, now func() time.Time) pigeonhole.Store

// NewDatabase makes a fresh, empty database for one test and returns the
// opener for it.
type NewDatabase func(tb testing.TB) Opener

// Wrapped makes the databases of newDB and passes every store instance
// opened on them through wrap, each instance wrapped on its own, as each
// replica wraps its own: a decorator of a store (a cache, say) must pass
// the suite too, and its caller says which one.
func Wrapped(newDB NewDatabase, wrap func(pigeonhole.Store) pigeonhole.Store) NewDatabase {
	return func(tb testing.TB) Opener {
		open := newDB(tb)
		return func(tb testing.TB, now func() time.Time) pigeonhole.Store {
			return wrap(open(tb, now))
		}
	}
}

// Run runs the whole suite.
func Run(t *testing.T, newDB NewDatabase) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"RoundTripAndCanonicalChat", testRoundTrip},
		{"EmptyChat", testEmptyChat},
		{"ForwardPagingExactlyOnceInOrder", testForwardPaging},
		{"ReversePagingExactlyOnceInOrder", testReversePaging},
		{"CursorsAreInclusiveBothWays", testInclusiveCursors},
		{"TailPollingYieldsOnlyNewMessages", testTailPolling},
		{"DefaultAndClampedLimits", testLimits},
		{"InvalidRequests", testInvalidRequests},
		{"TightLoopAppendsGetIncreasingTimes", testTightLoop},
		{"ClockGoingBackwardsNeverReorders", testClockBackwards},
		{"ConcurrentWritersAndFollowers", func(t *testing.T, open Opener) { testConcurrent(t, open, 1) }},
		{"ConcurrentWritersAndFollowersOnTwoInstances", func(t *testing.T, open Opener) { testConcurrent(t, open, 2) }},
		{"IdempotentSend", testIdempotency},
		{"ConcurrentRetriesStoreOnce", testConcurrentRetries},
		{"MaxSizeAndUnicodeText", testTextLimits},
		{"CloseAndReopenKeepsEverything", testReopen},
		{"ClosedStoreIsUnavailable", testClosedStoreIsUnavailable},
		{"FinalPagesNeverChange", testFinalPages},
		{"PagesAreCutAtTheByteBudget", testByteBudget},
		{"MemberIDsStoredBeforeKeepWorking", testStoredMemberIDs},
		{"HeadsAreTheNewestChats", testHeads},
		{"HeadIsTheNewestSendTime", testHead},
		{"ReadsOfAGoneCallerAreRefused", testReadsOfAGoneCallerAreRefused},
		{"TailPollsAndNewestPagesOnAnotherInstanceMissNothing", testTailOnAnotherInstance},
		{"GroupLifecycle", testGroupLifecycle},
		{"GroupLimits", testGroupLimits},
		{"RemovalRacingSends", testRemovalRacingSends},
		{"InboxEntries", testInboxEntries},
		{"ReadMarkers", testReadMarkers},
		{"UnreadUnderConcurrentSendsAndReads", testUnreadUnderConcurrency},
		{"InboxOrderUnderConcurrentSendsOnTwoInstances", testInboxOrderUnderConcurrentSends},
		{"InboxPagingWhileActive", testInboxPagingWhileActive},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newDB(t))
		})
	}
}

// open opens a store instance closed at the end of the test, and a service
// over it.
func open(tb testing.TB, opener Opener, now func() time.Time) *pigeonhole.Service {
	tb.Helper()
	return openWith(tb, opener, now, pigeonhole.Config{})
}

// openWith is open with the service's limits given.
func openWith(tb testing.TB, opener Opener, now func() time.Time, cfg pigeonhole.Config) *pigeonhole.Service {
	tb.Helper()
	store := opener(tb, now)
	tb.Cleanup(func() {
		if err := store.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return pigeonhole.NewService(store, cfg)
}

func ctx(tb testing.TB) context.Context {
	tb.Helper()
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	tb.Cleanup(cancel)
	return c
}

func send(t *testing.T, svc *pigeonhole.Service, chat, sender, text string) pigeonhole.Message {
	t.Helper()
	m, err := svc.Send(ctx(t), pigeonhole.SendRequest{Chat: chat, Sender: sender, Text: text})
	if err != nil {
		t.Fatalf("send %q to %q: %v", text, chat, err)
	}
	return m
}

func pull(t *testing.T, svc *pigeonhole.Service, req pigeonhole.PullRequest) pigeonhole.Page {
	t.Helper()
	p, err := svc.Pull(ctx(t), req)
	if err != nil {
		t.Fatalf("pull %+v: %v", req, err)
	}
	return p
}

// pullAll follows next_cursor from cursor until has_more is false and
// returns every message seen, in the order seen.
func pullAll(t *testing.T, svc *pigeonhole.Service, chat string, cursor int64, limit int32, reverse bool) []pigeonhole.Message {
	t.Helper()
	var all []pigeonhole.Message
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatalf("paging %q did not end", chat)
		}
		p := pull(t, svc, pigeonhole.PullRequest{Chat: chat, Cursor: cursor, Limit: limit, Reverse: reverse})
		all = append(all, p.Messages...)
		if !p.HasMore {
			return all
		}
		cursor = p.NextCursor
	}
}

func texts(msgs []pigeonhole.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Text
	}
	return out
}

func wantCode(t *testing.T, err error, want pigeonhole.Code) {
	t.Helper()
	if got := pigeonhole.ErrorCode(err); got != want {
		t.Fatalf("error code: got %q (%v), want %q", got, err, want)
	}
}
