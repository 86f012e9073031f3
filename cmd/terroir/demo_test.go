package main

import (
	"bytes"
	"context"
	"io"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/accounts"
)

// TestSeedingTwiceDuplicatesNothing seeds the demo network twice on one data
// directory and checks that every collection holds the same documents, and
// that the seeded records verify.
func TestSeedingTwiceDuplicatesNothing(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run([]string{"seed", "--data", dir}, noEnv, nil, &out, &errOut); code != 0 {
		t.Fatalf("first seed: %d %s", code, errOut.String())
	}
	counts := func() map[string]int64 {
		ctx := context.Background()
		a, err := openApp(ctx, config{DataDir: dir}, newLogger(io.Discard))
		if err != nil {
			t.Fatal(err)
		}
		defer a.close()
		got := map[string]int64{}
		for _, c := range []string{"cooperatives", "members", "shops", "users", "parcels", "harvests", "lots", "products", "balances", "movements", "certifications", "orders", "outbox"} {
			n, err := a.store.Collection(c).CountDocuments(ctx, bson.M{})
			if err != nil {
				t.Fatal(err)
			}
			got[c] = n
		}
		return got
	}
	first := counts()
	if first["lots"] == 0 || first["balances"] == 0 || first["users"] != int64(len(demoUsers)) {
		t.Fatalf("demo seeded %v", first)
	}
	if code := run([]string{"seed", "--data", dir}, noEnv, nil, &out, &errOut); code != 0 {
		t.Fatalf("second seed: %d %s", code, errOut.String())
	}
	for c, n := range counts() {
		if n != first[c] {
			t.Errorf("%s: %d after the second seed, %d after the first", c, n, first[c])
		}
	}
	out.Reset()
	if code := run([]string{"verify", "--data", dir}, noEnv, nil, &out, &errOut); code != 0 {
		t.Fatalf("the demo does not verify: %s", out.String())
	}
	// The demo's mass balance is in one unit per kind and reconciles: no
	// jars added to grams, no negative loss, no lot left unexplained.
	ctx := context.Background()
	a, err := openApp(ctx, config{DataDir: dir}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	for _, dc := range demoCoops {
		rows, err := a.trace.MassBalance(ctx, accounts.System, dc.coop.Code, a.trace.CurrentSeason())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if want, _ := traceability.KindUnit(r.ProductKind); r.Unit != want || !r.Reconciles() || r.Losses < 0 || r.TransformationLoss < 0 {
				t.Errorf("%s: mass balance row %+v", dc.coop.Code, r)
			}
		}
		if dc.coop.Code == "SIROUA-SAFRAN" && len(rows) != 2 {
			t.Errorf("saffron rows %+v", rows)
		}
	}
	// The platform's pages have orders in each state to show, and their
	// e-mails are in the outbox.
	byStatus := map[string]int{}
	all, err := a.orders.Orders(ctx, accounts.System, "EU-PLATFORM", "", mongodb.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range all {
		byStatus[o.Status]++
	}
	for _, st := range []string{orders.StatusPaid, orders.StatusFulfilled, orders.StatusDelivered, orders.StatusRefunded} {
		if byStatus[st] == 0 {
			t.Errorf("the demo has no %s order: %v", st, byStatus)
		}
	}
	mails, err := a.orders.Outbox(ctx, accounts.System, "EU-PLATFORM", mongodb.Page{Limit: 100})
	if err != nil || len(mails) < len(demoOrders) {
		t.Errorf("%d e-mails in the outbox (%v) for %d orders", len(mails), err, len(demoOrders))
	}
	for _, ch := range demoChains {
		if p, err := a.catalog.Product(ctx, ch.product.SKU); err != nil || p.Photo == "" {
			t.Errorf("%s has no picture (%v)", ch.product.SKU, err)
		}
	}
	// A flagged harvest, justified, and parcels drawn by their outline.
	flagged, err := a.trace.Flags(ctx, accounts.System, "SIROUA-SAFRAN")
	if err != nil {
		t.Fatal(err)
	}
	justified := 0
	for _, fl := range flagged {
		for _, f := range fl.Flags {
			if f.Kind == "harvest" && f.Justification == demoJustification && f.Harvest != nil && f.Harvest.ParcelName == demoFlaggedParcel {
				justified++
			}
		}
	}
	if justified != 1 {
		t.Errorf("the demo's flagged harvest: %d justified harvest flags in %+v", justified, flagged)
	}
	parcels, err := a.trace.Parcels(ctx, accounts.System, "SIROUA-SAFRAN", mongodb.Page{Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	outlines := 0
	for _, p := range parcels {
		if p.Location.Type == "Polygon" {
			outlines++
		}
	}
	if outlines < 2 {
		t.Errorf("%d of %d saffron parcels have a walked outline", outlines, len(parcels))
	}
}
