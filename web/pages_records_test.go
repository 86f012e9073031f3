package web_test

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/webtest"
)

// loginAs logs a browser in through the form as one of the test users
// (all have webtest.Password).
func (b *browser) loginAs(email string) {
	b.t.Helper()
	_, page := b.get("/login")
	resp, _ := b.post("/login", url.Values{"csrf": {csrfOf(b.t, page)}, "email": {email}, "password": {webtest.Password}})
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("log in as %s: %d", email, resp.StatusCode)
	}
}

// postMultipart sends a multipart form, with files given as name → content.
func (b *browser) postMultipart(path string, fields url.Values, files map[string]string) (*http.Response, string) {
	b.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	for name, content := range files {
		fw, err := w.CreateFormFile(name, name+".csv")
		if err != nil {
			b.t.Fatal(err)
		}
		_, _ = io.WriteString(fw, content)
	}
	_ = w.Close()
	resp, err := b.c.Post(b.e.URL(path), w.FormDataContentType(), &buf)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// recordsFixture is the cooperative SIROUA with a manager, a member, a
// parcel "Tamazirt" and a lot from one harvest; an auditor in scope; and
// the manager of another cooperative, TIZNIT.
type recordsFixture struct {
	coopFixture
	lot          lotAnswer
	managerEmail string
	auditorEmail string
	otherEmail   string
}

func newRecords(t *testing.T) recordsFixture {
	t.Helper()
	e := webtest.New(t)
	f := recordsFixture{coopFixture: newCoop(t, e, "SIROUA", "saffron", 1000),
		managerEmail: "siroua@coop.ma", auditorEmail: "audit@onssa.ma", otherEmail: "manager@tiznit.ma"}
	f.lot = f.coopFixture.lot(t, f.harvest(t, "2025-10-28", 1000))
	e.User(f.auditorEmail, access.Auditor, "", "SIROUA")
	e.Cooperative("TIZNIT", "argan")
	e.User(f.otherEmail, access.CoopManager, "TIZNIT")
	return f
}

func (f recordsFixture) browserOf(t *testing.T, email string) *browser {
	t.Helper()
	b := newBrowser(t, f.e)
	if email != "" {
		b.loginAs(email)
	}
	return b
}

func TestRecordPagesShowTheirUsersAndRefuseOthers(t *testing.T) {
	f := newRecords(t)
	lotPath := "/lots/" + f.lot.Code
	tests := []struct {
		name, who, path string
		status          int
		want            []string
	}{
		{"manager's parcels", f.managerEmail, "/coop/SIROUA/parcels", 200, []string{"Tamazirt", "Fatima Aït Brahim", "1000", "Nouvelle parcelle"}},
		{"manager's harvests", f.managerEmail, "/coop/SIROUA/harvests", 200, []string{"2025-10-28", "Tamazirt", "1 kg", `href="/lots/` + f.lot.Code, "Importer un fichier CSV"}},
		{"manager's lots", f.managerEmail, "/coop/SIROUA/lots", 200, []string{f.lot.Code, "1 kg", "Transformation", "Conditionnement"}},
		{"manager's lot page", f.managerEmail, lotPath, 200, []string{"Tamazirt", "2025-10-28", "Siroua", "terroir verify", "Création"}},
		{"auditor reads the lot", f.auditorEmail, lotPath, 200, []string{"Tamazirt", "terroir verify"}},
		{"auditor reads parcels without forms", f.auditorEmail, "/coop/SIROUA/parcels", 200, []string{"Tamazirt"}},
		{"auditor's audit page", f.auditorEmail, "/audit/SIROUA", 200, []string{"Bilan matière", "Lots en alerte", "mass-balance.csv?season="}},
		{"manager's audit page", f.managerEmail, "/audit/SIROUA", 200, []string{"Bilan matière"}},
		{"admin's audit page", webtest.AdminEmail, "/audit/SIROUA", 200, []string{"Bilan matière"}},
		{"auditor's home lists audits", f.auditorEmail, "/", 200, []string{`href="/audit/SIROUA"`}},
		{"plausibility is public", "", "/plausibility", 200, []string{"Plausibilité", "ISO 3632", "Séchage · Safran (stigmates frais) → Safran séché"}},
		{"other manager's parcels", f.otherEmail, "/coop/SIROUA/parcels", 403, nil},
		{"other manager's lots", f.otherEmail, "/coop/SIROUA/lots", 403, nil},
		{"other manager's audit", f.otherEmail, "/audit/SIROUA", 403, nil},
		{"other manager's lot hides it", f.otherEmail, lotPath, 404, nil},
		{"unknown lot", f.managerEmail, "/lots/NOPE", 404, nil},
		{"anonymous harvests", "", "/coop/SIROUA/harvests", 303, nil},
		{"anonymous lot", "", lotPath, 303, nil},
		{"anonymous audit", "", "/audit/SIROUA", 303, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, page := f.browserOf(t, tt.who).get(tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("GET %s as %q: %d, want %d", tt.path, tt.who, resp.StatusCode, tt.status)
			}
			if tt.status == 303 && !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
				t.Errorf("redirected to %q, want the login page", resp.Header.Get("Location"))
			}
			for _, w := range tt.want {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %q", w)
				}
			}
		})
	}
	// Auditors read but never write: no form is offered to them.
	_, page := f.browserOf(t, f.auditorEmail).get("/coop/SIROUA/parcels")
	if strings.Contains(page, `action="/coop/SIROUA/parcels"`) {
		t.Error("auditor is offered the parcel form")
	}
}

