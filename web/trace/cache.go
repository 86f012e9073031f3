package trace

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/terroir-coop/terroir/internal/lru"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/page"
)

// cache keeps the public trace record of recently scanned lots and the
// pages rendered from it, within a byte budget: the least recently scanned
// lots go first (the record's size is estimated, the pages' is exact).
//
// No cliff at expiry: a lot's record is filled by one goroutine at a time
// (concurrent scans of a lot being filled wait for that one fill), and
// from three quarters of the TTL on it is refilled in the background while
// scans go on being served the old one. Only a lot not in the cache, one
// dropped by a change of this process, or one left unscanned past its TTL
// (and not being refilled) makes a scan wait.
type cache struct {
	now  func() time.Time
	ttl  time.Duration
	lots *lru.Cache[string, *entry]
	fill func(ctx context.Context, code string) (*entry, error)

	mu      sync.Mutex
	flights map[string]*fill
	// seq numbers fills and changes: a fill that began before a change of
	// its lot (or of a lot its steps name, or a clear) is handed to its
	// waiters but not kept. changed is pruned whenever no fill is running.
	seq     uint64
	changed map[string]uint64
	cleared uint64
}

// fill is one lot's fill in progress.
type fill struct {
	began uint64
	done  chan struct{}
	e     *entry
	err   error
}

// DefaultCacheBytes is the trace cache's budget when none is configured:
// about 4 500 lots with their pages in one or two languages (half of the
// server's default, web.DefaultCacheBytes).
const DefaultCacheBytes = 48 << 20

// entry is one lot's record and its rendered variants, keyed by language,
// authenticity state and serial. Pages are kept gzipped.
type entry struct {
	code  string
	rec   traceability.TraceRecord
	built time.Time
	// products is the product as shown, per language (read once at fill:
	// a scan never reads the catalogue).
	products map[string]product
	// places names the custody's places (shops, cooperatives) by code,
	// read once at fill like products.
	places map[string]string

	mu     sync.Mutex
	pages  map[string][]byte      // gzipped
	cloned map[string]*clonedPage // pages of a lot past the cloned-label threshold
}

// clonedPage is a page whose warning names the live count of scanners:
// it is kept in two halves around the warning, and the page of the last
// count served is kept gzipped.
type clonedPage struct {
	head, tail []byte
	count      int64
	gz         []byte
}

func newCache(now func() time.Time, ttl time.Duration, budget int64, fillFn func(context.Context, string) (*entry, error)) *cache {
	return &cache{now: now, ttl: ttl, lots: lru.New[string, *entry](budget), fill: fillFn,
		flights: map[string]*fill{}, changed: map[string]uint64{}}
}

