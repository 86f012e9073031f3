package web_test

import (
	"bytes"
	"encoding/json"
	"math"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/webtest"
)

// frenchMembersCSV is a members register as French Excel saves it
// ("CSV (séparateur : point-virgule)"): a BOM, a title line, semicolons,
// accented names, dd/mm/yyyy dates and decimal commas.
const frenchMembersCSV = "\ufeffRegistre des adhérents — Coopérative Siroua;;;;;;;\r\n" +
	";;;;;;;\r\n" +
	"N° adhérent;Nom;Prénom;Sexe;Douar;Commune;Date d'adhésion;Cotisation (MAD)\r\n" +
	"A-001;Aït Brahim;Fatima;F;Siroua;Taliouine;15/11/2019;150,50\r\n" +
	"A-002;Oubella;Lahcen;H;azaghar n'irs;TALIOUINE;03/04/2020;150,50\r\n" +
	"A-003;Ouchen;Zahra;Femme;Tinzert;;01/09/2021;1 200,00\r\n"

// multipartFile is a multipart/form-data body with one file field.
func multipartFile(t testing.TB, field, filename string, content []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, err := w.CreateFormFile(field, filename)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}

// importAnswer is the preview the API answers, or its error.
type importAnswer struct {
	traceability.ImportPreview
	Error struct {
		Code    string                  `json:"code"`
		Field   string                  `json:"field"`
		Message string                  `json:"message"`
		Details []traceability.RowError `json:"details"`
	} `json:"error"`
}

// upload sends a file to the import API and decodes the answer.
func upload(t testing.TB, e *webtest.Env, token, query, filename string, content []byte) (int, importAnswer) {
	t.Helper()
	body, ct := multipartFile(t, "file", filename, content)
	resp, b := e.Do("POST", "/api/v1/cooperatives/SIROUA/imports?"+query, token, body, "Content-Type", ct)
	var out importAnswer
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("answer %d %q: %v", resp.StatusCode, b, err)
	}
	return resp.StatusCode, out
}

