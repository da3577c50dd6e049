package kitexrpc_test

import (
	"context"
	"slices"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

func TestConversations(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	title := "team"
	owner := "own"
	created, err := h.CreateGroup(ctx, &rpc.CreateGroupRequest{Members: []string{"b", "a"}, Title: &title, Actor: &owner})
	if err != nil || created.Code != 0 || created.Group == nil {
		t.Fatalf("create: %+v, %v", created, err)
	}
	g := created.Group
	if !slices.Equal(g.Members, []string{"a", "b", "own"}) || g.Owner != "own" || g.Title != "team" || g.CreatedAt <= 0 {
		t.Fatalf("created %+v", g)
	}
	t.Run("NilRequestsAreInvalid", func(t *testing.T) {
		for name, code := range map[string]int32{
			"CreateGroup":   must(h.CreateGroup(ctx, nil)).Code,
			"GetGroup":      must(h.GetGroup(ctx, nil)).Code,
			"ChangeMembers": must(h.ChangeMembers(ctx, nil)).Code,
			"Inbox":         must(h.Inbox(ctx, nil)).Code,
			"MarkRead":      must(h.MarkRead(ctx, nil)).Code,
		} {
			if code != pigeonhole.CodeInvalidArgument.Number() {
				t.Fatalf("%s(nil): code %d, want invalid_argument", name, code)
			}
		}
	})
	t.Run("GroupErrorsTravelInCode", func(t *testing.T) {
		stranger := "stranger"
		resp := must(h.GetGroup(ctx, &rpc.GetGroupRequest{Chat: g.Chat, Actor: &stranger}))
		if resp.Code != pigeonhole.CodePermissionDenied.Number() || resp.Group != nil {
			t.Fatalf("get by a stranger: %+v", resp)
		}
		resp = must(h.ChangeMembers(ctx, &rpc.ChangeMembersRequest{Chat: g.Chat, Actor: "a", Remove: []string{"b"}}))
		if resp.Code != pigeonhole.CodePermissionDenied.Number() {
			t.Fatalf("member removes another: %+v", resp)
		}
		resp = must(h.ChangeMembers(ctx, &rpc.ChangeMembersRequest{Chat: g.Chat, Actor: "a", Add: []string{"c"}}))
		if resp.Code != 0 || !slices.Equal(resp.Group.Members, []string{"a", "b", "c", "own"}) {
			t.Fatalf("member adds: %+v", resp)
		}
	})
	t.Run("InboxAndMarkRead", func(t *testing.T) {
		sent := must(h.Send(ctx, &rpc.SendRequest{Message: &rpc.Message{Chat: g.Chat, Sender: "b", Text: "hello team"}}))
		if sent.Code != 0 || sent.GetChat() != g.Chat {
			t.Fatalf("send to the group: %+v", sent)
		}
		resp := must(h.Inbox(ctx, &rpc.InboxRequest{Member: "a"}))
		if resp.Code != 0 || len(resp.Chats) != 1 || !resp.IsSetHasMore() || resp.GetHasMore() || resp.GetNextCursor() == "" {
			t.Fatalf("inbox: %+v", resp)
		}
		e := resp.Chats[0]
		if e.Chat != g.Chat || e.Title != "team" || e.Unread != 1 || e.LastMessage == nil || e.LastMessage.Text != "hello team" ||
			e.LastMessage.Sender != "b" || e.LastMessage.SendTime != sent.GetSendTime() || e.Activity != sent.GetSendTime() {
			t.Fatalf("entry: %+v", e)
		}
		read := must(h.MarkRead(ctx, &rpc.MarkReadRequest{Chat: g.Chat, Member: "a", SendTime: sent.GetSendTime()}))
		if read.Code != 0 || read.GetReadUpTo() != sent.GetSendTime() || !read.IsSetUnread() || read.GetUnread() != 0 || read.GetUnreadCapped() {
			t.Fatalf("mark read: %+v", read)
		}
		bad := "not a cursor"
		if resp := must(h.Inbox(ctx, &rpc.InboxRequest{Member: "a", Cursor: &bad})); resp.Code != pigeonhole.CodeInvalidArgument.Number() {
			t.Fatalf("inbox with a forged cursor: %+v", resp)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
