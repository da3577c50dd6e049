package pagecache_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/http-server/pagecache"
)

func TestGetReturnsWhatWasPut(t *testing.T) {
	c := pagecache.New(1 << 20)
	if _, ok := c.Get([]byte("k")); ok {
		t.Fatal("empty cache: got a hit")
	}
	body := []byte("page one")
	c.Put([]byte("k"), body)
	body[0] = 'X' // the caller's buffer is reused for the next response
	got, ok := c.Get([]byte("k"))
	if !ok || string(got) != "page one" {
		t.Fatalf("got %q, %v; want the body as it was put", got, ok)
	}
	c.Put([]byte("k"), []byte("other"))
	if got, _ := c.Get([]byte("k")); string(got) != "page one" {
		t.Fatalf("a second put replaced the entry: got %q", got)
	}
	if _, ok := c.Get([]byte("k2")); ok {
		t.Fatal("another key: got a hit")
	}
	if st := c.Stats(); st.Hits != 2 || st.Misses != 2 || st.Entries != 1 {
		t.Fatalf("stats: got %+v, want 2 hits, 2 misses, 1 entry", st)
	}
}

func TestNilCacheHoldsNothing(t *testing.T) {
	c := pagecache.New(0)
	if c != nil {
		t.Fatalf("New(0): got %v, want nil", c)
	}
	c.Put([]byte("k"), []byte("v"))
	if _, ok := c.Get([]byte("k")); ok {
		t.Fatal("nil cache: got a hit")
	}
	if st := c.Stats(); st != (pagecache.Stats{}) {
		t.Fatalf("nil cache stats: got %+v", st)
	}
}

func TestSizeIsBoundedAndRecentlyUsedStay(t *testing.T) {
	const max = 64 << 10
	c := pagecache.New(max)
	body := make([]byte, 200)
	key := func(i int) []byte { return []byte(fmt.Sprintf("key-%05d", i)) }
	c.Put(key(0), body)
	for i := 1; i < 5000; i++ {
		c.Put(key(i), body)
		if _, ok := c.Get(key(0)); !ok {
			t.Fatalf("the entry read after every put was evicted at put %d", i)
		}
	}
	st := c.Stats()
	if st.Bytes > max {
		t.Fatalf("cache holds %d bytes, more than its %d", st.Bytes, max)
	}
	if st.Entries < 100 || st.Entries > 4999 {
		t.Fatalf("cache holds %d entries: expected it to fill and evict", st.Entries)
	}
	if _, ok := c.Get(key(1)); ok {
		t.Fatal("the least recently used entry survived 5000 puts")
	}
	if _, ok := c.Get(key(4999)); !ok {
		t.Fatal("the newest entry was evicted")
	}
}

func TestOversizedBodyIsNotKept(t *testing.T) {
	c := pagecache.New(16 * 1024) // 1 KiB a shard, so at most 128 bytes an entry
	c.Put([]byte("big"), make([]byte, 1024))
	if _, ok := c.Get([]byte("big")); ok {
		t.Fatal("an entry bigger than an eighth of its shard was kept")
	}
}

func TestConcurrentUse(t *testing.T) {
	c := pagecache.New(32 << 10)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := []byte(fmt.Sprint((w*7 + i) % 300))
				if got, ok := c.Get(k); ok && string(got) != "v"+string(k) {
					t.Errorf("key %s: got %q", k, got)
					return
				}
				c.Put(k, []byte("v"+string(k)))
			}
		}()
	}
	wg.Wait()
	if st := c.Stats(); st.Bytes > 32<<10 || st.Hits == 0 {
		t.Fatalf("stats after concurrent use: %+v", st)
	}
}

// BenchmarkGetHit is the lookup of a pull answered from the cache, from
// parallel goroutines, among 10,000 entries of 1.4 KB.
func BenchmarkGetHit(b *testing.B) {
	c := pagecache.New(32 << 20)
	keys := make([][]byte, 10_000)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("\x00\x00\x0a\x00\x00\x00%08dbench-chat-a:bench-chat-b", i))
		c.Put(keys[i], make([]byte, 1400))
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok := c.Get(keys[i%len(keys)]); !ok {
				b.Fatal("miss")
			}
			i += 7
		}
	})
}
