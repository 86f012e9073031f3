package trace

import (
	"context"
	"sync"
	"time"

	"github.com/terroir-coop/terroir/catalog"
)

// names remembers what trace pages name besides the lot — its product and
// the places of its custody — so that filling a lot's record (a cold scan)
// reads the lot, not also its product and each shop: a network has a few
// thousand products and a few dozen places, shared by all its lots.
// A product this process changes is forgotten at once (ProductChanged);
// another instance's change, and a place's new name, show within the
// cache's TTL, as the records do.
type names struct {
	now func() time.Time
	ttl time.Duration

	mu       sync.Mutex
	products map[string]knownProduct
	places   map[string]knownPlace
	// changed, while readAll reads, collects the products forgotten
	// meanwhile: what the read found of them may be stale.
	changed map[string]bool
	// afterWarmRead, for the tests, runs between readAll's read and what
	// it keeps of it.
	afterWarmRead func()
}

type knownProduct struct {
	p     catalog.Product
	found bool
	at    time.Time
}

type knownPlace struct {
	name string
	at   time.Time
}

// maxNames bounds each memory: beyond it, it starts again empty.
const maxNames = 20_000

func newNames(now func() time.Time, ttl time.Duration) *names {
	return &names{now: now, ttl: ttl, products: map[string]knownProduct{}, places: map[string]knownPlace{}}
}

// product is the catalogue's product of sku, remembered for the TTL.
func (n *names) product(ctx context.Context, src Products, sku string) (catalog.Product, bool) {
	now := n.now()
	n.mu.Lock()
	k, ok := n.products[sku]
	n.mu.Unlock()
	if ok && now.Sub(k.at) <= n.ttl {
		return k.p, k.found
	}
	p, err := src.Product(ctx, sku)
	if err != nil && ctx.Err() != nil {
		return catalog.Product{}, false // not an answer about the product: not remembered
	}
	k = knownProduct{p: p, found: err == nil, at: now}
	n.mu.Lock()
	if len(n.products) >= maxNames {
		clear(n.products)
	}
	n.products[sku] = k
	n.mu.Unlock()
	return k.p, k.found
}

func (n *names) forgetProduct(sku string) {
	n.mu.Lock()
	delete(n.products, sku)
	if n.changed != nil {
		n.changed[sku] = true
	}
	n.mu.Unlock()
}

// AllProducts is the whole catalogue, for readAll.
type AllProducts interface {
	AllProducts(ctx context.Context) ([]catalog.Product, error)
}

// readAll reads the whole catalogue through src and remembers every
// product it returns (up to maxNames), so that the first scan of each
// product's lots does not read it: at the large scale (10,000 products)
// most first scans after a start did. The catalogue cache reads through it
// (web.Server), so its one read at start, and at each refresh, serves both.
// A product forgotten while the read runs is left to be read when needed,
// and one a scan read meanwhile is kept; a read while another runs only
// reads.
func (n *names) readAll(ctx context.Context, src AllProducts) ([]catalog.Product, error) {
	n.mu.Lock()
	if n.changed != nil {
		n.mu.Unlock()
		return src.AllProducts(ctx)
	}
	n.changed = map[string]bool{}
	n.mu.Unlock()
	at := n.now()
	all, err := src.AllProducts(ctx)
	if n.afterWarmRead != nil {
		n.afterWarmRead()
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	changed := n.changed
	n.changed = nil
	if err != nil {
		return nil, err
	}
	for _, p := range all {
		if k, known := n.products[p.SKU]; (known && k.at.After(at)) || changed[p.SKU] {
			continue // read since by a scan, or changed since the read
		}
		if len(n.products) >= maxNames {
			break
		}
		n.products[p.SKU] = knownProduct{p: p, found: true, at: at}
	}
	return all, nil
}

// place is the name of a shop or cooperative, remembered for the TTL.
func (n *names) place(ctx context.Context, src Places, code string) string {
	now := n.now()
	n.mu.Lock()
	k, ok := n.places[code]
	n.mu.Unlock()
	if ok && now.Sub(k.at) <= n.ttl {
		return k.name
	}
	name := src.PlaceName(ctx, code)
	if ctx.Err() != nil {
		return name
	}
	n.mu.Lock()
	if len(n.places) >= maxNames {
		clear(n.places)
	}
	n.places[code] = knownPlace{name: name, at: now}
	n.mu.Unlock()
	return name
}
