package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/web"
	"github.com/terroir-coop/terroir/web/webtest"
)

// jsonBodySamples is a body each JSON API write route accepts (or at least
// decodes), keyed by "METHOD path" as the router spells it.
var jsonBodySamples = map[string]func(w world) any{
	"POST /api/v1/auth/token": func(world) any {
		return map[string]any{"email": webtest.AdminEmail, "password": webtest.Password}
	},
	"POST /api/v1/cooperatives": func(world) any {
		return map[string]any{"code": "NEWCOOP", "name": "Nouvelle", "kind": "argan", "commune": "Tiznit", "province": "Tiznit", "group": "GIE"}
	},
	"POST /api/v1/cooperatives/:coop/members": func(world) any {
		return map[string]any{"name": "Aicha", "gender": "female", "village": "Askaoun"}
	},
	"POST /api/v1/shops": func(world) any {
		return map[string]any{"code": "NEWSHOP", "name": "Boutique", "city": "Agadir", "currency": "MAD", "kind": "boutique"}
	},
	"POST /api/v1/users": func(world) any {
		return map[string]any{"email": "new@coop.ma", "password": webtest.Password, "role": "coop_manager", "org": "SIROUA"}
	},
	"POST /api/v1/cooperatives/:coop/parcels": func(w world) any {
		return map[string]any{"name": "Agouns", "member": w.a.member, "commune": "Taliouine", "area_m2": 500, "crop": "saffron",
			"location": map[string]any{"type": "Point", "coordinates": []float64{-7.9, 30.5}}}
	},
	"POST /api/v1/cooperatives/:coop/harvests": func(w world) any {
		return map[string]any{"parcel": w.a.parcel, "member": w.a.member, "date": "2025-11-03", "crop": "saffron",
			"quantity": map[string]any{"amount": 10, "unit": "g"}}
	},
	"POST /api/v1/cooperatives/:coop/lots": func(w world) any {
		return map[string]any{"product_kind": "saffron", "harvests": []string{w.harvest}}
	},
	"POST /api/v1/cooperatives/:coop/transformations": func(w world) any {
		return map[string]any{"process": "drying",
			"inputs":  []map[string]any{{"lot": w.lot, "quantity": map[string]any{"amount": 10, "unit": "g"}}},
			"outputs": []map[string]any{{"product_kind": "saffron_dried", "quantity": map[string]any{"amount": 2, "unit": "g"}}}}
	},
	"POST /api/v1/cooperatives/:coop/packings": func(w world) any {
		return map[string]any{"lot": w.dried, "sku": "SAF-1G", "units": 1, "best_before": "2028-12-31"}
	},
	"POST /api/v1/lots/:code/flags/:flag/justification": func(world) any {
		return map[string]any{"justification": "rendement vérifié sur place"}
	},
	"POST /api/v1/certifications": func(world) any {
		return map[string]any{"holder": "SIROUA", "scheme": "Bio", "body": "ONSSA", "body_code": "MA-2", "number": "BIO-1",
			"valid_from": "2025-01-01", "valid_to": "2030-12-31", "product_kinds": []string{"saffron"}}
	},
	"POST /api/v1/certifications/:id/status": func(world) any {
		return map[string]any{"status": "suspended", "reason": "audit pending"}
	},
	"POST /api/v1/products": func(world) any {
		return map[string]any{"sku": "SAF-2G", "names": map[string]any{"fr": "Safran 2 g", "en": "Saffron 2 g", "ar": "زعفران"},
			"kind": "saffron_dried", "cooperative": "SIROUA", "unit_size": map[string]any{"amount": 2, "unit": "g"}}
	},
	"PUT /api/v1/products/:sku/prices/:channel": func(world) any {
		return map[string]any{"amount": 12500, "currency": "MAD"}
	},
	"PUT /api/v1/products/:sku/unpaid-limit": func(world) any {
		return map[string]any{"unpaid_limit": 5}
	},
	"PUT /api/v1/products/:sku/shares/:channel": func(world) any {
		return map[string]any{"kind": "percent", "percent": 6667}
	},
	"PUT /api/v1/shops/:shop/thresholds/:sku": func(world) any { return map[string]any{"threshold": 3} },
	"POST /api/v1/shops/:shop/receipts": func(w world) any {
		return map[string]any{"lot": w.packed, "units": 1}
	},
	"POST /api/v1/shops/:shop/transfers": func(w world) any {
		return map[string]any{"to": "EU-PLATFORM", "lines": []map[string]any{{"lot": w.packed, "units": 1}}}
	},
	"POST /api/v1/shops/:shop/transfers/:id/receive": func(w world) any {
		return map[string]any{"lines": []map[string]any{{"lot": w.packed, "units": 1}}}
	},
	"POST /api/v1/shops/:shop/sales": func(world) any {
		return map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 1}}, "payment": "cash"}
	},
	"POST /api/v1/shops/:shop/returns": func(w world) any {
		return map[string]any{"sale": w.sale, "lot": w.packed, "units": 1}
	},
	"POST /api/v1/shops/:shop/adjustments": func(w world) any {
		return map[string]any{"lot": w.packed, "units": 1, "kind": "loss", "reason": "jar broken"}
	},
	"POST /api/v1/shops/:shop/counts": func(w world) any {
		return map[string]any{"lines": []map[string]any{{"lot": w.packed, "counted": 8}}}
	},
	"POST /api/v1/orders":            func(world) any { return orderBody(1) },
	"POST /api/v1/orders/:id/ship":   func(world) any { return map[string]any{"tracking": "6A12345678901"} },
	"POST /api/v1/orders/:id/cancel": func(world) any { return map[string]any{"reason": "customer asked"} },
	"POST /api/v1/orders/:id/refund": func(world) any { return map[string]any{"restock": true, "reason": "broken seal"} },
	"POST /api/v1/cooperatives/:coop/advances": func(world) any {
		return map[string]any{"amount": map[string]any{"amount": 10000, "currency": "MAD"}, "repayment_percent": 50, "note": "séchoir"}
	},
	"POST /api/v1/cooperatives/:coop/payouts": func(w world) any {
		return map[string]any{"month": w.month, "amount": map[string]any{"amount": 5000, "currency": "MAD"}, "reference": "virement 42"}
	},
	// Members' pay (issue 17).
	"POST /api/v1/cooperatives/:coop/retention":      func(world) any { return map[string]any{"percent": "7.5", "from": "2025-09-01"} },
	"PUT /api/v1/cooperatives/:coop/retention":       func(world) any { return map[string]any{"percent": 10, "from": "2025-09-01"} },
	"POST /api/v1/cooperatives/:coop/rates":          func(w world) any { return map[string]any{"month": w.month, "currency": "EUR", "rate": "10.85"} },
	"PUT /api/v1/cooperatives/:coop/rates/:month":    func(world) any { return map[string]any{"currency": "EUR", "rate": 10.85} },
	"POST /api/v1/cooperatives/:coop/member-payouts": func(world) any { return map[string]any{"method": "cash", "note": "souk"} },
	// Quality (issue 18).
	"POST /api/v1/lots/:code/lab-results": func(world) any {
		return map[string]any{"laboratory": map[string]any{"name": "Labo Souss", "accreditation": "MA-17025-07"}, "sample_date": "2025-11-20",
			"report_date": "2025-11-28", "e257": 88.6, "e330": 33.2, "e440": 241, "moisture": 9.1, "floral_waste": 0.3, "foreign_matter": 0.05}
	},
	"POST /api/v1/consignments":                    func(w world) any { return fuzzConsignment(w, true) },
	"POST /api/v1/cooperatives/:coop/consignments": func(w world) any { return fuzzConsignment(w, false) },
	"POST /api/v1/consignments/:id/coi":            func(world) any { return map[string]any{"coi_number": "COI.MA.2026.0000001"} },

	// Issue 10: corrections as events.
	"POST /api/v1/cooperatives/:coop/harvests/:id/corrections": func(world) any {
		return map[string]any{"quantity": map[string]any{"amount": 420, "unit": "g"}, "reason": "un panier oublié"}
	},
	"POST /api/v1/lots/:code/corrections": func(world) any {
		return map[string]any{"quantity": map[string]any{"amount": 39, "unit": "pcs"}, "reason": "un pot cassé à l'étiquetage"}
	},
}

