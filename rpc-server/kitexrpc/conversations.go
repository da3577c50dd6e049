package kitexrpc

import (
	"context"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// The acting member (Actor, Member) comes from the request: with
// authentication off, the API names members as it names senders. With an
// Authenticator, every call must carry a credential, and the service holds
// the acting member to the caller it names.

// CreateGroup implements rpc.IMService.
func (h *Handler) CreateGroup(ctx context.Context, req *rpc.CreateGroupRequest) (resp *rpc.GroupResponse, _ error) {
	defer h.observe("CreateGroup", time.Now(), func() int32 { return resp.Code })
	ctx, err := h.authenticate(ctx, Credential(ctx))
	if err != nil {
		code, msg := h.fail(ctx, "create group", err)
		return &rpc.GroupResponse{Code: code, Msg: msg}, nil
	}
	if req == nil {
		return &rpc.GroupResponse{Code: pigeonhole.CodeInvalidArgument.Number(), Msg: "request is required"}, nil
	}
	g, err := h.svc.CreateGroup(ctx, pigeonhole.CreateGroupRequest{Actor: req.GetActor(), Members: req.GetMembers(), Title: req.GetTitle()})
	return h.groupResponse(ctx, "create group", g, err), nil
}

// GetGroup implements rpc.IMService.
func (h *Handler) GetGroup(ctx context.Context, req *rpc.GetGroupRequest) (resp *rpc.GroupResponse, _ error) {
	defer h.observe("GetGroup", time.Now(), func() int32 { return resp.Code })
	ctx, err := h.authenticate(ctx, Credential(ctx))
	if err != nil {
		code, msg := h.fail(ctx, "get group", err)
		return &rpc.GroupResponse{Code: code, Msg: msg}, nil
	}
	if req == nil {
		return &rpc.GroupResponse{Code: pigeonhole.CodeInvalidArgument.Number(), Msg: "request is required"}, nil
	}
	g, err := h.svc.Group(ctx, pigeonhole.GroupRequest{Chat: req.GetChat(), Actor: req.GetActor()})
	return h.groupResponse(ctx, "get group", g, err), nil
}

// ChangeMembers implements rpc.IMService.
func (h *Handler) ChangeMembers(ctx context.Context, req *rpc.ChangeMembersRequest) (resp *rpc.GroupResponse, _ error) {
	defer h.observe("ChangeMembers", time.Now(), func() int32 { return resp.Code })
	ctx, err := h.authenticate(ctx, Credential(ctx))
	if err != nil {
		code, msg := h.fail(ctx, "change members", err)
		return &rpc.GroupResponse{Code: code, Msg: msg}, nil
	}
	if req == nil {
		return &rpc.GroupResponse{Code: pigeonhole.CodeInvalidArgument.Number(), Msg: "request is required"}, nil
	}
	g, err := h.svc.ChangeMembers(ctx, pigeonhole.ChangeMembersRequest{Chat: req.GetChat(), Actor: req.GetActor(), Add: req.GetAdd(), Remove: req.GetRemove()})
	return h.groupResponse(ctx, "change members", g, err), nil
}

func (h *Handler) groupResponse(ctx context.Context, method string, g pigeonhole.Group, err error) *rpc.GroupResponse {
	if err != nil {
		code, msg := h.fail(ctx, method, err)
		return &rpc.GroupResponse{Code: code, Msg: msg}
	}
	return &rpc.GroupResponse{Code: 0, Msg: successMsg, Group: &rpc.Group{
		Chat: g.Chat.String(), Title: g.Title, Owner: g.Owner, Members: g.Members, CreatedAt: g.CreatedAt,
	}}
}

// Inbox implements rpc.IMService. An absent WaitMs means no wait.
func (h *Handler) Inbox(ctx context.Context, req *rpc.InboxRequest) (resp *rpc.InboxResponse, _ error) {
	defer h.observe("Inbox", time.Now(), func() int32 { return resp.Code })
	ctx, err := h.authenticate(ctx, Credential(ctx))
	if err != nil {
		code, msg := h.fail(ctx, "inbox", err)
		return &rpc.InboxResponse{Code: code, Msg: msg}, nil
	}
	if req == nil {
		return &rpc.InboxResponse{Code: pigeonhole.CodeInvalidArgument.Number(), Msg: "request is required"}, nil
	}
	page, err := h.svc.Inbox(ctx, pigeonhole.InboxRequest{Member: req.GetMember(), Cursor: req.GetCursor(), Limit: req.GetLimit(),
		Wait: time.Duration(req.GetWaitMs()) * time.Millisecond})
	if err != nil {
		code, msg := h.fail(ctx, "inbox", err)
		return &rpc.InboxResponse{Code: code, Msg: msg}, nil
	}
	chats := make([]*rpc.InboxEntry, len(page.Chats))
	for i, e := range page.Chats {
		chat := e.Chat.String()
		entry := &rpc.InboxEntry{
			Chat: chat, Title: e.Title, Members: e.Members, Activity: e.Activity,
			ReadUpTo: e.ReadUpTo, Unread: int32(e.Unread), UnreadCapped: e.UnreadCapped,
		}
		if e.Last.SendTime != 0 {
			entry.LastMessage = &rpc.Message{Chat: chat, Sender: e.Last.Sender, Text: e.Last.Text, SendTime: e.Last.SendTime}
		}
		chats[i] = entry
	}
	return &rpc.InboxResponse{Code: 0, Msg: successMsg, Chats: chats, HasMore: &page.HasMore, NextCursor: &page.NextCursor}, nil
}

// MarkRead implements rpc.IMService.
func (h *Handler) MarkRead(ctx context.Context, req *rpc.MarkReadRequest) (resp *rpc.MarkReadResponse, _ error) {
	defer h.observe("MarkRead", time.Now(), func() int32 { return resp.Code })
	ctx, err := h.authenticate(ctx, Credential(ctx))
	if err != nil {
		code, msg := h.fail(ctx, "mark read", err)
		return &rpc.MarkReadResponse{Code: code, Msg: msg}, nil
	}
	if req == nil {
		return &rpc.MarkReadResponse{Code: pigeonhole.CodeInvalidArgument.Number(), Msg: "request is required"}, nil
	}
	st, err := h.svc.MarkRead(ctx, pigeonhole.ReadRequest{Chat: req.GetChat(), Member: req.GetMember(), SendTime: req.GetSendTime()})
	if err != nil {
		code, msg := h.fail(ctx, "mark read", err)
		return &rpc.MarkReadResponse{Code: code, Msg: msg}, nil
	}
	unread := int32(st.Unread)
	return &rpc.MarkReadResponse{Code: 0, Msg: successMsg, ReadUpTo: &st.ReadUpTo, Unread: &unread, UnreadCapped: &st.UnreadCapped}, nil
}
