package rangecache

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// history is a chat's full, final history: messages at send times 10, 20,
// 30, … so that cursors can fall between messages too.
func history(chat pigeonhole.ChatID, n int) []pigeonhole.Message {
	h := make([]pigeonhole.Message, n)
	for i := range h {
		h[i] = pigeonhole.Message{Chat: chat, Sender: "a", Text: "m", SendTime: int64(10 * (i + 1))}
	}
	return h
}

// truthRange is what a store holding h answers for q.
func truthRange(h []pigeonhole.Message, q pigeonhole.Range) []pigeonhole.Message {
	var out []pigeonhole.Message
	if !q.Reverse {
		for _, m := range h {
			if m.SendTime >= q.From && len(out) < q.Limit {
				out = append(out, m)
			}
		}
		return out
	}
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].SendTime <= q.From && len(out) < q.Limit {
			out = append(out, h[i])
		}
	}
	return out
}

func randomRange(rng *rand.Rand, chat pigeonhole.ChatID, n int) pigeonhole.Range {
	q := pigeonhole.Range{Chat: chat, Reverse: rng.IntN(2) == 0, Limit: 1 + rng.IntN(12)}
	switch rng.IntN(6) {
	case 0:
		q.From = 0
	case 1:
		q.From = math.MaxInt64
	default:
		q.From = int64(rng.IntN(10*n + 20)) // on messages, between them and past the end
	}
	return q
}

// checkInvariants verifies every segment of e against the truth and the
// byte accounting against a recount.
func checkInvariants(t *testing.T, sh *shard, e *entry, h []pigeonhole.Message) {
	t.Helper()
	var bytes int64
	for i, s := range e.segs {
		if s.lo > s.hi {
			t.Fatalf("segment %d: lo %d > hi %d", i, s.lo, s.hi)
		}
		if i > 0 && !before(e.segs[i-1].hi, s.lo) {
			t.Fatalf("segments %d [%d,%d] and %d [%d,%d] overlap or touch", i-1, e.segs[i-1].lo, e.segs[i-1].hi, i, s.lo, s.hi)
		}
		var want []pigeonhole.Message
		for _, m := range h {
			if s.lo <= m.SendTime && m.SendTime <= s.hi {
				want = append(want, m)
			}
		}
		if !slices.Equal(s.msgs, want) {
			t.Fatalf("segment %d [%d,%d]: %d messages, want %d", i, s.lo, s.hi, len(s.msgs), len(want))
		}
		bytes += sizeOf(s.msgs)
	}
	if bytes != e.bytes || sh.bytes != e.bytes {
		t.Fatalf("bytes: entry %d, shard %d, recounted %d", e.bytes, sh.bytes, bytes)
	}
}

// TestSegmentsStayExact inserts what random reads of a growing history
// prove, and checks after each that the segments hold exactly the
// history's messages in their intervals (also those appended after the
// read), and that every lookup they answer is the store's answer.
//
// With a small budget, the chat is trimmed to its shard's budget after
// every insert, and what stays must be exact all the same.
func TestSegmentsStayExact(t *testing.T) {
	for _, max := range []int64{math.MaxInt64, 20 * 98} { // 98 bytes a message of history()
		t.Run(fmt.Sprint("max=", max), func(t *testing.T) { testSegmentsStayExact(t, max) })
	}
}

func testSegmentsStayExact(t *testing.T, max int64) {
	chat, err := pigeonhole.ParseChatID("a:b")
	if err != nil {
		t.Fatal(err)
	}
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		final := history(chat, 120)
		n := 1 + rng.IntN(40) // the messages committed so far: final[:n]
		sh := &shard{chats: map[pigeonhole.ChatID]*entry{}, max: max}
		hits := 0
		for range 400 {
			if n < len(final) && rng.IntN(4) == 0 {
				n++
			}
			q := randomRange(rng, chat, n)
			want := truthRange(final[:n], q)
			if got, ok := sh.lookup(q, unknownHead); ok {
				hits++
				if !slices.Equal(got, want) {
					t.Fatalf("seed %d: lookup %+v: got %v, want %v", seed, q, got, want)
				}
				continue
			}
			if seg, ok := learned(q, want); ok {
				sh.insert(chat, seg)
				e := sh.chats[chat]
				if e == nil {
					t.Fatalf("seed %d: the chat was evicted, though a page fits in its budget", seed)
				}
				checkInvariants(t, sh, e, final)
				if e.bytes > max {
					t.Fatalf("seed %d: the chat holds %d bytes, more than its shard's %d", seed, e.bytes, max)
				}
			}
		}
		if hits == 0 {
			t.Fatalf("seed %d: no lookup was answered from memory", seed)
		}
	}
}

