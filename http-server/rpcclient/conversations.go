package rpcclient

import (
	"context"
	"errors"

	"github.com/cloudwego/kitex/client/callopt"
	"github.com/cloudwego/kitex/pkg/kerrors"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// CreateGroup creates a group chat. Errors as for Send.
func (c *Client) CreateGroup(ctx context.Context, req pigeonhole.CreateGroupRequest) (pigeonhole.Group, error) {
	wire := &rpc.CreateGroupRequest{Members: req.Members, Title: &req.Title}
	if req.Actor != "" {
		wire.Actor = &req.Actor
	}
	return groupResult(callUnrepeated(c, ctx, func(ctx context.Context, opts ...callopt.Option) (*rpc.GroupResponse, error) {
		return c.rpc.CreateGroup(ctx, wire, opts...)
	}))
}

// callUnrepeated is call for a call that must not run twice: a repeated
// CreateGroup would make a second group. An attempt is retried only when
// it got no connection, so that its request never left.
func callUnrepeated[T any](c *Client, ctx context.Context, try attempt[T]) (T, error) {
	out := c.outgoing(ctx)
	for retries := 0; ; retries++ {
		resp, err := try(out, deadlineOption(ctx, c.timeout)...)
		c.failures.record(err)
		if err == nil || retries == maxRetries || !errors.Is(err, kerrors.ErrGetConnection) || c.failures.tooHigh() || !pause(ctx) {
			return resp, err
		}
	}
}

// Group returns a chat's title and members. Errors as for Send.
func (c *Client) Group(ctx context.Context, req pigeonhole.GroupRequest) (pigeonhole.Group, error) {
	wire := &rpc.GetGroupRequest{Chat: req.Chat}
	if req.Actor != "" {
		wire.Actor = &req.Actor
	}
	return groupResult(call(c, ctx, func(ctx context.Context, opts ...callopt.Option) (*rpc.GroupResponse, error) {
		return c.rpc.GetGroup(ctx, wire, opts...)
	}))
}

// ChangeMembers adds and removes a group's members. Errors as for Send.
func (c *Client) ChangeMembers(ctx context.Context, req pigeonhole.ChangeMembersRequest) (pigeonhole.Group, error) {
	// Repeated, a change comes to the same members: it may be retried.
	wire := &rpc.ChangeMembersRequest{Chat: req.Chat, Actor: req.Actor, Add: req.Add, Remove: req.Remove}
	return groupResult(call(c, ctx, func(ctx context.Context, opts ...callopt.Option) (*rpc.GroupResponse, error) {
		return c.rpc.ChangeMembers(ctx, wire, opts...)
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

// Inbox returns one page of a member's chats. Errors as for Send. A call
// with a Wait goes over the multiplexed connections without an RPC
// timeout, and ends when ctx does (see waitCall); an inbox call is always
// an RPC of its own.
func (c *Client) Inbox(ctx context.Context, req pigeonhole.InboxRequest) (pigeonhole.InboxPage, error) {
	wire := &rpc.InboxRequest{Member: req.Member, Limit: &req.Limit}
	if req.Cursor != "" {
		wire.Cursor = &req.Cursor
	}
	var resp *rpc.InboxResponse
	var err error
	if req.Wait != 0 {
		wire.WaitMs = waitMillis(req.Wait)
		resp, err = callWaiting(c, ctx, func(ctx context.Context, opts ...callopt.Option) (*rpc.InboxResponse, error) {
			return c.waits.Inbox(ctx, wire, opts...)
		})
	} else {
		resp, err = call(c, ctx, func(ctx context.Context, opts ...callopt.Option) (*rpc.InboxResponse, error) {
			return c.rpc.Inbox(ctx, wire, opts...)
		})
	}
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
	// A marker only moves forward: a repeat changes nothing.
	wire := &rpc.MarkReadRequest{Chat: req.Chat, Member: req.Member, SendTime: req.SendTime}
	resp, err := call(c, ctx, func(ctx context.Context, opts ...callopt.Option) (*rpc.MarkReadResponse, error) {
		return c.rpc.MarkRead(ctx, wire, opts...)
	})
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
