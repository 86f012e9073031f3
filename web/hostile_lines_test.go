package web_test

import (
	"testing"
)

// TestRepeatedLinesKeepTheLedger: a body naming the same lot (or SKU)
// twice in its lines is either refused, writing nothing, or applied as
// one; balances always equal the sum of their movements.
func TestRepeatedLinesKeepTheLedger(t *testing.T) {
	w := newWorld(t)
	e := w.e
	for _, tc := range []struct {
		name, method, path, token string
		body                      map[string]any
	}{
		{"count", "POST", "/api/v1/shops/TAROUDANNT/counts", w.shopS,
			map[string]any{"lines": []map[string]any{{"lot": w.packed, "counted": 7}, {"lot": w.packed, "counted": 5}}}},
		{"transfer", "POST", "/api/v1/shops/TAROUDANNT/transfers", w.shopS,
			map[string]any{"to": "EU-PLATFORM", "lines": []map[string]any{{"lot": w.packed, "units": 1}, {"lot": w.packed, "units": 1}}}},
		{"sale", "POST", "/api/v1/shops/TAROUDANNT/sales", w.shopS,
			map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 1}, {"sku": "SAF-1G", "units": 1}}, "payment": "cash"}},
		{"order", "POST", "/api/v1/orders", "", map[string]any{"channel": "EU-PLATFORM",
			"lines":    []map[string]any{{"sku": "SAF-1G", "units": 1}, {"sku": "SAF-1G", "units": 1}},
			"customer": orderBody(1)["customer"]}},
	} {
		var out map[string]any
		st := e.JSON(tc.method, tc.path, tc.token, tc.body, &out)
		if st >= 500 {
			t.Errorf("%s with a repeated line: %d %v", tc.name, st, out)
		}
		if tc.name == "count" && st != 400 {
			t.Errorf("a count naming a lot twice: %d %v, want 400", st, out)
		}
		checkShopLedger(t, e)
	}
}

// TestCountAnswersTheBookedAdjustments: the adjustments a count answers
// are the movements as booked, with their id, shop, lot, SKU and time.
func TestCountAnswersTheBookedAdjustments(t *testing.T) {
	w := newWorld(t)
	var out struct {
		Adjustments []map[string]any `json:"adjustments"`
	}
	if st := w.e.JSON("POST", "/api/v1/shops/TAROUDANNT/counts", w.shopS, map[string]any{"lines": []map[string]any{{"lot": w.packed, "counted": 7}}}, &out); st != 201 || len(out.Adjustments) != 1 {
		t.Fatalf("count: %d %v", st, out)
	}
	a := out.Adjustments[0]
	if a["id"] == "" || a["shop"] != "TAROUDANNT" || a["lot"] != w.packed || a["sku"] != "SAF-1G" || a["at"] == "0001-01-01T00:00:00Z" {
		t.Fatalf("count answered %v, not the booked movement", a)
	}
}
