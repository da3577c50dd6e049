package load

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pigeonhole-im/pigeonhole/test/bench/internal/histogram"
)

// Follow is what the follow scenario saw: how many messages were
// acknowledged and delivered, how long delivery took, and every breach of
// exactly-once, in-order delivery.
type Follow struct {
	Chats         int                   `json:"chats"`
	Senders       int                   `json:"senders"`
	Followers     int                   `json:"followers"`
	Sent          int64                 `json:"sent"`      // sends made
	Acked         int64                 `json:"acked"`     // of which answered 200
	Expected      int64                 `json:"expected"`  // acknowledged messages × followers of their chat
	Delivered     int64                 `json:"delivered"` // of those, seen by the follower
	Pulls         int64                 `json:"pulls"`     // the followers' pulls, drain included
	PullsPerMsg   float64               `json:"pulls_per_delivered"`
	WaitMs        int64                 `json:"wait_ms"`      // of each pull; 0: polling
	UnackedSeen   int64                 `json:"unacked_seen"` // seen, though their send failed (stored, answer lost)
	DrainSecs     float64               `json:"drain_secs"`   // how long followers took to catch up after the senders stopped
	Delivery      Latency               `json:"delivery_latency_ms"`
	AnomalyCounts map[AnomalyKind]int64 `json:"anomaly_counts"`
	Anomalies     []Anomaly             `json:"anomalies"` // the first maxAnomalies
	OK            bool                  `json:"ok"`        // messages were acknowledged and there was no anomaly
}

// maxAnomalies bounds the anomalies a Follow lists; all are counted.
const maxAnomalies = 100

// followPage is the page size of the followers' pulls.
const followPage = 100

// followSender is one sending worker's state. Only its worker touches it
// while the senders run.
type followSender struct {
	chat   int
	member string
	next   int64 // seq of the last message sent
	acks   []Ack
}

// follow runs Senders senders and Followers followers on min(Chats,
// Senders) chats: sender s writes to chat s%chats and follower f tails
// chat f%chats with forward pulls of followPage messages, following
// next_cursor from 0 and waiting Poll after a page that is not full, or,
// with Wait, long-polling: every pull carries wait_ms and the next pull
// follows at once. Each
// message's text names its sender and sequence number, so that the
// followers' streams can be checked against the acknowledged sends once
// the senders stop and the followers have caught up (or Drain has passed).
func (r *runner) follow(ctx context.Context) (*Result, error) {
	nChats := r.opts.followChats()
	chats := newChatSet(r.client, r.tag, nChats, r.opts.TextBytes, followPage)
	senders := make([]*followSender, r.opts.Senders)
	for s := range senders {
		k := s % nChats
		senders[s] = &followSender{chat: k, member: r.client.creds.member(chats.members[k][(s/nChats)%2])}
	}
	start := time.Now()
	rec := NewRecorder(start, r.opts.Warmup, r.opts.window())
	var seen, pulls atomic.Int64
	prog := startProgress(rec, r.progress, func() string { return fmt.Sprintf("%d messages seen", seen.Load()) })

	sendersDone := make(chan struct{})
	verifiers := make([]*Verifier, r.opts.Followers)
	caughtUp := make([]time.Time, r.opts.Followers)
	// The followers pull through FollowTarget, when given.
	pulling, pullURL := r.client, chats.pullURL
	if r.opts.FollowTarget != "" {
		pulling = NewClient(r.opts.FollowTarget, r.opts.Followers, r.opts.Timeout)
		defer pulling.Close()
		pulling.creds = r.client.creds
		pullURL = func(k int, cursor int64) string { return pulling.PullURL(chats.names[k], cursor, followPage) }
	}
	var wg sync.WaitGroup
	for f := range verifiers {
		verifiers[f] = NewVerifier(f)
		acks := func() []Ack { return chatAcks(senders, f%nChats) }
		wg.Go(func() {
			r.tail(ctx, f, pulling, pullURL, chats, f%nChats, verifiers[f], rec, &seen, &pulls, sendersDone, acks)
			caughtUp[f] = time.Now()
		})
	}
	do := func(ctx context.Context, w int, _ int64) Outcome {
		return Outcome{Op: OpSend, Err: r.sendNumbered(ctx, chats, w, senders[w])}
	}
	Schedule{
		Workers: r.opts.Senders, Start: start, Warmup: r.opts.Warmup,
		Duration: r.opts.Duration, Requests: r.opts.Requests, Rate: r.opts.Rate,
	}.Run(ctx, rec, do)
	stopped := time.Now()
	close(sendersDone)
	wg.Wait()
	res := newResult(r.opts, rec, prog.Stop(), OpSend, OpPull)

	fol := &Follow{Chats: nChats, Senders: r.opts.Senders, Followers: r.opts.Followers, AnomalyCounts: map[AnomalyKind]int64{},
		Pulls: pulls.Load(), WaitMs: r.opts.Wait.Milliseconds()}
	for _, s := range senders {
		fol.Sent += s.next
		fol.Acked += int64(len(s.acks))
	}
	delivery := histogram.New()
	for f, v := range verifiers {
		acks := chatAcks(senders, f%nChats)
		anomalies, delivered := v.Finish(acks, rec.measureFrom, delivery)
		fol.Expected += int64(len(acks))
		fol.Delivered += delivered
		fol.UnackedSeen += v.Seen() - delivered
		for _, a := range anomalies {
			fol.AnomalyCounts[a.Kind]++
			if len(fol.Anomalies) < maxAnomalies {
				fol.Anomalies = append(fol.Anomalies, a)
			}
		}
	}
	for _, t := range caughtUp {
		fol.DrainSecs = max(fol.DrainSecs, t.Sub(stopped).Seconds())
	}
	fol.Delivery = LatencyOf(delivery)
	if fol.Delivered > 0 {
		fol.PullsPerMsg = float64(fol.Pulls) / float64(fol.Delivered)
	}
	fol.OK = fol.Acked > 0 && len(fol.AnomalyCounts) == 0
	res.Follow = fol
	return res, nil
}

