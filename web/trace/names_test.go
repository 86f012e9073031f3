package trace

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
	"github.com/terroir-coop/terroir/traceability"
)

// TestReadAllProductsLeavesNoProductToRead: after a read of the whole
// catalogue through the names memory (the catalogue cache's read), a
// product is named without a read; one changed while the read ran, and one
// added since, are read when asked for, never served from it; a read while
// another runs only reads; a later read refreshes what an earlier one left.
func TestReadAllProductsLeavesNoProductToRead(t *testing.T) {
	ctx := context.Background()
	db := mongotest.New(t)
	products := catalog.NewService(catalog.NewStore(db), traceability.NewService(traceability.NewStore(db), time.Now), time.Now)
	add := func(sku, name string) {
		t.Helper()
		if _, err := db.Collection("products").InsertOne(ctx, catalog.Product{SKU: sku, Names: catalog.Names{FR: name}}); err != nil {
			t.Fatal(err)
		}
	}
	rename := func(sku, name string) {
		t.Helper()
		if _, err := db.Collection("products").UpdateOne(ctx, bson.M{"_id": sku}, bson.M{"$set": bson.M{"names.fr": name}}); err != nil {
			t.Error(err)
		}
	}
	add("SAF-1G", "Safran 1 g")
	add("ARG-250", "Huile d'argan 250 ml")
	n := newNames(time.Now, 10*time.Minute)
	n.afterWarmRead = func() {
		rename("ARG-250", "Huile d'argan alimentaire 250 ml") // renamed while the read runs, as ProductChanged tells
		n.forgetProduct("ARG-250")
		if all, err := n.readAll(ctx, products); err != nil || len(all) != 2 { // another read meanwhile
			t.Errorf("a read during a read: %d products, %v", len(all), err)
		}
	}
	if all, err := n.readAll(ctx, products); err != nil || len(all) != 2 {
		t.Fatalf("read: %d products, %v", len(all), err)
	}
	n.afterWarmRead = nil
	name := func(sku string, reads int64) (catalog.Product, bool) {
		t.Helper()
		before := db.Commands()
		p, ok := n.product(ctx, products, sku)
		if sent := db.Commands() - before; sent != reads {
			t.Fatalf("naming %s sent %d commands, want %d", sku, sent, reads)
		}
		return p, ok
	}
	if p, ok := name("SAF-1G", 0); !ok || p.Names.FR != "Safran 1 g" {
		t.Fatalf("a product read with the catalogue: %+v %v", p, ok)
	}
	if p, _ := name("ARG-250", 1); p.Names.FR != "Huile d'argan alimentaire 250 ml" {
		t.Fatalf("a product changed during the read is named %q", p.Names.FR)
	}
	add("MIEL-500", "Miel de thym")
	if _, ok := name("MIEL-500", 1); !ok {
		t.Fatal("a product added since the read is not found")
	}
	rename("SAF-1G", "Safran de Taliouine 1 g") // by another instance: nothing is told
	if _, err := n.readAll(ctx, products); err != nil {
		t.Fatal(err)
	}
	if p, _ := name("SAF-1G", 0); p.Names.FR != "Safran de Taliouine 1 g" {
		t.Fatalf("a later read left the name %q", p.Names.FR)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := newNames(time.Now, time.Minute).readAll(cancelled, products); !errors.Is(err, context.Canceled) {
		t.Fatalf("a read that failed: %v", err)
	}
}
