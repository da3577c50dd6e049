package sqlstore

import (
	"context"
	"sync"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// spreader moves a group's activity into its members' inbox rows after
// sends commit, outside their transactions: a send into a group of 1,000
// measured 34 ms with the rows moved inside its transaction against about
// 1–2 ms for a two-member chat (docs/performance.md), and the transaction
// holds the chat's lock and a commit lane all that time. Sends to one group
// share the work: while one update of the group's rows runs, the sends
// that commit meanwhile wait for a single next one, which moves the rows
// to the newest of their times. So a busy group costs one update at a time
// per replica, however many sends it takes.
type spreader struct {
	mu     sync.Mutex
	groups map[string]*spreadState
	update func(ctx context.Context, chat string, activity int64) error
}

type spreadState struct {
	running bool
	next    *spreadRound // the round that starts when the running one ends
}

type spreadRound struct {
	activity int64
	done     chan struct{}
}

func newSpreader(update func(ctx context.Context, chat string, activity int64) error) *spreader {
	return &spreader{groups: map[string]*spreadState{}, update: update}
}

// spread returns once the group's members' rows have moved to at least
// m.SendTime, or ctx ends. If the update fails (the database went away
// after the commit), the message is stored and its members' unread counts
// and last messages are right; only the group's place in their inboxes
// lags until its next send, so the failure is not the sender's to see.
func (s *spreader) spread(ctx context.Context, m pigeonhole.Message) {
	chat := m.Chat.String()
	s.mu.Lock()
	st := s.groups[chat]
	if st == nil {
		st = &spreadState{}
		s.groups[chat] = st
	}
	round := st.next
	if round == nil {
		round = &spreadRound{done: make(chan struct{})}
		st.next = round
	}
	round.activity = max(round.activity, m.SendTime)
	start := !st.running
	if start {
		st.running, st.next = true, nil
	}
	s.mu.Unlock()
	if start {
		go s.run(chat, st, round)
	}
	select {
	case <-round.done:
	case <-ctx.Done():
	}
}

// run runs round and then the rounds queued behind it, until none is.
func (s *spreader) run(chat string, st *spreadState, round *spreadRound) {
	for round != nil {
		ctx, cancel := context.WithTimeout(context.Background(), txTimeout)
		_ = s.update(ctx, chat, round.activity) // see spread
		cancel()
		close(round.done)
		s.mu.Lock()
		round, st.next = st.next, nil
		if round == nil {
			st.running = false
			delete(s.groups, chat)
		}
		s.mu.Unlock()
	}
}