// sendNumbered sends sender w's next message, whose text carries the run's
// tag, w and the message's sequence number, and keeps its acknowledgement.
func (r *runner) sendNumbered(ctx context.Context, chats *chatSet, w int, s *followSender) error {
	s.next++
	text := fmt.Sprintf("%s %d %d ", chats.runTag, w, s.next)
	if pad := r.opts.TextBytes - len(text); pad > 0 {
		text += chats.textPadding[:pad]
	}
	var ack SendAck
	if err := r.client.Send(ctx, s.member, sendBody(chats.names[s.chat], text, s.member), &ack); err != nil {
		return err
	}
	s.acks = append(s.acks, Ack{Sender: w, Seq: s.next, SendTime: ack.SendTime, At: time.Now()})
	return nil
}

// parseNumbered reads the sender and sequence number from a text written
// by sendNumbered for the run tagged tag.
func parseNumbered(tag, text string) (sender int, seq int64, ok bool) {
	fields := strings.SplitN(text, " ", 4)
	if len(fields) < 3 || fields[0] != tag {
		return 0, 0, false
	}
	sender, err1 := strconv.Atoi(fields[1])
	seq, err2 := strconv.ParseInt(fields[2], 10, 64)
	return sender, seq, err1 == nil && err2 == nil
}

// chatAcks returns the acknowledged sends to chat k. It may be called only
// once the senders have stopped.
func chatAcks(senders []*followSender, k int) []Ack {
	var acks []Ack
	for _, s := range senders {
		if s.chat == k {
			acks = append(acks, s.acks...)
		}
	}
	return acks
}

// tail is follower f: it pulls chat k forward from cursor 0, following
// next_cursor, and feeds every message to v. Its pulls count in rec while
// the senders run. Once sendersDone is closed it keeps reading until it has
// seen every acknowledged message of the chat (acks may be called then),
// Drain has passed, or ctx ends.
func (r *runner) tail(ctx context.Context, f int, c *Client, pullURL func(k int, cursor int64) string, chats *chatSet, k int, v *Verifier, rec *Recorder,
	seen, pulls *atomic.Int64, sendersDone <-chan struct{}, acks func() []Ack) {
	worker := r.opts.Senders + f // its own recorder shard
	var (
		cursor   int64
		page     Page
		deadline time.Time // of the drain, once the senders are done
		expected []Ack
	)
	for ctx.Err() == nil {
		if !deadline.IsZero() && time.Now().After(deadline) {
			return // given up: Finish reports what is missing
		}
		page = Page{Messages: page.Messages[:0]}
		start := time.Now()
		u := pullURL(k, cursor)
		if r.opts.Wait > 0 {
			u += "&wait_ms=" + strconv.FormatInt(r.opts.Wait.Milliseconds(), 10)
		}
		err := c.Pull(ctx, chats.members[k][0], u, &page)
		now := time.Now()
		pulls.Add(1)
		select {
		case <-sendersDone:
		default:
			rec.Record(worker, Outcome{Op: OpPull, Items: len(page.Messages), Err: err}, start, now)
		}
		if err == nil {
			for _, m := range page.Messages {
				sender, seq, ok := parseNumbered(chats.runTag, m.Text)
				if !ok {
					v.ObserveForeign(m.Text)
					continue
				}
				v.Observe(Delivery{Sender: sender, Seq: seq, SendTime: m.SendTime, At: now})
			}
			seen.Add(int64(len(page.Messages)))
			// A server that does not advance the cursor past what it
			// returned would repeat it forever; the verifier reports the
			// duplicates and the drain deadline ends the loop.
			cursor = page.NextCursor
			if page.HasMore {
				continue
			}
		}
		if deadline.IsZero() {
			select {
			case <-sendersDone:
				deadline = time.Now().Add(r.opts.Drain)
				expected = acks()
			default:
			}
		}
		if !deadline.IsZero() && v.Missing(expected) == 0 {
			return // caught up
		}
		if err != nil || r.opts.Wait == 0 {
			sleep(ctx, r.opts.Poll) // a long poll has waited already
		}
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
