package gateway

import (
	"context"
	"strconv"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/protocol/consts"

	"github.com/pigeonhole-im/pigeonhole/http-server/pb"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// The conversation endpoints. member names the acting member: with
// authentication off, requests name members as sends name senders; with it
// on, the caller is the acting member (the service checks that member, if
// given, names the caller). Group changes count against the caller's send
// rate, reads of groups, inboxes and read markers against its pull rate.

// createChat answers POST /api/chats: 200 with the new group.
func (g *gateway) createChat(c context.Context, ctx *app.RequestContext) {
	c, ok := g.authenticate(c, ctx)
	if !ok || !g.limit(c, ctx, g.sends) {
		return
	}
	var in pb.CreateChatRequest
	if err := bindMessage(ctx, g.cfg.MaxBodyBytes, &in); err != nil {
		g.fail(c, ctx, err)
		return
	}
	sc, cancel := g.serviceContext(c)
	defer cancel()
	group, err := g.svc.CreateGroup(sc, pigeonhole.CreateGroupRequest{Actor: in.Member, Members: in.Members, Title: in.Title})
	g.answerChat(c, ctx, group, err)
}

// getChat answers GET /api/chats/{chat}?member=…: 200 with the chat's
// title and members.
func (g *gateway) getChat(c context.Context, ctx *app.RequestContext) {
	c, ok := g.authenticate(c, ctx)
	if !ok || !g.limit(c, ctx, g.pulls) {
		return
	}
	sc, cancel := g.serviceContext(c)
	defer cancel()
	group, err := g.svc.Group(sc, pigeonhole.GroupRequest{Chat: ctx.Param("chat"), Actor: string(ctx.QueryArgs().Peek("member"))})
	g.answerChat(c, ctx, group, err)
}

// changeMembers answers POST /api/chats/{chat}/members: 200 with the
// group as changed.
func (g *gateway) changeMembers(c context.Context, ctx *app.RequestContext) {
	c, ok := g.authenticate(c, ctx)
	if !ok || !g.limit(c, ctx, g.sends) {
		return
	}
	var in pb.ChangeMembersRequest
	if err := bindMessage(ctx, g.cfg.MaxBodyBytes, &in); err != nil {
		g.fail(c, ctx, err)
		return
	}
	sc, cancel := g.serviceContext(c)
	defer cancel()
	group, err := g.svc.ChangeMembers(sc, pigeonhole.ChangeMembersRequest{Chat: ctx.Param("chat"), Actor: in.Member, Add: in.Add, Remove: in.Remove})
	g.answerChat(c, ctx, group, err)
}

func (g *gateway) answerChat(c context.Context, ctx *app.RequestContext, group pigeonhole.Group, err error) {
	if err != nil {
		g.fail(c, ctx, err)
		return
	}
	out := &pb.Chat{Chat: group.Chat.String(), Title: group.Title, Owner: group.Owner, Members: group.Members, CreatedAt: group.CreatedAt}
	if ct, ok := protobufAccepted(ctx); ok {
		writeProtobuf(ctx, consts.StatusOK, ct, out)
		return
	}
	body := jsonBody(ctx, consts.StatusOK)
	body.B = appendChatJSON(body.B, out)
}

// inbox answers GET /api/inbox?member=…&limit=…&cursor=…&wait_ms=…: 200
// with one page of the member's chats. A call with wait_ms waits as a
// pull does (see pullOrWait), counted against the same MaxWaiters.
func (g *gateway) inbox(c context.Context, ctx *app.RequestContext) {
	c, ok := g.authenticate(c, ctx)
	if !ok || !g.limit(c, ctx, g.pulls) {
		return
	}
	req, err := bindInbox(ctx, g.cfg.MaxBodyBytes)
	if err != nil {
		g.fail(c, ctx, err)
		return
	}
	sc, wait, done := g.waitContext(c, req.Wait, true)
	defer done()
	req.Wait = wait
	page, err := g.svc.Inbox(sc, req)
	if err != nil && wait > 0 && g.stopping.Err() != nil {
		// Shutting down: the empty page with the caller's cursor, as a wait
		// that ended does (see pullOrWait).
		page, err = pigeonhole.InboxPage{Chats: []pigeonhole.InboxEntry{}, NextCursor: req.Cursor}, nil
	}
	if err != nil {
		g.fail(c, ctx, err)
		return
	}
	// A page of groups carries their member lists: it is held within the
	// answers' byte budget, as pull pages are.
	release, err := g.answers.acquire(c, inboxAnswerBytes(page))
	if err != nil {
		g.fail(c, ctx, err)
		return
	}
	defer release()
	out := pbInbox(page)
	if ct, ok := protobufAccepted(ctx); ok {
		writeProtobuf(ctx, consts.StatusOK, ct, out)
		return
	}
	body := jsonBody(ctx, consts.StatusOK)
	body.B = appendInboxJSON(body.B, out)
}

// read answers POST /api/read: 200 {"read_up_to","unread","unread_capped"}.
func (g *gateway) read(c context.Context, ctx *app.RequestContext) {
	c, ok := g.authenticate(c, ctx)
	if !ok || !g.limit(c, ctx, g.pulls) {
		return
	}
	req, err := bindRead(ctx, g.cfg.MaxBodyBytes)
	if err != nil {
		g.fail(c, ctx, err)
		return
	}
	sc, cancel := g.serviceContext(c)
	defer cancel()
	st, err := g.svc.MarkRead(sc, req)
	if err != nil {
		g.fail(c, ctx, err)
		return
	}
	out := &pb.ReadResponse{ReadUpTo: st.ReadUpTo, Unread: int32(st.Unread), UnreadCapped: st.UnreadCapped}
	if ct, ok := protobufAccepted(ctx); ok {
		writeProtobuf(ctx, consts.StatusOK, ct, out)
		return
	}
	body := jsonBody(ctx, consts.StatusOK)
	body.B = appendReadJSON(body.B, out)
}

// inboxAnswerBytes estimates what an inbox page costs while it is held
// and encoded, as answerBytes does for a pull's page.
func inboxAnswerBytes(page pigeonhole.InboxPage) int64 {
	const perEntry, perMember = 160, 4 // times, counts, field names, punctuation
	var n int64
	for _, e := range page.Chats {
		n += int64(len(e.Title)+len(e.Last.Text)+len(e.Last.Sender)) + perEntry
		for _, m := range e.Members {
			n += int64(len(m)) + perMember
		}
	}
	return 2 * n
}

func pbInbox(page pigeonhole.InboxPage) *pb.InboxResponse {
	out := &pb.InboxResponse{Chats: make([]*pb.InboxEntry, len(page.Chats)), HasMore: page.HasMore, NextCursor: page.NextCursor}
	for i, e := range page.Chats {
		entry := &pb.InboxEntry{
			Chat: e.Chat.String(), Title: e.Title, Members: e.Members,
			Unread: int32(e.Unread), UnreadCapped: e.UnreadCapped, ReadUpTo: e.ReadUpTo,
		}
		if e.Last.SendTime != 0 {
			entry.LastMessage = &pb.LastMessage{Sender: e.Last.Sender, SendTime: e.Last.SendTime, Text: e.Last.Text}
		}
		out.Chats[i] = entry
	}
	return out
}

// The JSON of these answers, like that of the hot paths, has the proto
// field names, every field present and int64 as JSON numbers.

func appendChatJSON(dst []byte, c *pb.Chat) []byte {
	dst = append(dst, `{"chat":`...)
	dst = appendString(dst, c.Chat)
	dst = append(dst, `,"title":`...)
	dst = appendString(dst, c.Title)
	dst = append(dst, `,"owner":`...)
	dst = appendString(dst, c.Owner)
	dst = append(dst, `,"members":`...)
	dst = appendStrings(dst, c.Members)
	dst = append(dst, `,"created_at":`...)
	dst = strconv.AppendInt(dst, c.CreatedAt, 10)
	return append(dst, '}')
}

func appendInboxJSON(dst []byte, page *pb.InboxResponse) []byte {
	dst = append(dst, `{"chats":[`...)
	for i, e := range page.Chats {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"chat":`...)
		dst = appendString(dst, e.Chat)
		dst = append(dst, `,"title":`...)
		dst = appendString(dst, e.Title)
		dst = append(dst, `,"members":`...)
		dst = appendStrings(dst, e.Members)
		dst = append(dst, `,"last_message":`...)
		if m := e.LastMessage; m != nil {
			dst = append(dst, `{"sender":`...)
			dst = appendString(dst, m.Sender)
			dst = append(dst, `,"send_time":`...)
			dst = strconv.AppendInt(dst, m.SendTime, 10)
			dst = append(dst, `,"text":`...)
			dst = appendString(dst, m.Text)
			dst = append(dst, '}')
		} else {
			dst = append(dst, `null`...)
		}
		dst = append(dst, `,"unread":`...)
		dst = strconv.AppendInt(dst, int64(e.Unread), 10)
		dst = append(dst, `,"unread_capped":`...)
		dst = strconv.AppendBool(dst, e.UnreadCapped)
		dst = append(dst, `,"read_up_to":`...)
		dst = strconv.AppendInt(dst, e.ReadUpTo, 10)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"has_more":`...)
	dst = strconv.AppendBool(dst, page.HasMore)
	dst = append(dst, `,"next_cursor":`...)
	dst = appendString(dst, page.NextCursor)
	return append(dst, '}')
}

func appendReadJSON(dst []byte, r *pb.ReadResponse) []byte {
	dst = append(dst, `{"read_up_to":`...)
	dst = strconv.AppendInt(dst, r.ReadUpTo, 10)
	dst = append(dst, `,"unread":`...)
	dst = strconv.AppendInt(dst, int64(r.Unread), 10)
	dst = append(dst, `,"unread_capped":`...)
	dst = strconv.AppendBool(dst, r.UnreadCapped)
	return append(dst, '}')
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}
