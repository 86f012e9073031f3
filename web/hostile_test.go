package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/web/webtest"
)

// createEndpoint is a JSON create route with a body it accepts.
type createEndpoint struct {
	path  string
	token func(w world) string
	body  func(w world) map[string]any
}

func createEndpoints() []createEndpoint {
	adminT := func(w world) string { return w.e.AdminToken }
	managerT := func(w world) string { return w.a.manager }
	return []createEndpoint{
		{"/api/v1/cooperatives", adminT, func(world) map[string]any {
			return map[string]any{"code": "NEWCOOP", "name": "Nouvelle", "kind": "argan", "commune": "Tiznit", "province": "Tiznit", "group": "GIE"}
		}},
		{"/api/v1/shops", adminT, func(world) map[string]any {
			return map[string]any{"code": "NEWSHOP", "name": "Boutique", "city": "Agadir", "currency": "MAD", "kind": "boutique"}
		}},
		{"/api/v1/users", adminT, func(world) map[string]any {
			return map[string]any{"email": "new@coop.ma", "password": webtest.Password, "role": "coop_manager", "org": "SIROUA"}
		}},
		{"/api/v1/cooperatives/SIROUA/members", managerT, func(world) map[string]any {
			return map[string]any{"name": "Aicha", "gender": "female", "village": "Askaoun"}
		}},
		{"/api/v1/cooperatives/SIROUA/parcels", managerT, func(w world) map[string]any {
			return map[string]any{"name": "Agouns", "member": w.a.member, "commune": "Taliouine", "area_m2": 500, "crop": "saffron",
				"location": map[string]any{"type": "Point", "coordinates": []float64{-7.9, 30.5}}}
		}},
		{"/api/v1/cooperatives/SIROUA/harvests", managerT, func(w world) map[string]any {
			return map[string]any{"parcel": w.a.parcel, "member": w.a.member, "date": "2025-11-03", "crop": "saffron",
				"quantity": map[string]any{"amount": 10, "unit": "g"}}
		}},
		{"/api/v1/products", adminT, func(world) map[string]any {
			return map[string]any{"sku": "SAF-2G", "names": map[string]any{"fr": "Safran 2 g", "en": "Saffron 2 g", "ar": "زعفران"},
				"kind": "saffron_dried", "cooperative": "SIROUA", "unit_size": map[string]any{"amount": 2, "unit": "g"}}
		}},
		{"/api/v1/orders", func(world) string { return "" }, func(world) map[string]any { return orderBody(1) }},
	}
}

// counts counts every collection of the store.
func counts(tb testing.TB, e *webtest.Env) map[string]int64 {
	tb.Helper()
	ctx := context.Background()
	names, err := e.Store.DB.ListCollectionNames(ctx, bson.M{})
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]int64{}
	for _, n := range names {
		c, err := e.Store.DB.Collection(n).CountDocuments(ctx, bson.M{})
		if err != nil {
			tb.Fatal(err)
		}
		out[n] = c
	}
	return out
}

// stringFields lists the paths ("customer.address.city") of the string
// fields of a body.
func stringFields(v any, prefix string) []string {
	var out []string
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			switch x := x.(type) {
			case string:
				out = append(out, p)
			case map[string]any, map[string]string:
				out = append(out, stringFields(toAny(x), p)...)
			}
		}
	}
	sort.Strings(out)
	return out
}

func toAny(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// replaced returns body (as generic JSON) with the field at path set to v.
func replaced(body map[string]any, path string, v any) map[string]any {
	root := toAny(body).(map[string]any)
	m := root
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		m = m[p].(map[string]any)
	}
	m[parts[len(parts)-1]] = v
	return root
}

// TestQueryOperatorsAreRefusedInEveryStringField replaces each string field
// of each create endpoint's body with a query operator: 400 naming that
// field, and nothing written anywhere.
func TestQueryOperatorsAreRefusedInEveryStringField(t *testing.T) {
	w := newWorld(t)
	operators := []any{map[string]any{"$gt": ""}, map[string]any{"$ne": nil}, map[string]any{"$where": "sleep(1000)"}}
	for _, ep := range createEndpoints() {
		base := ep.body(w)
		fields := stringFields(toAny(base), "")
		if len(fields) == 0 {
			t.Fatalf("%s: no string field in the sample body", ep.path)
		}
		for _, field := range fields {
			for _, op := range operators {
				before := counts(t, w.e)
				var apiErr webtest.APIError
				st := w.e.JSON("POST", ep.path, ep.token(w), replaced(base, field, op), &apiErr)
				if st != 400 || apiErr.Error.Field != field {
					t.Errorf("%s with %s = %v: %d %+v, want 400 naming %s", ep.path, field, op, st, apiErr.Error, field)
				}
				if after := counts(t, w.e); fmt.Sprint(after) != fmt.Sprint(before) {
					t.Errorf("%s with %s = %v wrote: %v → %v", ep.path, field, op, before, after)
				}
			}
		}
	}
}