// formCase is one submission of a record form.
type formCase struct {
	name   string
	change url.Values // overrides of the valid form; "" deletes
	status int        // 303 on success
	field  string     // for a refusal: text the error names
	kept   []string   // for a refusal: what the page must still show
}

func merged(base, change url.Values) url.Values {
	out := url.Values{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range change {
		if len(v) == 1 && v[0] == "" {
			out.Del(k)
		} else {
			out[k] = v
		}
	}
	return out
}

// checkForm posts each case as the manager and checks the answer and that
// a refusal wrote nothing to collection.
func checkForm(t *testing.T, f recordsFixture, page, action string, valid url.Values, collection string, tests []formCase) {
	t.Helper()
	b := f.browserOf(t, f.managerEmail)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, p := b.get(page)
			form := merged(valid, tt.change)
			form.Set("csrf", csrfOf(t, p))
			before := f.e.Count(collection)
			resp, body := b.post(action, form)
			if resp.StatusCode != tt.status {
				t.Fatalf("POST %s: %d, want %d\n%s", action, resp.StatusCode, tt.status, errorOf(body))
			}
			after := f.e.Count(collection)
			if tt.status == http.StatusSeeOther {
				if !flashed(resp) || after <= before {
					t.Fatalf("success went to %q (flash cookie %v) and %s went %d→%d", resp.Header.Get("Location"), flashed(resp), collection, before, after)
				}
				if _, next := b.get(resp.Header.Get("Location")); !strings.Contains(next, `class="flash" role="status">Enregistré.<`) {
					t.Errorf("the page after the form does not say it was saved")
				}
				return
			}
			if after != before {
				t.Errorf("refused form wrote to %s: %d→%d", collection, before, after)
			}
			// The refusal is in French and names the field by its label.
			want := tt.field
			if label := frenchLabel(t, tt.field); label != "" {
				want = label + " : "
			}
			if !strings.Contains(body, `role="alert"`) || !strings.Contains(errorOf(body), want) {
				t.Errorf("error %q does not name %q", errorOf(body), want)
			}
			if !strings.Contains(body, `aria-invalid="true"`) {
				t.Error("no field is marked invalid")
			}
			for _, k := range tt.kept {
				if !strings.Contains(body, k) {
					t.Errorf("typed value lost: page lacks %s", k)
				}
			}
		})
	}
}

var alertText = regexp.MustCompile(`role="alert">([^<]*)<`)

func errorOf(page string) string {
	if m := alertText.FindStringSubmatch(page); m != nil {
		return html.UnescapeString(m[1])
	}
	return "(no error shown)"
}

// frenchLabel is how a French page names a request field ("date" →
// "Date", "inputs[0].quantity" → "Quantité (ligne 1)"), or "".
func frenchLabel(t *testing.T, field string) string {
	t.Helper()
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return b.Locale("fr").FieldLabel(field)
}