// parcelsWorkbook is a parcels register kept in Excel: a notes sheet
// first, a title row, areas in hectares as numbers and as French text.
func parcelsWorkbook(t testing.TB) []byte {
	t.Helper()
	x := excelize.NewFile()
	defer x.Close()
	if err := x.SetSheetName("Sheet1", "Parcelles"); err != nil {
		t.Fatal(err)
	}
	rows := [][]any{
		{"Parcelles de la coopérative — campagne 2025"},
		{},
		{"Code parcelle", "Nom de la parcelle", "N° adhérent", "Superficie (ha)", "Culture", "Latitude", "Longitude", "Commune"},
		{"P-01", "Tamazirt", "A-001", 0.12, "Safran", 30.5318, -7.9262, "Taliouine"},
		{"P-02", "Igran", "A-002", "0,08", "safran", "30,5301", "-7,9240", "Taliouine"},
		{"P-03", "Asif", "Zahra Ouchen", 0.05, "", 30.5335, -7.9281, ""},
	}
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.SetSheetRow("Parcelles", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	buf, err := x.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rectangle is a closed ring of w × h metres whose south-west corner is
// (lon, lat), as [lon, lat] pairs.
func rectangle(lon, lat, w, h float64) [][]float64 {
	dLat := h / 111_320
	dLon := w / (111_320 * math.Cos(lat*math.Pi/180))
	return [][]float64{{lon, lat}, {lon + dLon, lat}, {lon + dLon, lat + dLat}, {lon, lat + dLat}, {lon, lat}}
}

func parcelOutlines(t testing.TB) []byte {
	t.Helper()
	feature := func(ring [][]float64, props map[string]any) map[string]any {
		return map[string]any{"type": "Feature", "geometry": map[string]any{"type": "Polygon", "coordinates": [][][]float64{ring}}, "properties": props}
	}
	b, err := json.Marshal(map[string]any{"type": "FeatureCollection", "features": []any{
		feature(rectangle(-7.9300, 30.5350, 30, 40), map[string]any{"code": "P-10", "nom": "Tafrawt", "adherent": "A-003", "culture": "safran"}),
		feature(rectangle(-7.9262, 30.5318, 30, 40), map[string]any{"code": "P-01"}), // walked since: the point becomes an outline
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestImportRegistersThroughTheAPI(t *testing.T) {
	e := webtest.New(t)
	e.Cooperative("SIROUA", "saffron")
	manager := e.User("siroua@coop.ma", access.CoopManager, "SIROUA")

	// Members from a French spreadsheet: the dry run shows how it was
	// read and writes nothing.
	st, p := upload(t, e, manager, "kind=members&dry_run=true", "adhérents.csv", []byte(frenchMembersCSV))
	if st != 200 || p.Format != "csv" || p.Delimiter != ";" || p.HeaderRow != 3 || p.Applied || len(p.Problems) != 0 {
		t.Fatalf("dry run: %d %+v", st, p)
	}
	if p.Counts != (traceability.ImportCounts{Rows: 3, Create: 3}) || p.Rows[0].Row != 4 || p.Rows[0].Values["code"] != "A-001" {
		t.Fatalf("dry run rows: %+v %+v", p.Counts, p.Rows)
	}
	if n := e.Count("members"); n != 0 {
		t.Fatalf("a dry run wrote %d members", n)
	}
	st, p = upload(t, e, manager, "kind=members", "adhérents.csv", []byte(frenchMembersCSV))
	if st != 201 || !p.Applied || p.Counts.Create != 3 || p.Rows[2].ID == "" || e.Count("members") != 3 {
		t.Fatalf("import members: %d %+v, %d stored", st, p.Counts, e.Count("members"))
	}
	var members []traceability.Member
	if st := e.JSON("GET", "/api/v1/cooperatives/SIROUA/members", manager, nil, &members); st != 200 || len(members) != 3 {
		t.Fatalf("members: %d %+v", st, members)
	}
	names := map[string]string{}
	for _, m := range members {
		names[m.Code] = m.Name
	}
	if names["A-001"] != "Fatima Aït Brahim" {
		t.Errorf("A-001 is %q", names["A-001"])
	}

	// Parcels from a workbook made here, then their outlines from GeoJSON.
	book := parcelsWorkbook(t)
	st, p = upload(t, e, manager, "kind=parcels&dry_run=1", "parcelles.xlsx", book)
	if st != 200 || p.Format != "xlsx" || p.Sheet != "Parcelles" || len(p.Problems) != 0 || p.Rows[1].Values["area_m2"] != "800" {
		t.Fatalf("parcels dry run: %d %+v", st, p)
	}
	st, p = upload(t, e, manager, "kind=parcels", "parcelles.xlsx", book)
	if st != 201 || p.Counts.Create != 3 || e.Count("parcels") != 3 {
		t.Fatalf("import parcels: %d %+v %s", st, p.Counts, p.Error.Message)
	}
	st, p = upload(t, e, manager, "kind=parcels", "parcelles.xlsx", book)
	if st != 201 || p.Counts != (traceability.ImportCounts{Rows: 3, Unchanged: 3}) || e.Count("parcels") != 3 {
		t.Fatalf("parcels again: %d %+v %+v", st, p.Counts, p.Error.Details)
	}
	outlines := parcelOutlines(t)
	st, p = upload(t, e, manager, "kind=parcels&dry_run=true", "parcelles.geojson", outlines)
	if st != 200 || p.Format != "geojson" || p.RowLabel != "feature" || p.Counts != (traceability.ImportCounts{Rows: 2, Create: 1, Complete: 1}) {
		t.Fatalf("outlines dry run: %d %+v %+v", st, p.Counts, p.Problems)
	}
	if a := p.Rows[0].Values["area_m2"]; a < "1190" || a > "1210" {
		t.Errorf("P-10's area from its outline: %q m², want about 1200", a)
	}
	st, p = upload(t, e, manager, "kind=parcels", "parcelles.geojson", outlines)
	if st != 201 || e.Count("parcels") != 4 {
		t.Fatalf("import outlines: %d %+v %s", st, p.Counts, p.Error.Message)
	}

	// The same files again change nothing.
	for _, f := range []struct {
		kind, name string
		content    []byte
		rows       int
	}{{"members", "adhérents.csv", []byte(frenchMembersCSV), 3}, {"parcels", "parcelles.geojson", outlines, 2}} {
		st, p := upload(t, e, manager, "kind="+f.kind, f.name, f.content)
		if st != 201 || p.Counts != (traceability.ImportCounts{Rows: f.rows, Unchanged: f.rows}) {
			t.Errorf("%s again: %d %+v %+v", f.name, st, p.Counts, p.Error.Details)
		}
	}
	if e.Count("members") != 3 || e.Count("parcels") != 4 {
		t.Fatalf("second imports: %d members, %d parcels", e.Count("members"), e.Count("parcels"))
	}
	// The workbook now contradicts P-01's walked outline: refused, named,
	// nothing changed (a register file does not overwrite a record).
	st, p = upload(t, e, manager, "kind=parcels", "parcelles.xlsx", book)
	if st != 422 || len(p.Error.Details) != 1 || p.Error.Details[0].Row != 4 || p.Error.Details[0].Field != "location" {
		t.Fatalf("stale workbook: %d %+v", st, p.Error.Details)
	}
}

func TestImportWithOneBadRowImportsNothing(t *testing.T) {
	e := webtest.New(t)
	e.Cooperative("SIROUA", "saffron")
	manager := e.User("siroua@coop.ma", access.CoopManager, "SIROUA")
	file := []byte("code;nom;genre;village\n" +
		"B-1;Itto Amellal;F;Tagmoute\n" +
		"B-2;Mina Aït Said;X;Tasrirte\n" + // row 3: no such gender
		"B-3;Hadda Ait Hammou;F;Timlilt\n" +
		"B-1;Itto Amellal;F;Tagmoute\n") // row 5: the code of row 2
	st, p := upload(t, e, manager, "kind=members", "m.csv", file)
	if st != 422 || p.Error.Field != "file" || p.Applied {
		t.Fatalf("bad file: %d %+v", st, p.Error)
	}
	rows := map[int]string{}
	for _, d := range p.Error.Details {
		rows[d.Row] = d.Field
	}
	if len(rows) != 2 || rows[3] != "gender" || rows[5] != "code" {
		t.Fatalf("refused rows: %+v", p.Error.Details)
	}
	if n := e.Count("members"); n != 0 {
		t.Fatalf("a refused file wrote %d members", n)
	}
	// The dry run names the same rows, with a reason to translate.
	st, p = upload(t, e, manager, "kind=members&dry_run=true", "m.csv", file)
	if st != 200 || p.Counts.Refused != 2 || p.Counts.Create != 2 || len(p.Problems) != 2 || p.Problems[0].Row != 3 ||
		p.Problems[0].Key != "%q is not a gender: write F or H (femme, homme)" || p.Problems[0].Column != "C" {
		t.Fatalf("dry run of a bad file: %d %+v %+v", st, p.Counts, p.Problems)
	}
	if n := e.Count("members"); n != 0 {
		t.Fatalf("%d members after a dry run", n)
	}
}

func TestImportRefusals(t *testing.T) {
	e := webtest.New(t)
	e.Cooperative("SIROUA", "saffron")
	e.Cooperative("TIZNIT", "argan")
	manager := e.User("siroua@coop.ma", access.CoopManager, "SIROUA")
	other := e.User("manager@tiznit.ma", access.CoopManager, "TIZNIT")
	auditor := e.User("audit@onssa.ma", access.Auditor, "", "SIROUA")
	csv := []byte(frenchMembersCSV)
	for _, tt := range []struct {
		name, token, query, filename string
		content                      []byte
		status                       int
		field                        string
	}{
		{"auditor", auditor, "kind=members", "m.csv", csv, 403, ""},
		{"other cooperative's manager", other, "kind=members", "m.csv", csv, 403, ""},
		{"anonymous", "", "kind=members", "m.csv", csv, 401, ""},
		{"certificates are the admin's", manager, "kind=certifications", "c.csv", csv, 403, ""},
		{"no kind", manager, "", "m.csv", csv, 400, "kind"},
		{"unknown kind", manager, "kind=lots", "m.csv", csv, 400, "kind"},
		{"dry_run not a boolean", manager, "kind=members&dry_run=peut-être", "m.csv", csv, 400, "dry_run"},
		{"a photo named .csv", manager, "kind=members", "m.csv", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), 400, "file"},
		{"a map file of members", manager, "kind=members", "m.geojson", []byte(`{"type":"FeatureCollection","features":[]}`), 400, "file"},
		{"empty", manager, "kind=members", "m.csv", []byte("  \n"), 400, "file"},
		{"too large", manager, "kind=members", "m.csv", bytes.Repeat([]byte("A-1;Nom;F;Siroua\n"), traceability.MaxImportBytes/17+100), 413, "file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, p := upload(t, e, tt.token, tt.query, tt.filename, tt.content)
			if st != tt.status || (tt.field != "" && p.Error.Field != tt.field) {
				t.Fatalf("%d %+v, want %d naming %q", st, p.Error, tt.status, tt.field)
			}
		})
	}
	// A body that is not a multipart form names the field.
	resp, b := e.Do("POST", "/api/v1/cooperatives/SIROUA/imports?kind=members", manager, csv, "Content-Type", "text/csv")
	if resp.StatusCode != 400 || !strings.Contains(string(b), `"field":"file"`) {
		t.Fatalf("CSV body: %d %s", resp.StatusCode, b)
	}
	// A body larger than the import's limit is refused before it is read.
	big := bytes.Repeat([]byte("x"), traceability.MaxImportBytes+200<<10)
	body, ct := multipartFile(t, "file", "big.csv", big)
	resp, b = e.Do("POST", "/api/v1/cooperatives/SIROUA/imports?kind=members", manager, body, "Content-Type", ct)
	if resp.StatusCode != 413 {
		t.Fatalf("oversized body: %d %s", resp.StatusCode, b)
	}
	if n := e.Count("members"); n != 0 {
		t.Fatalf("refusals wrote %d members", n)
	}
}
