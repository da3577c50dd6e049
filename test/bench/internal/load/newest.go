package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
)

// The scenarios of the pulls a chat client makes most: the newest page when
// a chat opens, and polls of its tail with next_cursor while nothing new
// arrives. Both read chats prefilled with history, so a page costs what it
// costs in a chat that has some, and every answer is checked against what
// the prefill stored: a wrong page counts as an error, not as a fast pull.

// pullNewest measures reverse pulls of the newest Limit messages (cursor 0)
// of a uniformly random chat after Prefill messages were sent to each. A
// page must hold min(Limit, Prefill) messages, the chat's newest first.
func (r *runner) pullNewest(ctx context.Context) (*Result, error) {
	chats := newChatSet(r.client, r.tag, r.opts.Chats, r.opts.TextBytes, r.opts.Limit)
	pre, err := r.prefill(ctx, chats)
	if err != nil {
		return nil, err
	}
	newest := newestURLs(r.client, chats, r.opts.Limit)
	rngs := r.rngs(r.opts.Concurrency)
	do := func(ctx context.Context, w int, _ int64) Outcome {
		k := rngs[w].IntN(chats.len())
		times := chats.sendTimes[k]
		return r.pullNewestOf(ctx, chats.members[k][0], newest[k], min(r.opts.Limit, len(times)), lastOf(times))
	}
	res := r.measure(ctx, r.opts.Concurrency, do, OpPull)
	res.Prefill = pre
	return res, nil
}

// pullNewestOf pulls the newest page at pageURL as the member as and
// checks that it holds want messages, the first sent at newest (not
// checked when 0: a server that does not say when it stored a send).
func (r *runner) pullNewestOf(ctx context.Context, as, pageURL string, want int, newest int64) Outcome {
	var head PageHead
	err := r.client.do(ctx, "GET", pageURL, as, nil, &head)
	if err == nil {
		err = head.check(want, newest)
	}
	return Outcome{Op: OpPull, Items: head.Messages, Err: err}
}

