package jwtauth

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"time"
)

// cache remembers verified tokens until they expire: a bounded LRU, so a
// flood of distinct (even valid) tokens costs memory for at most size of
// them, each by its SHA-256 rather than whole (a token may be kilobytes).
// Only tokens that verified are ever put, so a cached token needs no
// second signature check, only the clock.
type cache struct {
	size int

	mu    sync.Mutex
	order *list.List // of *entry, most recently used first
	byKey map[tokenKey]*list.Element
}

// tokenKey is a token's SHA-256.
type tokenKey [sha256.Size]byte

func keyOf(token string) tokenKey { return sha256.Sum256([]byte(token)) }

type entry struct {
	key     tokenKey
	subject string
	expires time.Time // exp plus the leeway
}

func newCache(size int) *cache {
	return &cache{size: size, order: list.New(), byKey: make(map[tokenKey]*list.Element)}
}

// get returns the subject of a remembered token that has not expired by
// now; an expired one is forgotten.
func (c *cache) get(token string, now time.Time) (string, bool) {
	key := keyOf(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return "", false
	}
	e := el.Value.(*entry)
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.byKey, key)
		return "", false
	}
	c.order.MoveToFront(el)
	return e.subject, true
}

// put remembers a verified token until expires, evicting the least
// recently used one when full.
func (c *cache) put(token, subject string, expires time.Time) {
	key := keyOf(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.order.MoveToFront(el)
		return
	}
	if c.order.Len() >= c.size {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.byKey, oldest.Value.(*entry).key)
	}
	c.byKey[key] = c.order.PushFront(&entry{key: key, subject: subject, expires: expires})
}

// len is the number of remembered tokens.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
