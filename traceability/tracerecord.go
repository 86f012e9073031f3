package traceability

import (
	"context"
	"errors"
	"sync"
	"time"
)

// readMemo remembers, for the trace record, what many lots share and what
// rarely changes — cooperatives, certificates, parcels' outlines — so that
// building a lot's record (a cold scan) reads the lot (and its ancestors),
// not also its cooperative, each certificate and each origin parcel.
// Certificates and parcels this process changes are forgotten at once (the
// store's announcements); cooperatives change only their register version,
// which no record shows. Everything is read again after its TTL
// (readMemoTTL unless Service.RememberFor says otherwise), so another
// instance's change shows as soon as the caches' own TTL allows. It is safe
// for concurrent use.
type readMemo struct {
	now func() time.Time
	ttl time.Duration // set before use (RememberFor), read without mu

	mu       sync.Mutex
	coops    map[string]remembered[Cooperative]
	certs    map[string]remembered[Certification]
	outlines map[string]remembered[*Geometry] // nil: a point, or no parcel
	// changed, while WarmOutlines reads, collects the parcels this process
	// changes meanwhile: what the read found of them may be stale.
	changed map[string]bool
	// afterWarmRead, for the tests, runs between WarmOutlines' read and
	// what it keeps of it.
	afterWarmRead func()
}

type remembered[T any] struct {
	v  T
	at time.Time
}

const (
	readMemoTTL  = 10 * time.Second
	readMemoSize = 120_000 // per kind (every parcel at the large scale, ≈ 12 MB); beyond it a kind starts again empty
)

func newReadMemo(store *Store, now func() time.Time) *readMemo {
	m := &readMemo{now: now, ttl: readMemoTTL, coops: map[string]remembered[Cooperative]{}, certs: map[string]remembered[Certification]{},
		outlines: map[string]remembered[*Geometry]{}}
	store.watchCertifications(func(id string) { forgetIn(&m.mu, m.certs, id) })
	store.watchParcels(func(id string) {
		m.mu.Lock()
		delete(m.outlines, id)
		if m.changed != nil {
			m.changed[id] = true
		}
		m.mu.Unlock()
	})
	return m
}

func forgetIn[T any](mu *sync.Mutex, mp map[string]remembered[T], key string) {
	mu.Lock()
	delete(mp, key)
	mu.Unlock()
}

// RememberFor sets how long a trace record's shared parts (cooperatives,
// certificates, parcels' outlines) are remembered before being read again:
// how long another instance's change to them may stay unseen. This
// process's own changes are forgotten at once whatever the TTL, so a store
// only this process writes (the embedded one) may remember them as long as
// its caches (cmd/terroir's cacheTTL). Call it before the service is used.
func (s *Service) RememberFor(ttl time.Duration) {
	if ttl > 0 {
		s.memo.ttl = ttl
	}
}

// WarmOutlines remembers every parcel's outline, or that it has none, from
// one read of the parcels (up to readMemoSize of them), so that the scans
// after a start read no parcel: without it a cold scan read each origin
// parcel not met before — in the load tool's cold mix, 2 of a cold scan's
// 4.4 lookups. It is worth it where the memo lives long (the embedded store,
// where terroir serve calls it); a parcel this process changes while the
// read runs is left to be read when needed. It returns how many parcels it
// remembered.
func (s *Service) WarmOutlines(ctx context.Context) (int, error) {
	m := s.memo
	m.mu.Lock()
	if m.changed != nil {
		m.mu.Unlock()
		return 0, errors.New("traceability: WarmOutlines is already running")
	}
	m.changed = map[string]bool{}
	m.mu.Unlock()
	at := m.now()
	read := map[string]*Geometry{}
	err := s.store.everyOutline(ctx, func(id string, g *Geometry) bool {
		read[id] = g
		return len(read) < readMemoSize
	})
	if m.afterWarmRead != nil {
		m.afterWarmRead()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	changed := m.changed
	m.changed = nil
	if err != nil {
		return 0, err
	}
	n := 0
	for id, g := range read {
		if _, known := m.outlines[id]; known || changed[id] {
			continue // read since by a scan, or changed since the read
		}
		if len(m.outlines) >= readMemoSize {
			break
		}
		m.outlines[id] = remembered[*Geometry]{v: g, at: at}
		n++
	}
	return n, nil
}

// recall returns what read gives for key, remembered for m.ttl.
// Errors are not remembered.
func recall[T any](m *readMemo, mp map[string]remembered[T], key string, read func() (T, error)) (T, error) {
	now := m.now()
	m.mu.Lock()
	r, ok := mp[key]
	m.mu.Unlock()
	if ok && now.Sub(r.at) <= m.ttl && !r.at.After(now) {
		return r.v, nil
	}
	v, err := read()
	if err != nil {
		return v, err
	}
	m.mu.Lock()
	if len(mp) >= readMemoSize {
		clear(mp)
	}
	mp[key] = remembered[T]{v: v, at: now}
	m.mu.Unlock()
	return v, nil
}

// traceCooperative is the cooperative a trace record names.
func (s *Service) traceCooperative(ctx context.Context, code string) (Cooperative, error) {
	return recall(s.memo, s.memo.coops, code, func() (Cooperative, error) { return s.store.cooperative(ctx, code) })
}

// traceCertification is a certificate a trace record shows the status of
// (computed from it for today by the caller).
func (s *Service) traceCertification(ctx context.Context, id string) (Certification, error) {
	return recall(s.memo, s.memo.certs, id, func() (Certification, error) { return s.store.certification(ctx, id) })
}

// traceOutline is a parcel's walked outline, nil for a parcel recorded as
// a point or no longer found.
func (s *Service) traceOutline(ctx context.Context, parcel string) (*Geometry, error) {
	return recall(s.memo, s.memo.outlines, parcel, func() (*Geometry, error) {
		p, err := s.store.parcel(ctx, parcel)
		switch {
		case errors.Is(err, ErrParcelNotFound):
			return nil, nil
		case err != nil:
			return nil, err
		}
		return p.outline(), nil
	})
}
