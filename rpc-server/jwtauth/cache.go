package jwtauth

import (
	"container/list"
	"sync"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// cache remembers verified tokens until they expire: a bounded LRU, so a
// flood of distinct (even valid) tokens costs memory for at most size of
// them. Only tokens that verified are ever put, so a cached token needs no
// second signature check, only the clock.
type cache struct {
	size int

	mu    sync.Mutex
	order *list.List // of *entry, most recently used first
	byKey map[string]*list.Element
}

type entry struct {
	token   string
	caller  pigeonhole.Caller
	expires time.Time // exp plus the leeway
}

func newCache(size int) *cache {
	return &cache{size: size, order: list.New(), byKey: make(map[string]*list.Element, size)}
}

// get returns the caller of a remembered token that has not expired by
// now; an expired one is forgotten.
func (c *cache) get(token string, now time.Time) (pigeonhole.Caller, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[token]
	if !ok {
		return pigeonhole.Caller{}, false
	}
	e := el.Value.(*entry)
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.byKey, token)
		return pigeonhole.Caller{}, false
	}
	c.order.MoveToFront(el)
	return e.caller, true
}

// put remembers a verified token until expires, evicting the least
// recently used one when full.
func (c *cache) put(token string, caller pigeonhole.Caller, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[token]; ok {
		c.order.MoveToFront(el)
		return
	}
	if c.order.Len() >= c.size {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.byKey, oldest.Value.(*entry).token)
	}
	c.byKey[token] = c.order.PushFront(&entry{token: token, caller: caller, expires: expires})
}

// len is the number of remembered tokens.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
