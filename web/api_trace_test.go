package web_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/webtest"
)

// coopFixture is a cooperative with a manager, a member and a parcel.
type coopFixture struct {
	e       *webtest.Env
	code    string
	manager string
	member  string
	parcel  string
}

func newCoop(t testing.TB, e *webtest.Env, code, crop string, areaM2 int) coopFixture {
	t.Helper()
	kind := crop
	if crop == "rose" {
		kind = "pamm"
	}
	e.Cooperative(code, kind)
	f := coopFixture{e: e, code: code, manager: e.User(strings.ToLower(code)+"@coop.ma", access.CoopManager, code)}
	var m, p map[string]any
	if st := e.JSON("POST", "/api/v1/cooperatives/"+code+"/members", f.manager, map[string]string{"name": "Fatima Aït Brahim", "gender": "female", "village": "Siroua"}, &m); st != 201 {
		t.Fatalf("member: %d %v", st, m)
	}
	f.member = m["id"].(string)
	if st := e.JSON("POST", "/api/v1/cooperatives/"+code+"/parcels", f.manager, map[string]any{
		"name": "Tamazirt", "member": f.member, "commune": "Taliouine", "area_m2": areaM2, "crop": crop,
		"location": map[string]any{"type": "Point", "coordinates": []float64{-7.92, 30.53}},
	}, &p); st != 201 {
		t.Fatalf("parcel: %d %v", st, p)
	}
	f.parcel = p["id"].(string)
	return f
}

func (f coopFixture) harvest(t testing.TB, date string, grams int64) string {
	t.Helper()
	var h map[string]any
	if st := f.e.JSON("POST", "/api/v1/cooperatives/"+f.code+"/harvests", f.manager, map[string]any{
		"parcel": f.parcel, "member": f.member, "date": date, "crop": "saffron",
		"quantity": map[string]any{"amount": grams, "unit": "g"},
	}, &h); st != 201 {
		t.Fatalf("harvest: %d %v", st, h)
	}
	return h["id"].(string)
}

type lotAnswer struct {
	Code        string `json:"code"`
	Cooperative string `json:"cooperative"`
	ProductKind string `json:"product_kind"`
	Quantity    struct {
		Amount int64  `json:"amount"`
		Unit   string `json:"unit"`
	} `json:"quantity"`
	Available struct {
		Amount int64  `json:"amount"`
		Unit   string `json:"unit"`
	} `json:"available"`
	Origin []struct {
		Harvest     string `json:"harvest"`
		Parcel      string `json:"parcel"`
		Commune     string `json:"commune"`
		HarvestDate string `json:"harvest_date"`
		MemberName  string `json:"member_name"`
	} `json:"origin"`
	Inputs []struct {
		Lot      string `json:"lot"`
		Quantity int64  `json:"quantity"`
	} `json:"inputs"`
	Claims []struct {
		Certification string `json:"certification"`
		Scheme        string `json:"scheme"`
		Status        string `json:"status"`
	} `json:"claims"`
	Flags []struct {
		ID            string `json:"id"`
		Reason        string `json:"reason"`
		Justification string `json:"justification"`
	} `json:"flags"`
	Events []struct {
		Type string `json:"type"`
		Seq  int64  `json:"seq"`
		Hash string `json:"hash"`
	} `json:"events"`
}

func (f coopFixture) lot(t testing.TB, harvests ...string) lotAnswer {
	t.Helper()
	var l lotAnswer
	if st := f.e.JSON("POST", "/api/v1/cooperatives/"+f.code+"/lots", f.manager, map[string]any{"product_kind": "saffron", "harvests": harvests}, &l); st != 201 {
		t.Fatalf("lot: %d %+v", st, l)
	}
	return l
}

func (f coopFixture) dry(t testing.TB, lot string, inGrams, outGrams int64) (int, lotAnswer) {
	t.Helper()
	var out struct {
		Outputs []lotAnswer `json:"outputs"`
	}
	st := f.e.JSON("POST", "/api/v1/cooperatives/"+f.code+"/transformations", f.manager, map[string]any{
		"process": "drying",
		"inputs":  []map[string]any{{"lot": lot, "quantity": map[string]any{"amount": inGrams, "unit": "g"}}},
		"outputs": []map[string]any{{"product_kind": "saffron_dried", "quantity": map[string]any{"amount": outGrams, "unit": "g"}}},
	}, &out)
	if st == 201 {
		return st, out.Outputs[0]
	}
	return st, lotAnswer{}
}

