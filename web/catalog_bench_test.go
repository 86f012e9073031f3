package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/webtest"
)

// BenchmarkCatalogVsHealthz measures the public catalogue of a channel —
// GET /api/v1/catalog?channel=…&limit=50 and the page /shop/{channel} —
// against the same server's /healthz, in the same run, over loopback HTTP
// with keep-alive, with 1 000 priced products and 20 000 lots on the shelves
// of Taroudannt (20 per product) in the embedded store.
//
//	go test ./web -run '^$' -bench CatalogVsHealthz -benchtime 20000x
//
// Compare ns/op of the sub-benchmarks: the target is each catalogue at
// least 10 % of /healthz throughput (ns/op ≤ 10 × healthz). The order of
// the sub-benchmarks varies (map order), so no one of them always runs on
// a cold process.
func BenchmarkCatalogVsHealthz(b *testing.B) {
	e := webtest.New(b)
	seedCatalog(b, e, "TAROUDANNT", 1000, 20)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	get := func(b *testing.B, url string) {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Accept-Language", "fr-FR,fr;q=0.9")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("%s: %d", url, resp.StatusCode)
		}
	}
	for name, path := range map[string]string{
		"healthz":      "/healthz",
		"catalog_json": "/api/v1/catalog?channel=TAROUDANNT&limit=50",
		"catalog_page": "/shop/TAROUDANNT",
		// A search is filtered and rendered for each request (only
		// unsearched pages are kept rendered): the page's uncached cost.
		"catalog_page_search": "/shop/TAROUDANNT?q=safran&page=3",
	} {
		get(b, e.URL(path)) // the first request builds the channel's cache
		b.Run(name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					get(b, e.URL(path))
				}
			})
		})
	}
}

// seedCatalog stores products priced in shop, each with lotsPer packed lots
// on the shop's shelf (lots, balances and shelves written directly, as a
// load seed would).
func seedCatalog(b *testing.B, e *webtest.Env, shop string, products, lotsPer int) {
	b.Helper()
	ctx := context.Background()
	f := newCoop(b, e, "SIROUA", "saffron", 1000)
	if st := e.JSON("POST", "/api/v1/shops", e.AdminToken, map[string]string{"code": shop, "name": "Boutique solidaire", "city": "Taroudannt", "currency": "MAD", "kind": "boutique"}, nil); st != 201 {
		b.Fatalf("shop: %d", st)
	}
	now := time.Now().UTC()
	claims := []traceability.Claim{}
	var prods, lots, balances, shelves []any
	flush := func(coll string, docs *[]any, force bool) {
		if len(*docs) == 0 || (!force && len(*docs) < 500) {
			return
		}
		if _, err := e.Store.Collection(coll).InsertMany(ctx, *docs); err != nil {
			b.Fatal(err)
		}
		*docs = (*docs)[:0]
	}
	for i := range products {
		sku := fmt.Sprintf("SAF-%04d", i)
		prods = append(prods, catalog.Product{SKU: sku, Kind: "saffron_dried", Cooperative: "SIROUA",
			Names:    catalog.Names{FR: fmt.Sprintf("Safran de Taliouine %d g", i%5+1), EN: fmt.Sprintf("Taliouine saffron %d g", i%5+1), AR: fmt.Sprintf("زعفران تالوين %d غ", i%5+1)},
			UnitSize: 1000, UnitSizeUnit: traceability.Milligram, CreatedAt: now,
			Prices: map[string]catalog.Money{shop: {Amount: 12000 + int64(i), Currency: "MAD"}}})
		sh := shops.Shelf{ID: shop + "|" + sku, Shop: shop, SKU: sku}
		for range lotsPer {
			code, err := traceability.NewLotCode("saffron_dried")
			if err != nil {
				b.Fatal(err)
			}
			lots = append(lots, traceability.Lot{Code: code, Cooperative: "SIROUA", ProductKind: "saffron_dried", Source: traceability.SourcePacking,
				Quantity: 50, Available: 0, Unit: traceability.Piece, SKU: sku, BestBefore: "2028-12-31",
				UnitSize: 1000, UnitSizeOf: traceability.Milligram, Inputs: []traceability.EventRef{}, Outputs: []traceability.EventRef{},
				Claims: claims, Flags: []traceability.Flag{}, CreatedBy: "seed", CreatedAt: now,
				Origin: []traceability.OriginLine{{Harvest: "h-" + code, Date: "2025-10-28", Crop: "saffron", Quantity: 50_000,
					Parcel: f.parcel, ParcelName: "Tamazirt", Commune: "Taliouine", Member: f.member, MemberName: "Fatima", Gender: "female", Village: "Siroua"}}})
			balances = append(balances, shops.Balance{ID: shop + "|" + code, Shop: shop, Lot: code, SKU: sku, Cooperative: "SIROUA",
				BestBefore: "2028-12-31", Units: 50, Claims: claims, UpdatedAt: now, Ledger: 50})
			sh.Lots = append(sh.Lots, shops.ShelfLot{Lot: code, BestBefore: "2028-12-31", Claims: claims})
			sh.Units += 50
		}
		shelves = append(shelves, sh)
		flush("products", &prods, false)
		flush("lots", &lots, false)
		flush("balances", &balances, false)
		flush("shelves", &shelves, false)
	}
	for coll, docs := range map[string]*[]any{"products": &prods, "lots": &lots, "balances": &balances, "shelves": &shelves} {
		flush(coll, docs, true)
	}
	if n := e.Count("lots"); n != int64(products*lotsPer) {
		b.Fatalf("%d lots seeded", n)
	}
}
