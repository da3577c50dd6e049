package load

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Prefill is what was sent before a pull or mixed run measured.
type Prefill struct {
	Messages   int64   `json:"messages"`
	Seconds    float64 `json:"seconds"`
	Throughput float64 `json:"throughput_rps"`
}

// maxPrefillWorkers bounds the prefill's concurrency, which is not measured.
const maxPrefillWorkers = 64

// pageAll is the page size used to read a whole chat back.
const pageAll = 100

// prefill sends Prefill messages to every chat of chats and then reads each
// chat back, following next_cursor from 0, to learn the send times that the
// pulls will start from. Any failure is an error: a run on a half-filled
// server would measure something else.
func (r *runner) prefill(ctx context.Context, chats *chatSet) (*Prefill, error) {
	total := int64(chats.len() * r.opts.Prefill)
	if total == 0 {
		return nil, nil
	}
	start := time.Now()
	var next, sent atomic.Int64
	err := r.parallel(ctx, min(int64(r.opts.Concurrency), total, maxPrefillWorkers), func(ctx context.Context) error {
		for i := next.Add(1) - 1; i < total; i = next.Add(1) - 1 {
			k := int(i % int64(chats.len()))
			if err := r.client.Send(ctx, chats.members[k][0], chats.sendBodies[k], nil); err != nil {
				return fmt.Errorf("prefill: send: %w", err)
			}
			sent.Add(1)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	if r.progress != nil {
		fmt.Fprintf(r.progress, "prefill: %d messages in %d chats in %v\n", total, chats.len(), elapsed.Round(time.Millisecond))
	}
	var chat atomic.Int64
	err = r.parallel(ctx, min(int64(r.opts.Concurrency), int64(chats.len()), maxPrefillWorkers), func(ctx context.Context) error {
		for k := chat.Add(1) - 1; k < int64(chats.len()); k = chat.Add(1) - 1 {
			times, err := r.readChat(ctx, chats.members[k][0], chats.names[k])
			if err != nil {
				return err
			}
			if len(times) < r.opts.Prefill {
				return fmt.Errorf("prefill: chat %s holds %d messages after %d acknowledged sends", chats.names[k], len(times), r.opts.Prefill)
			}
			chats.sendTimes[k] = times
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Prefill{Messages: sent.Load(), Seconds: elapsed.Seconds(), Throughput: perSecond(sent.Load(), elapsed)}, nil
}

// readChat returns the send times of every message of chat, read as the
// member as, oldest first,
// by following next_cursor forward from 0.
func (r *runner) readChat(ctx context.Context, as, chat string) ([]int64, error) {
	var times []int64
	var page Page
	for cursor := int64(0); ; {
		page = Page{}
		if err := r.client.Pull(ctx, as, r.client.PullURL(chat, cursor, pageAll), &page); err != nil {
			return nil, fmt.Errorf("prefill: read back %s: %w", chat, err)
		}
		for _, m := range page.Messages {
			times = append(times, m.SendTime)
		}
		if !page.HasMore || len(page.Messages) == 0 {
			break
		}
		if page.NextCursor <= cursor {
			return nil, fmt.Errorf("prefill: read back %s: next_cursor %d does not advance from %d", chat, page.NextCursor, cursor)
		}
		cursor = page.NextCursor
	}
	if !slices.IsSorted(times) {
		return nil, fmt.Errorf("prefill: read back %s: send times out of order", chat)
	}
	return times, nil
}

// parallel runs fn on n goroutines and returns the first error; the first
// error cancels the others' context.
func (r *runner) parallel(ctx context.Context, n int64, fn func(context.Context) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := fn(ctx); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
