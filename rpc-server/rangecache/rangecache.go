// Package rangecache answers pulls of history a replica has already read
// from memory, without giving up any guarantee of the store below it.
//
// It relies on one property every pigeonhole.Store has (the conformance
// suite checks it): within a chat, a message that commits later has the
// larger SendTime, and it is visible only once every earlier one is.
// Hence a run of a chat's history that a read has seen is final: once a
// read returned messages up to SendTime t, no message with a SendTime <= t
// can appear later, on this replica or any other. The cache keeps such
// runs ("segments": an interval of send times and every message in it) and
// answers a range from one when the answer lies entirely inside it. A range
// that reaches past a segment's end (the tail a follower polls, the newest
// page) is answered from memory only when the chat's head, read from the
// store after the range was asked for (one primary-key read, which the
// store shares among concurrent pulls), shows that nothing lies past that
// end: so new messages are never missed, and an empty tail or an unchanged
// newest page costs the database one shared point read instead of a range
// scan each.
//
// Nothing is invalidated on Append: a new message lies after every segment.
// Memory is bounded: chats are evicted whole, least recently used first,
// and a chat too big for its share keeps only a window of its history.
package rangecache

import (
	"cmp"
	"container/list"
	"context"
	"hash/maphash"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// numShards splits the cache so that concurrent pulls of different chats
// rarely wait for one another's lock.
const numShards = 16

// messageOverhead approximates the bytes a cached message costs besides
// its strings' contents: the Message struct and slice growth.
const messageOverhead = 96

// Observer learns whether each range was answered from memory.
type Observer interface {
	ObserveCacheLookup(hit bool)
}

// Config sizes the cache.
type Config struct {
	// MaxBytes bounds the memory the cached messages take, approximately.
	MaxBytes int64
	// Observer, when not nil, is told of every lookup.
	Observer Observer
}

// Store is a pigeonhole.Store that answers ranges inside history already
// read from memory and passes everything else to the store it wraps.
type Store struct {
	inner  pigeonhole.Store
	obs    Observer
	seed   maphash.Seed
	shards [numShards]shard
	closed atomic.Bool
}

var _ pigeonhole.Store = (*Store)(nil)

// New wraps inner. The cache owns inner: Close closes it.
func New(inner pigeonhole.Store, cfg Config) *Store {
	s := &Store{inner: inner, obs: cfg.Observer, seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i] = shard{chats: map[pigeonhole.ChatID]*entry{}, max: max(cfg.MaxBytes/numShards, 0)}
	}
	return s
}

// Append stores m through the wrapped store. The cache needs no update: m's
// SendTime is larger than that of every message any read has seen.
func (s *Store) Append(ctx context.Context, m pigeonhole.Message) (pigeonhole.Message, error) {
	return s.inner.Append(ctx, m)
}

// Range answers q from memory when the answer lies inside a segment read
// before, and otherwise from the wrapped store, remembering what it read.
// The returned slice is the caller's.
func (s *Store) Range(ctx context.Context, q pigeonhole.Range) ([]pigeonhole.Message, error) {
	if q.Limit <= 0 || s.closed.Load() {
		return s.inner.Range(ctx, q)
	}
	sh := s.shardOf(q.Chat)
	rows, hit := sh.lookup(q, unknownHead)
	if !hit && sh.reachesTail(q) {
		head, err := s.inner.Head(ctx, q.Chat)
		if err != nil {
			return nil, err
		}
		q, rows, hit = sh.atHead(q, head)
	}
	if s.obs != nil {
		s.obs.ObserveCacheLookup(hit)
	}
	if hit {
		return rows, nil
	}
	rows, err := s.inner.Range(ctx, q)
	if err != nil {
		return rows, err
	}
	if seg, ok := learned(q, rows); ok {
		sh.insert(q.Chat, seg)
	}
	return rows, nil
}

// shardOf returns the shard that holds chat.
func (s *Store) shardOf(chat pigeonhole.ChatID) *shard {
	return &s.shards[maphash.Comparable(s.seed, chat)%numShards]
}

