package rangecache_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/rangecache"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlite"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlstore"
)

// counting is a real store that counts the ranges and head reads reaching
// it.
type counting struct {
	pigeonhole.Store
	ranges, heads atomic.Int64
}

func (c *counting) Range(ctx context.Context, q pigeonhole.Range) ([]pigeonhole.Message, error) {
	c.ranges.Add(1)
	return c.Store.Range(ctx, q)
}

func (c *counting) Head(ctx context.Context, chat pigeonhole.ChatID) (int64, error) {
	c.heads.Add(1)
	return c.Store.Head(ctx, chat)
}

// openSQLite opens one more store instance (a replica) on the embedded
// database in dir.
func openSQLite(t *testing.T, dir string) *counting {
	t.Helper()
	s, err := sqlite.Open(context.Background(), dir, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &counting{Store: s}
}

type lookups struct{ hits, misses atomic.Int64 }

func (l *lookups) ObserveCacheLookup(hit bool) {
	if hit {
		l.hits.Add(1)
	} else {
		l.misses.Add(1)
	}
}

func pageAll(t *testing.T, svc *pigeonhole.Service, chat string, reverse bool) []pigeonhole.Message {
	t.Helper()
	var all []pigeonhole.Message
	req := pigeonhole.PullRequest{Chat: chat, Limit: 10, Reverse: reverse}
	for {
		page, err := svc.Pull(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Messages...)
		if !page.HasMore {
			return all
		}
		req.Cursor = page.NextCursor
	}
}

// TestHistoryReadTwiceComesFromMemory pages through a chat twice each way:
// the second pass must give the same pages from memory, asking the store
// only for the chat's head at the newest end, which may have grown; after
// a send, that page must come from the store with the new message.
func TestHistoryReadTwiceComesFromMemory(t *testing.T) {
	inner := openSQLite(t, t.TempDir())
	obs := &lookups{}
	cache := rangecache.New(inner, rangecache.Config{MaxBytes: 1 << 20, Observer: obs})
	defer cache.Close()
	svc := pigeonhole.NewService(cache, pigeonhole.Config{})
	for i := range 50 {
		if _, err := svc.Send(t.Context(), pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, reverse := range []bool{false, true} {
		first := pageAll(t, svc, "a:b", reverse)
		ranges, heads := inner.ranges.Load(), inner.heads.Load()
		second := pageAll(t, svc, "a:b", reverse)
		if len(first) != 50 || !slices.Equal(first, second) {
			t.Fatalf("reverse=%v: passes differ or are not 50 messages: %d, %d", reverse, len(first), len(second))
		}
		// Only the page at the chat's newest end, which may grow, asks
		// the store, for the head: forward the last page, reverse the
		// first.
		if got, want := inner.ranges.Load()-ranges, int64(0); got != want {
			t.Fatalf("reverse=%v: the second pass made %d range reads, want %d", reverse, got, want)
		}
		if got, want := inner.heads.Load()-heads, int64(1); got != want {
			t.Fatalf("reverse=%v: the second pass made %d head reads, want %d", reverse, got, want)
		}
	}
	last, err := svc.Send(t.Context(), pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: "new"})
	if err != nil {
		t.Fatal(err)
	}
	for _, reverse := range []bool{false, true} {
		ranges := inner.ranges.Load()
		all := pageAll(t, svc, "a:b", reverse)
		newest := all[len(all)-1]
		if reverse {
			newest = all[0]
		}
		if len(all) != 51 || newest != last {
			t.Fatalf("reverse=%v after a send: %d messages, newest %+v, want 51 and %+v", reverse, len(all), newest, last)
		}
		// Forward, the last page reads the new message from the store;
		// reverse, the newest page finds it in memory, read by then.
		want := int64(1)
		if reverse {
			want = 0
		}
		if got := inner.ranges.Load() - ranges; got != want {
			t.Fatalf("reverse=%v after a send: %d range reads, want %d", reverse, got, want)
		}
	}
	if obs.hits.Load() == 0 || obs.misses.Load() == 0 {
		t.Fatalf("observer saw %d hits and %d misses, want some of each", obs.hits.Load(), obs.misses.Load())
	}
}

// TestTwoReplicasAnswerLikeTheStore appends through two cached replicas of
// one database and, between rounds of appends, checks random ranges on
// both against the database itself: a replica must see what the other
// appended at once, whatever it has cached.
func TestTwoReplicasAnswerLikeTheStore(t *testing.T) {
	dir := t.TempDir()
	truth := openSQLite(t, dir)
	defer truth.Close()
	replicas := []*rangecache.Store{
		rangecache.New(openSQLite(t, dir), rangecache.Config{MaxBytes: 1 << 20}),
		rangecache.New(openSQLite(t, dir), rangecache.Config{MaxBytes: 1 << 20}),
	}
	for _, r := range replicas {
		defer r.Close()
	}
	var chats []pigeonhole.ChatID
	for _, s := range []string{"a:b", "a:c", "b:c"} {
		chat, err := pigeonhole.ParseChatID(s)
		if err != nil {
			t.Fatal(err)
		}
		chats = append(chats, chat)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var times []int64 // every stored send time, for cursors on and around messages
	ctx := t.Context()
	for round := range 60 {
		for range rng.IntN(4) {
			m, err := replicas[rng.IntN(2)].Append(ctx, pigeonhole.Message{Chat: chats[rng.IntN(3)], Sender: "a", Text: fmt.Sprint(round)})
			if err != nil {
				t.Fatal(err)
			}
			times = append(times, m.SendTime)
		}
		for range 40 {
			q := pigeonhole.Range{Chat: chats[rng.IntN(3)], Reverse: rng.IntN(2) == 0, Limit: 1 + rng.IntN(6)}
			switch k := rng.IntN(5); {
			case k == 0 || len(times) == 0:
				q.From = map[bool]int64{false: 0, true: math.MaxInt64}[q.Reverse]
			default:
				q.From = times[rng.IntN(len(times))] + int64(rng.IntN(3)-1)
			}
			want, err := truth.Range(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range replicas {
				got, err := r.Range(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("round %d, replica %d, %+v:\n got %v\nwant %v", round, i, q, got, want)
				}
			}
		}
	}
}

func TestClosedCacheReportsTheClosedStore(t *testing.T) {
	cache := rangecache.New(openSQLite(t, t.TempDir()), rangecache.Config{MaxBytes: 1 << 20})
	svc := pigeonhole.NewService(cache, pigeonhole.Config{})
	for range 20 {
		if _, err := svc.Send(t.Context(), pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	pageAll(t, svc, "a:b", false) // cached now
	if err := cache.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := svc.Pull(t.Context(), pigeonhole.PullRequest{Chat: "a:b", Limit: 5})
	if pe, ok := errors.AsType[*pigeonhole.Error](err); !ok || pe.Code != pigeonhole.CodeUnavailable {
		t.Fatalf("pull after close: %v, want unavailable", err)
	}
}

// BenchmarkCachedPull pulls pages of 10 at random places of a chat of 1,000
// messages whose history has been read once, in parallel: the pages come
// from memory.
func BenchmarkCachedPull(b *testing.B) {
	inner, err := sqlite.Open(context.Background(), b.TempDir(), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	cache := rangecache.New(inner, rangecache.Config{MaxBytes: 8 << 20})
	defer cache.Close()
	svc := pigeonhole.NewService(cache, pigeonhole.Config{})
	var times []int64
	for i := range 1000 {
		m, err := svc.Send(b.Context(), pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: fmt.Sprint("message ", i)})
		if err != nil {
			b.Fatal(err)
		}
		times = append(times, m.SendTime)
	}
	for cursor := int64(0); ; {
		page, err := svc.Pull(b.Context(), pigeonhole.PullRequest{Chat: "a:b", Cursor: cursor, Limit: 100})
		if err != nil {
			b.Fatal(err)
		}
		if !page.HasMore {
			break
		}
		cursor = page.NextCursor
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(rand.Uint64(), 1))
		for pb.Next() {
			cursor := times[rng.IntN(len(times)-20)]
			page, err := svc.Pull(context.Background(), pigeonhole.PullRequest{Chat: "a:b", Cursor: cursor, Limit: 10})
			if err != nil || len(page.Messages) != 10 {
				b.Fatalf("pull: %d messages, %v", len(page.Messages), err)
			}
		}
	})
}
