// Package notify wakes waiting pulls (long polls) when their chats take
// messages. It implements pigeonhole.Notifier for one replica.
//
// A replica learns of new messages two ways. Its own sends reach it
// through Sent, at once. Messages other replicas commit it learns from
// the database, the one thing every replica shares: while anyone waits,
// one goroutine asks the store every Interval (backing off to IdleFactor
// times Interval while it finds nothing) for the chats whose newest
// send time lies within the last Lookback (Store.Heads: one index range
// scan of the chats table, as long as its answer), and wakes the waiters
// of those chats whose cursor the chat has reached. That costs one query
// per replica per Interval, whatever the number of waiters or of chats
// waited on, and nothing when nobody waits; a waiter holds no database
// connection, only its place in a map.
//
// Other designs were weighed. Asking for the rows of every waited-on
// chat each tick costs a lookup per chat per tick: 10,000 idle long polls
// would keep a core busy. Telling the other replicas directly (an RPC per
// commit to each peer, or a key per chat in etcd) adds a write per send to
// every replica or to etcd's raft log, and a second source of truth that
// can lag or drop. Heads adds only an index on chats (last_send_time), kept
// up to date in the transaction that stores the message.
//
// Lookback covers a transaction that took its send time a little before
// it committed, and replica clocks that disagree a little: a commit that
// becomes visible later than Lookback after its send time (or a clock
// more than Lookback behind) is not seen by the query, and its waiters
// learn of it when their wait ends and they poll again. Nothing is ever
// lost or reordered either way: a wake is only a hint, the woken pull
// reads through the store like any pull (pigeonhole.Notifier).
//
// The inbox waits on the same mechanism, keyed by member as well as by
// chat: a waiting inbox call watches its member (pigeonhole.Watch.Member)
// and the groups among the member's newest chats. A two-member chat's id
// names its members, so a message in one, through Sent or Heads alike,
// wakes both members' inbox waiters, even for a chat that did not exist
// when the wait began; a group created or joined on this replica wakes its
// new members through Joined. A group's id does not name its members, so
// a message to a group wakes the inbox waiters that watch that group. What
// this cannot see: groups created or joined on another replica, and groups
// older than the member's newest page of chats when the wait began. Their
// activity reaches the client when its wait ends (at most --max-wait) and
// it calls again. Member waiters cost two more map lookups per two-member
// chat reported: still nothing per waiter per look. (Learning the groups
// costs the waiting call one inbox read when it starts, in the service.)
package notify

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// Defaults of Config.
const (
	DefaultInterval = 5 * time.Millisecond
	DefaultLookback = 250 * time.Millisecond
	DefaultMaxHeads = 1024
	// DefaultMaxWaiters is twice a gateway's default --max-waiters: a
	// replica serves several gateways, but each waiting call holds
	// memory while it waits (a replica holding 10,000 measured 227 MiB
	// RSS in all: docs/performance.md).
	DefaultMaxWaiters = 20_000
)

// Source is where a notifier learns of commits made elsewhere: every
// pigeonhole.Store is one.
type Source interface {
	Heads(ctx context.Context, since int64, limit int) ([]pigeonhole.ChatHead, error)
}

