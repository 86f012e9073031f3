package traceability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
	"github.com/terroir-coop/terroir/internal/problem"
)

// importFixture is a saffron cooperative of Taliouine on a fresh store.
type importFixture struct {
	s       *Service
	db      *mongodb.Store
	admin   access.Actor
	manager access.Actor
	ctx     context.Context
}

func newImportFixture(t *testing.T) *importFixture {
	t.Helper()
	db := mongotest.New(t)
	ctx := context.Background()
	if err := db.EnsureIndexes(ctx, Indexes()); err != nil {
		t.Fatal(err)
	}
	f := &importFixture{
		s:       NewService(NewStore(db), func() time.Time { return time.Date(2025, 11, 20, 12, 0, 0, 0, time.UTC) }),
		db:      db,
		admin:   access.Actor{UserID: "u_admin", Email: "admin@test", Role: access.Admin},
		manager: access.Actor{UserID: "u_mgr", Email: "safran@test", Role: access.CoopManager, Org: "SIROUA"},
		ctx:     ctx,
	}
	if _, err := f.s.CreateCooperative(ctx, f.admin, Cooperative{Code: "SIROUA", Name: "Coopérative Siroua", Kind: "saffron", Commune: "Taliouine", Province: "Taroudannt"}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *importFixture) count(t *testing.T, collection string) int64 {
	t.Helper()
	n, err := f.db.Collection(collection).CountDocuments(f.ctx, bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *importFixture) preview(t *testing.T, kind ImportKind, name string, file []byte, opts ...ImportOption) ImportPreview {
	t.Helper()
	p, err := f.s.Preview(f.ctx, f.manager, "SIROUA", kind, name, bytes.NewReader(file), opts...)
	if err != nil {
		t.Fatalf("preview %s: %v", name, err)
	}
	return p
}

// apply imports a file that must be accepted.
func (f *importFixture) apply(t *testing.T, kind ImportKind, name string, file []byte, opts ...ImportOption) ImportPreview {
	t.Helper()
	actor := f.manager
	if kind == ImportKindCertifications {
		actor = f.admin
	}
	p, err := f.s.Apply(f.ctx, actor, "SIROUA", kind, name, bytes.NewReader(file), opts...)
	if err != nil {
		t.Fatalf("apply %s: %v\nproblems: %s", name, err, problemsOf(p))
	}
	if !p.Applied {
		t.Fatalf("apply %s: not applied", name)
	}
	return p
}

// refuse imports a file that must be refused, and returns its problems.
func (f *importFixture) refuse(t *testing.T, kind ImportKind, name string, file []byte, opts ...ImportOption) ImportPreview {
	t.Helper()
	p, err := f.s.Apply(f.ctx, f.admin, "SIROUA", kind, name, bytes.NewReader(file), opts...)
	if problem.CodeOf(err) != problem.Unprocessable {
		t.Fatalf("apply %s: %v, want a refusal (unprocessable)", name, err)
	}
	if p.Applied || len(p.Problems) == 0 {
		t.Fatalf("refused %s but applied %v with problems %s", name, p.Applied, problemsOf(p))
	}
	return p
}

func problemsOf(p ImportPreview) string {
	var b strings.Builder
	for _, e := range p.Problems {
		fmt.Fprintf(&b, "\n  %s %d %s: %s", p.RowLabel, e.Row, e.Field, e.Message)
	}
	return b.String()
}

// wantProblem fails unless p has a problem on row and field whose message
// contains text.
func wantRowProblem(t *testing.T, p ImportPreview, row int, field, text string) {
	t.Helper()
	for _, e := range p.Problems {
		if e.Row == row && e.Field == field && strings.Contains(e.Message, text) {
			return
		}
	}
	t.Errorf("no problem on %s %d, field %s, saying %q; problems:%s", p.RowLabel, row, field, text, problemsOf(p))
}

// frenchMembersCSV is a members register as French Excel saves it:
// "CSV (séparateur : point-virgule)" in UTF-8 with a BOM, a title line,
// accented names, family and first names apart, dd/mm/yyyy dates and
// decimal commas in columns that are not imported.
const frenchMembersCSV = "\ufeffRegistre des adhérents — Coopérative Siroua;;;;;;;\r\n" +
	";;;;;;;\r\n" +
	"N° adhérent;Nom;Prénom;Sexe;Douar;Commune;Date d'adhésion;Cotisation (MAD)\r\n" +
	"A-001;Aït Brahim;Fatima;F;Siroua;Taliouine;15/11/2019;150,50\r\n" +
	"A-002;Oubella;Lahcen;H;azaghar n'irs;TALIOUINE;03/04/2020;150,50\r\n" +
	"A-003;Ouchen;Zahra;Femme;Tinzert;;01/09/2021;1 200,00\r\n"

func TestImportMembersFromAFrenchSpreadsheet(t *testing.T) {
	f := newImportFixture(t)
	file := []byte(frenchMembersCSV)
	p := f.preview(t, ImportKindMembers, "adherents.csv", file)
	if p.Format != FormatCSV || p.Delimiter != ";" || p.HeaderRow != 3 || !p.OK() {
		t.Fatalf("preview: format %s delimiter %q header row %d ok %v%s", p.Format, p.Delimiter, p.HeaderRow, p.OK(), problemsOf(p))
	}
	var understood []string
	for _, c := range p.Columns {
		understood = append(understood, c.Letter+"="+c.Field+c.Note)
	}
	if got := strings.Join(understood, " "); got != "A=code B=last_name C=first_name D=gender E=village F=commune G=unknown H=unknown" {
		t.Errorf("columns understood as %s", got)
	}
	if p.Counts != (ImportCounts{Rows: 3, Create: 3}) {
		t.Errorf("counts %+v", p.Counts)
	}
	row := p.Rows[1]
	if row.Row != 5 || row.Values["name"] != "Lahcen Oubella" || row.Values["gender"] != "male" || row.Values["village"] != "Azaghar N'irs" || row.Values["commune"] != "Taliouine" {
		t.Errorf("row 5 understood as %+v", row)
	}
	if p.Rows[0].Values["name"] != "Fatima Aït Brahim" {
		t.Errorf("accented name read as %q", p.Rows[0].Values["name"])
	}
	if n := f.count(t, "members"); n != 0 {
		t.Fatalf("preview wrote %d members", n)
	}

	applied := f.apply(t, ImportKindMembers, "adherents.csv", file)
	if applied.Counts.Create != 3 || f.count(t, "members") != 3 || applied.Rows[0].ID == "" {
		t.Fatalf("apply: %+v, %d members", applied.Counts, f.count(t, "members"))
	}
	m, err := f.s.Member(f.ctx, f.manager, "SIROUA", applied.Rows[0].ID)
	if err != nil || m.Code != "A-001" || m.Name != "Fatima Aït Brahim" || m.Gender != "female" || m.Village != "Siroua" || m.Commune != "Taliouine" {
		t.Fatalf("stored member %+v, %v", m, err)
	}

	again := f.apply(t, ImportKindMembers, "adherents.csv", file)
	if again.Counts != (ImportCounts{Rows: 3, Unchanged: 3}) || f.count(t, "members") != 3 {
		t.Fatalf("second import: %+v, %d members", again.Counts, f.count(t, "members"))
	}
}

func TestImportMembersOneBadRowImportsNothing(t *testing.T) {
	f := newImportFixture(t)
	file := "code;nom;genre;village\n" +
		"B-1;Itto Amellal;F;Tagmoute\n" +
		"B-2;Mina Aït Said;X;Tasrirte\n" + // row 3: no such gender
		"B-3;Hadda Ait Hammou;F;Timlilt\n"
	p := f.refuse(t, ImportKindMembers, "m.csv", []byte(file))
	wantRowProblem(t, p, 3, "gender", `"X" is not a gender`)
	if len(p.Problems) != 1 || p.Counts.Refused != 1 || p.Counts.Create != 2 {
		t.Errorf("problems%s, counts %+v", problemsOf(p), p.Counts)
	}
	e := p.Problems[0]
	if e.Column != "C" || e.Key != "%q is not a gender: write F or H (femme, homme)" || len(e.Args) != 1 || e.Args[0] != "X" {
		t.Errorf("problem %+v: want column C and the key with its argument", e)
	}
	if n := f.count(t, "members"); n != 0 {
		t.Fatalf("a refused file wrote %d members", n)
	}
	_, err := f.s.Apply(f.ctx, f.manager, "SIROUA", ImportKindMembers, "m.csv", strings.NewReader(file))
	pe, _ := problem.As(err)
	if pe == nil || pe.Field != "file" || !strings.Contains(pe.Message, "nothing was imported") {
		t.Fatalf("refusal error: %v", err)
	}
	if rows, _ := pe.Details.([]RowError); len(rows) != 1 || rows[0].Row != 3 {
		t.Fatalf("refusal details: %+v", pe.Details)
	}
}

func TestImportMembersBadRows(t *testing.T) {
	f := newImportFixture(t)
	if _, err := f.s.AddMember(f.ctx, f.manager, "SIROUA", Member{Name: "Fatima Aït Brahim", Gender: "female", Village: "Siroua"}); err != nil {
		t.Fatal(err)
	}
	before := f.count(t, "members")
	p := f.refuse(t, ImportKindMembers, "m.csv", []byte("code;nom;genre;village;commune\n"+
		"C-1;Lahcen Oubella;H;Siroua;\n"+
		"C-1;Brahim Oukhouya;H;Siroua;\n"+ // row 3: duplicate code
		"C-3;Naima Ait Ouaziz;F;Sirou;\n"+ // row 4: unknown village, a typo
		"C-4;Yamna Oubaha;F;Tizi Ouzou;\n"+ // row 5: unknown village
		"C-5;Fatima Aït Brahim;H;Siroua;\n"+ // row 6: recorded as a woman
		"C-6;Abdellah Ait Taleb;H;Siroua;Casablanca\n"+ // row 7: unknown commune
		";;F;Siroua;\n")) // row 8: no name
	wantRowProblem(t, p, 3, "code", "C-1 is also the code on row 2")
	wantRowProblem(t, p, 4, "village", `"Sirou" is not a known village: did you mean Siroua?`)
	wantRowProblem(t, p, 5, "village", `"Tizi Ouzou" is not a known village of this cooperative`)
	wantRowProblem(t, p, 6, "gender", `differs from the member's gender on record: "female" there, "male" in the file`)
	wantRowProblem(t, p, 7, "commune", `"Casablanca" is not a known commune`)
	wantRowProblem(t, p, 8, "name", "is required")
	if n := f.count(t, "members"); n != before {
		t.Fatalf("refused file wrote members: %d → %d", before, n)
	}

	// A new village the manager confirms is recorded and then known.
	ok := f.apply(t, ImportKindMembers, "m.csv", []byte("code;nom;genre;village\nD-1;Yamna Oubaha;F;Tizi Ouzou\n"), AcceptNewPlaces())
	if len(ok.NewPlaces) != 1 || ok.NewPlaces[0] != "Tizi Ouzou" || ok.Counts.Create != 1 {
		t.Fatalf("accepted new place: %+v %v", ok.Counts, ok.NewPlaces)
	}
	if p := f.preview(t, ImportKindMembers, "m.csv", []byte("code;nom;genre;village\nD-2;Itto Ouchen;F;tizi ouzou\n")); !p.OK() || p.Rows[0].Values["village"] != "Tizi Ouzou" {
		t.Fatalf("a recorded village is not known afterwards:%s %+v", problemsOf(p), p.Rows)
	}
}

func TestImportMembersCompletesARecordTypedByHand(t *testing.T) {
	f := newImportFixture(t)
	m, err := f.s.AddMember(f.ctx, f.manager, "SIROUA", Member{Name: "Fatima Aït Brahim", Gender: "female", Village: "Siroua"})
	if err != nil {
		t.Fatal(err)
	}
	file := []byte("N° adhérent;Nom et prénom;Sexe;Douar;Commune\nA-001;FATIMA AIT BRAHIM;F;siroua;Taliouine\n")
	p := f.apply(t, ImportKindMembers, "m.csv", file)
	if p.Counts.Complete != 1 || p.Rows[0].ID != m.ID || strings.Join(p.Rows[0].Completes, ",") != "code,commune" {
		t.Fatalf("completion: %+v", p.Rows[0])
	}
	got, _ := f.s.Member(f.ctx, f.manager, "SIROUA", m.ID)
	if got.Code != "A-001" || got.Commune != "Taliouine" || got.Name != "Fatima Aït Brahim" || f.count(t, "members") != 1 {
		t.Fatalf("completed member %+v", got)
	}
	if again := f.apply(t, ImportKindMembers, "m.csv", file); again.Counts.Unchanged != 1 {
		t.Fatalf("second import: %+v", again.Counts)
	}
	// The code is the member's now: a form cannot give it to another.
	_, err = f.s.AddMember(f.ctx, f.manager, "SIROUA", Member{Name: "Autre", Gender: "male", Village: "Siroua", Code: "a-001"})
	if problem.CodeOf(err) != problem.Conflict {
		t.Fatalf("a second member with code A-001: %v", err)
	}
}

// xlsxOf writes a workbook with the sheets in order, each a title row, an
// empty row and then rows.
func xlsxOf(t *testing.T, sheets map[string][][]any, order ...string) []byte {
	t.Helper()
	x := excelize.NewFile()
	defer x.Close()
	for i, name := range order {
		if i == 0 {
			if err := x.SetSheetName("Sheet1", name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := x.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		if err := x.SetCellValue(name, "A1", "Parcelles de la coopérative — campagne 2025"); err != nil {
			t.Fatal(err)
		}
		for r, row := range sheets[name] {
			cell, _ := excelize.CoordinatesToCellName(1, r+3)
			if err := x.SetSheetRow(name, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
	}
	buf, err := x.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// importMembers records the members the parcel tests refer to.
func importMembers(t *testing.T, f *importFixture) {
	t.Helper()
	f.apply(t, ImportKindMembers, "m.csv", []byte(frenchMembersCSV))
}

func parcelsXLSX(t *testing.T) []byte {
	t.Helper()
	return xlsxOf(t, map[string][][]any{
		"Notes": {{"Ce classeur tient le registre des parcelles."}},
		"Parcelles": {
			{"Code parcelle", "Nom de la parcelle", "N° adhérent", "Superficie (ha)", "Culture", "Latitude", "Longitude", "Commune"},
			{"P-01", "Tamazirt", "A-001", 0.12, "Safran", 30.5318, -7.9262, "Taliouine"},
			{"P-02", "Igran", "A-002", "0,08", "safran", "30,5301", "-7,9240", "Taliouine"}, // typed as text, French decimals
			{"P-03", "Asif", "Zahra Ouchen", 0.05, "", 30.5335, -7.9281, ""},                // member by name; crop and commune from the cooperative
		},
	}, "Notes", "Parcelles")
}

func TestImportParcelsFromXLSX(t *testing.T) {
	f := newImportFixture(t)
	importMembers(t, f)
	file := parcelsXLSX(t)
	if _, err := f.s.Preview(f.ctx, f.manager, "SIROUA", ImportKindParcels, "parcelles.xlsx", bytes.NewReader(file), ImportSheet("Récoltes")); problem.CodeOf(err) != problem.Invalid || !strings.Contains(err.Error(), "Notes, Parcelles") {
		t.Fatalf("missing sheet: %v", err)
	}
	p := f.preview(t, ImportKindParcels, "parcelles.xlsx", file, ImportSheet("parcelles"))
	if p.Format != FormatXLSX || p.Sheet != "Parcelles" || strings.Join(p.Sheets, ",") != "Notes,Parcelles" || p.HeaderRow != 3 || !p.OK() {
		t.Fatalf("preview: %s %s %v header %d%s", p.Format, p.Sheet, p.Sheets, p.HeaderRow, problemsOf(p))
	}
	if c := p.Columns[3]; c.Field != "area_m2" || c.Unit != "ha" {
		t.Errorf("area column understood as %+v", c)
	}
	want := []map[string]string{
		{"code": "P-01", "area_m2": "1200", "crop": "saffron", "location": "Point", "member_name": "Fatima Aït Brahim"},
		{"code": "P-02", "area_m2": "800", "crop": "saffron", "commune": "Taliouine"},
		{"code": "P-03", "area_m2": "500", "crop": "saffron", "commune": "Taliouine", "member_name": "Zahra Ouchen"},
	}
	for i, w := range want {
		for k, v := range w {
			if got := p.Rows[i].Values[k]; got != v {
				t.Errorf("row %d %s = %q, want %q", p.Rows[i].Row, k, got, v)
			}
		}
	}
	if f.count(t, "parcels") != 0 {
		t.Fatal("preview wrote parcels")
	}
	f.apply(t, ImportKindParcels, "parcelles.xlsx", file, ImportSheet("Parcelles"))
	if n := f.count(t, "parcels"); n != 3 {
		t.Fatalf("%d parcels stored", n)
	}
	again := f.apply(t, ImportKindParcels, "parcelles.xlsx", file, ImportSheet("Parcelles"))
	if again.Counts != (ImportCounts{Rows: 3, Unchanged: 3}) || f.count(t, "parcels") != 3 {
		t.Fatalf("second import: %+v", again.Counts)
	}
}

// outline returns a closed ring of w × h metres whose south-west corner is
// (lon, lat), counter-clockwise, as [lon, lat] pairs.
func outline(lon, lat, w, h float64) [][]float64 {
	pl := newLocalPlane(lon, lat)
	var ring [][]float64
	for _, c := range [][2]float64{{0, 0}, {w, 0}, {w, h}, {0, h}, {0, 0}} {
		x, y := pl.unproject(c[0], c[1])
		ring = append(ring, []float64{x, y})
	}
	return ring
}

func featureCollection(t *testing.T, features ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"type": "FeatureCollection", "features": features})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func feature(geometryType string, coords any, props map[string]any) map[string]any {
	return map[string]any{"type": "Feature", "geometry": map[string]any{"type": geometryType, "coordinates": coords}, "properties": props}
}

func TestImportParcelOutlinesFromGeoJSON(t *testing.T) {
	f := newImportFixture(t)
	importMembers(t, f)
	f.apply(t, ImportKindParcels, "parcelles.xlsx", parcelsXLSX(t), ImportSheet("Parcelles"))
	file := featureCollection(t,
		// New parcels: the declared area is checked against the outline, or
		// computed from it when absent.
		feature("Polygon", [][][]float64{outline(-7.9300, 30.5350, 30, 40)}, map[string]any{"code": "P-10", "nom": "Tafrawt", "adherent": "A-003", "superficie_m2": 1150, "culture": "safran"}),
		feature("MultiPolygon", [][][][]float64{{outline(-7.9310, 30.5360, 20, 20)}}, map[string]any{"code": "P-11", "nom": "Tagant", "adherent": "A-001"}),
		// Outlines walked since for parcels recorded as points.
		feature("Polygon", [][][]float64{outline(-7.9262, 30.5318, 30, 40)}, map[string]any{"code": "P-01"}),
	)
	p := f.preview(t, ImportKindParcels, "parcelles.geojson", file)
	if p.Format != FormatGeoJSON || p.RowLabel != "feature" || !p.OK() {
		t.Fatalf("preview %s %s%s", p.Format, p.RowLabel, problemsOf(p))
	}
	if p.Counts != (ImportCounts{Rows: 3, Create: 2, Complete: 1}) {
		t.Fatalf("counts %+v", p.Counts)
	}
	if v := p.Rows[1].Values; v["area_m2"] != "400" || v["area_from"] != "outline" {
		t.Errorf("computed area: %v", v)
	}
	if c := p.Rows[2].Completes; len(c) != 1 || c[0] != "location" {
		t.Errorf("P-01 completes %v", c)
	}
	f.apply(t, ImportKindParcels, "parcelles.geojson", file)
	if n := f.count(t, "parcels"); n != 5 {
		t.Fatalf("%d parcels", n)
	}
	p01, err := f.s.Parcel(f.ctx, f.manager, "SIROUA", p.Rows[2].ID)
	if err != nil || p01.Location.Type != "Polygon" || p01.AreaM2 != 1200 || p01.Code != "P-01" {
		t.Fatalf("P-01 after its outline: %+v %v", p01, err)
	}
	again := f.apply(t, ImportKindParcels, "parcelles.geojson", file)
	if again.Counts != (ImportCounts{Rows: 3, Unchanged: 3}) || f.count(t, "parcels") != 5 {
		t.Fatalf("second import: %+v", again.Counts)
	}
	// An outline that disagrees with the declared area is the parcel
	// form's refusal, on its feature.
	bad := featureCollection(t, feature("Polygon", [][][]float64{outline(-7.9320, 30.5370, 30, 40)}, map[string]any{"code": "P-12", "nom": "X", "adherent": "A-001", "superficie (ha)": 12}))
	wantRowProblem(t, f.refuse(t, ImportKindParcels, "bad.geojson", bad), 1, "area_m2", "declared 120000 m² but the outline measures about 1200 m²")
}

func TestImportParcelsBadShapes(t *testing.T) {
	f := newImportFixture(t)
	importMembers(t, f)
	open := outline(-7.9300, 30.5350, 30, 40)
	open = open[:len(open)-1] // the last position does not repeat the first
	file := featureCollection(t,
		feature("Polygon", [][][]float64{open}, map[string]any{"code": "Q-1", "nom": "Ouvert", "adherent": "A-001"}),
		feature("Point", []float64{2.3522, 48.8566}, map[string]any{"code": "Q-2", "nom": "Paris", "adherent": "A-001", "surface (m2)": 500}),
		feature("Point", []float64{30.5318, -7.9262}, map[string]any{"code": "Q-3", "nom": "Inversée", "adherent": "A-001", "surface (m2)": 500}),
		feature("Point", []float64{-7.9262, 30.5318}, map[string]any{"code": "Q-4", "nom": "Personne", "adherent": "Z-999", "surface (m2)": 500}),
		feature("LineString", [][]float64{{-7.93, 30.535}, {-7.9297, 30.535}}, map[string]any{"code": "Q-5", "nom": "Deux points", "adherent": "A-001"}),
		feature("Polygon", [][][]float64{outline(-7.9300, 30.5350, 30, 40)}, map[string]any{"code": "Q-1", "nom": "Encore", "adherent": "A-001"}),
	)
	p := f.refuse(t, ImportKindParcels, "bad.geojson", file)
	wantRowProblem(t, p, 1, "location", "is not closed")
	wantRowProblem(t, p, 2, "location", "is outside Morocco")
	wantRowProblem(t, p, 3, "location", "are latitude and longitude swapped?")
	wantRowProblem(t, p, 4, "member", `"Z-999" is not a member of this cooperative`)
	wantRowProblem(t, p, 5, "location", "a track of 2 points cannot outline a parcel")
	wantRowProblem(t, p, 6, "code", "Q-1 is also on feature 1")
	if n := f.count(t, "parcels"); n != 0 {
		t.Fatalf("refused file wrote %d parcels", n)
	}
}

func kmlOf(placemarks ...string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Parcelles</name><Folder>` + strings.Join(placemarks, "") + `</Folder></Document></kml>`)
}

func kmlCoords(ring [][]float64) string {
	var parts []string
	for _, p := range ring {
		parts = append(parts, fmt.Sprintf("%.7f,%.7f,1650", p[0], p[1]))
	}
	return strings.Join(parts, " ")
}

func gpxOf(tracks ...string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="OsmAnd" xmlns="http://www.topografix.com/GPX/1/1">` + strings.Join(tracks, "") + `</gpx>`)
}

func gpxTrack(name, desc string, pts [][]float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<trk><name>%s</name><desc>%s</desc><trkseg>", name, desc)
	for _, p := range pts {
		fmt.Fprintf(&b, `<trkpt lat="%.7f" lon="%.7f"><ele>1650</ele></trkpt>`, p[1], p[0])
	}
	b.WriteString("</trkseg></trk>")
	return b.String()
}

// walked is a track around an outline that ends a few metres from its
// start, as a phone records a walk back to the starting stone.
func walked(ring [][]float64) [][]float64 {
	pts := append([][]float64{}, ring[:len(ring)-1]...)
	last := []float64{ring[0][0] + 0.00004, ring[0][1] + 0.00003} // about 5 m off
	return append(pts, last)
}

func TestImportParcelsFromKMLAndGPX(t *testing.T) {
	f := newImportFixture(t)
	importMembers(t, f)
	f.apply(t, ImportKindParcels, "parcelles.xlsx", parcelsXLSX(t), ImportSheet("Parcelles"))

	// KML: a new parcel drawn in Google Earth, and the walked track of P-02.
	kml := kmlOf(
		`<Placemark><name>Tizgui</name><ExtendedData><Data name="Code parcelle"><value>P-20</value></Data><Data name="Adhérent"><value>A-002</value></Data><Data name="Superficie (m²)"><value>1200</value></Data></ExtendedData>`+
			`<Polygon><outerBoundaryIs><LinearRing><coordinates>`+kmlCoords(outline(-7.9400, 30.5400, 30, 40))+`</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>`,
		`<Placemark><name>P-02</name><LineString><coordinates>`+kmlCoords(walked(outline(-7.9240, 30.5301, 20, 40)))+`</coordinates></LineString></Placemark>`,
	)
	p := f.apply(t, ImportKindParcels, "parcelles.kml", kml)
	if p.Format != FormatKML || p.Counts != (ImportCounts{Rows: 2, Create: 1, Complete: 1}) {
		t.Fatalf("KML: %s %+v%s", p.Format, p.Counts, problemsOf(p))
	}
	if again := f.apply(t, ImportKindParcels, "parcelles.kml", kml); again.Counts.Unchanged != 2 {
		t.Fatalf("KML again: %+v", again.Counts)
	}

	// GPX: P-03 walked with a phone (name is the code); a new parcel with
	// its fields in the description.
	gpx := gpxOf(
		gpxTrack("P-03", "", walked(outline(-7.9281, 30.5335, 25, 20))),
		gpxTrack("Ighil", "adherent: A-003\nsurface (m2): 900\nculture: safran", walked(outline(-7.9500, 30.5500, 30, 30))),
	)
	p = f.apply(t, ImportKindParcels, "trace.gpx", gpx)
	if p.Format != FormatGPX || p.RowLabel != "track" || p.Counts != (ImportCounts{Rows: 2, Create: 1, Complete: 1}) {
		t.Fatalf("GPX: %s %+v%s", p.Format, p.Counts, problemsOf(p))
	}
	p03, _ := f.s.Parcel(f.ctx, f.manager, "SIROUA", p.Rows[0].ID)
	if p03.Location.Type != "Polygon" || p03.Code != "P-03" {
		t.Fatalf("P-03 after its walk: %+v", p03)
	}
	if again := f.apply(t, ImportKindParcels, "trace.gpx", gpx); again.Counts.Unchanged != 2 {
		t.Fatalf("GPX again: %+v", again.Counts)
	}
	stored := f.count(t, "parcels")

	// Tracks that outline nothing.
	away := outline(-7.9600, 30.5600, 100, 100)
	away = away[:len(away)-1] // ends 100 m from its start
	badGPX := gpxOf(
		gpxTrack("Two", "adherent: A-001", [][]float64{{-7.96, 30.56}, {-7.9599, 30.56}}),
		gpxTrack("Open", "adherent: A-001", away),
	)
	bad := f.refuse(t, ImportKindParcels, "bad.gpx", badGPX)
	wantRowProblem(t, bad, 1, "location", "a track of 2 points cannot outline a parcel")
	wantRowProblem(t, bad, 2, "location", "the track ends 100 m from where it starts")
	openRing := outline(-7.9700, 30.5700, 30, 30)
	badKML := kmlOf(`<Placemark><name>Ouverte</name><ExtendedData><Data name="adherent"><value>A-001</value></Data></ExtendedData><Polygon><outerBoundaryIs><LinearRing><coordinates>` +
		kmlCoords(openRing[:len(openRing)-1]) + `</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>`)
	wantRowProblem(t, f.refuse(t, ImportKindParcels, "bad.kml", badKML), 1, "location", "is not closed")
	if n := f.count(t, "parcels"); n != stored {
		t.Fatalf("refused files wrote parcels: %d → %d", stored, n)
	}
}

func TestImportHarvestsByCodesAndNames(t *testing.T) {
	f := newImportFixture(t)
	importMembers(t, f)
	f.apply(t, ImportKindParcels, "parcelles.xlsx", parcelsXLSX(t), ImportSheet("Parcelles"))
	file := []byte("Parcelle;Adhérente;Date de récolte;Poids (kg)\n" +
		"P-01;A-001;28/10/2025;1,250\n" +
		"Igran;Lahcen Oubella;29-10-2025;0,8\n" + // by names
		"P-03;;30/10/2025;0,400\n" + // the parcel's member
		"P-03;;30/10/2025;0,400\n") // two equal pickings are two harvests
	p := f.preview(t, ImportKindHarvests, "cueillette.csv", file)
	if !p.OK() || p.Counts.Create != 4 {
		t.Fatalf("preview %+v%s", p.Counts, problemsOf(p))
	}
	if v := p.Rows[0].Values; v["quantity"] != "1.25 kg" || v["date"] != "2025-10-28" || v["crop"] != "saffron" || v["member_name"] != "Fatima Aït Brahim" {
		t.Errorf("row 2 understood as %v", v)
	}
	if v := p.Rows[2].Values; v["member_name"] != "Zahra Ouchen" {
		t.Errorf("row 4's member: %v", v)
	}
	f.apply(t, ImportKindHarvests, "cueillette.csv", file)
	if n := f.count(t, "harvests"); n != 4 {
		t.Fatalf("%d harvests", n)
	}
	hs, _ := f.s.Harvests(f.ctx, f.manager, "SIROUA", mongodb.Page{})
	var total int64
	for _, h := range hs {
		total += h.Quantity
	}
	if total != 2_850_000 {
		t.Errorf("harvested %d mg, want 2 850 000", total)
	}
	again := f.apply(t, ImportKindHarvests, "cueillette.csv", file)
	if again.Counts != (ImportCounts{Rows: 4, Unchanged: 4}) || f.count(t, "harvests") != 4 {
		t.Fatalf("second import: %+v", again.Counts)
	}
	bad := f.refuse(t, ImportKindHarvests, "bad.csv", []byte("parcelle;adherent;date;quantité;unité\n"+
		"P-01;A-404;31/10/2025;1;kg\n"+
		"P-99;A-001;31/10/2025;1;kg\n"+
		"P-01;A-001;31/02/2025;1;kg\n"+
		"P-01;A-001;01/12/2025;1;kg\n"+
		"P-01;A-001;31/10/2025;beaucoup;kg\n"+
		"P-01;A-001;31/10/2025;1;sacs\n"+
		"P-01;A-001;31/10/2025;0,0000001;g\n"))
	wantRowProblem(t, bad, 2, "member", `"A-404" is not a member`)
	wantRowProblem(t, bad, 3, "parcel", `"P-99" is not a parcel`)
	wantRowProblem(t, bad, 4, "date", `"31/02/2025" is not a date`)
	wantRowProblem(t, bad, 5, "date", "is in the future")
	wantRowProblem(t, bad, 6, "amount", `"beaucoup" is not a number`)
	wantRowProblem(t, bad, 7, "unit", `unknown unit "sacs"`)
	wantRowProblem(t, bad, 8, "amount", "cannot be counted")
	if n := f.count(t, "harvests"); n != 4 {
		t.Fatalf("refused file wrote harvests: %d", n)
	}
	// An amount without a unit anywhere is a problem of its column.
	noUnit := f.refuse(t, ImportKindHarvests, "nounit.csv", []byte("parcelle;adherent;date;quantité\nP-01;A-001;31/10/2025;1\n"))
	wantRowProblem(t, noUnit, 1, "amount", "does not say its unit")
}

func TestImportCertifications(t *testing.T) {
	f := newImportFixture(t)
	importMembers(t, f)
	f.apply(t, ImportKindParcels, "parcelles.xlsx", parcelsXLSX(t), ImportSheet("Parcelles"))
	file := []byte("Référentiel;Organisme certificateur;Code organisme;N° certificat;Valide du;Valide jusqu'au;Produits;Parcelles\n" +
		"AOP Safran de Taliouine;Normacert;MA-BIO-01;AOP-2025-17;01/09/2025;31/08/2026;safran, safran séché;P-01, Igran\n" +
		"Maroc bio;Ecocert;MA-BIO-154;BIO-88;15-01-2025;14-01-2026;;\n")
	if _, err := f.s.Preview(f.ctx, f.manager, "SIROUA", ImportKindCertifications, "c.csv", bytes.NewReader(file)); !access.IsForbidden(err) {
		t.Fatalf("a cooperative manager previewed certificates: %v", err)
	}
	p := f.apply(t, ImportKindCertifications, "certificats.csv", file)
	if p.Counts.Create != 2 {
		t.Fatalf("%+v%s", p.Counts, problemsOf(p))
	}
	c, err := f.s.store.certification(f.ctx, p.Rows[0].ID)
	if err != nil || c.Holder != "SIROUA" || c.ValidFrom != "2025-09-01" || c.ValidTo != "2026-08-31" || strings.Join(c.ProductKinds, ",") != "saffron,saffron_dried" || len(c.Parcels) != 2 || c.Status != StatusValid {
		t.Fatalf("stored %+v %v", c, err)
	}
	if again := f.apply(t, ImportKindCertifications, "certificats.csv", file); again.Counts.Unchanged != 2 || f.count(t, "certifications") != 2 {
		t.Fatalf("second import: %+v", again.Counts)
	}
	// A workbook's date cells are day numbers, whatever their display.
	book := xlsxOf(t, map[string][][]any{"Certificats": {
		{"Scheme", "Body", "Number", "Valid from", "Valid to", "Products"},
		{"EU organic", "Ecocert", "EU-77", time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), "huile d'argan"},
	}}, "Certificats")
	x := f.apply(t, ImportKindCertifications, "certificats.xlsx", book)
	if v := x.Rows[0].Values; v["valid_from"] != "2025-03-05" || v["valid_to"] != "2026-03-04" || v["product_kinds"] != "argan_oil" {
		t.Fatalf("dates of a workbook: %v%s", v, problemsOf(x))
	}
	changed := strings.Replace(string(file), "31/08/2026", "31/08/2027", 1)
	wantRowProblem(t, f.refuse(t, ImportKindCertifications, "c.csv", []byte(changed)), 2, "valid_to", `"2026-08-31" there, "2027-08-31" in the file`)
}

func TestImportRefusesFilesThatAreNotRegisters(t *testing.T) {
	f := newImportFixture(t)
	tests := []struct {
		name  string
		kind  ImportKind
		file  []byte
		opts  []ImportOption
		code  problem.Code
		field string
		text  string
	}{
		{"photo.csv", ImportKindMembers, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), nil, problem.Invalid, "file", "is an image"},
		{"old.xls", ImportKindMembers, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, nil, problem.Invalid, "file", "old Excel file"},
		{"doc.pdf", ImportKindMembers, []byte("%PDF-1.7\n"), nil, problem.Invalid, "file", "PDF"},
		{"fake.xlsx", ImportKindMembers, []byte("PK\x03\x04garbage"), nil, problem.Invalid, "file", "not an Excel workbook"},
		{"latin1.csv", ImportKindMembers, []byte("nom;genre;village\nA\xefcha;F;Siroua\n"), nil, problem.Invalid, "file", "not UTF-8"},
		{"binary.csv", ImportKindMembers, []byte("nom;genre\x00\x01\x02"), nil, problem.Invalid, "file", "not a spreadsheet"},
		{"page.html", ImportKindMembers, []byte("<!DOCTYPE html><html><body>x</body></html>"), nil, problem.Invalid, "file", "neither KML nor GPX"},
		{"empty.csv", ImportKindMembers, []byte("  \n"), nil, problem.Invalid, "file", "is empty"},
		{"nothing.csv", ImportKindMembers, []byte("foo;bar\n1;2\n"), nil, problem.Invalid, "file", "no column was recognised"},
		{"map.geojson", ImportKindMembers, []byte(`{"type":"FeatureCollection","features":[]}`), nil, problem.Invalid, "file", "only parcels"},
		{"lambert.geojson", ImportKindParcels, []byte(`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::26191"}},"features":[]}`), nil, problem.Invalid, "file", "EPSG:4326"},
		{"big.csv", ImportKindMembers, []byte("nom;genre;village\n" + strings.Repeat("Itto;F;Siroua\n", 100)), []ImportOption{ImportLimits(1000, 1000)}, problem.TooLarge, "file", "larger than"},
		{"long.csv", ImportKindMembers, []byte("nom;genre;village\n" + strings.Repeat("Itto;F;Siroua\n", 30)), []ImportOption{ImportLimits(1<<20, 20)}, problem.Invalid, "file", "more than 20 rows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.s.Preview(f.ctx, f.manager, "SIROUA", tt.kind, tt.name, bytes.NewReader(tt.file), tt.opts...)
			pe, ok := problem.As(err)
			if !ok || pe.Code != tt.code || pe.Field != tt.field || !strings.Contains(pe.Message, tt.text) {
				t.Fatalf("error %v, want %s on %s saying %q", err, tt.code, tt.field, tt.text)
			}
		})
	}
	if _, err := f.s.Preview(f.ctx, f.manager, "SIROUA", "lots", "x.csv", strings.NewReader("a")); problem.CodeOf(err) != problem.Invalid {
		t.Errorf("unknown kind: %v", err)
	}
	other := access.Actor{UserID: "u2", Email: "x@test", Role: access.CoopManager, Org: "TIWIZWINE"}
	if _, err := f.s.Preview(f.ctx, other, "SIROUA", ImportKindMembers, "m.csv", strings.NewReader(frenchMembersCSV)); !access.IsForbidden(err) {
		t.Errorf("another cooperative's manager: %v", err)
	}
	if f.count(t, "members") != 0 {
		t.Error("a refused file wrote members")
	}
}

func TestImportReportsProgress(t *testing.T) {
	f := newImportFixture(t)
	var b strings.Builder
	b.WriteString("code;nom;genre;village\n")
	for i := range 1200 {
		fmt.Fprintf(&b, "M-%04d;Membre %d;F;Siroua\n", i, i)
	}
	var stages []string
	p := f.apply(t, ImportKindMembers, "m.csv", []byte(b.String()), ImportProgressFunc(func(pr ImportProgress) {
		stages = append(stages, fmt.Sprintf("%s %d/%d", pr.Stage, pr.Done, pr.Total))
	}))
	if p.Counts.Create != 1200 {
		t.Fatalf("%+v", p.Counts)
	}
	want := "read 1200/1200 check 500/1200 check 1000/1200 check 1200/1200 write 500/1200 write 1000/1200 write 1200/1200"
	if got := strings.Join(stages, " "); got != want {
		t.Errorf("progress:\n got %s\nwant %s", got, want)
	}
}

// ImportKindHarvests keeps the file format of the harvests page and of
// POST …/harvests/import: the fixed header, ISO dates, whole amounts, rows
// counted from the first line under the header. It now also takes codes
// and names, and a file sent twice is recorded once.
func TestImportHarvestsKeepsItsFormat(t *testing.T) {
	f := newImportFixture(t)
	importMembers(t, f)
	f.apply(t, ImportKindParcels, "parcelles.xlsx", parcelsXLSX(t), ImportSheet("Parcelles"))
	good := "parcel,member,date,crop,amount,unit\nP-01,A-001,2025-10-28,saffron,400,g\nIgran,A-002,2025-10-29,saffron,1,kg\n"
	if n, err := f.s.ImportHarvests(f.ctx, f.manager, "SIROUA", strings.NewReader(good)); err != nil || n != 2 {
		t.Fatalf("import: %d, %v", n, err)
	}
	if n, err := f.s.ImportHarvests(f.ctx, f.manager, "SIROUA", strings.NewReader(good)); err != nil || n != 0 || f.count(t, "harvests") != 2 {
		t.Fatalf("the same file again: %d, %v, %d harvests", n, err, f.count(t, "harvests"))
	}
	_, err := f.s.ImportHarvests(f.ctx, f.manager, "SIROUA", strings.NewReader("parcel,member,date,crop,amount,unit\nP-01,A-001,2025-10-30,saffron,400,g\nP-01,A-001,30/10/2025,saffron,1,kg\nP-01,A-001,2025-10-30,saffron,1.5,kg\n"))
	pe, _ := problem.As(err)
	rows, _ := pe.Details.([]RowError)
	if pe == nil || pe.Code != problem.Unprocessable || len(rows) != 2 || rows[0].Row != 2 || rows[0].Field != "date" || rows[1].Row != 3 || rows[1].Field != "amount" {
		t.Fatalf("refusal: %v %+v", err, rows)
	}
	for _, bad := range []string{"Parcelle;Adhérent;Date;Poids (kg)\nP-01;A-001;2025-10-30;1\n", "parcel,member,date,crop,amount,unit\n"} {
		if _, err := f.s.ImportHarvests(f.ctx, f.manager, "SIROUA", strings.NewReader(bad)); problem.CodeOf(err) != problem.Invalid {
			t.Errorf("%q: %v, want 400 on file", bad, err)
		}
	}
	if n := f.count(t, "harvests"); n != 2 {
		t.Fatalf("refused files wrote harvests: %d", n)
	}
}

// A workbook's codes are read as shown (a number formatted 000 is "007"),
// its numbers and dates as stored (not rounded or localised by the display).
func TestImportXLSXReadsCodesAsShownAndNumbersAsStored(t *testing.T) {
	f := newImportFixture(t)
	x := excelize.NewFile()
	defer x.Close()
	for i, row := range [][]any{{"N° adhérent", "Nom", "Sexe", "Douar"}, {7, "Itto Amellal", "F", "Tagmoute"}} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	zeros := "000"
	style, err := x.NewStyle(&excelize.Style{CustomNumFmt: &zeros})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.SetCellStyle("Sheet1", "A2", "A2", style); err != nil {
		t.Fatal(err)
	}
	buf, err := x.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	p := f.apply(t, ImportKindMembers, "m.xlsx", buf.Bytes())
	if got := p.Rows[0].Values["code"]; got != "007" {
		t.Fatalf("code read as %q, want 007", got)
	}

	// An area shown rounded to one decimal is stored with all of them.
	importMembers(t, f)
	y := excelize.NewFile()
	defer y.Close()
	for i, row := range [][]any{{"Code", "Nom", "Adhérent", "Superficie (ha)", "Latitude", "Longitude"}, {"P-1", "Tamazirt", "A-001", 0.1234, 30.5318, -7.9262}} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := y.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	oneDecimal := "0.0"
	style, _ = y.NewStyle(&excelize.Style{CustomNumFmt: &oneDecimal})
	if err := y.SetCellStyle("Sheet1", "D2", "F2", style); err != nil {
		t.Fatal(err)
	}
	buf, _ = y.WriteToBuffer()
	pp := f.preview(t, ImportKindParcels, "p.xlsx", buf.Bytes())
	if got := pp.Rows[0].Values["area_m2"]; got != "1234" || !pp.OK() {
		t.Fatalf("area read as %q (want 1234 m²)%s", got, problemsOf(pp))
	}
}
