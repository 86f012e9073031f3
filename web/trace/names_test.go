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

// TestWarmProductsLeavesNoProductToRead: after the warm a product is named
// without a read; one changed while the warm read the catalogue, and one
// added since, are read when asked for, never served from the warm.
func TestWarmProductsLeavesNoProductToRead(t *testing.T) {
	ctx := context.Background()
	db := mongotest.New(t)
	products := catalog.NewService(catalog.NewStore(db), traceability.NewService(traceability.NewStore(db), time.Now), time.Now)
	add := func(sku, name string) {
		t.Helper()
		if _, err := db.Collection("products").InsertOne(ctx, catalog.Product{SKU: sku, Names: catalog.Names{FR: name}}); err != nil {
			t.Fatal(err)
		}
	}
	add("SAF-1G", "Safran 1 g")
	add("ARG-250", "Huile d'argan 250 ml")
	n := newNames(time.Now, 10*time.Minute)
	n.afterWarmRead = func() { // renamed while the warm reads, as ProductChanged tells
		if _, err := db.Collection("products").UpdateOne(ctx, bson.M{"_id": "ARG-250"},
			bson.M{"$set": bson.M{"names.fr": "Huile d'argan alimentaire 250 ml"}}); err != nil {
			t.Error(err)
		}
		n.forgetProduct("ARG-250")
	}
	kept, err := n.warmProducts(ctx, products)
	if err != nil || kept != 1 {
		t.Fatalf("warm: kept %d, %v; want 1", kept, err)
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
		t.Fatalf("warmed product: %+v %v", p, ok)
	}
	if p, _ := name("ARG-250", 1); p.Names.FR != "Huile d'argan alimentaire 250 ml" {
		t.Fatalf("a product changed during the warm is named %q", p.Names.FR)
	}
	add("MIEL-500", "Miel de thym")
	if _, ok := name("MIEL-500", 1); !ok {
		t.Fatal("a product added since the warm is not found")
	}
	if _, err := n.warmProducts(ctx, products); err != nil {
		t.Fatalf("a second warm: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := newNames(time.Now, time.Minute).warmProducts(cancelled, products); !errors.Is(err, context.Canceled) {
		t.Fatalf("a read that failed: %v", err)
	}
}
