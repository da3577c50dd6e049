package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// The tests of waiting inbox calls, run by RunWaiting: an inbox call with a
// last page's cursor and Wait waits for activity in any of its member's
// chats, new ones included, and for nothing else.

// inboxAsync runs an inbox call in the background; its page arrives on the
// channel.
func inboxAsync(t *testing.T, svc *pigeonhole.Service, req pigeonhole.InboxRequest) <-chan pigeonhole.InboxPage {
	t.Helper()
	out := make(chan pigeonhole.InboxPage, 1)
	c := ctx(t)
	go func() {
		p, err := svc.Inbox(c, req)
		if err != nil {
			t.Errorf("inbox %+v: %v", req, err)
		}
		out <- p
	}()
	return out
}

// caughtUp returns the cursor of member's inbox after listing all of it.
func caughtUp(t *testing.T, svc *pigeonhole.Service, member string) string {
	t.Helper()
	_, cursor := inboxPass(t, svc, member, "", 0)
	return cursor
}

// wantWokenWith checks that a woken inbox page lists exactly chats.
func wantWokenWith(t *testing.T, got <-chan pigeonhole.InboxPage, chats ...string) {
	t.Helper()
	p := <-got
	if ids := chatIDs(p.Chats); !slices.Equal(ids, chats) {
		t.Fatalf("woken inbox: got %q, want %q", ids, chats)
	}
}

func testInboxWaitWakesOnSendToAChatOfTheMember(t *testing.T, opener Opener, newNotifier NewNotifier) {
	svc, n := openWaiting(t, opener, newNotifier)
	send(t, svc, "a1:a2", "a2", "before")
	cursor := caughtUp(t, svc, "a1")
	got := inboxAsync(t, svc, pigeonhole.InboxRequest{Member: "a1", Cursor: cursor, Wait: longWait})
	untilWaiting(t, n, 1)
	send(t, svc, "a1:a2", "a2", "awaited")
	wantWokenWith(t, got, "a1:a2")
}

func testInboxWaitWakesOnANewChat(t *testing.T, opener Opener, newNotifier NewNotifier) {
	svc, n := openWaiting(t, opener, newNotifier)
	send(t, svc, "a1:a2", "a2", "before")
	cursor := caughtUp(t, svc, "a1")
	t.Run("TwoMembers", func(t *testing.T) {
		got := inboxAsync(t, svc, pigeonhole.InboxRequest{Member: "a1", Cursor: cursor, Wait: longWait})
		untilWaiting(t, n, 1)
		send(t, svc, "a1:a9", "a9", "first words")
		wantWokenWith(t, got, "a1:a9")
	})
	cursor = caughtUp(t, svc, "a1")
	t.Run("GroupCreated", func(t *testing.T) {
		got := inboxAsync(t, svc, pigeonhole.InboxRequest{Member: "a1", Cursor: cursor, Wait: longWait})
		untilWaiting(t, n, 1)
		g := createGroup(t, svc, "a7", "new", "a7", "a1")
		wantWokenWith(t, got, g.Chat.String())
	})
	t.Run("AddedToAGroup", func(t *testing.T) {
		g := createGroup(t, svc, "a7", "later", "a7", "a8")
		cursor := caughtUp(t, svc, "a1")
		got := inboxAsync(t, svc, pigeonhole.InboxRequest{Member: "a1", Cursor: cursor, Wait: longWait})
		untilWaiting(t, n, 2) // a1, and a1's newest group
		if _, err := svc.ChangeMembers(ctx(t), pigeonhole.ChangeMembersRequest{Chat: g.Chat.String(), Actor: "a7", Add: []string{"a1"}}); err != nil {
			t.Fatal(err)
		}
		wantWokenWith(t, got, g.Chat.String())
	})
}

func testInboxWaitWakesOnSendToAGroupOfTheMember(t *testing.T, opener Opener, newNotifier NewNotifier) {
	svc, n := openWaiting(t, opener, newNotifier)
	g := createGroup(t, svc, "a2", "team", "a1", "a2")
	cursor := caughtUp(t, svc, "a1")
	got := inboxAsync(t, svc, pigeonhole.InboxRequest{Member: "a1", Cursor: cursor, Wait: longWait})
	untilWaiting(t, n, 2) // a1, and the group
	send(t, svc, g.Chat.String(), "a2", "to the team")
	wantWokenWith(t, got, g.Chat.String())
}

func testInboxWaitIgnoresOtherMembersChats(t *testing.T, opener Opener, newNotifier NewNotifier) {
	svc, n := openWaiting(t, opener, newNotifier)
	woken := make(chan bool, 1)
	c, cancel := context.WithTimeout(ctx(t), shortWait)
	defer cancel()
	go func() { woken <- n.Wait(c, []pigeonhole.Watch{{Member: "a1", From: 0}}) }()
	untilWaiting(t, n, 1)
	send(t, svc, "a2:a3", "a2", "elsewhere")
	createGroup(t, svc, "a2", "without a1", "a2", "a3")
	if <-woken {
		t.Fatalf("activity in another member's chats woke the inbox waiter")
	}
}