// pollTail measures forward pulls of a chat's tail that find nothing new.
// Before the measurement each worker reads the newest message of its chat
// (worker w polls chat w mod Chats) and pulls forward from it to get the
// next_cursor a client would poll with; then every pull polls with that
// cursor, and must answer an empty page without has_more and the same
// next_cursor. No wait_ms: each poll answers at once, so the figure is
// what an empty poll costs. Nothing is sent while it measures.
func (r *runner) pollTail(ctx context.Context) (*Result, error) {
	if r.opts.Prefill == 0 {
		return nil, errors.New("poll-tail: want a prefill, so that each chat has a tail to poll")
	}
	chats := newChatSet(r.client, r.tag, r.opts.Chats, r.opts.TextBytes, r.opts.Limit)
	pre, err := r.prefill(ctx, chats)
	if err != nil {
		return nil, err
	}
	cursors := make([]int64, r.opts.Concurrency)
	var next atomic.Int64
	err = r.parallel(ctx, min(int64(r.opts.Concurrency), maxPrefillWorkers), func(ctx context.Context) error {
		for w := next.Add(1) - 1; w < int64(len(cursors)); w = next.Add(1) - 1 {
			k := int(w) % chats.len()
			c, err := r.tailCursor(ctx, chats.members[k][0], chats.names[k])
			if err != nil {
				return err
			}
			cursors[w] = c
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	polls := make([]string, len(cursors))
	for w, c := range cursors {
		polls[w] = chats.pullURL(w%chats.len(), c)
	}
	do := func(ctx context.Context, w int, _ int64) Outcome {
		page := TailPage{Cursor: cursors[w]}
		return Outcome{Op: OpPull, Err: r.client.do(ctx, "GET", polls[w], chats.members[w%chats.len()][0], nil, &page)}
	}
	res := r.measure(ctx, r.opts.Concurrency, do, OpPull)
	res.Prefill = pre
	return res, nil
}

// tailCursor reads the newest message of chat and pulls forward from it,
// returning the next_cursor of that last page: where a client that has
// read the chat polls for what comes next.
func (r *runner) tailCursor(ctx context.Context, as, chat string) (int64, error) {
	var newest Page
	if err := r.client.Pull(ctx, as, r.client.NewestURL(chat, 1), &newest); err != nil {
		return 0, fmt.Errorf("poll-tail: newest page of %s: %w", chat, err)
	}
	if len(newest.Messages) != 1 {
		return 0, fmt.Errorf("poll-tail: newest page of %s holds %d messages, want 1", chat, len(newest.Messages))
	}
	from := newest.Messages[0].SendTime
	var tail Page
	if err := r.client.Pull(ctx, as, r.client.PullURL(chat, from, r.opts.Limit), &tail); err != nil {
		return 0, fmt.Errorf("poll-tail: pull %s from its newest message: %w", chat, err)
	}
	if len(tail.Messages) != 1 || tail.HasMore || tail.NextCursor <= from {
		return 0, fmt.Errorf("poll-tail: pull %s from its newest message %d: %d messages, has_more %v, next_cursor %d; "+
			"want that message alone and a next_cursor after it", chat, from, len(tail.Messages), tail.HasMore, tail.NextCursor)
	}
	return tail.NextCursor, nil
}

// latency times the three requests of the latency row, one at a time on
// one connection so that none waits for another: a ping, a newest-page
// pull (as in pull-newest) and a send, in turn, round-robin over the
// prefilled chats. Each kind is measured on its own. The send goes to the
// chat just pulled, and the next pull of that chat must start with it.
func (r *runner) latency(ctx context.Context) (*Result, error) {
	chats := newChatSet(r.client, r.tag, r.opts.Chats, r.opts.TextBytes, r.opts.Limit)
	pre, err := r.prefill(ctx, chats)
	if err != nil {
		return nil, err
	}
	newest := newestURLs(r.client, chats, r.opts.Limit)
	// What each chat holds, kept by the one worker as its sends are
	// acknowledged.
	counts := make([]int, chats.len())
	last := make([]int64, chats.len())
	for k, times := range chats.sendTimes {
		counts[k], last[k] = len(times), lastOf(times)
	}
	do := func(ctx context.Context, _ int, seq int64) Outcome {
		k := int(seq/3) % chats.len()
		as := chats.members[k][0]
		switch seq % 3 {
		case 0:
			return Outcome{Op: OpPing, Err: r.client.Ping(ctx)}
		case 1:
			return r.pullNewestOf(ctx, as, newest[k], min(r.opts.Limit, counts[k]), last[k])
		}
		var ack SendAck
		err := r.client.Send(ctx, as, chats.sendBodies[k], &ack)
		if err == nil {
			// A server that does not say when it stored the send
			// leaves the newest message unchecked from now on.
			counts[k]++
			last[k] = ack.SendTime
		}
		return Outcome{Op: OpSend, Err: err}
	}
	res := r.measure(ctx, 1, do, OpPing, OpPull, OpSend)
	res.Prefill = pre
	return res, nil
}

// newestURLs returns the newest-page URL of each chat.
func newestURLs(c *Client, chats *chatSet, limit int) []string {
	urls := make([]string, chats.len())
	for k, chat := range chats.names {
		urls[k] = c.NewestURL(chat, limit)
	}
	return urls
}

// lastOf is the last of times, or 0 when there is none.
func lastOf(times []int64) int64 {
	if len(times) == 0 {
		return 0
	}
	return times[len(times)-1]
}

// PageHead is a pull's answer taken as far as counting its messages (as
// PageSize does) and reading the first one's send_time: enough to check a
// newest page at little more CPU than counting it.
type PageHead struct {
	Messages  int
	FirstSent int64 // send_time of the first message; 0 when there is none
}

// decodeBody implements bodyDecoder.
func (p *PageHead) decodeBody(body []byte) error {
	if !validJSON(body) {
		return errors.New("invalid JSON")
	}
	p.Messages = bytes.Count(body, sendTimeKey)
	p.FirstSent = 0
	if i := bytes.Index(body, sendTimeKey); i >= 0 {
		n, ok := leadingInt(body[i+len(sendTimeKey):])
		if !ok {
			return errors.New("send_time is not a number")
		}
		p.FirstSent = n
	}
	return nil
}

// check reports a newest page that does not hold want messages with the
// one sent at newest first (newest 0: not checked).
func (p *PageHead) check(want int, newest int64) error {
	switch {
	case p.Messages != want:
		return &Failure{Kind: "body: wrong newest page", Detail: fmt.Sprintf("%d messages, want %d", p.Messages, want)}
	case newest != 0 && p.FirstSent != newest:
		return &Failure{Kind: "body: wrong newest page", Detail: fmt.Sprintf("first message sent at %d, want the newest, %d", p.FirstSent, newest)}
	}
	return nil
}

// leadingInt parses the non-negative integer at the start of b, after
// any JSON white space.
func leadingInt(b []byte) (int64, bool) {
	b = bytes.TrimLeft(b, " \t\r\n")
	var n int64
	digits := 0
	for ; digits < len(b) && '0' <= b[digits] && b[digits] <= '9' && digits < 18; digits++ {
		n = 10*n + int64(b[digits]-'0')
	}
	return n, digits > 0
}

// TailPage is the answer to a poll of a tail where nothing is new: it
// decodes only if it is an empty page without has_more whose next_cursor
// is the poll's Cursor.
type TailPage struct {
	Cursor int64 // of the poll
}

// decodeBody implements bodyDecoder. An empty page is small enough that
// decoding it costs next to nothing.
func (t *TailPage) decodeBody(body []byte) error {
	var page struct {
		Messages   []struct{} `json:"messages"`
		HasMore    *bool      `json:"has_more"`
		NextCursor *int64     `json:"next_cursor"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return err
	}
	switch {
	case page.Messages == nil || page.HasMore == nil || page.NextCursor == nil:
		return errors.New("want messages, has_more and next_cursor")
	case len(page.Messages) > 0 || *page.HasMore:
		return &Failure{Kind: "body: wrong tail page", Detail: fmt.Sprintf("%d messages, has_more %v: want an empty tail", len(page.Messages), *page.HasMore)}
	case *page.NextCursor != t.Cursor:
		return &Failure{Kind: "body: wrong tail page", Detail: fmt.Sprintf("next_cursor %d, want the poll's cursor %d", *page.NextCursor, t.Cursor)}
	}
	return nil
}