func TestLearnedSegments(t *testing.T) {
	chat, err := pigeonhole.ParseChatID("a:b")
	if err != nil {
		t.Fatal(err)
	}
	h := history(chat, 5) // 10 … 50
	tests := []struct {
		name   string
		q      pigeonhole.Range
		ok     bool
		lo, hi int64
	}{
		{"forward full", pigeonhole.Range{From: 15, Limit: 2}, true, 15, 30},
		{"forward short: only up to the last row", pigeonhole.Range{From: 35, Limit: 5}, true, 35, 50},
		{"forward empty proves nothing", pigeonhole.Range{From: 55, Limit: 5}, false, 0, 0},
		{"reverse full", pigeonhole.Range{From: 45, Reverse: true, Limit: 2}, true, 30, 40},
		{"reverse short reaches the beginning", pigeonhole.Range{From: 25, Reverse: true, Limit: 5}, true, math.MinInt64, 20},
		{"reverse from the newest: only up to the newest row", pigeonhole.Range{From: math.MaxInt64, Reverse: true, Limit: 2}, true, 40, 50},
		{"reverse empty proves nothing", pigeonhole.Range{From: 5, Reverse: true, Limit: 5}, false, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Chat = chat
			seg, ok := learned(tc.q, truthRange(h, tc.q))
			if ok != tc.ok || (ok && (seg.lo != tc.lo || seg.hi != tc.hi)) {
				t.Fatalf("learned: [%d,%d] %v, want [%d,%d] %v", seg.lo, seg.hi, ok, tc.lo, tc.hi, tc.ok)
			}
			if ok && !slices.IsSortedFunc(seg.msgs, func(a, b pigeonhole.Message) int { return int(a.SendTime - b.SendTime) }) {
				t.Fatalf("messages not ascending: %v", seg.msgs)
			}
		})
	}
}

// TestEvictionKeepsTheBudget fills a small cache with many chats and checks
// that no shard ever holds more than its share, least recently used chats
// going first. It goes on until 50 chats have followed the first into its
// shard (which shard a chat falls in depends on the hash's seed).
func TestEvictionKeepsTheBudget(t *testing.T) {
	const budget = numShards * 4096
	s := New(nil, Config{MaxBytes: budget})
	var chats []pigeonhole.ChatID
	for i, after := 0, 0; after < 50; i++ {
		if i == 100_000 {
			t.Fatalf("only %d of %d chats fell in the first chat's shard", after, i)
		}
		chat, err := pigeonhole.ParseChatID(fmt.Sprintf("a:c%d", i))
		if err != nil {
			t.Fatal(err)
		}
		chats = append(chats, chat)
		if i > 0 && s.shardOf(chat) == s.shardOf(chats[0]) {
			after++
		}
		h := history(chat, 10)
		sh := s.shardOf(chat)
		sh.insert(chat, segment{lo: 0, hi: 100, msgs: slices.Clone(h)})
		for i := range s.shards {
			if b := s.shards[i].bytes; b > budget/numShards {
				t.Fatalf("shard %d holds %d bytes, budget %d", i, b, budget/numShards)
			}
		}
	}
	// The newest chat is always kept; the first was evicted long ago.
	last := chats[len(chats)-1]
	if _, ok := s.shardOf(last).lookup(pigeonhole.Range{Chat: last, From: 0, Limit: 3}, unknownHead); !ok {
		t.Fatal("the most recently inserted chat was evicted")
	}
	if _, ok := s.shardOf(chats[0]).lookup(pigeonhole.Range{Chat: chats[0], From: 0, Limit: 3}, unknownHead); ok {
		t.Fatal("the least recently used chat survived 50 newer ones in its shard, which has room for a few")
	}
}
