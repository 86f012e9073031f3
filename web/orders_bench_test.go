package web_test

import (
	"testing"

	"github.com/terroir-coop/terroir/web/webtest"
)

// BenchmarkOrderPlacement measures POST /api/v1/orders on the embedded
// store, end to end over loopback HTTP: pricing, FEFO reservation inside
// Atomically, the order's insert and the Checkout Session at stripe-mock.
//
//	go test ./web -run '^$' -bench OrderPlacement -benchtime 500x
func BenchmarkOrderPlacement(b *testing.B) {
	e := webtest.New(b)
	f := newCoop(b, e, "SIROUA", "saffron", 1000)
	_, dried := f.dry(b, f.lot(b, f.harvest(b, "2025-10-28", 5000)).Code, 5000, 1000)
	for _, req := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/products", map[string]any{"sku": "SAF-01G", "names": map[string]string{"fr": "Safran 0,1 g", "en": "Saffron 0.1 g", "ar": "زعفران"},
			"kind": "saffron_dried", "cooperative": "SIROUA", "unit_size": map[string]any{"amount": 100, "unit": "mg"}}},
		{"POST", "/api/v1/shops", map[string]string{"code": "EU-PLATFORM", "name": "Plateforme", "city": "France", "currency": "EUR", "kind": "platform"}},
		{"PUT", "/api/v1/products/SAF-01G/prices/EU-PLATFORM", map[string]any{"amount": 350, "currency": "EUR"}},
	} {
		if st := e.JSON(req.method, req.path, e.AdminToken, req.body, nil); st/100 != 2 {
			b.Fatalf("%s %s: %d", req.method, req.path, st)
		}
	}
	var packed lotAnswer
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/packings", f.manager, map[string]any{"lot": dried.Code, "sku": "SAF-01G", "units": 10000, "best_before": "2029-12-31"}, &packed); st != 201 {
		b.Fatalf("packing: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/shops/EU-PLATFORM/receipts", e.AdminToken, map[string]any{"lot": packed.Code, "units": 10000}, nil); st != 201 {
		b.Fatalf("receipt: %d", st)
	}
	body := orderBody(1)
	body["lines"] = []map[string]any{{"sku": "SAF-01G", "units": 1}}
	b.ResetTimer()
	for b.Loop() {
		if st := e.JSON("POST", "/api/v1/orders", "", body, nil); st != 201 {
			b.Fatalf("order: %d", st)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
}
