package main

import (
	"context"
	"io"
	"testing"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/accounts"
)

// benchApp is the demo network on a fresh embedded store.
func benchApp(b *testing.B) *app {
	b.Helper()
	ctx := context.Background()
	a, err := openApp(ctx, config{DataDir: b.TempDir()}, newLogger(io.Discard))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.close)
	if _, err := seedDemo(ctx, a, io.Discard); err != nil {
		b.Fatal(err)
	}
	return a
}

// BenchmarkTillSale sells one jar at a till: shelf and balance reads, a
// movement, the balance and the shelf, the lot's "sold" event and the sale
// — five documents in one Atomically. The journal's cost is measured here:
//
//	go test ./cmd/terroir -run '^$' -bench TillSale -benchtime 200x
func BenchmarkTillSale(b *testing.B) {
	a := benchApp(b)
	ctx := context.Background()
	sys := accounts.System
	lots, err := a.trace.Lots(ctx, sys, "SIROUA-SAFRAN", mongodb.Page{Limit: 20})
	if err != nil {
		b.Fatal(err)
	}
	var jars string
	for _, l := range lots {
		if l.Source == traceability.SourcePacking {
			jars = l.Code
		}
	}
	till := access.Actor{UserID: "bench", Email: "taroudannt@terroir.demo", Role: access.ShopManager, Org: "TAROUDANNT"}
	// Enough jars on the shelf for every iteration (a count correction).
	if _, err := a.stock.Adjust(ctx, sys, "TAROUDANNT", shops.AdjustmentRequest{Lot: jars, Units: int64(b.N), Reason: "benchmark stock"}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	before := a.store.Commands()
	for range b.N {
		if _, err := a.stock.Sell(ctx, till, "TAROUDANNT", shops.SaleRequest{Lines: []shops.Line{{SKU: "SAF-TAL-1G", Units: 1}},
			Payment: "cash"}); err != nil {
			b.Fatal(err)
		}
	}
	// The store commands a sale sends: each is a round trip into FerretDB
	// and, for a write, an SQLite transaction.
	b.ReportMetric(float64(a.store.Commands()-before)/float64(b.N), "commands/op")
}

// BenchmarkTransformation sorts 1 g of dried saffron into a new lot: the
// input lot's event and a new lot in one Atomically.
//
//	go test ./cmd/terroir -run '^$' -bench Transformation -benchtime 200x
func BenchmarkTransformation(b *testing.B) {
	a := benchApp(b)
	ctx := context.Background()
	sys := accounts.System
	lots, err := a.trace.Lots(ctx, sys, "SIROUA-SAFRAN", mongodb.Page{Limit: 20})
	if err != nil {
		b.Fatal(err)
	}
	var dried string
	for _, l := range lots {
		if l.ProductKind == "saffron_dried" && l.Source == traceability.SourceTransformation {
			dried = l.Code
		}
	}
	b.ResetTimer()
	for range b.N {
		if _, err := a.trace.Transform(ctx, sys, "SIROUA-SAFRAN", traceability.NewTransformation{Process: "sorting",
			Inputs:  []traceability.LotInput{{Lot: dried, Quantity: traceability.Quantity{Amount: 100, Unit: "mg"}}},
			Outputs: []traceability.LotOutput{{ProductKind: "saffron_dried", Quantity: traceability.Quantity{Amount: 100, Unit: "mg"}}}}); err != nil {
			b.Fatal(err)
		}
	}
}