func testInboxWaitTimesOutWithTheSameCursor(t *testing.T, opener Opener, newNotifier NewNotifier) {
	svc, _ := openWaiting(t, opener, newNotifier)
	send(t, svc, "a1:a2", "a2", "seen")
	cursor := caughtUp(t, svc, "a1")
	p := inbox(t, svc, "a1", cursor, 0)
	start := time.Now()
	if p, err := svc.Inbox(ctx(t), pigeonhole.InboxRequest{Member: "a1", Cursor: cursor, Wait: shortWait}); err != nil || len(p.Chats) != 0 || p.HasMore || p.NextCursor != cursor {
		t.Fatalf("timed-out inbox: got %d chats, has_more %v, next_cursor %q, %v; want none, false, %q",
			len(p.Chats), p.HasMore, p.NextCursor, err, cursor)
	}
	if waited := time.Since(start); waited < shortWait {
		t.Fatalf("answered after %v, before the wait of %v was up", waited, shortWait)
	}
	if len(p.Chats) != 0 || p.NextCursor != cursor {
		t.Fatalf("inbox without wait: got %d chats, next_cursor %q; want none, %q", len(p.Chats), p.NextCursor, cursor)
	}
	// The first page, or a page that is not empty, answers at once.
	start = time.Now()
	if p := inbox(t, svc, "a3", "", 0); len(p.Chats) != 0 {
		t.Fatalf("inbox of a member without chats: got %q", chatIDs(p.Chats))
	}
	if p, err := svc.Inbox(ctx(t), pigeonhole.InboxRequest{Member: "a1", Wait: longWait}); err != nil || len(p.Chats) != 1 {
		t.Fatalf("first inbox page with wait: got %d chats, %v; want 1", len(p.Chats), err)
	}
	if p, err := svc.Inbox(ctx(t), pigeonhole.InboxRequest{Member: "a3", Wait: longWait}); err != nil || len(p.Chats) != 0 {
		t.Fatalf("first empty inbox page with wait: got %d chats, %v; want none at once", len(p.Chats), err)
	}
	if waited := time.Since(start); waited > longWait/2 {
		t.Fatalf("pages that do not wait took %v", waited)
	}
	if _, err := svc.Inbox(ctx(t), pigeonhole.InboxRequest{Member: "a1", Cursor: cursor, Wait: -time.Millisecond}); pigeonhole.ErrorCode(err) != pigeonhole.CodeInvalidArgument {
		t.Fatalf("negative wait: got %v, want invalid_argument", err)
	}
}

func testInboxWaitWakesAcrossInstances(t *testing.T, opener Opener, newNotifier NewNotifier) {
	waiting, n := openWaiting(t, opener, newNotifier)
	other := open(t, opener, nil) // another replica, on the same database
	g := createGroup(t, other, "a2", "team", "a1", "a2")
	cursor := caughtUp(t, waiting, "a1")
	t.Run("NewTwoMemberChat", func(t *testing.T) {
		got := inboxAsync(t, waiting, pigeonhole.InboxRequest{Member: "a1", Cursor: cursor, Wait: longWait})
		untilWaiting(t, n, 2) // a1, and the group
		send(t, other, "a1:a5", "a5", "from elsewhere")
		wantWokenWith(t, got, "a1:a5")
	})
	cursor = caughtUp(t, waiting, "a1")
	t.Run("Group", func(t *testing.T) {
		got := inboxAsync(t, waiting, pigeonhole.InboxRequest{Member: "a1", Cursor: cursor, Wait: longWait})
		untilWaiting(t, n, 2)
		send(t, other, g.Chat.String(), "a2", "to the team, from elsewhere")
		wantWokenWith(t, got, g.Chat.String())
	})
}

func testInboxWaitShowsAGroupJoinedElsewhereByTheNextCall(t *testing.T, opener Opener, newNotifier NewNotifier) {
	waiting, n := openWaiting(t, opener, newNotifier)
	other := open(t, opener, nil)
	send(t, waiting, "a1:a2", "a2", "seen")
	cursor := caughtUp(t, waiting, "a1")
	got := inboxAsync(t, waiting, pigeonhole.InboxRequest{Member: "a1", Cursor: cursor, Wait: shortWait})
	untilWaiting(t, n, 1)
	// Another replica cannot name a1 to this one's notifier: the group
	// shows when the wait ends, or in the answer to the next call.
	g := createGroup(t, other, "a3", "elsewhere", "a3", "a1")
	p := <-got
	if len(p.Chats) == 0 {
		p = inbox(t, waiting, "a1", p.NextCursor, 0)
	}
	if got, want := chatIDs(p.Chats), []string{g.Chat.String()}; !slices.Equal(got, want) {
		t.Fatalf("inbox after a group joined elsewhere: got %q, want %q", got, want)
	}
}

func testInboxWaitStopAnswersAtOnce(t *testing.T, opener Opener, newNotifier NewNotifier) {
	svc, n := openWaiting(t, opener, newNotifier)
	send(t, svc, "a1:a2", "a2", "seen")
	cursor := caughtUp(t, svc, "a1")
	got := inboxAsync(t, svc, pigeonhole.InboxRequest{Member: "a1", Cursor: cursor, Wait: longWait})
	untilWaiting(t, n, 1)
	n.Stop()
	if p := <-got; len(p.Chats) != 0 || p.NextCursor != cursor {
		t.Fatalf("inbox of a stopped wait: got %d chats, next_cursor %q; want none, %q", len(p.Chats), p.NextCursor, cursor)
	}
}