func TestParcelForm(t *testing.T) {
	f := newRecords(t)
	valid := url.Values{"name": {"Agni n'Tfaska"}, "member": {f.member}, "commune": {"Taliouine"}, "crop": {"saffron"},
		"area_m2": {"1 200"}, "latitude": {"30,5163"}, "longitude": {"-7.9260"}}
	square := `{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[-7.926,30.516],[-7.925,30.516],[-7.925,30.517],[-7.926,30.517],[-7.926,30.516]]]}}`
	checkForm(t, f, "/coop/SIROUA/parcels", "/coop/SIROUA/parcels", valid, "parcels", []formCase{
		{"point with a decimal comma", nil, 303, "", nil},
		{"polygon pasted from a GPS app", url.Values{"latitude": {""}, "longitude": {""}, "area_m2": {"10600"}, "polygon": {square}}, 303, "", nil},
		{"latitude not a number", url.Values{"latitude": {"trente"}}, 400, "latitude", []string{`value="Agni n&#39;Tfaska"`, `value="trente"`, `value="1 200"`}},
		{"no location at all", url.Values{"latitude": {""}, "longitude": {""}}, 400, "location", []string{`value="Agni n&#39;Tfaska"`}},
		{"polygon not GeoJSON", url.Values{"polygon": {"[[1,2]"}}, 400, "polygon", []string{">[[1,2]</textarea>"}},
		{"area disagrees with the polygon", url.Values{"area_m2": {"500000"}, "polygon": {square}}, 400, "area_m2", []string{`value="500000"`}},
		{"latitude out of range", url.Values{"latitude": {"95"}}, 400, "location", []string{`value="95"`}},
		{"member of another cooperative", url.Values{"member": {"mbr_nope"}}, 404, "member", []string{`value="Agni n&#39;Tfaska"`}},
	})
}

func TestHarvestForm(t *testing.T) {
	f := newRecords(t)
	valid := url.Values{"parcel": {f.parcel}, "date": {"2025-11-02"}, "amount": {"450"}, "unit": {"g"}}
	checkForm(t, f, "/coop/SIROUA/harvests", "/coop/SIROUA/harvests", valid, "harvests", []formCase{
		{"member and crop from the parcel", nil, 303, "", nil},
		{"Arabic-Indic digits", url.Values{"amount": {"٣٠٠"}}, 303, "", nil},
		{"amount not a whole number", url.Values{"amount": {"1.5"}}, 400, "quantity", []string{`value="1.5"`, `value="2025-11-02"`}},
		{"date in the future", url.Values{"date": {"2999-01-01"}}, 400, "date", []string{`value="2999-01-01"`, `value="450"`}},
		{"crop the parcel does not grow", url.Values{"crop": {"olive"}}, 400, "crop", []string{`value="olive" selected`}},
		{"unknown parcel", url.Values{"parcel": {"prc_nope"}}, 404, "parcel", []string{`value="450"`}},
	})
}

func TestHarvestImportShowsTheRefusedRows(t *testing.T) {
	f := newRecords(t)
	b := f.browserOf(t, f.managerEmail)
	_, page := b.get("/coop/SIROUA/harvests")
	bad := "parcel,member,date,crop,amount,unit\n" +
		f.parcel + "," + f.member + ",2025-10-29,saffron,400,g\n" +
		f.parcel + "," + f.member + ",29/10/2025,saffron,400,g\n" +
		f.parcel + "," + f.member + ",2025-10-30,saffron,beaucoup,g\n"
	before := f.e.Count("harvests")
	resp, body := b.postMultipart("/coop/SIROUA/harvests/import", url.Values{"csrf": {csrfOf(t, page)}}, map[string]string{"file": bad})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad file: %d, want 422\n%s", resp.StatusCode, errorOf(body))
	}
	for _, want := range []string{"Lignes refusées", `<td class="num">2</td><td><code>date</code>`, `<td class="num">3</td><td><code>amount</code>`, "beaucoup"} {
		if !strings.Contains(body, want) {
			t.Errorf("refusal page lacks %q", want)
		}
	}
	if !strings.Contains(body, f.parcel+","+f.member+",29/10/2025") {
		t.Error("the uploaded file's lines are not kept in the textarea for correction")
	}
	if n := f.e.Count("harvests"); n != before {
		t.Fatalf("refused file wrote harvests: %d→%d", before, n)
	}
	good := "parcel,member,date,crop,amount,unit\n" + f.parcel + "," + f.member + ",2025-10-29,saffron,400,g\n" + f.parcel + "," + f.member + ",2025-10-30,saffron,1,kg\n"
	resp, _ = b.postMultipart("/coop/SIROUA/harvests/import", url.Values{"csrf": {csrfOf(t, page)}, "csv": {good}}, nil)
	if resp.StatusCode != http.StatusSeeOther || !flashed(resp) || f.e.Count("harvests") != before+2 {
		t.Fatalf("pasted lines: %d %q, harvests %d→%d", resp.StatusCode, resp.Header.Get("Location"), before, f.e.Count("harvests"))
	}
	if _, next := b.get(resp.Header.Get("Location")); !strings.Contains(next, "2 récoltes importées.") {
		t.Error("the harvests page does not say how many were imported")
	}
	resp, body = b.postMultipart("/coop/SIROUA/harvests/import", url.Values{"csrf": {csrfOf(t, page)}}, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(errorOf(body), "Fichier : choisissez un fichier CSV") {
		t.Fatalf("empty import: %d %q", resp.StatusCode, errorOf(body))
	}
}