func getLot(t *testing.T, e *webtest.Env, token, code string) lotAnswer {
	t.Helper()
	var l lotAnswer
	if st := e.JSON("GET", "/api/v1/lots/"+code, token, nil, &l); st != 200 {
		t.Fatalf("get lot %s: %d", code, st)
	}
	return l
}

func TestOriginLotShowsItsWholeOrigin(t *testing.T) {
	e := webtest.New(t)
	f := newCoop(t, e, "SIROUA", "saffron", 1000)
	h1, h2 := f.harvest(t, "2025-10-28", 400), f.harvest(t, "2025-11-02", 600)
	l := f.lot(t, h1, h2)
	if l.Quantity.Amount != 1_000_000 || l.Quantity.Unit != "mg" || l.Available.Amount != 1_000_000 || !strings.HasPrefix(l.Code, "SAF-") {
		t.Fatalf("lot %+v", l)
	}
	got := getLot(t, e, f.manager, l.Code)
	if len(got.Origin) != 2 || got.Origin[0].Parcel != f.parcel || got.Origin[0].Commune != "Taliouine" ||
		got.Origin[0].HarvestDate != "2025-10-28" || got.Origin[0].MemberName != "Fatima Aït Brahim" {
		t.Fatalf("origin %+v", got.Origin)
	}
	if len(got.Events) != 1 || got.Events[0].Type != "created" || got.Events[0].Hash == "" {
		t.Fatalf("events %+v", got.Events)
	}
	// A harvest goes into one lot only.
	var apiErr webtest.APIError
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/lots", f.manager, map[string]any{"product_kind": "saffron", "harvests": []string{h1}}, &apiErr); st != 409 {
		t.Fatalf("harvest reused: %d %+v", st, apiErr)
	}
}

func TestTraceabilityTenancy(t *testing.T) {
	e := webtest.New(t)
	a := newCoop(t, e, "COOPA", "saffron", 1000)
	b := newCoop(t, e, "COOPB", "saffron", 1000)
	lotA := a.lot(t, a.harvest(t, "2025-10-28", 500))
	auditorA := e.User("audit@cert.ma", access.Auditor, "", "COOPA")
	checks := []struct {
		name, method, path, token string
		body                      any
		status                    int
		field                     string
	}{
		{"B reads A's lot", "GET", "/api/v1/lots/" + lotA.Code, b.manager, nil, 404, ""},
		{"auditor of A reads A's lot", "GET", "/api/v1/lots/" + lotA.Code, auditorA, nil, 200, ""},
		{"auditor of A cannot read B's lots", "GET", "/api/v1/cooperatives/COOPB/lots", auditorA, nil, 403, ""},
		{"anonymous reads a lot", "GET", "/api/v1/lots/" + lotA.Code, "", nil, 401, ""},
		{"B records a harvest on A's parcel", "POST", "/api/v1/cooperatives/COOPB/harvests", b.manager, map[string]any{
			"parcel": a.parcel, "member": b.member, "date": "2025-10-29", "crop": "saffron", "quantity": map[string]any{"amount": 100, "unit": "g"}}, 404, "parcel"},
		{"B transforms A's lot", "POST", "/api/v1/cooperatives/COOPB/transformations", b.manager, map[string]any{
			"process": "drying", "inputs": []map[string]any{{"lot": lotA.Code, "quantity": map[string]any{"amount": 10, "unit": "g"}}},
			"outputs": []map[string]any{{"product_kind": "saffron_dried", "quantity": map[string]any{"amount": 2, "unit": "g"}}}}, 404, "inputs[0].lot"},
		{"B writes in A", "POST", "/api/v1/cooperatives/COOPA/parcels", b.manager, map[string]any{}, 403, ""},
		{"auditor cannot write", "POST", "/api/v1/cooperatives/COOPA/lots", auditorA, map[string]any{"product_kind": "saffron", "harvests": []string{"x"}}, 403, ""},
	}
	for _, c := range checks {
		var got webtest.APIError
		if st := e.JSON(c.method, c.path, c.token, c.body, &got); st != c.status || got.Error.Field != c.field {
			t.Errorf("%s: got %d %+v, want %d field %q", c.name, st, got, c.status, c.field)
		}
	}
	if after := getLot(t, e, a.manager, lotA.Code); after.Available.Amount != 500_000 {
		t.Fatalf("refused requests changed A's lot: %+v", after.Available)
	}
}

