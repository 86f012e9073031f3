package web

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
)

// CatalogCache keeps each channel's catalogue in memory: products with
// their price and available units, so browsing costs no database read.
//
// Freshness: a stock change in this process marks its (shop, sku) dirty
// (Changed, wired as the shops.Stock callback), and the next request
// re-reads just those shelves by _id; a product or price change drops the
// channel. Changes made by another instance show within the TTL.
type CatalogCache struct {
	mu       sync.Mutex
	channels map[string]*channelCatalog
	dirty    map[string]map[string]bool // shop → skus
	now      func() time.Time
	ttl      time.Duration
}

type channelCatalog struct {
	built    time.Time
	products []catalog.Product
	shelves  map[string]shops.Shelf // by sku
	valid    map[string]bool        // certificates valid today
	memo     catalogMemo            // pages' derived views (catalog_pages.go); a new channelCatalog starts empty

	itemsOnce sync.Once
	itemList  []catalogItem // items(), built once: the entry is immutable
}

// NewCatalogCache returns an empty cache whose channels are rebuilt after
// ttl (another instance's changes; this process's show at once).
func NewCatalogCache(now func() time.Time, ttl time.Duration) *CatalogCache {
	return &CatalogCache{channels: map[string]*channelCatalog{}, dirty: map[string]map[string]bool{}, now: now, ttl: ttl}
}

// Changed marks a shelf as moved.
func (c *CatalogCache) Changed(shop, sku string) {
	c.mu.Lock()
	if c.dirty[shop] == nil {
		c.dirty[shop] = map[string]bool{}
	}
	c.dirty[shop][sku] = true
	c.mu.Unlock()
}

// dropAll forgets every channel (a product or a price changed).
func (c *CatalogCache) dropAll() {
	c.mu.Lock()
	c.channels = map[string]*channelCatalog{}
	c.mu.Unlock()
}

// channel returns the channel's catalogue, building or patching it.
func (c *CatalogCache) channel(ctx context.Context, channel string, cat *catalog.Service, stock *shops.Stock, trace *traceability.Service) (*channelCatalog, error) {
	c.mu.Lock()
	cc := c.channels[channel]
	dirty := c.dirty[channel]
	delete(c.dirty, channel)
	c.mu.Unlock()
	if cc != nil && c.now().Sub(cc.built) <= c.ttl {
		if len(dirty) == 0 {
			return cc, nil
		}
		// Patch a copy: readers of the old one keep a consistent view.
		patched := &channelCatalog{built: cc.built, products: cc.products, valid: cc.valid, shelves: make(map[string]shops.Shelf, len(cc.shelves))}
		for k, v := range cc.shelves {
			patched.shelves[k] = v
		}
		for sku := range dirty {
			sh, err := stock.Shelf(ctx, channel, sku)
			if err != nil && sh.SKU == "" {
				c.requeue(channel, dirty)
				return nil, err
			}
			patched.shelves[sku] = sh
		}
		c.store(channel, cc, patched)
		return patched, nil
	}
	products, err := cat.AllProducts(ctx)
	if err != nil {
		c.requeue(channel, dirty)
		return nil, err
	}
	list, err := stock.Shelves(ctx, channel)
	if err != nil {
		c.requeue(channel, dirty)
		return nil, err
	}
	valid, err := trace.CertificationValidity(ctx)
	if err != nil {
		c.requeue(channel, dirty)
		return nil, err
	}
	fresh := &channelCatalog{built: c.now(), products: products, valid: valid, shelves: make(map[string]shops.Shelf, len(list))}
	for _, sh := range list {
		fresh.shelves[sh.SKU] = sh
	}
	c.store(channel, cc, fresh)
	return fresh, nil
}

func (c *CatalogCache) requeue(channel string, skus map[string]bool) {
	for sku := range skus {
		c.Changed(channel, sku)
	}
}

// store replaces old with fresh unless the channel was dropped meanwhile.
func (c *CatalogCache) store(channel string, old, fresh *channelCatalog) {
	c.mu.Lock()
	if c.channels[channel] == old {
		c.channels[channel] = fresh
	}
	c.mu.Unlock()
}

// catalogItem is one product as a channel's catalogue shows it (API.md).
type catalogItem struct {
	SKU            string          `json:"sku"`
	Names          catalog.Names   `json:"names"`
	Kind           string          `json:"kind"`
	Cooperative    string          `json:"cooperative"`
	Price          catalog.Money   `json:"price"`
	AvailableUnits int64           `json:"available_units"`
	Claims         []string        `json:"claims"`
	GTIN           string          `json:"gtin,omitempty"`
	UnitSize       quantityView    `json:"unit_size"`
	Lots           []string        `json:"lots,omitempty"`
	product        catalog.Product `json:"-"`
}

// items lists the channel's priced products with their availability. A
// product shows a claim only when every lot in stock carries it and its
// certificate is valid today: a jar is "AOP" only when its lot is.
//
// The list is built on first use and shared: callers must not modify it.
// (Building it per request cost 1.5 ms with 1 000 products and 20 000 lots.)
func (cc *channelCatalog) items(channel string) []catalogItem {
	cc.itemsOnce.Do(func() { cc.itemList = cc.buildItems(channel) })
	return cc.itemList
}

func (cc *channelCatalog) buildItems(channel string) []catalogItem {
	valid := cc.valid
	out := make([]catalogItem, 0, len(cc.products))
	for _, p := range cc.products {
		price, ok := p.PriceIn(channel)
		if !ok {
			continue
		}
		sh := cc.shelves[p.SKU]
		it := catalogItem{SKU: p.SKU, Names: p.Names, Kind: p.Kind, Cooperative: p.Cooperative, Price: price,
			AvailableUnits: max(sh.Units-sh.Reserved, 0), Claims: []string{}, GTIN: p.GTIN,
			UnitSize: quantityView{p.UnitSize, p.UnitSizeUnit}, product: p}
		var common []traceability.Claim
		for i, l := range sh.Lots {
			it.Lots = append(it.Lots, l.Lot)
			if i == 0 {
				common = slices.Clone(l.Claims)
				continue
			}
			common = slices.DeleteFunc(common, func(c traceability.Claim) bool {
				return !slices.ContainsFunc(l.Claims, func(x traceability.Claim) bool { return x.Certification == c.Certification })
			})
		}
		for _, c := range common {
			if valid[c.Certification] && !slices.Contains(it.Claims, c.Scheme) {
				it.Claims = append(it.Claims, c.Scheme)
			}
		}
		out = append(out, it)
	}
	return out
}

// matches applies the catalogue's filters; every word of q must appear in
// the SKU or in the name in one of the three languages, ignoring case
// ("safran 1 g" finds "Safran de Taliouine 1 g").
func (it catalogItem) matches(kind, coop, claim, q string) bool {
	if kind != "" && it.Kind != kind || coop != "" && it.Cooperative != coop {
		return false
	}
	if claim != "" && !slices.ContainsFunc(it.Claims, func(s string) bool { return strings.EqualFold(s, claim) }) {
		return false
	}
	if q == "" {
		return true
	}
	words := strings.Fields(strings.ToLower(q))
	for _, n := range []string{it.Names.FR, it.Names.EN, it.Names.AR, it.SKU} {
		n = strings.ToLower(n)
		all := true
		for _, w := range words {
			if !strings.Contains(n, w) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}