// fuzzConsignment is a consignment of the world's jars (under its AOP
// certificate, so refused naming the certificate unless mutated into
// another one).
func fuzzConsignment(w world, withCoop bool) map[string]any {
	body := map[string]any{"certificate": w.cert, "shipping_date": time.Now().Format(time.DateOnly), "destination": "EU-PLATFORM",
		"consignee": map[string]any{"name": "Terroirs Solidaires", "address": "Lyon", "country": "FR"},
		"transport": map[string]any{"mode": "road", "identification": "12345-A-6"},
		"lines":     []map[string]any{{"lot": w.packed, "units": 1, "packages": 1, "gross_mass": map[string]any{"amount": 100, "unit": "g"}}}}
	if withCoop {
		body["cooperative"] = "SIROUA"
	}
	return body
}

// notJSONBodies are API write routes whose body is not a JSON document
// (or that take none): the fuzz target leaves them to their own tests.
var notJSONBodies = map[string]string{
	"POST /api/v1/stripe/webhook":                             "raw Stripe event, checked by signature",
	"POST /api/v1/cooperatives/:coop/harvests/import":         "CSV",
	"POST /api/v1/products/:sku/photo":                        "multipart image",
	"POST /api/v1/cooperatives/:coop/imports":                 "multipart register file (issue 19)",
	"POST /api/v1/orders/:id/deliver":                         "no body",
	"POST /api/v1/cooperatives/:coop/statements/:month/close": "no body",
	"POST /api/v1/cooperatives/:coop/evidence":                "no body: ?season= (issue 18)",
	"POST /api/v1/lots/:code/evidence":                        "no body (issue 18)",
}

