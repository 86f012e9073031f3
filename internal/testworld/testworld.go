// Package testworld builds, for the domain packages' tests, a small network
// on a fresh embedded store (internal/mongodb/mongotest): the real services
// on a clock the test can move, an admin, and helpers that make a
// cooperative with a member and a parcel, harvests, lots, catalogue
// products, packed lots and shops — the way the services make them, never
// by writing documents.
//
// Only tests import it. It holds no package state.
package testworld

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
)

// Clock is a test's clock: real time plus an offset the test moves
// (Advance, Set), so expiry, validity and month boundaries are tested by
// moving time, not by editing stored documents. It is safe for concurrent
// use; time keeps flowing from wherever it was put.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the clock's time; give it to services as their now.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// Set puts the clock at t; it moves on from there.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.offset = time.Until(t)
	c.mu.Unlock()
}

// World is a network on a fresh store.
type World struct {
	T       testing.TB
	Store   *mongodb.Store
	Clock   *Clock
	Trace   *traceability.Service
	Shops   *shops.Service
	Catalog *catalog.Service
	Stock   *shops.Stock
	Admin   access.Actor
}

// Indexes are the indexes of the domain packages.
func Indexes() []mongodb.Index {
	var idx []mongodb.Index
	idx = append(idx, traceability.Indexes()...)
	idx = append(idx, shops.Indexes()...)
	idx = append(idx, catalog.Indexes()...)
	idx = append(idx, orders.Indexes()...)
	return idx
}

// New makes the services on a fresh store, with the clock at real time.
func New(t testing.TB) *World {
	t.Helper()
	store := mongotest.New(t)
	if err := store.EnsureIndexes(context.Background(), Indexes()); err != nil {
		t.Fatal(err)
	}
	w := &World{T: t, Store: store, Clock: &Clock{}, Admin: access.Actor{UserID: "usr_admin", Email: "admin@test.terroir", Role: access.Admin}}
	w.Trace = traceability.NewService(traceability.NewStore(store), w.Clock.Now)
	w.Shops = shops.NewService(shops.NewStore(store), w.Clock.Now)
	w.Catalog = catalog.NewService(catalog.NewStore(store), w.Trace, w.Clock.Now)
	w.Stock = shops.NewStock(shops.NewStore(store), w.Trace, w.Clock.Now, w.Catalog)
	return w
}

func (w *World) must(err error) {
	w.T.Helper()
	if err != nil {
		w.T.Fatal(err)
	}
}

// Coop is a cooperative made by New's admin, with one member and one parcel.
type Coop struct {
	w       *World
	Code    string
	Crop    string
	Manager access.Actor
	Member  string
	Parcel  string
}

// Cooperative registers a cooperative of crop with a woman member and a
// parcel of area m² near Taliouine.
func (w *World) Cooperative(code, crop string, area int64) *Coop {
	w.T.Helper()
	ctx := context.Background()
	kind := crop
	if kind == "rose" {
		kind = "pamm"
	}
	_, err := w.Trace.CreateCooperative(ctx, w.Admin, traceability.Cooperative{Code: code, Name: "Coopérative " + code, Kind: kind, Commune: "Taliouine", Province: "Taroudannt"})
	w.must(err)
	c := &Coop{w: w, Code: code, Crop: crop, Manager: access.Actor{UserID: "usr_" + code, Email: code + "@coop.test", Role: access.CoopManager, Org: code}}
	m, err := w.Trace.AddMember(ctx, c.Manager, code, traceability.Member{Name: "Fatima Aït Brahim", Gender: "female", Village: "Tamazirt"})
	w.must(err)
	c.Member = m.ID
	point, _ := json.Marshal([]float64{-7.926, 30.516})
	p, err := w.Trace.AddParcel(ctx, c.Manager, code, traceability.NewParcel{Name: "Tamazirt", Member: m.ID, Commune: "Taliouine",
		AreaM2: area, Crop: crop, Location: traceability.Geometry{Type: "Point", Coordinates: point}})
	w.must(err)
	c.Parcel = p.ID
	return c
}

// Lot records a harvest of grams on day and makes an origin lot of it.
func (c *Coop) Lot(day string, grams int64) traceability.Lot {
	c.w.T.Helper()
	ctx := context.Background()
	h, err := c.w.Trace.AddHarvest(ctx, c.Manager, c.Code, traceability.NewHarvest{Parcel: c.Parcel, Member: c.Member, Date: day,
		Crop: c.Crop, Quantity: traceability.Quantity{Amount: grams, Unit: "g"}})
	c.w.must(err)
	l, err := c.w.Trace.CreateOriginLot(ctx, c.Manager, c.Code, traceability.NewOriginLot{ProductKind: c.Crop, Harvests: []string{h.ID}})
	c.w.must(err)
	return l
}

// Product adds a catalogue product of the cooperative: kind, a unit of
// grams, priced per channel (minor units of the channel's currency, which
// the shop must exist to say).
func (c *Coop) Product(sku, kind string, grams int64, prices map[string]int64) catalog.Product {
	c.w.T.Helper()
	ctx := context.Background()
	_, err := c.w.Catalog.CreateProduct(ctx, c.w.Admin, catalog.NewProduct{SKU: sku, Kind: kind, Cooperative: c.Code,
		Names:    catalog.Names{FR: "Produit " + sku, EN: "Product " + sku, AR: "منتج " + sku},
		UnitSize: traceability.Quantity{Amount: grams, Unit: "g"}})
	c.w.must(err)
	var p catalog.Product
	for channel, amount := range prices {
		sh, err := c.w.Shops.Shop(ctx, channel)
		c.w.must(err)
		p, err = c.w.Catalog.SetPrice(ctx, c.w.Admin, sku, channel, sh.Currency, catalog.Money{Amount: amount, Currency: sh.Currency})
		c.w.must(err)
	}
	if p.SKU == "" {
		p, err = c.w.Catalog.Product(ctx, sku)
		c.w.must(err)
	}
	return p
}

// Pack packs units of a product out of a lot, best before a day.
func (c *Coop) Pack(lot, sku string, units int64, bestBefore string) traceability.Lot {
	c.w.T.Helper()
	ctx := context.Background()
	p, err := c.w.Catalog.Product(ctx, sku)
	c.w.must(err)
	l, err := c.w.Trace.Pack(ctx, c.Manager, c.Code, traceability.NewPacking{Lot: lot, Units: units, BestBefore: bestBefore, Product: p.Packed()})
	c.w.must(err)
	return l
}

// Shop registers a shop (boutique, MAD) or the platform (EUR) and returns
// its manager.
func (w *World) Shop(code, kind string) access.Actor {
	w.T.Helper()
	currency := "MAD"
	if kind == shops.KindPlatform {
		currency = "EUR"
	}
	_, err := w.Shops.CreateShop(context.Background(), w.Admin, shops.Shop{Code: code, Name: "Boutique " + code, City: "Taroudannt", Currency: currency, Kind: kind})
	w.must(err)
	return access.Actor{UserID: "usr_" + code, Email: code + "@shop.test", Role: access.ShopManager, Org: code}
}

// Meanwhile calls f over and over on another goroutine until the stop it
// returns is called; stop waits for the call under way. For tests of what
// must hold while something else runs (a read racing a write).
func Meanwhile(f func()) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			default:
				f()
			}
		}
	}()
	return func() { close(quit); <-done }
}