// Config tunes a Notifier. Zero fields take the defaults.
type Config struct {
	// Interval is how often the source is asked while anyone waits and
	// it reports messages (default DefaultInterval). While it reports
	// none, the interval doubles up to IdleFactor times Interval, and
	// returns to Interval at the first look that finds a message.
	Interval time.Duration
	// Lookback is how far back each look reaches (default
	// DefaultLookback); see the package comment.
	Lookback time.Duration
	// MaxHeads bounds the chats one look returns, the newest first
	// (default DefaultMaxHeads).
	MaxHeads int
	// MaxWaiters bounds the calls waiting at once (default
	// DefaultMaxWaiters): past it, Wait returns false at once, and the
	// call answers as one without a wait would. Gateways cap their own
	// waiters; this bounds what all of them, or any client of the RPC
	// port, may hold here.
	MaxWaiters int64
	// Now is the clock looks are measured from (default time.Now).
	Now func() time.Time
	// Logger is told when looking fails and when it works again (default
	// slog.Default()).
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.Lookback <= 0 {
		c.Lookback = DefaultLookback
	}
	if c.MaxHeads <= 0 {
		c.MaxHeads = DefaultMaxHeads
	}
	if c.MaxWaiters <= 0 {
		c.MaxWaiters = DefaultMaxWaiters
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// IdleFactor is how much longer than Config.Interval the looks grow apart
// while they find nothing: 10,000 idle long polls on the embedded store
// cost the replica 2.4% of a core in looks every 5 ms; every 20 ms, a
// quarter of that, for at most 15 ms more before the first message that
// ends a quiet spell is noticed.
const IdleFactor = 4

// lookTimeout bounds one look at the source.
const lookTimeout = time.Second

// Notifier is a pigeonhole.Notifier. Build it with New and Stop it.
type Notifier struct {
	src Source
	cfg Config

	mu      sync.Mutex
	chats   map[pigeonhole.ChatID]map[*waiter]int64 // chat → its waiters → their From
	members map[string]map[*waiter]int64            // member → their inbox waiters → From
	stopped bool
	waiters int64 // calls in Wait

	busy     chan struct{} // the first waiter arrived: start looking
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

var _ pigeonhole.Notifier = (*Notifier)(nil)

// waiter is one Wait call. Its fields are guarded by Notifier.mu.
type waiter struct {
	woken chan struct{} // closed once, by a wake or by Stop
	fired bool
	found bool // woken by a message, not by Stop
}

// New returns a running notifier over src.
func New(src Source, cfg Config) *Notifier {
	n := &Notifier{
		src:     src,
		cfg:     cfg.withDefaults(),
		chats:   map[pigeonhole.ChatID]map[*waiter]int64{},
		members: map[string]map[*waiter]int64{},
		busy:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go n.look()
	return n
}

// Wait implements pigeonhole.Notifier.
func (n *Notifier) Wait(ctx context.Context, watches []pigeonhole.Watch) bool {
	w := &waiter{woken: make(chan struct{})}
	n.mu.Lock()
	if n.stopped || n.waiters >= n.cfg.MaxWaiters {
		n.mu.Unlock()
		return false
	}
	n.waiters++
	first := n.waiting() == 0
	for _, watch := range watches {
		if watch.Member != "" {
			add(n.members, watch.Member, w, watch.From)
		} else {
			add(n.chats, watch.Chat, w, watch.From)
		}
	}
	n.mu.Unlock()
	if first {
		select {
		case n.busy <- struct{}{}:
		default:
		}
	}

	select {
	case <-w.woken:
	case <-ctx.Done():
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.waiters--
	for _, watch := range watches {
		if watch.Member != "" {
			remove(n.members, watch.Member, w)
		} else {
			remove(n.chats, watch.Chat, w)
		}
	}
	return w.found
}

// add records w's From under key.
func add[K comparable](m map[K]map[*waiter]int64, key K, w *waiter, from int64) {
	ws := m[key]
	if ws == nil {
		ws = map[*waiter]int64{}
		m[key] = ws
	}
	ws[w] = from
}

// remove forgets w under key.
func remove[K comparable](m map[K]map[*waiter]int64, key K, w *waiter) {
	if ws := m[key]; ws != nil {
		delete(ws, w)
		if len(ws) == 0 {
			delete(m, key)
		}
	}
}

// Sent implements pigeonhole.Notifier.
func (n *Notifier) Sent(chat pigeonhole.ChatID, sendTime int64) {
	n.mu.Lock()
	n.wake(chat, sendTime)
	n.mu.Unlock()
}

// Joined implements pigeonhole.Notifier.
func (n *Notifier) Joined(members []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, m := range members {
		fire(n.members[m], math.MaxInt64)
	}
}

// wake wakes the waiters of chat, and of a two-member chat's members,
// whose From sendTime reaches. n.mu is held.
func (n *Notifier) wake(chat pigeonhole.ChatID, sendTime int64) {
	fire(n.chats[chat], sendTime)
	if len(n.members) > 0 && !chat.IsGroup() {
		a, b := chat.Members()
		fire(n.members[a], sendTime)
		if b != a {
			fire(n.members[b], sendTime)
		}
	}
}

// fire wakes the waiters of ws whose From at reaches. Notifier.mu is held.
func fire(ws map[*waiter]int64, at int64) {
	for w, from := range ws {
		if at >= from && !w.fired {
			w.fired, w.found = true, true
			close(w.woken)
		}
	}
}

// Waiting returns the number of chats and members waited on, for metrics
// and tests.
func (n *Notifier) Waiting() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.waiting()
}

// Waiters returns the number of calls waiting now.
func (n *Notifier) Waiters() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.waiters
}

// waiting is Waiting with n.mu held.
func (n *Notifier) waiting() int { return len(n.chats) + len(n.members) }

// Stop answers every waiter at once (Wait returns false), makes later
// Waits return false at once, and stops looking. It is for shutdown: a
// stopping replica answers its long polls inside its drain instead of
// holding them to the end. Calls after the first do nothing.
func (n *Notifier) Stop() {
	n.stopOnce.Do(func() {
		n.mu.Lock()
		n.stopped = true
		for _, ws := range n.chats {
			release(ws)
		}
		for _, ws := range n.members {
			release(ws)
		}
		n.mu.Unlock()
		close(n.stop)
		<-n.done
	})
}

// release answers the waiters of ws without a wake. Notifier.mu is held.
func release(ws map[*waiter]int64) {
	for w := range ws {
		if !w.fired {
			w.fired = true
			close(w.woken)
		}
	}
}

// look asks the source for recent heads every Interval while anyone waits
// (up to IdleFactor times less often while it finds none).
func (n *Notifier) look() {
	defer close(n.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-n.stop
		cancel()
	}()
	failing := false
	interval := n.cfg.Interval
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		// A token in busy may be older than the waiters now: look only
		// while someone waits.
		for n.Waiting() == 0 {
			select {
			case <-n.busy:
			case <-n.stop:
				return
			}
		}
		timer.Reset(interval)
		select {
		case <-timer.C:
		case <-n.stop:
			return
		}
		if n.Waiting() == 0 {
			continue
		}
		found, err := n.lookOnce(ctx)
		if found {
			interval = n.cfg.Interval
		} else {
			interval = min(2*interval, IdleFactor*n.cfg.Interval)
		}
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			n.cfg.Logger.Warn("notify: looking for new messages failed; waiting pulls wake only on this replica's sends until it works again", "error", err)
		case err == nil && failing:
			n.cfg.Logger.Info("notify: looking for new messages works again")
		}
		failing = err != nil
	}
}

// lookOnce wakes the waiters of every chat the source reports, and
// reports whether it reported any.
func (n *Notifier) lookOnce(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, lookTimeout)
	defer cancel()
	since := n.cfg.Now().Add(-n.cfg.Lookback).UnixMicro()
	heads, err := n.src.Heads(ctx, since, n.cfg.MaxHeads)
	if err != nil {
		return false, err
	}
	n.mu.Lock()
	for _, h := range heads {
		n.wake(h.Chat, h.LastSendTime)
	}
	n.mu.Unlock()
	return len(heads) > 0, nil
}
