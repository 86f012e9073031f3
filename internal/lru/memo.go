package lru

import "sync/atomic"

// Memo keeps what reads of a store found, for a store this process alone
// writes (the embedded store, whose data directory one process holds):
// every write of a key is followed by Forget, so what Memo holds is what
// the store holds. A read that ran while a Forget happened does not keep
// what it read, since it may be from before the write. A nil Memo keeps
// nothing and reads every time: where another process may write (a
// replica set), callers leave it nil. The credentials of web/accounts and
// the till prices of catalog use it.
type Memo[K comparable, V any] struct {
	cache   *Cache[K, V]
	size    int64 // each entry's estimated size in bytes
	forgets atomic.Int64
}

// NewMemo returns a Memo holding at most budget bytes of entries of about
// size bytes each.
func NewMemo[K comparable, V any](budget, size int64) *Memo[K, V] {
	return &Memo[K, V]{cache: New[K, V](budget), size: size}
}

// Get returns what key holds, calling read when it holds nothing; what
// read returns without error is kept (unless a Forget ran meanwhile).
// Callers only read the value it returns.
func (m *Memo[K, V]) Get(key K, read func() (V, error)) (V, error) {
	if m == nil {
		return read()
	}
	if v, ok := m.cache.Get(key); ok {
		return v, nil
	}
	forgets := m.forgets.Load()
	v, err := read()
	if err != nil {
		return v, err
	}
	m.cache.Put(key, v, m.size)
	if m.forgets.Load() != forgets {
		m.cache.Remove(key)
	}
	return v, nil
}

// Forget drops key; call it after every write of key has ended (for a
// write inside a change that may roll back, after the change).
func (m *Memo[K, V]) Forget(key K) {
	if m == nil {
		return
	}
	m.forgets.Add(1)
	m.cache.Remove(key)
}