func TestBadTraceabilityInputNamesTheField(t *testing.T) {
	e := webtest.New(t)
	f := newCoop(t, e, "SIROUA", "saffron", 1000)
	point := map[string]any{"type": "Point", "coordinates": []float64{-7.92, 30.53}}
	open := map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{-7.92, 30.53}, {-7.919, 30.53}, {-7.919, 30.531}}}}
	square := map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{-7.92, 30.53}, {-7.919, 30.53}, {-7.919, 30.531}, {-7.92, 30.531}, {-7.92, 30.53}}}}
	parcel := func(area int, crop string, loc any) map[string]any {
		return map[string]any{"name": "P", "member": f.member, "commune": "Taliouine", "area_m2": area, "crop": crop, "location": loc}
	}
	harvest := func(date, unit string, amount int64) map[string]any {
		return map[string]any{"parcel": f.parcel, "member": f.member, "date": date, "crop": "saffron", "quantity": map[string]any{"amount": amount, "unit": unit}}
	}
	cases := []struct {
		name, path string
		body       any
		field      string
	}{
		{"open polygon", "parcels", parcel(1000, "saffron", open), "location"},
		{"latitude out of range", "parcels", parcel(1000, "saffron", map[string]any{"type": "Point", "coordinates": []float64{-7.9, 95}}), "location"},
		{"area disagrees with polygon", "parcels", parcel(100, "saffron", square), "area_m2"},
		{"unknown crop", "parcels", parcel(1000, "truffle", point), "crop"},
		{"negative area", "parcels", parcel(-5, "saffron", point), "area_m2"},
		{"bad date", "harvests", harvest("28/10/2025", "g", 10), "date"},
		{"volume for saffron", "harvests", harvest("2025-10-28", "l", 1), "quantity"},
		{"negative quantity", "harvests", harvest("2025-10-28", "g", -3), "quantity"},
		{"huge number", "harvests", harvest("2025-10-28", "kg", 1<<62), "quantity"},
		{"future harvest", "harvests", harvest("2099-10-28", "g", 10), "date"},
		{"lot of an unknown kind", "lots", map[string]any{"product_kind": "gold", "harvests": []string{"x"}}, "product_kind"},
		{"lot without harvests", "lots", map[string]any{"product_kind": "saffron", "harvests": []string{}}, "harvests"},
		{"unknown process", "transformations", map[string]any{"process": "alchemy", "inputs": []any{}, "outputs": []any{}}, "process"},
	}
	for _, c := range cases {
		before := e.Count(c.path)
		var got webtest.APIError
		st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/"+c.path, f.manager, c.body, &got)
		if st != 400 || got.Error.Field != c.field {
			t.Errorf("%s: got %d %+v, want 400 on %s", c.name, st, got, c.field)
		}
		if e.Count(c.path) != before {
			t.Errorf("%s: refused input was written", c.name)
		}
	}
	var p map[string]any
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/parcels", f.manager, parcel(10300, "saffron", square), &p); st != 201 {
		t.Fatalf("a square of about 96 m × 111 m declared as 10 300 m²: %d %v", st, p)
	}
}

