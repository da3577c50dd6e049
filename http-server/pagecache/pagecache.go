// Package pagecache keeps the gateway's encoded answers to pulls the
// message service marked final (pigeonhole.Page.Final), so that a repeated
// pull of settled history is answered without an RPC or an encoding.
//
// A final page is the answer to its request for good, on every replica,
// whatever is sent later, so entries are never invalidated and several
// gateways need no coordination: each keeps its own. Which pages are final
// is the service's rule; this package only stores bytes under a key that
// must capture everything the answer depends on (the request as bound and
// the response's encoding). Memory is bounded: least recently used entries
// go first.
package pagecache

import (
	"container/list"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// numShards splits the cache so that concurrent requests rarely wait for
// one another's lock.
const numShards = 16

// entryOverhead approximates the bytes an entry costs besides its key and
// body: the list element, the entry and the map's slot.
const entryOverhead = 160

// Cache maps keys to immutable response bodies. A nil *Cache is a cache
// that holds nothing.
type Cache struct {
	seed   maphash.Seed
	shards [numShards]shard
	hits   atomic.Int64
	misses atomic.Int64
}

type shard struct {
	mu    sync.Mutex
	items map[string]*list.Element // of *entry
	lru   list.List                // front: most recently used
	bytes int64
	max   int64
}

type entry struct {
	key  string
	body []byte
}

// New returns a cache holding about maxBytes of keys and bodies, or nil
// (nothing cached) when maxBytes is not positive.
func New(maxBytes int64) *Cache {
	if maxBytes <= 0 {
		return nil
	}
	c := &Cache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i] = shard{items: map[string]*list.Element{}, max: maxBytes / numShards}
	}
	return c
}

func (c *Cache) shard(key []byte) *shard {
	return &c.shards[maphash.Bytes(c.seed, key)%numShards]
}

// Get returns the body stored under key. The caller must not modify it.
func (c *Cache) Get(key []byte) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	s := c.shard(key)
	s.mu.Lock()
	el, ok := s.items[string(key)]
	var body []byte
	if ok {
		s.lru.MoveToFront(el)
		body = el.Value.(*entry).body
	}
	s.mu.Unlock()
	if ok {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	return body, ok
}

// Put stores a copy of body under key, evicting the least recently used
// entries to stay within the cache's size. A body too big to keep (over
// an eighth of a shard) is not stored; neither is a key already present.
func (c *Cache) Put(key, body []byte) {
	if c == nil {
		return
	}
	s := c.shard(key)
	size := int64(len(key)+len(body)) + entryOverhead
	if size > s.max/8 {
		return
	}
	e := &entry{key: string(key), body: append([]byte(nil), body...)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.items[e.key]; ok {
		return
	}
	s.items[e.key] = s.lru.PushFront(e)
	s.bytes += size
	for s.bytes > s.max {
		old := s.lru.Remove(s.lru.Back()).(*entry)
		delete(s.items, old.key)
		s.bytes -= int64(len(old.key)+len(old.body)) + entryOverhead
	}
}

// Stats are a cache's lookups so far and its current size.
type Stats struct {
	Hits, Misses   int64
	Entries, Bytes int64
}

// Stats returns the cache's counters; all zero for a nil cache.
func (c *Cache) Stats() Stats {
	if c == nil {
		return Stats{}
	}
	st := Stats{Hits: c.hits.Load(), Misses: c.misses.Load()}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		st.Entries += int64(len(s.items))
		st.Bytes += s.bytes
		s.mu.Unlock()
	}
	return st
}
