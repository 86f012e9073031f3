package web

import (
	"sync"
	"time"

	"github.com/terroir-coop/terroir/traceability"
)

// traceCache keeps the public trace record of recently scanned lots and the
// pages rendered from it, so a scan costs a signature check, a map lookup
// and a counter increment — no database read and no template run.
//
// Freshness: this process drops a lot's entry when it changes the lot, and
// drops every entry when a certificate's status changes, so what it serves
// is current at once: the traceability store tells it every lot it changes
// (Service.OnLotChange). Changes made by another instance (several servers
// behind a load balancer) show within the configured TTL.
type traceCache struct {
	mu      sync.RWMutex
	entries map[string]*traceEntry
	now     func() time.Time
	ttl     time.Duration
}

const cacheMaxEntries = 20_000

// traceEntry is one lot's record and its rendered variants. Variants are
// keyed by language, authenticity state and serial.
type traceEntry struct {
	rec   traceability.TraceRecord
	built time.Time
	// products is the product as shown, per language (read once at fill:
	// a scan never reads the catalogue).
	products map[string]traceProduct

	mu    sync.Mutex
	pages map[string][]byte
}

func newTraceCache(now func() time.Time, ttl time.Duration) *traceCache {
	return &traceCache{entries: map[string]*traceEntry{}, now: now, ttl: ttl}
}

func (c *traceCache) get(code string) *traceEntry {
	c.mu.RLock()
	e := c.entries[code]
	c.mu.RUnlock()
	if e == nil || c.now().Sub(e.built) > c.ttl {
		return nil
	}
	return e
}

func (c *traceCache) put(code string, rec traceability.TraceRecord, products map[string]traceProduct) *traceEntry {
	e := &traceEntry{rec: rec, built: c.now(), pages: map[string][]byte{}, products: products}
	c.mu.Lock()
	if len(c.entries) >= cacheMaxEntries {
		// Drop an arbitrary tenth: cheap, and hot lots come straight back.
		n := 0
		for k := range c.entries {
			delete(c.entries, k)
			if n++; n >= cacheMaxEntries/10 {
				break
			}
		}
	}
	c.entries[code] = e
	c.mu.Unlock()
	return e
}

// invalidate drops the entries of the given lots.
func (c *traceCache) invalidate(codes ...string) {
	c.mu.Lock()
	for _, code := range codes {
		delete(c.entries, code)
	}
	c.mu.Unlock()
}

// clear drops every entry (a certificate changed: many lots show it).
func (c *traceCache) clear() {
	c.mu.Lock()
	c.entries = map[string]*traceEntry{}
	c.mu.Unlock()
}

func (e *traceEntry) page(key string) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pages[key]
}

func (e *traceEntry) setPage(key string, b []byte) {
	e.mu.Lock()
	e.pages[key] = b
	e.mu.Unlock()
}