// guardedCollections are the collections a JSON write route could change:
// a refused request must leave every one of them as it was.
var guardedCollections = []string{"lots", "harvests", "parcels", "members", "cooperatives", "shops", "users", "products",
	"balances", "movements", "orders", "certifications", "sales", "transfers", "shelves", "advances", "payouts",
	"consignments", "blobs"} // issue 18

func guardedCounts(t testing.TB, e *webtest.Env) string {
	t.Helper()
	var b strings.Builder
	for _, n := range guardedCollections {
		c, err := e.Store.Collection(n).CountDocuments(context.Background(), bson.M{})
		if err != nil {
			t.Fatalf("count %s: %v", n, err)
		}
		fmt.Fprintf(&b, "%s=%d ", n, c)
	}
	return b.String()
}

// fuzzRoute is one JSON write route of the router, filled with the world's
// identifiers.
type fuzzRoute struct {
	key, method, path string
	token             string // a role allowed to use it
	sample            []byte
}

// jsonRoutes lists the router's JSON write routes; a POST or PUT API route
// with neither a sample body nor a reason in notJSONBodies fails tb.
func jsonRoutes(tb testing.TB, w world) []fuzzRoute {
	tb.Helper()
	var out []fuzzRoute
	for _, r := range web.Routes(w.e.Web) {
		key := r.Method + " " + r.Path
		if (r.Method != http.MethodPost && r.Method != http.MethodPut) || !strings.HasPrefix(r.Path, "/api/") {
			continue
		}
		if _, ok := notJSONBodies[key]; ok {
			continue
		}
		sample, ok := jsonBodySamples[key]
		if !ok {
			tb.Errorf("%s has no sample body in jsonBodySamples (nor a reason in notJSONBodies): add one", key)
			continue
		}
		token := w.e.AdminToken
		if contains(accessRules[key], shopS) && !contains(accessRules[key], admin) {
			token = w.shopS
		}
		out = append(out, fuzzRoute{key: key, method: r.Method, path: w.fill(r.Path), token: token, sample: mustJSON(sample(w))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// FuzzAPIBodies posts fuzzed bodies to every JSON write route of the API,
// as a role allowed to use it or as cooperative A's manager: never a 5xx
// (a panic is recovered into a 500), and a refused body writes nothing.
func FuzzAPIBodies(f *testing.F) {
	// One world per fuzz process: the fuzz function runs in each worker.
	w := newWorld(f)
	routes := jsonRoutes(f, w)
	if len(routes) < len(jsonBodySamples) {
		f.Fatalf("%d JSON routes in the router, %d samples: a sample names no route", len(routes), len(jsonBodySamples))
	}
	deep := []byte(strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000))
	deepList := []byte(`{"lines":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`)
	for i, r := range routes {
		for _, body := range [][]byte{r.sample, {}, []byte("null"), []byte("[]"), []byte("{}"), deep, deepList,
			bytes.Replace(r.sample, []byte(":1"), []byte(":1e400"), 1),
			bytes.Replace(r.sample, []byte(":1"), []byte(":-92233720368547758080"), 1),
			[]byte(`{"$where":"1","units":{"$gt":0}}`),
			operatorsIn(r.sample),
		} {
			f.Add(uint8(i), false, body)
		}
		f.Add(uint8(i), true, r.sample)
	}
	client := &http.Client{}
	f.Fuzz(func(t *testing.T, route uint8, asManager bool, body []byte) {
		r := routes[int(route)%len(routes)]
		token := r.token
		if asManager {
			token = w.a.manager
		}
		before := guardedCounts(t, w.e)
		req, err := http.NewRequest(r.method, w.e.URL(r.path), bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if !strings.HasSuffix(r.key, "/auth/token") {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %q: %d %s", r.key, body, resp.StatusCode, answer)
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return
		}
		if after := guardedCounts(t, w.e); after != before {
			t.Fatalf("%s %q refused with %d %s but wrote:\n%s\n→\n%s", r.key, body, resp.StatusCode, answer, before, after)
		}
	})
}

// operatorsIn returns sample with each string value replaced by a query
// operator object.
func operatorsIn(sample []byte) []byte {
	var v any
	if err := json.Unmarshal(sample, &v); err != nil {
		return sample
	}
	var walk func(any) any
	walk = func(x any) any {
		switch x := x.(type) {
		case string:
			return map[string]any{"$ne": x}
		case map[string]any:
			for k, y := range x {
				x[k] = walk(y)
			}
		case []any:
			for i, y := range x {
				x[i] = walk(y)
			}
		}
		return x
	}
	return mustJSON(walk(v))
}
