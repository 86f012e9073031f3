package trace

import (
	"bytes"
	"compress/gzip"
	"io"
	"sync"
	"time"

	"github.com/terroir-coop/terroir/traceability"
)

// cache keeps the public trace record of recently scanned lots and the
// pages rendered from it.
type cache struct {
	mu      sync.RWMutex
	entries map[string]*entry
	now     func() time.Time
	ttl     time.Duration
}

const cacheMaxEntries = 20_000

// entry is one lot's record and its rendered variants, keyed by language,
// authenticity state and serial.
type entry struct {
	rec   traceability.TraceRecord
	built time.Time
	// products is the product as shown, per language (read once at fill:
	// a scan never reads the catalogue).
	products map[string]product
	// places names the custody's places (shops, cooperatives) by code,
	// read once at fill like products.
	places map[string]string

	mu    sync.Mutex
	pages map[string][]byte
	gz    map[string][]byte // the same pages gzipped, made on first demand
}

func newCache(now func() time.Time, ttl time.Duration) *cache {
	return &cache{entries: map[string]*entry{}, now: now, ttl: ttl}
}

func (c *cache) get(code string) *entry {
	c.mu.RLock()
	e := c.entries[code]
	c.mu.RUnlock()
	if e == nil || c.now().Sub(e.built) > c.ttl {
		return nil
	}
	return e
}

func (c *cache) put(code string, rec traceability.TraceRecord, products map[string]product, places map[string]string) *entry {
	e := &entry{rec: rec, built: c.now(), pages: map[string][]byte{}, products: products, places: places}
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

// forget drops the entries of the given lots.
func (c *cache) forget(codes ...string) {
	c.mu.Lock()
	for _, code := range codes {
		delete(c.entries, code)
	}
	c.mu.Unlock()
}

// forgetMadeFrom drops the entries whose record shows code among its
// steps: a lot made from code shows its quantities (a correction upstream
// changes a jar's page).
func (c *cache) forgetMadeFrom(code string) {
	c.mu.Lock()
	for k, e := range c.entries {
		for _, st := range e.rec.Steps {
			if st.Lot == code {
				delete(c.entries, k)
				break
			}
		}
	}
	c.mu.Unlock()
}

// clear drops every entry (a certificate changed: many lots show it).
func (c *cache) clear() {
	c.mu.Lock()
	c.entries = map[string]*entry{}
	c.mu.Unlock()
}

func (e *entry) page(key string) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pages[key]
}

// gzipWriters are reused: a compressor's state is a few hundred kilobytes.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

// gzipped is page(key) compressed, made once: a warm scan then costs no
// compression (it cost three times the rest of the answer at BestSpeed).
func (e *entry) gzipped(key string) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	if z, ok := e.gz[key]; ok {
		return z
	}
	b := e.pages[key]
	if b == nil {
		return nil
	}
	var buf bytes.Buffer
	w := gzipWriters.Get().(*gzip.Writer)
	w.Reset(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	w.Reset(io.Discard)
	gzipWriters.Put(w)
	if e.gz == nil {
		e.gz = map[string][]byte{}
	}
	e.gz[key] = buf.Bytes()
	return e.gz[key]
}

func (e *entry) setPage(key string, b []byte) {
	e.mu.Lock()
	e.pages[key] = b
	e.mu.Unlock()
}