// unknownHead is the head lookup assumes when it does not know the chat's:
// any message may lie past what was read.
const unknownHead = math.MaxInt64

// reachesTail reports whether q may reach the chat's newest message, past
// everything read of it, where knowing the head may let the cache answer:
// a reverse range from the newest message, or a forward range from within
// or after the last segment (a tail poll), or of a chat not read before
// (an empty tail proves nothing and leaves no segment). History further
// back is not worth a head read: it is final or unread either way.
func (sh *shard) reachesTail(q pigeonhole.Range) bool {
	if q.Reverse {
		return q.From == math.MaxInt64
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.chats[q.Chat]
	return e == nil || q.From >= e.segs[len(e.segs)-1].lo
}

// atHead answers q, if it can, knowing that no message of the chat has a
// SendTime past head (Store.Head read after q was asked): a forward range
// from past head is empty, as is every range of a chat without messages;
// a reverse range from the newest message is the one from head; what lies
// in a segment up to head is all there is. It returns q as the store
// should read it otherwise (a reverse range from head, so what it reads
// agrees with head).
func (sh *shard) atHead(q pigeonhole.Range, head int64) (pigeonhole.Range, []pigeonhole.Message, bool) {
	if head <= 0 || !q.Reverse && head < q.From {
		return q, []pigeonhole.Message{}, true
	}
	if q.Reverse {
		q.From = min(q.From, head)
	}
	rows, hit := sh.lookup(q, head)
	return q, rows, hit
}

// Heads asks the wrapped store: the cache knows only history already read.
func (s *Store) Heads(ctx context.Context, since int64, limit int) ([]pigeonhole.ChatHead, error) {
	return s.inner.Heads(ctx, since, limit)
}

// Head asks the wrapped store: only the database knows what other
// replicas have committed.
func (s *Store) Head(ctx context.Context, chat pigeonhole.ChatID) (int64, error) {
	return s.inner.Head(ctx, chat)
}

// Ping pings the wrapped store.
func (s *Store) Ping(ctx context.Context) error { return s.inner.Ping(ctx) }

// Close drops the cache and closes the wrapped store; later ranges reach
// the closed store, which reports it.
func (s *Store) Close() error {
	s.closed.Store(true)
	for i := range s.shards {
		s.shards[i].clear()
	}
	return s.inner.Close()
}

// segment is a final run of one chat's history: msgs holds, in ascending
// SendTime order, every message of the chat with lo <= SendTime <= hi.
// lo is math.MinInt64 when the run starts at the chat's beginning.
type segment struct {
	lo, hi int64
	msgs   []pigeonhole.Message
}

// learned returns the segment a store read of q proves final, if any. A
// forward read that found rows proves [q.From, last row]; a reverse read
// proves [last row, first row], or [beginning, first row] when it stopped
// short of what it asked for (neither its limit nor its byte budget ended
// it). A read that found nothing proves nothing: its bound may lie beyond
// the newest message. msgs is a copy of rows in ascending order.
func learned(q pigeonhole.Range, rows []pigeonhole.Message) (segment, bool) {
	if len(rows) == 0 {
		return segment{}, false
	}
	msgs := slices.Clone(rows)
	if !q.Reverse {
		return segment{lo: q.From, hi: msgs[len(msgs)-1].SendTime, msgs: msgs}, true
	}
	slices.Reverse(msgs)
	lo := msgs[0].SendTime
	if !q.Done(len(rows), textBytes(rows)) {
		lo = math.MinInt64
	}
	return segment{lo: lo, hi: msgs[len(msgs)-1].SendTime, msgs: msgs}, true
}

// entry is one chat's segments, sorted by lo, disjoint and not adjacent
// (adjacent ones are merged).
type entry struct {
	chat  pigeonhole.ChatID
	segs  []segment
	bytes int64
	elem  *list.Element // in the shard's LRU list
}

// shard is a part of the cache with its own lock, chats and memory budget.
type shard struct {
	mu    sync.Mutex
	chats map[pigeonhole.ChatID]*entry
	lru   list.List // of *entry, most recently used first
	bytes int64
	max   int64
}

// lookup answers q from a segment that holds the whole answer, knowing
// that no message has a SendTime past head (unknownHead when it may).
func (sh *shard) lookup(q pigeonhole.Range, head int64) ([]pigeonhole.Message, bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.chats[q.Chat]
	if e == nil {
		return nil, false
	}
	i := segmentAt(e.segs, q.From)
	if i < 0 || q.From > e.segs[i].hi {
		return nil, false
	}
	seg := &e.segs[i]
	var rows []pigeonhole.Message
	if !q.Reverse {
		at := lower(seg.msgs, q.From)
		n, size := answerLen(q, seg.msgs[at:], false)
		if !q.Done(n, size) && seg.hi < head {
			return nil, false // the answer may go on past hi
		}
		rows = slices.Clone(seg.msgs[at : at+n])
	} else {
		end := upper(seg.msgs, q.From) // messages [0, end) are <= q.From
		n, size := answerLen(q, seg.msgs[:end], true)
		if !q.Done(n, size) && seg.lo != math.MinInt64 {
			return nil, false // the answer may go on before lo
		}
		rows = slices.Clone(seg.msgs[end-n : end])
		slices.Reverse(rows)
	}
	sh.lru.MoveToFront(e.elem)
	return rows, true
}

// insert adds seg to chat's segments, merging it with those it overlaps or
// touches, then evicts chats until the shard is within its budget.
func (sh *shard) insert(chat pigeonhole.ChatID, seg segment) {
	for i := range seg.msgs {
		seg.msgs[i].Chat = chat // one copy of the chat's strings for all its messages
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.chats[chat]
	if e == nil {
		e = &entry{chat: chat}
		e.elem = sh.lru.PushFront(e)
		sh.chats[chat] = e
	} else {
		sh.lru.MoveToFront(e.elem)
	}
	before := e.bytes
	e.merge(seg)
	// One chat may take its whole shard (the others go): a chat bigger
	// than that keeps a window of its history from what was just read on,
	// instead of being evicted whole again and again.
	if e.bytes > sh.max {
		e.trim(seg.lo, sh.max)
	}
	sh.bytes += e.bytes - before
	if len(e.segs) == 0 {
		sh.evict(e)
	}
	for sh.bytes > sh.max && sh.lru.Len() > 0 {
		sh.evict(sh.lru.Back().Value.(*entry))
	}
}

// merge adds seg to e's segments. Where segments overlap they hold the
// same messages (both are final), so the union is what lies below seg in
// the first one it meets, seg's own messages, and what lies above seg in
// the last one.
func (e *entry) merge(seg segment) {
	// [first, last) are the segments that overlap or touch seg.
	first := 0
	for first < len(e.segs) && before(e.segs[first].hi, seg.lo) {
		first++
	}
	last := first
	for last < len(e.segs) && !before(seg.hi, e.segs[last].lo) {
		last++
	}
	switch {
	case first == last: // on its own
		e.segs = slices.Insert(e.segs, first, seg)
		e.bytes += sizeOf(seg.msgs)
		return
	case last-first == 1 && e.segs[first].lo <= seg.lo && seg.hi <= e.segs[first].hi:
		return // known already
	case last-first == 1 && e.segs[first].lo <= seg.lo:
		// Extends one segment upwards, as following a chat's tail does:
		// append in place.
		s := &e.segs[first]
		above := seg.msgs[upper(seg.msgs, s.hi):]
		s.msgs = append(s.msgs, above...)
		s.hi = seg.hi
		e.bytes += sizeOf(above)
		return
	}
	lo, hi := min(seg.lo, e.segs[first].lo), max(seg.hi, e.segs[last-1].hi)
	below := e.segs[first].msgs[:lower(e.segs[first].msgs, seg.lo)]
	above := e.segs[last-1].msgs[upper(e.segs[last-1].msgs, seg.hi):]
	msgs := make([]pigeonhole.Message, 0, len(below)+len(seg.msgs)+len(above))
	msgs = append(append(append(msgs, below...), seg.msgs...), above...)
	for _, old := range e.segs[first:last] {
		e.bytes -= sizeOf(old.msgs)
	}
	e.bytes += sizeOf(msgs)
	e.segs = slices.Replace(e.segs, first, last, segment{lo: lo, hi: hi, msgs: msgs})
}

// before reports whether a segment ending at hi lies wholly before one
// starting at lo, with a gap between them: hi + 1 < lo, without overflow.
func before(hi, lo int64) bool {
	return hi < lo && uint64(lo)-uint64(hi) > 1
}

// trim cuts e down to at most limit bytes: only the segment holding t
// stays, and of it the messages from t on that fit. A cut run of a final
// run is final too: its bounds move to the first and last messages kept
// wherever messages were cut. If not even the message at t fits, nothing
// stays.
func (e *entry) trim(t int64, limit int64) {
	s := e.segs[segmentAt(e.segs, t)] // merge left t inside a segment
	from, n, size := lower(s.msgs, t), 0, int64(0)
	for _, m := range s.msgs[from:] {
		if size+messageSize(m) > limit {
			break
		}
		size += messageSize(m)
		n++
	}
	e.segs, e.bytes = nil, 0
	if n == 0 {
		return
	}
	kept := segment{lo: s.lo, hi: s.hi, msgs: slices.Clone(s.msgs[from : from+n])}
	if from > 0 {
		kept.lo = kept.msgs[0].SendTime
	}
	if from+n < len(s.msgs) {
		kept.hi = kept.msgs[n-1].SendTime
	}
	e.segs, e.bytes = []segment{kept}, size
}

// evict drops e from the shard.
func (sh *shard) evict(e *entry) {
	sh.lru.Remove(e.elem)
	delete(sh.chats, e.chat)
	sh.bytes -= e.bytes
}

// clear drops every chat.
func (sh *shard) clear() {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	clear(sh.chats)
	sh.lru.Init()
	sh.bytes = 0
}

// segmentAt is the index of the segment that may hold t: the last one
// starting at or before t, or -1 when there is none.
func segmentAt(segs []segment, t int64) int {
	i, found := slices.BinarySearchFunc(segs, t, func(s segment, t int64) int { return cmp.Compare(s.lo, t) })
	if !found {
		i--
	}
	return i
}

// lower is the index of the first message with SendTime >= t.
func lower(msgs []pigeonhole.Message, t int64) int {
	i, _ := slices.BinarySearchFunc(msgs, t, func(m pigeonhole.Message, t int64) int { return cmp.Compare(m.SendTime, t) })
	return i
}

// upper is the index of the first message with SendTime > t.
func upper(msgs []pigeonhole.Message, t int64) int {
	i, found := slices.BinarySearchFunc(msgs, t, func(m pigeonhole.Message, t int64) int { return cmp.Compare(m.SendTime, t) })
	if found {
		i++
	}
	return i
}

// answerLen is how many of msgs (ascending) a read of q would return, and
// their texts' length: from the first on, or from the last backwards when
// reverse, until q is done or msgs run out.
func answerLen(q pigeonhole.Range, msgs []pigeonhole.Message, reverse bool) (int, int) {
	n, size := 0, 0
	for n < len(msgs) && !q.Done(n, size) {
		m := msgs[n]
		if reverse {
			m = msgs[len(msgs)-1-n]
		}
		size += len(m.Text)
		n++
	}
	return n, size
}

// textBytes is the length of msgs' texts, as Range.Done counts them.
func textBytes(msgs []pigeonhole.Message) int {
	n := 0
	for _, m := range msgs {
		n += len(m.Text)
	}
	return n
}

// sizeOf approximates the memory msgs take in the cache. The chat's
// strings are shared by all its messages and not counted per message.
func sizeOf(msgs []pigeonhole.Message) int64 {
	var n int64
	for _, m := range msgs {
		n += messageSize(m)
	}
	return n
}

func messageSize(m pigeonhole.Message) int64 {
	return int64(messageOverhead + len(m.Sender) + len(m.Text) + len(m.ClientMsgID))
}
