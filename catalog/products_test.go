package catalog_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"slices"
	"testing"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/internal/testworld"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
)

func newCatalog(t *testing.T) (*testworld.World, *testworld.Coop) {
	t.Helper()
	w := testworld.New(t)
	w.Shop("TAROUDANNT", shops.KindBoutique)
	w.Shop("EU-PLATFORM", shops.KindPlatform)
	return w, w.Cooperative("SIROUA", "saffron", 10_000)
}

func newProduct(sku, kind string, size traceability.Quantity) catalog.NewProduct {
	return catalog.NewProduct{SKU: sku, Kind: kind, Cooperative: "SIROUA", UnitSize: size,
		Names: catalog.Names{FR: "Safran de Taliouine", EN: "Taliouine saffron", AR: "زعفران تالوين"}}
}

func TestAProductIsCheckedAndItsSKUIsItsIdentity(t *testing.T) {
	w, c := newCatalog(t)
	ctx := context.Background()
	p, err := w.Catalog.CreateProduct(ctx, w.Admin, newProduct(" saf-1g ", "saffron_dried", traceability.Quantity{Amount: 1, Unit: "g"}))
	if err != nil {
		t.Fatal(err)
	}
	if p.SKU != "SAF-1G" || p.UnitSize != 1000 || p.UnitSizeUnit != traceability.Milligram {
		t.Fatalf("stored %+v: want SKU SAF-1G and 1 g in mg", p)
	}
	if _, err := w.Catalog.CreateProduct(ctx, w.Admin, newProduct("SAF-1G", "saffron_dried", traceability.Quantity{Amount: 1, Unit: "g"})); !errors.Is(err, catalog.ErrProductExists) {
		t.Fatalf("duplicate SKU: %v", err)
	}
	tests := []struct {
		name  string
		np    catalog.NewProduct
		field string
		key   string
	}{
		{"bad sku", newProduct("a", "saffron_dried", traceability.Quantity{Amount: 1, Unit: "g"}), "sku", "must be 2 to 40 letters, digits or dashes"},
		{"unknown kind", newProduct("X-1", "gold", traceability.Quantity{Amount: 1, Unit: "g"}), "kind", "must be one of %s"},
		{"jar counted in litres", newProduct("X-2", "saffron_dried", traceability.Quantity{Amount: 1, Unit: "l"}), "unit_size", "%s is sold by %s (%s), not %s"},
		{"negative size", newProduct("X-3", "saffron_dried", traceability.Quantity{Amount: -1, Unit: "g"}), "unit_size", "amount must be a positive whole number, got %d"},
		{"unknown cooperative", func() catalog.NewProduct {
			np := newProduct("X-4", "saffron_dried", traceability.Quantity{Amount: 1, Unit: "g"})
			np.Cooperative = "NOPE"
			return np
		}(), "cooperative", "no cooperative %s"},
	}
	for _, tt := range tests {
		_, err := w.Catalog.CreateProduct(ctx, w.Admin, tt.np)
		pe, ok := problem.As(err)
		if !ok || pe.Field != tt.field || pe.Key != tt.key {
			t.Errorf("%s: %v, want %q on %s", tt.name, err, tt.key, tt.field)
		}
	}
	// The dimension mismatch names the kind and the dimensions as terms,
	// so a page says them in its language.
	_, err = w.Catalog.CreateProduct(ctx, w.Admin, tests[2].np)
	pe, _ := problem.As(err)
	if pe == nil || len(pe.Args) != 4 || pe.Args[0] != problem.Kind("saffron_dried") || pe.Args[1] != problem.Dimension("mass") {
		t.Fatalf("terms: %#v", pe)
	}
	if _, err := w.Catalog.CreateProduct(ctx, c.Manager, newProduct("X-5", "saffron_dried", traceability.Quantity{Amount: 1, Unit: "g"})); !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("a manager creates products: %v", err)
	}
}