func TestLotForms(t *testing.T) {
	f := newRecords(t)
	free := f.harvest(t, "2025-10-30", 500)
	t.Run("new lot from harvests", func(t *testing.T) {
		checkForm(t, f, "/coop/SIROUA/lots", "/coop/SIROUA/lots", url.Values{}, "lots", []formCase{
			{"nothing ticked", nil, 400, "harvests", nil},
			{"harvest already in a lot", url.Values{"harvest": {f.lot.Origin[0].Harvest}}, 409, "n'est plus libre", nil},
			{"ticked harvest", url.Values{"harvest": {free}}, 303, "", nil},
		})
	})
	t.Run("transformation", func(t *testing.T) {
		valid := url.Values{"process": {"drying"}, "in0_lot": {f.lot.Code}, "in0_amount": {"1000"}, "in0_unit": {"g"},
			"out0_kind": {"saffron_dried"}, "out0_amount": {"200"}, "out0_unit": {"g"}, "note": {"séchoir électrique du CVT"}}
		checkForm(t, f, "/coop/SIROUA/lots", "/coop/SIROUA/transformations", valid, "lots", []formCase{
			{"more than available", url.Values{"in0_amount": {"5000"}}, 409, "inputs[0].quantity", []string{`value="5000"`, "séchoir électrique du CVT"}},
			{"error in the second output row", url.Values{"out0_kind": {""}, "out0_amount": {""}, "out1_kind": {"saffron_dried"}, "out1_amount": {"10"}, "out1_unit": {"l"}}, 400, "outputs[1].quantity", []string{`value="10"`}},
			{"first output row left blank", url.Values{"out0_kind": {""}, "out0_amount": {""}, "out1_kind": {"saffron_dried"}, "out1_amount": {"10"}, "out1_unit": {"g"}}, 303, "", nil},
			{"wrong unit for the kind", url.Values{"out0_unit": {"l"}}, 400, "outputs[0].quantity", []string{`value="200"`}},
		})
	})
	t.Run("packing", func(t *testing.T) {
		product := map[string]any{"sku": "SAF-1G", "names": map[string]string{"fr": "Safran de Taliouine 1 g", "en": "Taliouine saffron 1 g", "ar": "زعفران تالوين 1 غ"},
			"kind": "saffron", "cooperative": "SIROUA", "unit_size": map[string]any{"amount": 1, "unit": "g"}}
		if st := f.e.JSON("POST", "/api/v1/products", f.e.AdminToken, product, nil); st != 201 {
			t.Fatalf("product: %d", st)
		}
		var lots []lotAnswer
		f.e.JSON("GET", "/api/v1/cooperatives/SIROUA/lots", f.manager, nil, &lots)
		source := ""
		for _, l := range lots {
			if l.ProductKind == "saffron" && l.Available.Amount >= 10_000 {
				source = l.Code
			}
		}
		valid := url.Values{"lot": {source}, "sku": {"SAF-1G"}, "units": {"10"}, "best_before": {"2028-12-31"}}
		checkForm(t, f, "/coop/SIROUA/lots", "/coop/SIROUA/packings", valid, "lots", []formCase{
			{"best-before in the past", url.Values{"best_before": {"2020-01-01"}}, 400, "best_before", []string{`value="2020-01-01"`, `value="10"`}},
			{"no units", url.Values{"units": {"0"}}, 400, "units", []string{`value="0"`}},
			{"unknown product", url.Values{"sku": {"NOPE"}}, 400, "sku", nil},
			{"ten jars", nil, 303, "", nil},
		})
	})
}

