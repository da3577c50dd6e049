package load

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

// inbox measures GET /api/inbox: the first page (of Limit chats) of a
// random one of Members members, each a member of MemberChats two-member
// chats that each hold one message from the other member, so every entry
// has a last message and an unread count to read.
func (r *runner) inbox(ctx context.Context) (*Result, error) {
	members := make([]string, r.opts.Members)
	pages := make([]string, r.opts.Members)
	for m := range members {
		members[m] = "bench" + r.tag + "m" + strconv.Itoa(m)
		pages[m] = r.client.base + "/api/inbox?member=" + url.QueryEscape(members[m]) + "&limit=" + strconv.Itoa(r.opts.Limit)
	}
	pre, err := r.prefillInboxes(ctx, members)
	if err != nil {
		return nil, err
	}
	rngs := r.rngs(r.opts.Concurrency)
	do := func(ctx context.Context, w int, _ int64) Outcome {
		var page InboxSize
		m := rngs[w].IntN(len(pages))
		err := r.client.do(ctx, "GET", pages[m], members[m], nil, &page)
		if err == nil && page.Chats != min(r.opts.Limit, r.opts.MemberChats) {
			err = &Failure{Kind: "body: short inbox page", Detail: fmt.Sprintf("%d chats, want %d", page.Chats, min(r.opts.Limit, r.opts.MemberChats))}
		}
		return Outcome{Op: OpInbox, Err: err}
	}
	res := r.measure(ctx, r.opts.Concurrency, do, OpInbox)
	res.Prefill = pre
	return res, nil
}

// prefillInboxes sends one message into each of every member's chats, from
// the chat's other member.
func (r *runner) prefillInboxes(ctx context.Context, members []string) (*Prefill, error) {
	total := int64(len(members) * r.opts.MemberChats)
	bodies := make([][]byte, 0, total)
	senders := make([]string, 0, total)
	text := padding(r.opts.TextBytes)
	for _, m := range members {
		for k := range r.opts.MemberChats {
			partner := m + "p" + strconv.Itoa(k)
			bodies = append(bodies, sendBody(m+":"+partner, text, partner))
			senders = append(senders, partner)
		}
	}
	start := time.Now()
	var next atomic.Int64
	err := r.parallel(ctx, min(int64(r.opts.Concurrency), total, maxPrefillWorkers), func(ctx context.Context) error {
		for i := next.Add(1) - 1; i < total; i = next.Add(1) - 1 {
			if err := r.client.Send(ctx, senders[i], bodies[i], nil); err != nil {
				return fmt.Errorf("prefill: send: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	if r.progress != nil {
		fmt.Fprintf(r.progress, "prefill: %d chats of %d members in %v\n", total, len(members), elapsed.Round(time.Millisecond))
	}
	return &Prefill{Messages: total, Seconds: elapsed.Seconds(), Throughput: perSecond(total, elapsed)}, nil
}
