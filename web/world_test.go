package web_test

import (
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/web/webtest"
)

// world is a small network for the authorization matrix, the hostile input
// suite and the JSON decoder fuzz target: cooperative A (SIROUA) with a
// packed saffron lot, a certification and an auditor; cooperative B
// (TIZNIT) with its own manager; shop S (TAROUDANNT) and the EU platform
// holding stock, with a till sale and an online order.
type world struct {
	e                                    *webtest.Env
	a                                    coopFixture
	managerB, shopS, auditorA            string // tokens
	harvest, lot, dried, packed          string
	cert, sale, order, orderToken, month string
}

// world users' e-mails, to log their browsers in.
const (
	emailManagerA = "siroua@coop.ma"
	emailManagerB = "tiznit@coop.ma"
	emailShopS    = "trd@shop.ma"
	emailAuditorA = "audit@onssa.ma"
)

func newWorld(tb testing.TB) world {
	tb.Helper()
	e := webtest.New(tb)
	w := world{e: e, a: newCoop(tb, e, "SIROUA", "saffron", 1000)}
	must := func(st int, want int, what string, out any) {
		tb.Helper()
		if st != want {
			tb.Fatalf("%s: %d %v", what, st, out)
		}
	}
	var c map[string]any
	must(e.JSON("POST", "/api/v1/certifications", e.AdminToken, map[string]any{
		"holder": "SIROUA", "scheme": "AOP Safran de Taliouine", "body": "ONSSA", "body_code": "MA-1", "number": "AOP-1",
		"valid_from": "2025-01-01", "valid_to": "2030-12-31", "product_kinds": []string{"saffron", "saffron_dried"}}, &c), 201, "certification", c)
	w.cert = c["id"].(string)
	w.harvest = w.a.harvest(tb, "2025-10-28", 400)
	w.lot = w.a.lot(tb, w.a.harvest(tb, "2025-11-02", 600)).Code
	var out struct {
		Outputs []lotAnswer `json:"outputs"`
	}
	must(e.JSON("POST", "/api/v1/cooperatives/SIROUA/transformations", w.a.manager, map[string]any{
		"process": "drying",
		"inputs":  []map[string]any{{"lot": w.lot, "quantity": map[string]any{"amount": 300, "unit": "g"}}},
		"outputs": []map[string]any{{"product_kind": "saffron_dried", "quantity": map[string]any{"amount": 60, "unit": "g"}}},
	}, &out), 201, "drying", out)
	w.dried = out.Outputs[0].Code
	must(e.JSON("POST", "/api/v1/products", e.AdminToken, map[string]any{"sku": "SAF-1G",
		"names": map[string]string{"fr": "Safran de Taliouine 1 g", "en": "Taliouine saffron 1 g", "ar": "زعفران تالوين 1 غ"},
		"kind":  "saffron_dried", "cooperative": "SIROUA", "unit_size": map[string]any{"amount": 1, "unit": "g"}, "gtin": "6111234567895"}, nil), 201, "product", nil)
	var packed lotAnswer
	must(e.JSON("POST", "/api/v1/cooperatives/SIROUA/packings", w.a.manager, map[string]any{
		"lot": w.dried, "sku": "SAF-1G", "units": 40, "best_before": "2028-12-31"}, &packed), 201, "packing", packed)
	w.packed = packed.Code
	for _, sh := range []map[string]string{
		{"code": "TAROUDANNT", "name": "Boutique solidaire de Taroudannt", "city": "Taroudannt", "currency": "MAD", "kind": "boutique"},
		{"code": "EU-PLATFORM", "name": "Plateforme européenne", "city": "France", "currency": "EUR", "kind": "platform"},
	} {
		must(e.JSON("POST", "/api/v1/shops", e.AdminToken, sh, nil), 201, "shop "+sh["code"], nil)
	}
	w.shopS = e.User(emailShopS, access.ShopManager, "TAROUDANNT")
	for ch, price := range map[string]map[string]any{"TAROUDANNT": {"amount": 12000, "currency": "MAD"}, "EU-PLATFORM": {"amount": 1200, "currency": "EUR"}} {
		must(e.JSON("PUT", "/api/v1/products/SAF-1G/prices/"+ch, e.AdminToken, price, nil), 200, "price "+ch, nil)
		must(e.JSON("POST", "/api/v1/shops/"+ch+"/receipts", e.AdminToken, map[string]any{"lot": w.packed, "units": 10}, nil), 201, "receipt "+ch, nil)
	}
	var sale map[string]any
	must(e.JSON("POST", "/api/v1/shops/TAROUDANNT/sales", w.shopS, map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 1}}, "payment": "cash"}, &sale), 201, "sale", sale)
	w.sale = sale["id"].(string)
	var order map[string]any
	must(e.JSON("POST", "/api/v1/orders", "", orderBody(1), &order), 201, "order", order)
	w.order, w.orderToken = order["id"].(string), order["order_token"].(string)
	w.month = strings.TrimSpace("2025-11")
	e.Cooperative("TIZNIT", "argan")
	w.managerB = e.User(emailManagerB, access.CoopManager, "TIZNIT")
	w.auditorA = e.User(emailAuditorA, access.Auditor, "", "SIROUA")
	return w
}

// fill puts the world's identifiers into a route pattern.
func (w world) fill(path string) string {
	r := strings.NewReplacer(":coop", "SIROUA", ":shop", "TAROUDANNT", ":sku", "SAF-1G", ":channel", "TAROUDANNT",
		":code", w.packed, ":lot", w.packed, ":gtin", "06111234567895", ":serial", "1", ":flag", "flg_none",
		":id", "ID", ":month", w.month, ":member", "mbr_none", ":season", "2025", "*path", "style.css", ":file", "none.jpg")
	p := r.Replace(path)
	switch {
	case strings.Contains(path, "/certifications/:id"):
		p = strings.Replace(p, "ID", w.cert, 1)
	case strings.Contains(path, "/orders/:id"):
		p = strings.Replace(p, "ID", w.order, 1)
	case strings.Contains(path, "/sales/:id"), strings.Contains(path, "/receipts/:id"):
		p = strings.Replace(p, "ID", w.sale, 1)
	default:
		p = strings.Replace(p, "ID", "trf_none", 1)
	}
	return p
}