func TestPricesAreInTheChannelsCurrencyAndPriceSales(t *testing.T) {
	w, c := newCatalog(t)
	ctx := context.Background()
	c.Product("SAF-1G", "saffron_dried", 1, nil)
	amount, cur, ok, err := w.Catalog.UnitPrice(ctx, "TAROUDANNT", "SAF-1G")
	if err != nil || ok {
		t.Fatalf("before any price: %d %s %v %v", amount, cur, ok, err)
	}
	if _, _, _, err := w.Catalog.UnitPrice(ctx, "TAROUDANNT", "NOPE"); problem.CodeOf(err) != problem.NotFound {
		t.Fatalf("unknown product: %v", err)
	}
	if _, err := w.Catalog.SetPrice(ctx, w.Admin, "SAF-1G", "TAROUDANNT", "MAD", catalog.Money{Amount: 12000, Currency: "EUR"}); problem.CodeOf(err) != problem.Invalid {
		t.Fatalf("euros in a dirham shop: %v", err)
	}
	shop := access.Actor{UserID: "u", Email: "trd@shop", Role: access.ShopManager, Org: "TAROUDANNT"}
	if _, err := w.Catalog.SetPrice(ctx, shop, "SAF-1G", "EU-PLATFORM", "EUR", catalog.Money{Amount: 1200, Currency: "EUR"}); !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("a shop prices another channel: %v", err)
	}
	if _, err := w.Catalog.SetPrice(ctx, shop, "SAF-1G", "TAROUDANNT", "MAD", catalog.Money{Amount: 12000, Currency: "mad"}); err != nil {
		t.Fatal(err)
	}
	if amount, cur, ok, err = w.Catalog.UnitPrice(ctx, "taroudannt", "saf-1g"); err != nil || !ok || amount != 12000 || cur != "MAD" {
		t.Fatalf("price: %d %s %v %v", amount, cur, ok, err)
	}
}

func TestEveryProductChangeIsAnnounced(t *testing.T) {
	w, c := newCatalog(t)
	ctx := context.Background()
	var got []string
	w.Catalog.OnChange(func(sku string) { got = append(got, sku) })
	c.Product("SAF-1G", "saffron_dried", 1, map[string]int64{"TAROUDANNT": 12000})
	if _, err := w.Catalog.SetShare(ctx, w.Admin, "SAF-1G", "TAROUDANNT", catalog.Share{Kind: "percent", Percent: 7500}); err != nil {
		t.Fatal(err)
	}
	var img bytes.Buffer
	m := image.NewRGBA(image.Rect(0, 0, 40, 30))
	m.Set(3, 3, color.RGBA{200, 100, 0, 255})
	if err := png.Encode(&img, m); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Catalog.SetPhoto(ctx, c.Manager, "SAF-1G", img.Bytes()); err != nil {
		t.Fatal(err)
	}
	// Refused changes announce nothing.
	_, _ = w.Catalog.SetShare(ctx, w.Admin, "SAF-1G", "TAROUDANNT", catalog.Share{Kind: "percent", Percent: 20000})
	_, _ = w.Catalog.CreateProduct(ctx, w.Admin, newProduct("SAF-1G", "saffron_dried", traceability.Quantity{Amount: 1, Unit: "g"}))
	want := []string{"SAF-1G", "SAF-1G", "SAF-1G", "SAF-1G"} // created, priced, shared, photographed
	if !slices.Equal(got, want) {
		t.Fatalf("announced %v, want %v", got, want)
	}
}

// TestAPriceIsReadOnceUntilItChanges: on the embedded store a till sale's
// price costs no read once the product is known, and a new price is the
// one charged as soon as SetPrice returns — also while sales are pricing
// the product during the change.
func TestAPriceIsReadOnceUntilItChanges(t *testing.T) {
	w, c := newCatalog(t)
	if !w.Store.Embedded() {
		t.Skip("the prices are kept in memory on the embedded store only")
	}
	ctx := context.Background()
	c.Product("SAF-1G", "saffron_dried", 1, map[string]int64{"TAROUDANNT": 100})
	price := func() (int64, int64) {
		t.Helper()
		before := w.Store.Commands()
		amount, _, ok, err := w.Catalog.UnitPrice(ctx, "TAROUDANNT", "SAF-1G")
		if err != nil || !ok {
			t.Fatalf("price: %v %v", ok, err)
		}
		return amount, w.Store.Commands() - before
	}
	if amount, n := price(); amount != 100 || n != 1 {
		t.Fatalf("first price: %d in %d commands, want 100 in 1", amount, n)
	}
	if amount, n := price(); amount != 100 || n != 0 {
		t.Fatalf("second price: %d in %d commands, want 100 in 0", amount, n)
	}
	shop := access.Actor{UserID: "u", Email: "trd@shop", Role: access.ShopManager, Org: "TAROUDANNT"}
	for want := int64(101); want <= 120; want++ {
		stop := testworld.Meanwhile(func() { _, _, _, _ = w.Catalog.UnitPrice(ctx, "TAROUDANNT", "SAF-1G") })
		if _, err := w.Catalog.SetPrice(ctx, shop, "SAF-1G", "TAROUDANNT", "MAD", catalog.Money{Amount: want, Currency: "MAD"}); err != nil {
			t.Fatal(err)
		}
		stop()
		if amount, _ := price(); amount != want {
			t.Fatalf("after SetPrice(%d) the till charges %d", want, amount)
		}
	}
}