func TestFlagJustificationForm(t *testing.T) {
	f := newRecords(t)
	big := f.coopFixture.lot(t, f.harvest(t, "2025-11-03", 9000)) // 10 kg on 1000 m²: flagged
	if len(big.Flags) != 1 {
		t.Fatalf("lot not flagged: %+v", big.Flags)
	}
	path := "/lots/" + big.Code
	action := fmt.Sprintf("%s/flags/%s/justification", path, big.Flags[0].ID)

	auditor := f.browserOf(t, f.auditorEmail)
	_, page := auditor.get(path)
	if strings.Contains(page, action) {
		t.Error("auditor is offered the justification form")
	}
	if resp, _ := auditor.post(action, url.Values{"csrf": {csrfOf(t, page)}, "justification": {"Two plots weighed together."}}); resp.StatusCode != 403 {
		t.Errorf("auditor justifies: %d, want 403", resp.StatusCode)
	}

	b := f.browserOf(t, f.managerEmail)
	_, page = b.get(path)
	if !strings.Contains(page, action) || !strings.Contains(page, "à justifier") {
		t.Fatal("manager is not offered the justification form")
	}
	resp, body := b.post(action, url.Values{"csrf": {csrfOf(t, page)}, "justification": {"trop"}})
	if resp.StatusCode != 400 || !strings.Contains(errorOf(body), "Justification : doit expliquer le constat") || !strings.Contains(body, ">trop</textarea>") {
		t.Fatalf("short justification: %d %q", resp.StatusCode, errorOf(body))
	}
	if l := getLot(t, f.e, f.manager, big.Code); l.Flags[0].Justification != "" {
		t.Fatal("a refused justification was recorded")
	}
	text := "Deux parcelles pesées ensemble le 3 novembre ; la répartition suit."
	resp, _ = b.post(action, url.Values{"csrf": {csrfOf(t, page)}, "justification": {text}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != path || !flashed(resp) {
		t.Fatalf("justify: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = b.get(path)
	if !strings.Contains(page, `class="flash" role="status">Enregistré.<`) {
		t.Error("the lot page does not say the justification was saved")
	}
	if !strings.Contains(page, text) || strings.Contains(page, action) {
		t.Fatal("the lot page does not show the justification in place of the form")
	}
}

func TestRecordFormsNeedCSRF(t *testing.T) {
	f := newRecords(t)
	b := f.browserOf(t, f.managerEmail)
	tests := []struct{ path, collection string }{
		{"/coop/SIROUA/parcels", "parcels"},
		{"/coop/SIROUA/harvests", "harvests"},
		{"/coop/SIROUA/harvests/import", "harvests"},
		{"/coop/SIROUA/lots", "lots"},
		{"/coop/SIROUA/transformations", "lots"},
		{"/coop/SIROUA/packings", "lots"},
		{"/lots/" + f.lot.Code + "/flags/flg_x/justification", "lots"},
	}
	for _, tt := range tests {
		for _, token := range []string{"", "forged"} {
			before := f.e.Count(tt.collection)
			resp, _ := b.post(tt.path, url.Values{"csrf": {token}, "name": {"x"}, "parcel": {f.parcel}, "amount": {"1"}, "unit": {"g"}, "date": {"2025-10-01"}})
			if resp.StatusCode != 403 || f.e.Count(tt.collection) != before {
				t.Errorf("POST %s with csrf %q: %d, %s %d→%d", tt.path, token, resp.StatusCode, tt.collection, before, f.e.Count(tt.collection))
			}
		}
	}
}

func TestMassBalanceCSVPage(t *testing.T) {
	f := newRecords(t)
	season := strconv.Itoa(f.e.Traceability.CurrentSeason())
	path := "/audit/SIROUA/mass-balance.csv?season=" + season
	resp, body := f.browserOf(t, f.auditorEmail).get(path)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("auditor's CSV: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if want := `attachment; filename="mass-balance-SIROUA-` + season + `.csv"`; resp.Header.Get("Content-Disposition") != want {
		t.Errorf("Content-Disposition %q, want %q", resp.Header.Get("Content-Disposition"), want)
	}
	lines := strings.Split(strings.TrimSpace(body), "\n")
	// Headers in the page's language (French here); codes and base units in the rows.
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "Produit,Unité,Lots,Récolté") || !strings.HasPrefix(lines[1], "saffron,mg,1,1000000,") {
		t.Fatalf("CSV:\n%s", body)
	}
	_, page := f.browserOf(t, f.auditorEmail).get("/audit/SIROUA?season=" + season)
	if !strings.Contains(page, `href="`+strings.ReplaceAll(path, "&", "&amp;")+`"`) {
		t.Error("the audit page does not link to the CSV of the season shown")
	}
	for _, tt := range []struct {
		who, path string
		status    int
	}{
		{"", path, 303},
		{f.otherEmail, path, 403},
		{f.auditorEmail, "/audit/SIROUA/mass-balance.csv?season=abc", 400},
		{f.auditorEmail, "/audit/NOPE/mass-balance.csv", 403},
	} {
		if resp, _ := f.browserOf(t, tt.who).get(tt.path); resp.StatusCode != tt.status {
			t.Errorf("GET %s as %q: %d, want %d", tt.path, tt.who, resp.StatusCode, tt.status)
		}
	}
}

func TestLotPageShowsTheClaimsStatusToday(t *testing.T) {
	e := webtest.New(t)
	f := newCoop(t, e, "SIROUA", "saffron", 1000)
	var cert map[string]any
	if st := e.JSON("POST", "/api/v1/certifications", e.AdminToken, map[string]any{"holder": "SIROUA", "scheme": "AOP Safran de Taliouine",
		"body": "Normacert", "body_code": "MA-BIO-01", "number": "AOP-2025-017", "valid_from": "2025-01-01", "valid_to": "2030-12-31"}, &cert); st != 201 {
		t.Fatalf("certification: %d %v", st, cert)
	}
	lot := f.lot(t, f.harvest(t, "2025-10-28", 1000))
	b := newBrowser(t, e)
	b.loginAs("siroua@coop.ma")
	_, page := b.get("/lots/" + lot.Code)
	if !strings.Contains(page, "AOP Safran de Taliouine") || !strings.Contains(page, `badge status-valid">valide<`) {
		t.Fatal("valid claim not shown as valid")
	}
	if st := e.JSON("POST", "/api/v1/certifications/"+cert["id"].(string)+"/status", e.AdminToken, map[string]string{"status": "withdrawn", "reason": "contrôle non conforme"}, nil); st != 200 {
		t.Fatalf("withdraw: %d", st)
	}
	_, page = b.get("/lots/" + lot.Code)
	if !strings.Contains(page, `class="claim status-withdrawn"`) || !strings.Contains(page, `badge status-withdrawn">retirée<`) || !strings.Contains(page, "ne peut pas porter") {
		t.Fatal("withdrawal does not show at once on the lot page")
	}
}

func TestAuditPageListsOpenFlagsFirst(t *testing.T) {
	f := newRecords(t)
	open := f.coopFixture.lot(t, f.harvest(t, "2025-11-03", 9000))
	justified := f.coopFixture.lot(t, f.harvest(t, "2025-11-04", 2000)) // newer, so listed first by the store
	if len(open.Flags) != 1 || len(justified.Flags) != 1 {
		t.Fatalf("lots not flagged: %+v %+v", open.Flags, justified.Flags)
	}
	path := fmt.Sprintf("/api/v1/lots/%s/flags/%s/justification", justified.Code, justified.Flags[0].ID)
	if st := f.e.JSON("POST", path, f.manager, map[string]string{"justification": "Pesée de deux parcelles voisines, corrigée."}, nil); st != 200 {
		t.Fatalf("justify: %d", st)
	}
	_, page := f.browserOf(t, f.auditorEmail).get("/audit/SIROUA")
	i, j := strings.Index(page, "/lots/"+open.Code), strings.Index(page, "/lots/"+justified.Code)
	if i < 0 || j < 0 || i > j {
		t.Fatalf("open flag at %d, justified at %d: open flags must come first", i, j)
	}
	if !strings.Contains(page, "Pesée de deux parcelles voisines") {
		t.Error("the auditor does not see the justification")
	}
}
