// Package lru is a cache bounded by bytes: each entry is put with its size,
// and when the sizes add up past the budget the least recently used
// entries are evicted until they fit again. The caches of rendered pages
// (web/trace, web/catalogcache) use it, so memory follows a byte budget the
// operator sets (TERROIR_CACHE_BYTES) rather than a count of entries whose
// size varies from 2 KB to megabytes.
//
// Sizes are what the caller says: exact for byte slices, an estimate for
// decoded records. A Cache is safe for concurrent use.
package lru

import (
	"container/list"
	"sync"
)

// Cache maps keys to values within a byte budget.
type Cache[K comparable, V any] struct {
	mu     sync.Mutex
	budget int64
	used   int64
	items  map[K]*list.Element
	order  *list.List // front: most recently used
	// evicted counts the entries pushed out by the budget (not the ones
	// removed or replaced): a cache too small for its load shows here.
	evicted int64
}

type item[K comparable, V any] struct {
	key  K
	val  V
	size int64
}

// New returns an empty cache holding at most budget bytes (a budget ≤ 0
// keeps nothing).
func New[K comparable, V any](budget int64) *Cache[K, V] {
	return &Cache[K, V]{budget: budget, items: map[K]*list.Element{}, order: list.New()}
}

// Get returns the value of key and marks it recently used.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*item[K, V]).val, true
}

// Peek returns the value of key without marking it used.
func (c *Cache[K, V]) Peek(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	return el.Value.(*item[K, V]).val, true
}

// Put stores val under key with its size in bytes, replacing what key held,
// then evicts the least recently used entries until the budget holds. An
// entry larger than the whole budget is not kept.
func (c *Cache[K, V]) Put(key K, val V, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.removeElement(el)
	}
	if size > c.budget {
		return
	}
	c.items[key] = c.order.PushFront(&item[K, V]{key: key, val: val, size: size})
	c.used += size
	c.evict()
}

// Grow adds delta bytes to key's size (an entry that keeps more, such as a
// record with one more rendered page) and evicts to fit; the entry itself
// is kept if it fits alone. It reports whether key is still cached.
func (c *Cache[K, V]) Grow(key K, delta int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return false
	}
	it := el.Value.(*item[K, V])
	it.size += delta
	c.used += delta
	c.order.MoveToFront(el)
	if it.size > c.budget {
		c.removeElement(el)
		return false
	}
	c.evict()
	return true
}

// Remove drops key.
func (c *Cache[K, V]) Remove(key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.removeElement(el)
	}
}

// RemoveIf drops every entry for which drop returns true. It holds the
// cache while it runs: drop must be quick and must not use the cache.
func (c *Cache[K, V]) RemoveIf(drop func(K, V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.order.Front(); el != nil; {
		next := el.Next()
		it := el.Value.(*item[K, V])
		if drop(it.key, it.val) {
			c.removeElement(el)
		}
		el = next
	}
}

// Clear drops every entry.
func (c *Cache[K, V]) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items = map[K]*list.Element{}
	c.order.Init()
	c.used = 0
}

// Stats are a cache's entries, bytes in use, budget and evictions so far.
type Stats struct {
	Entries       int
	Bytes, Budget int64
	Evicted       int64
}

// Stats says how full the cache is.
func (c *Cache[K, V]) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Entries: len(c.items), Bytes: c.used, Budget: c.budget, Evicted: c.evicted}
}

func (c *Cache[K, V]) evict() {
	for c.used > c.budget {
		el := c.order.Back()
		if el == nil {
			return
		}
		c.removeElement(el)
		c.evicted++
	}
}

func (c *Cache[K, V]) removeElement(el *list.Element) {
	it := el.Value.(*item[K, V])
	c.order.Remove(el)
	delete(c.items, it.key)
	c.used -= it.size
}
