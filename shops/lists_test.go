package shops_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/testworld"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
)

// TestMovementListsAndFilters: a shop's history, newest first, and its
// filters on lot, SKU and kind, read from the keyed lists; a data
// directory without list documents gets the same history back at start.
func TestMovementListsAndFilters(t *testing.T) {
	w := testworld.New(t)
	ctx := context.Background()
	coop := w.Cooperative("SIROUA", "saffron", 10_000)
	mgr := w.Shop("TAROUDANNT", shops.KindBoutique)
	w.Shop("AGADIR", shops.KindBoutique)
	coop.Product("SAF-1G", "saffron_dried", 1, map[string]int64{"TAROUDANNT": 6000})
	coop.Product("SAF-2G", "saffron_dried", 2, map[string]int64{"TAROUDANNT": 11000})
	pack := func(sku string) traceability.Lot {
		t.Helper()
		l := coop.Lot("2025-10-28", 50)
		out, err := w.Trace.Transform(ctx, coop.Manager, coop.Code, traceability.NewTransformation{Process: "drying",
			Inputs:  []traceability.LotInput{{Lot: l.Code, Quantity: traceability.Quantity{Amount: 50, Unit: "g"}}},
			Outputs: []traceability.LotOutput{{ProductKind: "saffron_dried", Quantity: traceability.Quantity{Amount: 10, Unit: "g"}}}})
		if err != nil {
			t.Fatal(err)
		}
		return coop.Pack(out[0].Code, sku, 5, "2027-12-31")
	}
	a, b := pack("SAF-1G"), pack("SAF-2G")
	step := func() { w.Clock.Advance(time.Minute) }
	must := func(_ shops.Balance, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	step()
	must(w.Stock.Receive(ctx, mgr, "TAROUDANNT", shops.ReceiptRequest{Lot: a.Code, Units: 4}))
	step()
	must(w.Stock.Receive(ctx, mgr, "TAROUDANNT", shops.ReceiptRequest{Lot: b.Code, Units: 4}))
	step()
	must(w.Stock.Adjust(ctx, mgr, "TAROUDANNT", shops.AdjustmentRequest{Lot: a.Code, Units: -1, Kind: shops.MoveLoss, Reason: "broken jar"}))
	step()
	must(w.Stock.Receive(ctx, w.Admin, "AGADIR", shops.ReceiptRequest{Lot: a.Code, Units: 1}))
	kinds := func(f shops.MovementFilter, p mongodb.Page) []string {
		t.Helper()
		ms, err := w.Stock.Movements(ctx, mgr, "TAROUDANNT", f, p)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range ms {
			if m.Shop != "TAROUDANNT" {
				t.Errorf("%s's movement in TAROUDANNT's history", m.Shop)
			}
			out = append(out, m.Kind+":"+m.SKU)
		}
		return out
	}
	check := func(when string) {
		t.Helper()
		for _, c := range []struct {
			f    shops.MovementFilter
			p    mongodb.Page
			want string
		}{
			{shops.MovementFilter{}, mongodb.Page{}, "[loss:SAF-1G receipt:SAF-2G receipt:SAF-1G]"},
			{shops.MovementFilter{}, mongodb.Page{Limit: 1, Offset: 1}, "[receipt:SAF-2G]"},
			{shops.MovementFilter{Lot: a.Code}, mongodb.Page{}, "[loss:SAF-1G receipt:SAF-1G]"},
			{shops.MovementFilter{SKU: "saf-2g"}, mongodb.Page{}, "[receipt:SAF-2G]"},
			{shops.MovementFilter{Kind: shops.MoveReceipt}, mongodb.Page{}, "[receipt:SAF-2G receipt:SAF-1G]"},
			{shops.MovementFilter{Kind: shops.MoveReceipt}, mongodb.Page{Limit: 1, Offset: 1}, "[receipt:SAF-1G]"},
			{shops.MovementFilter{Lot: a.Code, SKU: "SAF-2G"}, mongodb.Page{}, "[]"},
			{shops.MovementFilter{Lot: a.Code, Kind: shops.MoveLoss}, mongodb.Page{}, "[loss:SAF-1G]"},
			{shops.MovementFilter{Lot: "a|b/c"}, mongodb.Page{}, "[]"},
		} {
			if got := fmtList(kinds(c.f, c.p)); got != c.want {
				t.Errorf("%s: movements %+v %+v: %s, want %s", when, c.f, c.p, got, c.want)
			}
		}
	}
	check("live")
	if _, err := w.Store.Collection("lists").DeleteMany(ctx, bson.M{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Store.EnsureIndexes(ctx, testworld.Indexes()); err != nil {
		t.Fatal(err)
	}
	check("rebuilt")
}

func fmtList(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}
