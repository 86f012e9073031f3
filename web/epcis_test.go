package web_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/webtest"
)

type epcisAnswer struct {
	Context       []any  `json:"@context"`
	Type          string `json:"type"`
	SchemaVersion string `json:"schemaVersion"`
	Body          struct {
		EventList []struct {
			Type         string `json:"type"`
			EventID      string `json:"eventID"`
			Action       string `json:"action"`
			BizStep      string `json:"bizStep"`
			Process      string `json:"terroir:process"`
			QuantityList []struct {
				EPCClass string `json:"epcClass"`
				Quantity int64  `json:"quantity"`
				UOM      string `json:"uom"`
			} `json:"quantityList"`
			InputQuantityList []struct {
				EPCClass string `json:"epcClass"`
				Quantity int64  `json:"quantity"`
				UOM      string `json:"uom"`
			} `json:"inputQuantityList"`
			OutputQuantityList []struct {
				EPCClass string `json:"epcClass"`
				Quantity int64  `json:"quantity"`
				UOM      string `json:"uom"`
			} `json:"outputQuantityList"`
			ReadPoint struct {
				ID string `json:"id"`
			} `json:"readPoint"`
		} `json:"eventList"`
	} `json:"epcisBody"`
}

func TestEPCISExportOfADriedThenPackedLot(t *testing.T) {
	e := webtest.New(t)
	j := packedJars(t, e, 150, false)
	auditor := e.User("audit@cert.ma", access.Auditor, "", "SIROUA")
	resp, body := e.Do("GET", "/api/v1/lots/"+j.packed.Code+"/epcis", auditor, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/ld+json" {
		t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var doc epcisAnswer
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Type != "EPCISDocument" || doc.SchemaVersion != "2.0" || len(doc.Context) == 0 || doc.Context[0] != traceability.EPCISContext {
		t.Fatalf("header: %s", body)
	}
	ev := doc.Body.EventList
	if len(ev) != 3 {
		t.Fatalf("%d events, want commissioning, drying, packing: %s", len(ev), body)
	}
	base := e.Server.URL
	c, d, p := ev[0], ev[1], ev[2]
	if c.Type != "ObjectEvent" || c.Action != "ADD" || c.BizStep != "commissioning" ||
		len(c.QuantityList) != 1 || c.QuantityList[0].EPCClass != base+"/t/"+j.origin.Code || c.QuantityList[0].Quantity != 1_000_000 || c.QuantityList[0].UOM != "MGM" {
		t.Errorf("commissioning: %+v", c)
	}
	if d.Type != "TransformationEvent" || d.BizStep != "commissioning" || d.Process != "drying" ||
		len(d.InputQuantityList) != 1 || d.InputQuantityList[0].EPCClass != base+"/t/"+j.origin.Code || d.InputQuantityList[0].Quantity != 1_000_000 ||
		len(d.OutputQuantityList) != 1 || d.OutputQuantityList[0].EPCClass != base+"/t/"+j.dried.Code || d.OutputQuantityList[0].Quantity != 200_000 {
		t.Errorf("drying: %+v", d)
	}
	if p.Type != "TransformationEvent" || p.BizStep != "packing" ||
		len(p.InputQuantityList) != 1 || p.InputQuantityList[0].EPCClass != base+"/t/"+j.dried.Code || p.InputQuantityList[0].Quantity != 150_000 ||
		len(p.OutputQuantityList) != 1 || p.OutputQuantityList[0].EPCClass != "https://id.gs1.org/01/06111234567895/10/"+j.packed.Code ||
		p.OutputQuantityList[0].Quantity != 150 || p.OutputQuantityList[0].UOM != "H87" {
		t.Errorf("packing: %+v", p)
	}
	for i, x := range ev {
		if x.ReadPoint.ID != base+"/coop/SIROUA" || !strings.HasPrefix(x.EventID, "ni:///sha-256;") {
			t.Errorf("event %d: readPoint %s eventID %s", i, x.ReadPoint.ID, x.EventID)
		}
	}

	other := newCoop(t, e, "TAMGA", "saffron", 1000)
	for _, tt := range []struct {
		token  string
		status int
	}{{"", 401}, {other.manager, 404}, {j.manager, 200}, {e.AdminToken, 200}} {
		if resp, _ := e.Do("GET", "/api/v1/lots/"+j.packed.Code+"/epcis", tt.token, nil); resp.StatusCode != tt.status {
			t.Errorf("token %.10q: %d, want %d", tt.token, resp.StatusCode, tt.status)
		}
	}
}
