package web_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/web/webtest"
)

// TestSeasonEPCISThroughTheAPI: the auditor's file of a season holds every
// step of the cooperative's lots, with the same eventIDs as the lot
// exports, so the two merge without duplicates; in the lot export's
// content type; refused to other cooperatives and to a bad season.
func TestSeasonEPCISThroughTheAPI(t *testing.T) {
	e := webtest.New(t)
	j := packedJars(t, e, 40, false)
	auditor := e.User("audit@onssa.ma", access.Auditor, "", "SIROUA")
	season := fmt.Sprint(e.Traceability.CurrentSeason())

	resp, body := e.Do("GET", "/api/v1/cooperatives/SIROUA/epcis?season="+season, auditor, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/ld+json" {
		t.Fatalf("season export: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var doc epcisAnswer
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Type != "EPCISDocument" || doc.SchemaVersion != "2.0" {
		t.Fatalf("header: %s", body)
	}
	ids := map[string]string{} // eventID → bizStep
	for _, ev := range doc.Body.EventList {
		if _, dup := ids[ev.EventID]; dup {
			t.Errorf("event %s twice in the season's file", ev.EventID)
		}
		ids[ev.EventID] = ev.BizStep
	}
	// Every event of the jar's own export is in the season's file.
	_, lotBody := e.Do("GET", "/api/v1/lots/"+j.packed.Code+"/epcis", auditor, nil)
	var lot epcisAnswer
	if err := json.Unmarshal(lotBody, &lot); err != nil {
		t.Fatal(err)
	}
	packing := 0
	for _, ev := range lot.Body.EventList {
		if _, ok := ids[ev.EventID]; !ok {
			t.Errorf("the jar's %s event %s is not in the season's file", ev.BizStep, ev.EventID)
		}
		if ev.BizStep == "packing" || ev.BizStep == "https://ref.gs1.org/cbv/BizStep-packing" {
			packing++
		}
	}
	if len(lot.Body.EventList) == 0 || packing != 1 {
		t.Fatalf("the jar's export has %d events, %d of packing", len(lot.Body.EventList), packing)
	}
	if len(doc.Body.EventList) < len(lot.Body.EventList) {
		t.Fatalf("the season's file has %d events, fewer than the jar's %d", len(doc.Body.EventList), len(lot.Body.EventList))
	}

	// A season with no lot is an empty document, not an error.
	resp, body = e.Do("GET", "/api/v1/cooperatives/SIROUA/epcis?season=2001", auditor, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("an empty season: %d", resp.StatusCode)
	}
	var empty epcisAnswer
	if err := json.Unmarshal(body, &empty); err != nil || len(empty.Body.EventList) != 0 {
		t.Fatalf("an empty season: %v %s", err, body)
	}

	var a apiError
	if st := e.JSON("GET", "/api/v1/cooperatives/SIROUA/epcis?season=abc", auditor, nil, &a); st != 400 || a.Error.Field != "season" {
		t.Fatalf("bad season: %d %+v", st, a.Error)
	}
	e.Cooperative("TIZNIT", "argan")
	for who, token := range map[string]string{
		"another cooperative's manager": e.User("tiznit@coop.ma", access.CoopManager, "TIZNIT"),
		"an auditor of another scope":   e.User("audit@tiznit.ma", access.Auditor, "", "TIZNIT"),
	} {
		if st := e.JSON("GET", "/api/v1/cooperatives/SIROUA/epcis", token, nil, nil); st != 403 && st != 404 {
			t.Errorf("%s: %d, want 403 or 404", who, st)
		}
	}
	if st := e.JSON("GET", "/api/v1/cooperatives/SIROUA/epcis", "", nil, nil); st != 401 {
		t.Errorf("anonymous: %d, want 401", st)
	}
}

// TestCertificationCropsThroughTheAPI: a certificate names crops, read
// back as such; a crop covers every kind made from it (the saffron AOP
// stays on dried saffron), and a certificate scoped to argan never shows on
// a saffron lot even on the same parcel; an unknown crop is refused naming
// it.
func TestCertificationCropsThroughTheAPI(t *testing.T) {
	e := webtest.New(t)
	f := newCoop(t, e, "SIROUA", "saffron", 1000)
	cert := func(scheme string, crops []string) (int, map[string]any) {
		var c map[string]any
		st := e.JSON("POST", "/api/v1/certifications", e.AdminToken, map[string]any{
			"holder": "SIROUA", "scheme": scheme, "body": "ONSSA", "body_code": "MA-1", "number": "N-" + scheme,
			"valid_from": "2025-01-01", "valid_to": "2030-12-31", "crops": crops, "parcels": []string{f.parcel}}, &c)
		return st, c
	}
	st, aop := cert("AOP Safran de Taliouine", []string{"saffron"})
	if st != 201 {
		t.Fatalf("crop-scoped certificate: %d %v", st, aop)
	}
	var got struct {
		Crops        []string `json:"crops"`
		ProductKinds []string `json:"product_kinds"`
	}
	if st := e.JSON("GET", "/api/v1/certifications/"+aop["id"].(string), e.AdminToken, nil, &got); st != 200 || len(got.Crops) != 1 || got.Crops[0] != "saffron" || len(got.ProductKinds) != 0 {
		t.Fatalf("read back: %d %+v", st, got)
	}
	if st, _ := cert("IGP Argane", []string{"argan"}); st != 201 {
		t.Fatalf("argan certificate: %d", st)
	}
	var bad apiError
	if st := e.JSON("POST", "/api/v1/certifications", e.AdminToken, map[string]any{
		"holder": "SIROUA", "scheme": "X", "body": "ONSSA", "number": "N-X", "valid_from": "2025-01-01", "valid_to": "2030-12-31", "crops": []string{"truffle"}}, &bad); st != 400 || bad.Error.Field != "crops[0]" {
		t.Fatalf("unknown crop: %d %+v", st, bad.Error)
	}

	lot := f.lot(t, f.harvest(t, "2025-10-28", 500))
	_, dried := f.dry(t, lot.Code, 500, 100)
	for name, l := range map[string]lotAnswer{"fresh": lot, "dried": getLot(t, e, f.manager, dried.Code)} {
		s := schemes(l)
		if s["AOP Safran de Taliouine"] != "valid" || len(s) != 1 {
			t.Errorf("%s saffron claims %v, want the saffron AOP only", name, s)
		}
	}
}