// TestConcurrentConsumersNeverOverConsume is the mass-balance race: twenty
// transformations of 100 g race for a lot of 1 kg; exactly ten succeed.
func TestConcurrentConsumersNeverOverConsume(t *testing.T) {
	e := webtest.New(t)
	f := newCoop(t, e, "SIROUA", "saffron", 1000)
	l := f.lot(t, f.harvest(t, "2025-10-28", 1000))
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], _ = f.dry(t, l.Code, 100, 20)
		}()
	}
	wg.Wait()
	ok, refused := 0, 0
	for _, st := range statuses {
		switch st {
		case 201:
			ok++
		case 409:
			refused++
		default:
			t.Errorf("unexpected status %d", st)
		}
	}
	after := getLot(t, e, f.manager, l.Code)
	if ok != 10 || refused != 10 || after.Available.Amount != 0 {
		t.Fatalf("%d succeeded, %d refused, %d mg left; want 10, 10, 0", ok, refused, after.Available.Amount)
	}
	if len(after.Events) != 11 {
		t.Fatalf("want 1 creation and 10 consumption events, got %d", len(after.Events))
	}
	var apiErr webtest.APIError
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/transformations", f.manager, map[string]any{
		"process": "drying", "inputs": []map[string]any{{"lot": l.Code, "quantity": map[string]any{"amount": 1, "unit": "g"}}},
		"outputs": []map[string]any{{"product_kind": "saffron_dried", "quantity": map[string]any{"amount": 200, "unit": "mg"}}},
	}, &apiErr); st != 409 || apiErr.Error.Code != "insufficient_stock" {
		t.Fatalf("empty lot: %d %+v", st, apiErr)
	}
	checkVerify(t, e)
}

func certify(t *testing.T, e *webtest.Env, holder, scheme string, parcels ...string) string {
	t.Helper()
	var c map[string]any
	if st := e.JSON("POST", "/api/v1/certifications", e.AdminToken, map[string]any{
		"holder": holder, "scheme": scheme, "body": "Ecocert Maroc", "body_code": "MA-BIO-154", "number": "C-" + scheme,
		"valid_from": "2025-01-01", "valid_to": "2030-12-31", "product_kinds": []string{"saffron", "saffron_dried"}, "parcels": parcels,
	}, &c); st != 201 {
		t.Fatalf("certification: %d %v", st, c)
	}
	return c["id"].(string)
}

func schemes(l lotAnswer) map[string]string {
	out := map[string]string{}
	for _, c := range l.Claims {
		out[c.Scheme] = c.Status
	}
	return out
}

func TestClaimsFollowScopeAndOrganicIntegrity(t *testing.T) {
	e := webtest.New(t)
	f := newCoop(t, e, "SIROUA", "saffron", 1000)
	// A second parcel outside the organic scope.
	var p2 map[string]any
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/parcels", f.manager, map[string]any{
		"name": "Aguerd", "member": f.member, "commune": "Siroua", "area_m2": 1000, "crop": "saffron",
		"location": map[string]any{"type": "Point", "coordinates": []float64{-7.8, 30.6}}}, &p2); st != 201 {
		t.Fatal(st)
	}
	aop := certify(t, e, "SIROUA", "AOP Safran de Taliouine")
	certify(t, e, "SIROUA", "EU organic", f.parcel)

	organic := f.lot(t, f.harvest(t, "2025-10-28", 500))
	other := coopFixture{e: e, code: f.code, manager: f.manager, member: f.member, parcel: p2["id"].(string)}
	conventional := other.lot(t, other.harvest(t, "2025-10-29", 500))
	if s := schemes(organic); s["EU organic"] != "valid" || s["AOP Safran de Taliouine"] != "valid" {
		t.Fatalf("organic lot claims %v", s)
	}
	if s := schemes(conventional); s["EU organic"] != "" || s["AOP Safran de Taliouine"] != "valid" {
		t.Fatalf("lot outside organic scope claims %v", s)
	}
	_, dried := f.dry(t, organic.Code, 100, 20)
	if s := schemes(dried); s["EU organic"] != "valid" {
		t.Fatalf("drying an organic lot lost the claim: %v", s)
	}
	var blend struct {
		Outputs []lotAnswer `json:"outputs"`
	}
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/transformations", f.manager, map[string]any{
		"process": "blending",
		"inputs": []map[string]any{
			{"lot": organic.Code, "quantity": map[string]any{"amount": 100, "unit": "g"}},
			{"lot": conventional.Code, "quantity": map[string]any{"amount": 100, "unit": "g"}}},
		"outputs": []map[string]any{{"product_kind": "saffron", "quantity": map[string]any{"amount": 199, "unit": "g"}}},
	}, &blend); st != 201 {
		t.Fatalf("blend: %d", st)
	}
	if s := schemes(blend.Outputs[0]); s["EU organic"] != "" || s["AOP Safran de Taliouine"] != "valid" {
		t.Fatalf("blend with a non-organic lot claims %v", s)
	}
	if len(blend.Outputs[0].Origin) != 2 {
		t.Fatalf("blend origin should hold both harvests: %+v", blend.Outputs[0].Origin)
	}
	// Withdrawing the AOP shows at once on every lot that claimed it.
	if st := e.JSON("POST", "/api/v1/certifications/"+aop+"/status", e.AdminToken, map[string]string{"status": "withdrawn", "reason": "control failed"}, nil); st != 200 {
		t.Fatal(st)
	}
	for _, code := range []string{organic.Code, dried.Code, blend.Outputs[0].Code} {
		if s := schemes(getLot(t, e, f.manager, code)); s["AOP Safran de Taliouine"] != "withdrawn" {
			t.Errorf("lot %s still shows %v", code, s)
		}
	}
	var apiErr webtest.APIError
	if st := e.JSON("POST", "/api/v1/certifications/"+aop+"/status", e.AdminToken, map[string]string{"status": "suspended"}, &apiErr); st != 400 || apiErr.Error.Field != "reason" {
		t.Fatalf("status without reason: %d %+v", st, apiErr)
	}
	if st := e.JSON("POST", "/api/v1/certifications/"+aop+"/status", f.manager, map[string]string{"status": "valid"}, nil); st != 403 {
		t.Fatalf("manager changes a certificate: %d", st)
	}
}

