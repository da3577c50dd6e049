package rpcclient_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/http-server/rpcclient"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

func TestConversations(t *testing.T) {
	svc := startService(t)
	c := newClient(t, 1, svc.addr)
	ctx := context.Background()
	g, err := c.CreateGroup(ctx, pigeonhole.CreateGroupRequest{Actor: "own", Members: []string{"a"}, Title: "team"})
	if err != nil || !g.Chat.IsGroup() || g.Title != "team" || g.Owner != "own" || !slices.Equal(g.Members, []string{"a", "own"}) {
		t.Fatalf("create: %+v, %v", g, err)
	}
	chat := g.Chat.String()
	t.Run("GroupAndMembers", func(t *testing.T) {
		got, err := c.Group(ctx, pigeonhole.GroupRequest{Chat: chat, Actor: "a"})
		if err != nil || got.Chat != g.Chat || got.CreatedAt != g.CreatedAt {
			t.Fatalf("group: %+v, %v", got, err)
		}
		_, err = c.Group(ctx, pigeonhole.GroupRequest{Chat: chat, Actor: "stranger"})
		if pigeonhole.ErrorCode(err) != pigeonhole.CodePermissionDenied {
			t.Fatalf("group by a stranger: %v", err)
		}
		changed, err := c.ChangeMembers(ctx, pigeonhole.ChangeMembersRequest{Chat: chat, Actor: "a", Add: []string{"b"}})
		if err != nil || !slices.Equal(changed.Members, []string{"a", "b", "own"}) {
			t.Fatalf("add: %+v, %v", changed, err)
		}
	})
	t.Run("InboxAndMarkRead", func(t *testing.T) {
		m, err := c.Send(ctx, pigeonhole.SendRequest{Chat: chat, Sender: "b", Text: "hi"})
		if err != nil || m.Chat != g.Chat {
			t.Fatalf("send: %+v, %v", m, err)
		}
		page, err := c.Inbox(ctx, pigeonhole.InboxRequest{Member: "a", Limit: 5})
		if err != nil || len(page.Chats) != 1 || page.HasMore || page.NextCursor == "" {
			t.Fatalf("inbox: %+v, %v", page, err)
		}
		if e := page.Chats[0]; e.Chat != g.Chat || e.Last.Text != "hi" || e.Last.SendTime != m.SendTime || e.Unread != 1 || e.Title != "team" {
			t.Fatalf("entry: %+v", e)
		}
		st, err := c.MarkRead(ctx, pigeonhole.ReadRequest{Chat: chat, Member: "a", SendTime: m.SendTime})
		if err != nil || st.ReadUpTo != m.SendTime || st.Unread != 0 {
			t.Fatalf("mark read: %+v, %v", st, err)
		}
		if _, err := c.Inbox(ctx, pigeonhole.InboxRequest{Member: "a", Cursor: "forged"}); pigeonhole.ErrorCode(err) != pigeonhole.CodeInvalidArgument {
			t.Fatalf("forged cursor: %v", err)
		}
	})
}

// TestCreateGroupPassesOverADeadReplica: a replica that refuses
// connections never got the call, so the call goes to another one.
func TestCreateGroupPassesOverADeadReplica(t *testing.T) {
	svc := startService(t)
	c, err := rpcclient.New(rpcclient.Config{Addrs: []string{freeAddr(t), svc.addr}, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := c.CreateGroup(context.Background(), pigeonhole.CreateGroupRequest{Members: []string{"a"}}); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
}
