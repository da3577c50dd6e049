package rpcclient

import (
	"context"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// CreateGroup creates a group chat. Errors as for Send.
func (c *Client) CreateGroup(ctx context.Context, req pigeonhole.CreateGroupRequest) (pigeonhole.Group, error) {
	wire := &rpc.CreateGroupRequest{Members: req.Members, Title: &req.Title}
	if req.Actor != "" {
		wire.Actor = &req.Actor
	}
	return groupResult(c.rpc.CreateGroup(c.outgoing(ctx), wire))
}

// Group returns a chat's title and members. Errors as for Send.
func (c *Client) Group(ctx context.Context, req pigeonhole.GroupRequest) (pigeonhole.Group, error) {
	wire := &rpc.GetGroupRequest{Chat: req.Chat}
	if req.Actor != "" {
		wire.Actor = &req.Actor
	}
	return groupResult(c.rpc.GetGroup(c.outgoing(ctx), wire))
}

// ChangeMembers adds and removes a group's members. Errors as for Send.
func (c *Client) ChangeMembers(ctx context.Context, req pigeonhole.ChangeMembersRequest) (pigeonhole.Group, error) {
	return groupResult(c.rpc.ChangeMembers(c.outgoing(ctx), &rpc.ChangeMembersRequest{
		Chat: req.Chat, Actor: req.Actor, Add: req.Add, Remove: req.Remove,
	}))
}

func groupResult(resp *rpc.GroupResponse, err error) (pigeonhole.Group, error) {
	if err != nil {
		return pigeonhole.Group{}, transportError(err)
	}
	if resp == nil {
		return pigeonhole.Group{}, errEmpty
	}
	if resp.Code != 0 {
		return pigeonhole.Group{}, businessError(resp.Code, resp.Msg)
	}
	g := resp.GetGroup()
	if g == nil {
		return pigeonhole.Group{}, errMalformed(nil)
	}
	chat, err := pigeonhole.ParseChatID(g.Chat)
	if err != nil {
		return pigeonhole.Group{}, errMalformed(err)
	}
	return pigeonhole.Group{Chat: chat, Title: g.Title, Owner: g.Owner, Members: g.Members, CreatedAt: g.CreatedAt}, nil
}

// Inbox returns one page of a member's chats. Errors as for Send.
func (c *Client) Inbox(ctx context.Context, req pigeonhole.InboxRequest) (pigeonhole.InboxPage, error) {
	wire := &rpc.InboxRequest{Member: req.Member, Limit: &req.Limit}
	if req.Cursor != "" {
		wire.Cursor = &req.Cursor
	}
	resp, err := c.rpc.Inbox(c.outgoing(ctx), wire)
	if err != nil {
		return pigeonhole.InboxPage{}, transportError(err)
	}
	if resp == nil {
		return pigeonhole.InboxPage{}, errEmpty
	}
	if resp.Code != 0 {
		return pigeonhole.InboxPage{}, businessError(resp.Code, resp.Msg)
	}
	page := pigeonhole.InboxPage{HasMore: resp.GetHasMore(), NextCursor: resp.GetNextCursor(), Chats: make([]pigeonhole.InboxEntry, len(resp.Chats))}
	for i, e := range resp.Chats {
		if e == nil {
			return pigeonhole.InboxPage{}, errMalformed(nil)
		}
		chat, err := pigeonhole.ParseChatID(e.Chat)
		if err != nil {
			return pigeonhole.InboxPage{}, errMalformed(err)
		}
		entry := pigeonhole.InboxEntry{
			Chat: chat, Title: e.Title, Members: e.Members, Activity: e.Activity,
			ReadUpTo: e.ReadUpTo, Unread: int(e.Unread), UnreadCapped: e.UnreadCapped,
		}
		if m := e.LastMessage; m != nil {
			entry.Last = pigeonhole.Message{Chat: chat, Sender: m.Sender, Text: m.Text, SendTime: m.SendTime}
		}
		page.Chats[i] = entry
	}
	return page, nil
}

// MarkRead moves a member's read marker. Errors as for Send.
func (c *Client) MarkRead(ctx context.Context, req pigeonhole.ReadRequest) (pigeonhole.ReadState, error) {
	resp, err := c.rpc.MarkRead(c.outgoing(ctx), &rpc.MarkReadRequest{Chat: req.Chat, Member: req.Member, SendTime: req.SendTime})
	if err != nil {
		return pigeonhole.ReadState{}, transportError(err)
	}
	if resp == nil {
		return pigeonhole.ReadState{}, errEmpty
	}
	if resp.Code != 0 {
		return pigeonhole.ReadState{}, businessError(resp.Code, resp.Msg)
	}
	return pigeonhole.ReadState{ReadUpTo: resp.GetReadUpTo(), Unread: int(resp.GetUnread()), UnreadCapped: resp.GetUnreadCapped()}, nil
}

// errMalformed is the error of a response that breaks the contract.
func errMalformed(cause error) error {
	return pigeonhole.Wrap(pigeonhole.CodeInternal, cause, "malformed response from the message service")
}
