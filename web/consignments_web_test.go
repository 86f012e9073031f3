package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/pdftest"
	"github.com/terroir-coop/terroir/web/webtest"
)

type consignmentAnswer struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	COINumber string `json:"coi_number"`
	NetMass   int64  `json:"net_mass_mg"`
	Lines     []struct {
		Lot           string `json:"lot"`
		CNCode        string `json:"cn_code"`
		Units         int64  `json:"units"`
		NetMass       int64  `json:"net_mass_mg"`
		Category      string `json:"iso3632_category"`
		ReceivedUnits int64  `json:"received_units"`
	} `json:"lines"`
	Receipts []struct {
		Lot   string `json:"lot"`
		Units int64  `json:"units"`
	} `json:"receipts"`
	SheetCSV string `json:"sheet_csv"`
	SheetPDF string `json:"sheet_pdf"`
}

func consignmentBody(cert string, lines ...map[string]any) map[string]any {
	return map[string]any{"cooperative": "SIROUA", "certificate": cert, "shipping_date": "2026-12-10", "destination": "EU-PLATFORM",
		"consignee":   map[string]any{"name": "Terroirs Solidaires SAS", "address": "4 quai Rambaud, 69002 Lyon", "country": "FR", "code": "FR123456789"},
		"transport":   map[string]any{"mode": "road", "identification": "12345-A-6", "container": "MSKU1234567"},
		"border_post": "Port-Vendres BCP", "lines": lines}
}