// get returns a lot's entry, filling it on a miss or at expiry, and
// refilling it in the background ahead of expiry.
func (c *cache) get(ctx context.Context, code string) (*entry, error) {
	e, _ := c.lots.Get(code)
	var age time.Duration
	if e != nil {
		age = c.now().Sub(e.built)
		if age < c.ttl*3/4 {
			return e, nil // the hot path: no lock but the LRU's
		}
	}
	c.mu.Lock()
	fl := c.flights[code]
	switch {
	case e != nil && age <= c.ttl:
		if fl == nil {
			c.startFill(ctx, code)
		}
		c.mu.Unlock()
		return e, nil
	case e != nil && fl != nil && age <= 2*c.ttl:
		c.mu.Unlock() // expired and being refilled: served until it lands
		return e, nil
	}
	if fl == nil {
		fl = c.startFill(ctx, code)
	}
	c.mu.Unlock()
	select {
	case <-fl.done:
		return fl.e, fl.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// startFill fills code in its own goroutine, detached from the scan that
// asked (a client that goes away must not fail the others waiting); c.mu
// is held.
func (c *cache) startFill(ctx context.Context, code string) *fill {
	c.seq++
	fl := &fill{began: c.seq, done: make(chan struct{})}
	c.flights[code] = fl
	ctx = context.WithoutCancel(ctx)
	go func() {
		e, err := c.fill(ctx, code)
		c.mu.Lock()
		delete(c.flights, code)
		keep := err == nil && c.cleared < fl.began && c.changed[code] < fl.began
		if keep {
			for _, st := range e.rec.Steps {
				if st.Lot != "" && c.changed[st.Lot] >= fl.began {
					keep = false
					break
				}
			}
		}
		if len(c.flights) == 0 {
			clear(c.changed)
		}
		c.mu.Unlock()
		if keep {
			c.lots.Put(code, e, e.size())
		}
		fl.e, fl.err = e, err
		close(fl.done)
	}()
	return fl
}

// changedNow records a change of code for the fills in progress; c.mu is
// held.
func (c *cache) changedNow(code string) {
	if len(c.flights) > 0 {
		c.seq++
		c.changed[code] = c.seq
	}
}

// forget drops the entries of the given lots.
func (c *cache) forget(codes ...string) {
	c.mu.Lock()
	for _, code := range codes {
		c.changedNow(code)
	}
	c.mu.Unlock()
	for _, code := range codes {
		c.lots.Remove(code)
	}
}

// forgetMadeFrom drops the entries whose record shows code among its
// steps: a lot made from code shows its quantities (a correction upstream
// changes a jar's page).
func (c *cache) forgetMadeFrom(code string) {
	c.mu.Lock()
	c.changedNow(code)
	c.mu.Unlock()
	c.lots.RemoveIf(func(_ string, e *entry) bool {
		for _, st := range e.rec.Steps {
			if st.Lot == code {
				return true
			}
		}
		return false
	})
}

// forgetIf drops the entries for which drop is true (a product renamed:
// the lots packed into it).
func (c *cache) forgetIf(drop func(*entry) bool) {
	c.lots.RemoveIf(func(_ string, e *entry) bool { return drop(e) })
}

// clear drops every entry (a certificate changed: many lots show it).
func (c *cache) clear() {
	c.mu.Lock()
	c.seq++
	c.cleared = c.seq
	c.mu.Unlock()
	c.lots.Clear()
}

func newEntry(rec traceability.TraceRecord, built time.Time, products map[string]product, places map[string]string) *entry {
	// The page never shows a lot's events, shares or lab results (their
	// effects are in the record already): a cached lot does not carry
	// them, which is most of a long-lived lot's memory.
	rec.Lot.Events, rec.Lot.Shares, rec.Lot.ShareHistory, rec.Lot.LabResults = nil, nil, nil, nil
	return &entry{code: rec.Lot.Code, rec: rec, built: built, products: products, places: places, pages: map[string][]byte{}}
}

// size estimates an entry's memory without its pages (added as they are
// kept): a fixed part, then per line of the record.
func (e *entry) size() int64 {
	r := e.rec
	n := 2048 + 320*len(r.Lot.Origin) + 48*(len(r.Lot.Inputs)+len(r.Lot.Outputs)) + 96*len(r.Lot.Claims) + 160*len(r.Lot.Flags)
	n += 256*len(r.Origin) + 160*len(r.Steps) + 192*len(r.Claims) + 128*len(r.Custody) + 640*len(r.Certificates) + 160*len(r.Corrections)
	for _, o := range r.Origin {
		if o.Outline != nil {
			n += 64 + len(o.Outline.Coordinates)*3 // decoded points weigh more than their JSON
		}
	}
	for _, p := range e.products {
		n += 160 + len(p.Name)
	}
	for k, v := range e.places {
		n += 64 + len(k) + len(v)
	}
	return int64(n)
}

// page returns the gzipped page kept under key.
func (e *entry) page(key string) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pages[key]
}

// setPage keeps a rendered page gzipped, counts it in the budget and
// returns the gzipped bytes.
func (c *cache) setPage(e *entry, key string, b []byte) []byte {
	z := page.Gzip(b)
	e.mu.Lock()
	_, had := e.pages[key]
	e.pages[key] = z
	e.mu.Unlock()
	if !had {
		c.lots.Grow(e.code, int64(len(z)+len(key))+64)
	}
	return z
}

// clonedMark stands for the cloned-label warning in a page rendered for
// keeping: served, it is replaced by the warning with the live count.
const clonedMark = "TERROIRCLONEDWARNING7f3a9c"

// setCloned keeps a page rendered with clonedMark for its warning, in two
// halves; false if the mark is not found once (then nothing is kept).
func (c *cache) setCloned(e *entry, key string, b []byte) bool {
	head, tail, ok := bytes.Cut(b, []byte(clonedMark))
	if !ok || bytes.Contains(tail, []byte(clonedMark)) {
		return false
	}
	e.mu.Lock()
	if e.cloned == nil {
		e.cloned = map[string]*clonedPage{}
	}
	_, had := e.cloned[key]
	e.cloned[key] = &clonedPage{head: head, tail: tail}
	e.mu.Unlock()
	if !had {
		c.lots.Grow(e.code, int64(len(b)+len(key))+64)
	}
	return true
}

// clonedPage returns the page of key with warning in place, and its gzip
// made once per count; nil when no such page is kept.
func (c *cache) clonedPage(e *entry, key string, count int64, warning string) (plain, gz []byte) {
	e.mu.Lock()
	p := e.cloned[key]
	if p == nil {
		e.mu.Unlock()
		return nil, nil
	}
	if p.gz != nil && p.count == count {
		z := p.gz
		e.mu.Unlock()
		return nil, z
	}
	e.mu.Unlock()
	var buf bytes.Buffer
	buf.Grow(len(p.head) + len(warning) + len(p.tail))
	buf.Write(p.head)
	buf.WriteString(warning)
	buf.Write(p.tail)
	plain = buf.Bytes()
	z := page.Gzip(plain)
	e.mu.Lock()
	grow := int64(len(z))
	if p.gz != nil {
		grow -= int64(len(p.gz))
	}
	p.count, p.gz = count, z
	e.mu.Unlock()
	c.lots.Grow(e.code, grow)
	return plain, z
}