func TestPlausibilityFlagsNeedJustification(t *testing.T) {
	e := webtest.New(t)
	f := newCoop(t, e, "SIROUA", "saffron", 1000) // 1000 m²: at most 6 kg of fresh stigmas a season
	ok := f.lot(t, f.harvest(t, "2025-10-28", 1000))
	if len(ok.Flags) != 0 {
		t.Fatalf("plausible harvest flagged: %+v", ok.Flags)
	}
	big := f.lot(t, f.harvest(t, "2025-11-03", 9000)) // season total 10 kg on 1000 m²
	if len(big.Flags) != 1 || !strings.Contains(big.Flags[0].Reason, "above the typical maximum") {
		t.Fatalf("implausible harvest not flagged: %+v", big.Flags)
	}
	_, dried := f.dry(t, ok.Code, 1000, 600) // 60 % is no drying yield
	if len(dried.Flags) != 1 || !strings.Contains(dried.Flags[0].Reason, "drying") {
		t.Fatalf("implausible yield not flagged: %+v", dried.Flags)
	}
	auditor := e.User("audit@onssa.ma", access.Auditor, "", "SIROUA")
	var flagged []struct {
		Code string `json:"code"`
		Open int    `json:"open"`
	}
	if st := e.JSON("GET", "/api/v1/cooperatives/SIROUA/flags", auditor, nil, &flagged); st != 200 || len(flagged) != 2 {
		t.Fatalf("auditor's flags: %d %+v", st, flagged)
	}
	path := fmt.Sprintf("/api/v1/lots/%s/flags/%s/justification", big.Code, big.Flags[0].ID)
	if st := e.JSON("POST", path, auditor, map[string]string{"justification": "irrigated plot, double picking"}, nil); st != 403 {
		t.Fatalf("auditor justifies: %d", st)
	}
	var apiErr webtest.APIError
	if st := e.JSON("POST", path, f.manager, map[string]string{"justification": "ok"}, &apiErr); st != 400 || apiErr.Error.Field != "justification" {
		t.Fatalf("too short a justification: %d %+v", st, apiErr)
	}
	var justified lotAnswer
	if st := e.JSON("POST", path, f.manager, map[string]string{"justification": "Two plots were weighed together on 3 November; corrected split follows."}, &justified); st != 200 {
		t.Fatalf("justify: %d", st)
	}
	if justified.Flags[0].Justification == "" || justified.Events[len(justified.Events)-1].Type != "justified" {
		t.Fatalf("justification not recorded: %+v", justified)
	}
	if st := e.JSON("POST", path, f.manager, map[string]string{"justification": "A second explanation of the same flag."}, nil); st != 409 {
		t.Fatalf("justifying twice: %d", st)
	}
	checkVerify(t, e)
}