// TestHostileBodies: oversized, deeply nested, invalid UTF-8 and huge or
// negative numbers are refused with 4xx, never 5xx, and write nothing.
func TestHostileBodies(t *testing.T) {
	w := newWorld(t)
	e := w.e
	coop := createEndpoints()[0]
	member := createEndpoints()[3]
	harvest := createEndpoints()[5]
	deep := strings.Repeat(`{"a":`, 10_000) + "1" + strings.Repeat("}", 10_000)
	deepList := `{"name":` + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + `}`
	for _, tc := range []struct {
		name       string
		path       string
		token      string
		body       []byte
		status     int
		field      string
		collection string
	}{
		{"oversized", coop.path, e.AdminToken, bytes.Repeat([]byte(" "), 2<<20), 413, "", "cooperatives"},
		{"deeply nested object", coop.path, e.AdminToken, []byte(deep), 400, "", "cooperatives"},
		{"deeply nested list", member.path, w.a.manager, []byte(deepList), 400, "", "members"},
		{"invalid UTF-8 name", member.path, w.a.manager, []byte("{\"name\":\"Fa\xfftima\",\"gender\":\"female\",\"village\":\"Siroua\"}"), 400, "name", "members"},
		{"invalid UTF-8 village", member.path, w.a.manager, []byte("{\"name\":\"Fatima\",\"gender\":\"female\",\"village\":\"Sir\xc3\x28oua\"}"), 400, "village", "members"},
		{"amount 1e30", harvest.path, w.a.manager, mustJSON(replaced(harvest.body(w), "quantity", map[string]any{"amount": 1e30, "unit": "g"})), 400, "quantity.amount", "harvests"},
		{"amount 2^63", harvest.path, w.a.manager, []byte(strings.Replace(string(mustJSON(harvest.body(w))), `"amount":10`, `"amount":9223372036854775808`, 1)), 400, "quantity.amount", "harvests"},
		{"negative amount", harvest.path, w.a.manager, mustJSON(replaced(harvest.body(w), "quantity", map[string]any{"amount": -10, "unit": "g"})), 400, "quantity", "harvests"},
		{"huge kilograms", harvest.path, w.a.manager, mustJSON(replaced(harvest.body(w), "quantity", map[string]any{"amount": int64(1) << 62, "unit": "kg"})), 400, "quantity", "harvests"},
		{"negative units", "/api/v1/shops/TAROUDANNT/receipts", w.shopS, mustJSON(map[string]any{"lot": w.packed, "units": -5}), 400, "units", "stock_movements"},
	} {
		before := counts(t, e)
		resp, body := e.Do("POST", tc.path, tc.token, tc.body)
		var apiErr webtest.APIError
		_ = json.Unmarshal(body, &apiErr)
		if resp.StatusCode != tc.status || (tc.field != "" && apiErr.Error.Field != tc.field) {
			t.Errorf("%s: %d %+v, want %d naming %q", tc.name, resp.StatusCode, apiErr.Error, tc.status, tc.field)
		}
		if after := counts(t, e); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("%s wrote: %v → %v", tc.name, before, after)
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestPathTraversalNeverServesAFile: traversal in IDs and static paths is
// a 4xx, never a file of the server.
func TestPathTraversalNeverServesAFile(t *testing.T) {
	w := newWorld(t)
	for _, p := range []string{
		"/api/v1/lots/..%2F..%2Fetc%2Fpasswd", "/api/v1/lots/..%2F..%2Fetc/passwd", "/api/v1/lots/%2e%2e%2f%2e%2e%2fetc%2fpasswd/qr.png",
		"/static/..%2F..%2F..%2Fetc%2Fpasswd", "/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd", "/t/..%2F..%2Fetc%2Fpasswd",
		"/api/v1/products/..%2F..%2Fetc%2Fpasswd", "/lots/..%2F..%2Fetc%2Fpasswd",
	} {
		resp, body := w.e.Do("GET", p, w.e.AdminToken, nil)
		if resp.StatusCode < 400 || resp.StatusCode >= 500 || bytes.Contains(body, []byte("root:")) {
			t.Errorf("GET %s: %d %.80q", p, resp.StatusCode, body)
		}
	}
}

// TestScriptInNamesIsEscapedOnEveryPage puts markup in a cooperative's,
// member's and product's names and checks that every page showing them
// escapes it and carries the Content-Security-Policy.
func TestScriptInNamesIsEscapedOnEveryPage(t *testing.T) {
	w := newWorld(t)
	e := w.e
	payloads := []string{`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`}
	name := payloads[0] + payloads[1]
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/members", w.a.manager, map[string]any{"name": name, "gender": "female", "village": name}, nil); st != 201 {
		t.Fatalf("member: %d", st)
	}
	h := w.a.harvest(t, "2025-11-05", 100)
	_ = h
	if st := e.JSON("POST", "/api/v1/cooperatives", e.AdminToken, map[string]any{"code": "XSS", "name": name, "kind": "argan", "commune": name, "province": name}, nil); st != 201 {
		t.Fatalf("cooperative: %d", st)
	}
	b := newBrowser(t, e)
	b.loginAs(webtest.AdminEmail)
	pages := []string{"/admin", "/coop/SIROUA", "/coop/XSS", "/coop/SIROUA/parcels", "/coop/SIROUA/harvests", "/coop/SIROUA/lots",
		"/lots/" + w.packed, "/audit/SIROUA", "/", "/login", traceURL(t, e, w.packed, "")}
	for _, p := range pages {
		resp, page := b.get(p)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
			continue
		}
		for _, payload := range payloads {
			if strings.Contains(page, payload) || strings.Contains(page, "<script>alert") || strings.Contains(page, "onerror=alert") && strings.Contains(page, "<img src=x") {
				t.Errorf("GET %s shows %q unescaped", p, payload)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "object-src 'none'") {
			t.Errorf("GET %s: Content-Security-Policy %q", p, csp)
		}
	}
	_ = http.StatusOK
}