// TestConsignmentsThroughHTTP declares a consignment of two organic lots
// to the EU platform through the API, reads its sheet as CSV and PDF,
// records its COI number and the platform's receipt against it; a lot
// outside the organic certificate's scope, another cooperative's lot and a
// certificate not valid on the shipping date are refused, nothing stored;
// the cooperative's page declares one and links its sheet.
func TestConsignmentsThroughHTTP(t *testing.T) {
	e := webtest.New(t)
	a := newCoop(t, e, "SIROUA", "saffron", 1000)
	b := newCoop(t, e, "TIZNIT", "saffron", 1000)
	auditor := e.User("audit@onssa.ma", access.Auditor, "", "SIROUA")
	if st := e.JSON("POST", "/api/v1/shops", e.AdminToken, map[string]string{"code": "EU-PLATFORM", "name": "Plateforme européenne", "city": "France", "currency": "EUR", "kind": "platform"}, nil); st != 201 {
		t.Fatalf("platform: %d", st)
	}
	eu := e.User("eu@plateforme.fr", access.ShopManager, "EU-PLATFORM")
	organic := certify(t, e, "SIROUA", "EU organic", a.parcel)
	var p2 map[string]any
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/parcels", a.manager, map[string]any{
		"name": "Aguerd", "member": a.member, "commune": "Siroua", "area_m2": 1000, "crop": "saffron",
		"location": map[string]any{"type": "Point", "coordinates": []float64{-7.8, 30.6}}}, &p2); st != 201 {
		t.Fatal(st)
	}
	outside := coopFixture{e: e, code: "SIROUA", manager: a.manager, member: a.member, parcel: p2["id"].(string)}

	fresh := a.lot(t, a.harvest(t, "2026-11-02", 900)).Code
	_, bulk := a.dry(t, fresh, 300, 60)
	_, toPack := a.dry(t, fresh, 250, 50)
	if st := e.JSON("POST", "/api/v1/products", e.AdminToken, map[string]any{"sku": "SAF-1G",
		"names": map[string]string{"fr": "Safran de Taliouine 1 g", "en": "Taliouine saffron 1 g", "ar": "زعفران تالوين 1 غ"},
		"kind":  "saffron_dried", "cooperative": "SIROUA", "unit_size": map[string]any{"amount": 1, "unit": "g"}, "gtin": "6111234567895"}, nil); st != 201 {
		t.Fatalf("product: %d", st)
	}
	lab := categoryI()
	lab["sample_date"], lab["report_date"] = "2026-11-20", "2026-11-28"
	if st, out := postLabResult(t, e, a.manager, toPack.Code, lab, "rapport.pdf", labPDF(t)); st != 201 {
		t.Fatalf("lab result: %d %v", st, out)
	}
	var jars lotAnswer
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/packings", a.manager, map[string]any{
		"lot": toPack.Code, "sku": "SAF-1G", "units": 30, "best_before": "2028-12-31"}, &jars); st != 201 {
		t.Fatalf("packing: %d", st)
	}
	_, conventional := outside.dry(t, outside.lot(t, outside.harvest(t, "2026-11-03", 400)).Code, 300, 60)
	foreign := b.lot(t, b.harvest(t, "2026-11-02", 300)).Code

	bulkLine := map[string]any{"lot": bulk.Code, "quantity": map[string]any{"amount": 20, "unit": "g"}, "packages": 1,
		"package_kind": "sachets", "gross_mass": map[string]any{"amount": 150, "unit": "g"}}
	jarLine := map[string]any{"lot": jars.Code, "units": 10, "packages": 1, "gross_mass": map[string]any{"amount": 400, "unit": "g"}}

	// Refused, nothing stored.
	var refusal webtest.APIError
	outLine := map[string]any{"lot": conventional.Code, "quantity": map[string]any{"amount": 10, "unit": "g"}, "packages": 1,
		"gross_mass": map[string]any{"amount": 100, "unit": "g"}}
	if st := e.JSON("POST", "/api/v1/consignments", a.manager, consignmentBody(organic, bulkLine, outLine), &refusal); st != 409 ||
		refusal.Error.Field != "lines[1].lot" || !strings.Contains(refusal.Error.Message, conventional.Code) {
		t.Errorf("lot outside the certificate's scope: %d %+v", st, refusal)
	}
	foreignLine := map[string]any{"lot": foreign, "quantity": map[string]any{"amount": 10, "unit": "g"}, "packages": 1,
		"gross_mass": map[string]any{"amount": 100, "unit": "g"}}
	if st := e.JSON("POST", "/api/v1/consignments", a.manager, consignmentBody(organic, foreignLine), &refusal); st != 400 || refusal.Error.Field != "lines[0].lot" {
		t.Errorf("another cooperative's lot: %d %+v", st, refusal)
	}
	var expiring map[string]any
	if st := e.JSON("POST", "/api/v1/certifications", e.AdminToken, map[string]any{
		"holder": "SIROUA", "scheme": "EU organic", "body": "Ecocert Maroc", "body_code": "MA-BIO-154", "number": "C-EXPIRING",
		"valid_from": "2025-01-01", "valid_to": "2026-12-05", "product_kinds": []string{"saffron", "saffron_dried"}, "parcels": []string{a.parcel},
	}, &expiring); st != 201 {
		t.Fatalf("certification: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/consignments", a.manager, consignmentBody(expiring["id"].(string), bulkLine), &refusal); st != 409 || refusal.Error.Field != "certificate" {
		t.Errorf("certificate expired on the shipping date: %d %+v", st, refusal)
	}
	if st := e.JSON("POST", "/api/v1/consignments", auditor, consignmentBody(organic, bulkLine), nil); st != 403 {
		t.Errorf("auditor declares: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/consignments", b.manager, consignmentBody(organic, bulkLine), nil); st != 403 {
		t.Errorf("other cooperative declares: %d", st)
	}
	bad := consignmentBody(organic, bulkLine)
	bad["consignee"].(map[string]any)["country"] = "MA"
	if st := e.JSON("POST", "/api/v1/consignments", a.manager, bad, &refusal); st != 400 || refusal.Error.Field != "consignee.country" {
		t.Errorf("consignee outside the EU: %d %+v", st, refusal)
	}
	nocoop := consignmentBody(organic, bulkLine)
	delete(nocoop, "cooperative")
	if st := e.JSON("POST", "/api/v1/consignments", a.manager, nocoop, &refusal); st != 400 || refusal.Error.Field != "cooperative" {
		t.Errorf("no cooperative: %d %+v", st, refusal)
	}
	if n := e.Count("consignments"); n != 0 {
		t.Fatalf("%d consignments stored by refused requests", n)
	}

	// Two lots: 201, read back, listed, their sheet.
	var cs consignmentAnswer
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/consignments", a.manager, consignmentBody(organic, bulkLine, jarLine), &cs); st != 201 {
		t.Fatalf("consignment: %d %+v", st, cs)
	}
	if len(cs.Lines) != 2 || cs.Lines[0].CNCode == "" || !strings.HasPrefix(strings.ReplaceAll(cs.Lines[0].CNCode, " ", ""), "091020") ||
		cs.NetMass != 30_000 || cs.Status != "declared" {
		t.Errorf("consignment %+v", cs)
	}
	var got consignmentAnswer
	if st := e.JSON("GET", "/api/v1/consignments/"+cs.ID, auditor, nil, &got); st != 200 || got.ID != cs.ID {
		t.Errorf("auditor reads: %d", st)
	}
	if st := e.JSON("GET", "/api/v1/consignments/"+cs.ID, b.manager, nil, nil); st != 404 {
		t.Errorf("other cooperative reads: %d", st)
	}
	var list []consignmentAnswer
	if st := e.JSON("GET", "/api/v1/cooperatives/SIROUA/consignments", a.manager, nil, &list); st != 200 || len(list) != 1 {
		t.Errorf("list: %d %d", st, len(list))
	}
	resp, csv := e.Do("GET", cs.SheetCSV, a.manager, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(string(csv), bulk.Code) || !strings.Contains(string(csv), jars.Code) || strings.Count(string(csv), "\n") != 3 {
		t.Errorf("CSV sheet: %d\n%s", resp.StatusCode, csv)
	}
	resp, pdf := e.Do("GET", cs.SheetPDF, a.manager, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("PDF sheet: %d", resp.StatusCode)
	}
	text := pdftest.Text(t, pdf)
	for _, want := range []string{bulk.Code, jars.Code, "Terroirs Solidaires SAS", "MA-BIO-154", "12345-A-6"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF sheet does not say %q", want)
		}
	}

	// The COI number, once; the platform's receipt counted against it.
	if st := e.JSON("POST", "/api/v1/consignments/"+cs.ID+"/coi", a.manager, map[string]string{"coi_number": "bad number!"}, &refusal); st != 400 || refusal.Error.Field != "coi_number" {
		t.Errorf("bad COI: %d %+v", st, refusal)
	}
	if st := e.JSON("POST", "/api/v1/consignments/"+cs.ID+"/coi", a.manager, map[string]string{"coi_number": "COI.MA.2026.0012345"}, &got); st != 200 || got.COINumber != "COI.MA.2026.0012345" || got.Status != "coi_issued" {
		t.Errorf("COI: %d %+v", st, got)
	}
	if st := e.JSON("POST", "/api/v1/consignments/"+cs.ID+"/coi", a.manager, map[string]string{"coi_number": "COI.MA.2026.0099999"}, nil); st != 409 {
		t.Errorf("a second COI number: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/shops/EU-PLATFORM/receipts", eu, map[string]any{"lot": jars.Code, "units": 12, "consignment": cs.ID}, &refusal); st != 409 {
		t.Errorf("receiving more than the consignment declared: %d %+v", st, refusal)
	}
	if st := e.JSON("POST", "/api/v1/shops/EU-PLATFORM/receipts", eu, map[string]any{"lot": jars.Code, "units": 10, "consignment": cs.ID}, nil); st != 201 {
		t.Fatalf("receipt: %d", st)
	}
	e.JSON("GET", "/api/v1/consignments/"+cs.ID, eu, nil, &got)
	if len(got.Receipts) != 1 || got.Receipts[0].Units != 10 || got.Lines[1].ReceivedUnits != 10 || got.Lines[1].Category != "I" || got.Lines[0].Category != "" {
		t.Errorf("receipts and categories %+v", got)
	}
	// The platform's back office books a receipt against the consignment.
	pb := newBrowser(t, e)
	pb.loginAs("eu@plateforme.fr")
	_, page := pb.get("/shop-admin/EU-PLATFORM")
	if resp, _ := pb.post("/shop-admin/EU-PLATFORM/receipts", url.Values{"csrf": {csrfOf(t, page)}, "lot": {jars.Code}, "units": {"1"}, "consignment": {cs.ID}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("receipt beyond the consignment from the page: %d", resp.StatusCode)
	}
	// The EU shop's product page shows the jars' category by their trace link.
	if st := e.JSON("PUT", "/api/v1/products/SAF-1G/prices/EU-PLATFORM", eu, map[string]any{"amount": 1200, "currency": "EUR"}, nil); st != 200 {
		t.Fatalf("price: %d", st)
	}
	if resp, body := e.Do("GET", "/shop/EU-PLATFORM/SAF-1G", "", nil, "Accept-Language", "fr"); resp.StatusCode != 200 ||
		!strings.Contains(string(body), "Catégorie I (ISO 3632)") || !strings.Contains(string(body), jars.Code) {
		t.Errorf("product page: %d, no category by lot %s", resp.StatusCode, jars.Code)
	}

	// The cooperative's page: the list, the declaration form, the page of
	// a consignment with its sheet, receipts and COI.
	br := newBrowser(t, e)
	br.loginAs("siroua@coop.ma")
	_, page = br.get("/coop/SIROUA/consignments")
	if !strings.Contains(page, cs.ID) || !strings.Contains(page, `action="/coop/SIROUA/consignments"`) {
		t.Fatal("the consignments page lacks the list or the form")
	}
	form := url.Values{"csrf": {csrfOf(t, page)}, "certificate": {organic}, "shipping_date": {"2026-12-12"}, "destination": {"EU-PLATFORM"},
		"consignee.name": {"Terroirs Solidaires SAS"}, "consignee.address": {"4 quai Rambaud, Lyon"}, "consignee.country": {"FR"},
		"transport.mode": {"air"}, "transport.identification": {"AT 750"},
		"lines[0].lot": {bulk.Code}, "lines[0].quantity": {"10"}, "lines[0].packages": {"1"}, "lines[0].gross_mass": {"90"},
		"lines[1].lot": {conventional.Code}, "lines[1].quantity": {"10"}, "lines[1].packages": {"1"}, "lines[1].gross_mass": {"90"}}
	resp, page = br.post("/coop/SIROUA/consignments", form)
	if resp.StatusCode != 409 || !strings.Contains(page, conventional.Code) || !strings.Contains(page, "Terroirs Solidaires SAS") {
		t.Errorf("refused form: %d", resp.StatusCode)
	}
	form.Set("lines[1].lot", jars.Code)
	form.Del("lines[1].quantity")
	form.Set("lines[1].units", "5")
	resp, _ = br.post("/coop/SIROUA/consignments", form)
	next := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(next, "/coop/SIROUA/consignments/csg") {
		t.Fatalf("form: %d %s", resp.StatusCode, next)
	}
	_, page = br.get(next)
	sheet := regexp.MustCompile(`href="(/coop/SIROUA/consignments/[^"]+/sheet\.pdf)"`).FindStringSubmatch(page)
	if sheet == nil || !strings.Contains(page, bulk.Code) || !strings.Contains(page, jars.Code) || !strings.Contains(page, `/coi"`) {
		t.Fatal("the consignment page lacks its lines, sheet or COI form")
	}
	if resp, pdf := br.get(sheet[1]); resp.StatusCode != 200 || !strings.Contains(pdftest.Text(t, []byte(pdf)), jars.Code) {
		t.Errorf("page sheet: %d", resp.StatusCode)
	}
	resp, _ = br.post(strings.TrimSuffix(next, "/")+"/coi", url.Values{"csrf": {csrfOf(t, page)}, "coi_number": {"COI.MA.2026.0012399"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("COI form: %d", resp.StatusCode)
	}
	if _, page = br.get(next); !strings.Contains(page, "COI.MA.2026.0012399") {
		t.Error("the COI number is not shown")
	}
	// The first consignment's page shows what the platform received.
	if _, page = br.get("/coop/SIROUA/consignments/" + cs.ID); !strings.Contains(page, "eu@plateforme.fr") {
		t.Error("the platform's receipt is not shown on the consignment")
	}
	// The auditor reads the page, and is offered no form.
	ab := newBrowser(t, e)
	ab.loginAs("audit@onssa.ma")
	if resp, page := ab.get("/coop/SIROUA/consignments"); resp.StatusCode != 200 || strings.Contains(page, `method="post" action="/coop/SIROUA/consignments"`) {
		t.Errorf("auditor's page: %d", resp.StatusCode)
	}
	checkVerify(t, e)
}