func TestPackingTakesUnitsFromTheLot(t *testing.T) {
	e := webtest.New(t)
	f := newCoop(t, e, "SIROUA", "saffron", 1000)
	_, dried := f.dry(t, f.lot(t, f.harvest(t, "2025-10-28", 1000)).Code, 1000, 200)
	product := map[string]any{"sku": "SAF-1G", "names": map[string]string{"fr": "Safran de Taliouine 1 g", "en": "Taliouine saffron 1 g", "ar": "زعفران تالوين 1 غ"},
		"kind": "saffron_dried", "cooperative": "SIROUA", "unit_size": map[string]any{"amount": 1, "unit": "g"}, "gtin": "6111234567895"}
	var prod map[string]any
	if st := e.JSON("POST", "/api/v1/products", e.AdminToken, product, &prod); st != 201 || prod["gtin"] != "06111234567895" {
		t.Fatalf("product: %d %v", st, prod)
	}
	var packed lotAnswer
	st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/packings", f.manager, map[string]any{"lot": dried.Code, "sku": "SAF-1G", "units": 150, "best_before": "2028-12-31"}, &packed)
	if st != 201 || packed.Quantity.Amount != 150 || packed.Quantity.Unit != "pcs" || len(packed.Origin) != 1 {
		t.Fatalf("pack 150 × 1 g from 200 g: %d %+v", st, packed)
	}
	if left := getLot(t, e, f.manager, dried.Code); left.Available.Amount != 50_000 {
		t.Fatalf("dried lot after packing: %+v", left.Available)
	}
	var apiErr webtest.APIError
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/packings", f.manager, map[string]any{"lot": dried.Code, "sku": "SAF-1G", "units": 51, "best_before": "2028-12-31"}, &apiErr); st != 409 || apiErr.Error.Code != "insufficient_stock" {
		t.Fatalf("packing beyond available: %d %+v", st, apiErr)
	}
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/packings", f.manager, map[string]any{"lot": dried.Code, "sku": "NOPE", "units": 1, "best_before": "2028-12-31"}, &apiErr); st != 400 || apiErr.Error.Field != "sku" {
		t.Fatalf("unknown sku: %d %+v", st, apiErr)
	}
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/packings", f.manager, map[string]any{"lot": dried.Code, "sku": "SAF-1G", "units": 1, "best_before": "2020-01-01"}, &apiErr); st != 400 || apiErr.Error.Field != "best_before" {
		t.Fatalf("past best-before: %d %+v", st, apiErr)
	}
	checkVerify(t, e)
}

func TestHarvestImportIsAllOrNothing(t *testing.T) {
	e := webtest.New(t)
	f := newCoop(t, e, "SIROUA", "saffron", 1000)
	bad := "parcel,member,date,crop,amount,unit\n" +
		f.parcel + "," + f.member + ",2025-10-28,saffron,400,g\n" +
		f.parcel + "," + f.member + ",28/10/2025,saffron,400,g\n" +
		"prc_nope," + f.member + ",2025-10-28,saffron,400,g\n" +
		f.parcel + "," + f.member + ",2025-10-28,saffron,lots,g\n" +
		f.parcel + "," + f.member + ",2025-10-28,saffron\n"
	resp, body := e.Do("POST", "/api/v1/cooperatives/SIROUA/harvests/import", f.manager, []byte(bad), "Content-Type", "text/csv")
	if resp.StatusCode != 422 {
		t.Fatalf("bad file: %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{`"row":2,"field":"date"`, `"row":3,"field":"parcel"`, `"row":4,"field":"amount"`, `"row":5,"message":"has 4 columns`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("answer lacks %s: %s", want, body)
		}
	}
	if n := e.Count("harvests"); n != 0 {
		t.Fatalf("a refused file wrote %d harvests", n)
	}
	good := "\ufeffparcel,member,date,crop,amount,unit\n" + f.parcel + "," + f.member + ",2025-10-28,saffron,400,g\n" + f.parcel + "," + f.member + ",2025-10-29,saffron,1,kg\n"
	resp, body = e.Do("POST", "/api/v1/cooperatives/SIROUA/harvests/import", f.manager, []byte(good), "Content-Type", "text/csv")
	if resp.StatusCode != 201 || !strings.Contains(string(body), `"imported":2`) || e.Count("harvests") != 2 {
		t.Fatalf("good file: %d %s", resp.StatusCode, body)
	}
	resp, _ = e.Do("POST", "/api/v1/cooperatives/SIROUA/harvests/import", f.manager, []byte("a,b\n1,2\n"), "Content-Type", "text/csv")
	if resp.StatusCode != 400 {
		t.Fatalf("wrong header: %d", resp.StatusCode)
	}
}

func TestMassBalanceReconciles(t *testing.T) {
	e := webtest.New(t)
	f := newCoop(t, e, "SIROUA", "saffron", 1000)
	l := f.lot(t, f.harvest(t, "2025-10-28", 1000))
	f.dry(t, l.Code, 800, 160)
	auditor := e.User("audit@onssa.ma", access.Auditor, "", "SIROUA")
	var mb struct {
		Rows []struct {
			ProductKind string `json:"product_kind"`
			Harvested   int64  `json:"harvested"`
			Produced    int64  `json:"produced"`
			Transformed int64  `json:"transformed"`
			OnHand      int64  `json:"on_hand"`
			Losses      int64  `json:"losses"`
			// Drying's water is the transformation's loss, not a loss of
			// stock: losses are recorded losses only (traceability.BalanceRow).
			TransformationLoss int64 `json:"transformation_loss"`
		} `json:"rows"`
	}
	season := fmt.Sprint(seasonNow())
	if st := e.JSON("GET", "/api/v1/cooperatives/SIROUA/mass-balance?season="+season, auditor, nil, &mb); st != 200 || len(mb.Rows) != 2 {
		t.Fatalf("mass balance: %d %+v", st, mb)
	}
	fresh, dried := mb.Rows[0], mb.Rows[1]
	if fresh.ProductKind != "saffron" || fresh.Harvested != 1_000_000 || fresh.Transformed != 800_000 || fresh.OnHand != 200_000 || fresh.Losses != 0 || fresh.TransformationLoss != 640_000 {
		t.Fatalf("fresh row %+v", fresh)
	}
	if dried.Produced != 160_000 || dried.OnHand != 160_000 {
		t.Fatalf("dried row %+v", dried)
	}
	resp, body := e.Do("GET", "/api/v1/cooperatives/SIROUA/mass-balance?format=csv&season="+season, auditor, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.Contains(string(body), "saffron,mg,1,1000000,0,800000") {
		t.Fatalf("csv: %d %s", resp.StatusCode, body)
	}
}

// seasonNow is the agricultural season (from 1 September) of today.
func seasonNow() int {
	now := time.Now().UTC()
	if now.Month() >= time.September {
		return now.Year()
	}
	return now.Year() - 1
}

// checkVerify runs the tamper check over every lot: chains and balances hold.
func checkVerify(t *testing.T, e *webtest.Env) {
	t.Helper()
	found, n, err := e.Traceability.Verify(context.Background(), nil)
	if err != nil || len(found) != 0 || n == 0 {
		t.Fatalf("verify: %d lots, findings %+v, err %v", n, found, err)
	}
}

func TestEditingAStoredEventIsDetected(t *testing.T) {
	e := webtest.New(t)
	f := newCoop(t, e, "SIROUA", "saffron", 1000)
	l := f.lot(t, f.harvest(t, "2025-10-28", 1000))
	f.dry(t, l.Code, 100, 20)
	f.dry(t, l.Code, 100, 20)
	checkVerify(t, e)
	// Someone with database access lowers what the second event consumed.
	lots := e.Store.Collection("lots")
	var stored traceability.Lot
	if err := lots.FindOne(context.Background(), bson.M{"_id": l.Code}).Decode(&stored); err != nil {
		t.Fatal(err)
	}
	stored.Events[1].Quantity = 1
	if _, err := lots.ReplaceOne(context.Background(), bson.M{"_id": l.Code}, stored); err != nil {
		t.Fatal(err)
	}
	found, _, err := e.Traceability.Verify(context.Background(), nil)
	if err != nil || len(found) != 1 || found[0].Lot != l.Code || found[0].Seq != 2 {
		t.Fatalf("tampering not found at event 2: %+v %v", found, err)
	}
}
