package traceability

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// epcisChain is a saffron lot harvested, dried (1 kg → 200 g), then 150 g
// packed into 150 jars of 1 g, shipped, received and partly sold, with a
// flag and its justification on the jars.
func epcisChain(t *testing.T) (origin, dried, packed Lot) {
	t.Helper()
	t0 := time.Date(2025, 10, 28, 9, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

	origin = Lot{Code: "SAF-A1", Cooperative: "SIROUA", ProductKind: "saffron", Source: SourceHarvest,
		Quantity: 1_000_000, Unit: Milligram, CreatedBy: "m@coop.ma", CreatedAt: at(0)}
	creationEvent(&origin)

	dried = Lot{Code: "SAF-D1", Cooperative: "SIROUA", ProductKind: "saffron_dried", Source: SourceTransformation,
		Quantity: 200_000, Unit: Milligram, Process: "drying", CreatedBy: "m@coop.ma", CreatedAt: at(24),
		Inputs: []EventRef{{Lot: origin.Code, Quantity: 1_000_000, Unit: Milligram}}}
	creationEvent(&dried)
	origin.appendEvent(Event{Type: EventConsumed, At: at(24), Actor: "m@coop.ma", Place: "SIROUA", Quantity: 1_000_000,
		Outputs: []EventRef{{Lot: dried.Code, Quantity: 200_000, Unit: Milligram}}, Note: "drying"})
	origin.Outputs = []EventRef{{Lot: dried.Code, Quantity: 200_000, Unit: Milligram}}

	packed = Lot{Code: "SAF-P1", Cooperative: "SIROUA", ProductKind: "saffron_dried", Source: SourcePacking,
		Quantity: 150, Unit: Piece, SKU: "SAF-1G", GTIN: "06111234567895", UnitSize: 1000, UnitSizeOf: Milligram,
		CreatedBy: "m@coop.ma", CreatedAt: at(48), Inputs: []EventRef{{Lot: dried.Code, Quantity: 150_000, Unit: Milligram}}}
	creationEvent(&packed)
	dried.appendEvent(Event{Type: EventConsumed, At: at(48), Actor: "m@coop.ma", Place: "SIROUA", Quantity: 150_000,
		Outputs: []EventRef{{Lot: packed.Code, Quantity: 150, Unit: Piece}}, Note: "packing"})
	dried.Outputs = []EventRef{{Lot: packed.Code, Quantity: 150, Unit: Piece}}

	packed.appendEvent(Event{Type: EventFlagged, At: at(49), Actor: "system", Place: "SIROUA", Note: "yield"})
	packed.appendEvent(Event{Type: EventJustified, At: at(50), Actor: "m@coop.ma", Place: "SIROUA", Note: "explained"})
	packed.appendEvent(Event{Type: EventShipped, At: at(72), Actor: "m@coop.ma", Place: "SIROUA → TAROUDANT", Quantity: 20})
	packed.appendEvent(Event{Type: EventReceived, At: at(96), Actor: "s@shop.ma", Place: "TAROUDANT", Quantity: 20})
	packed.appendEvent(Event{Type: EventSold, At: at(120), Actor: "s@shop.ma", Place: "TAROUDANT", Quantity: 2})
	return origin, dried, packed
}

// step is what the table expects of one exported event.
type step struct {
	typ, action, bizStep string
	in, out, qty         []EPCISQuantity
	process              string
	place                string
}

func TestEPCISMapping(t *testing.T) {
	origin, dried, packed := epcisChain(t)
	codes := Codes{PublicURL: "https://trace.example.ma/"}
	all := map[string]Lot{origin.Code: origin, dried.Code: dried, packed.Code: packed}
	originClass := "https://trace.example.ma/t/SAF-A1"
	driedClass := "https://trace.example.ma/t/SAF-D1"
	jarClass := "https://id.gs1.org/01/06111234567895/10/SAF-P1"
	coop := "https://trace.example.ma/coop/SIROUA"
	shop := "https://trace.example.ma/shop/TAROUDANT"
	commissioned := step{typ: "ObjectEvent", action: "ADD", bizStep: "commissioning", place: coop,
		qty: []EPCISQuantity{{originClass, 1_000_000, "MGM"}}}
	drying := step{typ: "TransformationEvent", bizStep: "commissioning", process: "drying", place: coop,
		in: []EPCISQuantity{{originClass, 1_000_000, "MGM"}}, out: []EPCISQuantity{{driedClass, 200_000, "MGM"}}}
	packing := step{typ: "TransformationEvent", bizStep: "packing", place: coop,
		in: []EPCISQuantity{{driedClass, 150_000, "MGM"}}, out: []EPCISQuantity{{jarClass, 150, "H87"}}}

	tests := []struct {
		name string
		lot  Lot
		want []step
	}{
		{"origin lot: its commissioning and its drying", origin, []step{commissioned, drying}},
		{"dried lot: from the harvest to its packing", dried, []step{commissioned, drying, packing}},
		{"jars: the whole making, then custody; flags left out", packed, []step{commissioned, drying, packing,
			{typ: "ObjectEvent", action: "OBSERVE", bizStep: "shipping", place: coop, qty: []EPCISQuantity{{jarClass, 20, "H87"}}},
			{typ: "ObjectEvent", action: "OBSERVE", bizStep: "receiving", place: shop, qty: []EPCISQuantity{{jarClass, 20, "H87"}}},
			{typ: "ObjectEvent", action: "OBSERVE", bizStep: "retail_selling", place: shop, qty: []EPCISQuantity{{jarClass, 2, "H87"}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			related := map[string]Lot{}
			for code, l := range all {
				if code != tt.lot.Code {
					related[code] = l
				}
			}
			doc := NewEPCISDocument(codes, tt.lot, related, nil, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			checkEPCISSchema(t, doc)
			got := doc.Body.EventList
			if len(got) != len(tt.want) {
				t.Fatalf("%d events, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Type != w.typ || g.Action != w.action || g.BizStep != w.bizStep || g.Process != w.process {
					t.Errorf("event %d: %s %s %s %q, want %s %s %s %q", i, g.Type, g.Action, g.BizStep, g.Process, w.typ, w.action, w.bizStep, w.process)
				}
				sameQ := func(what string, g, w []EPCISQuantity) {
					if len(g) != len(w) {
						t.Errorf("event %d %s: %+v, want %+v", i, what, g, w)
						return
					}
					for j := range g {
						if g[j] != w[j] {
							t.Errorf("event %d %s[%d]: %+v, want %+v", i, what, j, g[j], w[j])
						}
					}
				}
				sameQ("quantityList", g.QuantityList, w.qty)
				sameQ("inputQuantityList", g.InputQuantityList, w.in)
				sameQ("outputQuantityList", g.OutputQuantityList, w.out)
				if g.ReadPoint == nil || g.ReadPoint.ID != w.place {
					t.Errorf("event %d: readPoint %+v, want %s", i, g.ReadPoint, w.place)
				}
				// Units in transit have no business location.
				if inTransit := g.BizStep == "shipping"; inTransit != (g.BizLocation == nil) || !inTransit && g.BizLocation.ID != w.place {
					t.Errorf("event %d (%s): bizLocation %+v, want %s", i, g.BizStep, g.BizLocation, w.place)
				}
				if g.EventTimeZoneOffset != "+01:00" {
					t.Errorf("event %d: eventTimeZoneOffset %s, want +01:00 (Africa/Casablanca)", i, g.EventTimeZoneOffset)
				}
			}
		})
	}
}

// TestEPCISEventIDIsTheEventHash: the eventID is the CBV 2.0 hash of the
// event's content, the chain hash travels in the terroir extension, and
// the same physical step has the same eventID in every export holding it.
func TestEPCISEventIDIsTheEventHash(t *testing.T) {
	origin, dried, packed := epcisChain(t)
	codes := Codes{PublicURL: "https://t.example"}
	all := map[string]Lot{origin.Code: origin, dried.Code: dried, packed.Code: packed}
	export := func(l Lot) []EPCISEvent {
		related := map[string]Lot{}
		for code, r := range all {
			if code != l.Code {
				related[code] = r
			}
		}
		return NewEPCISDocument(codes, l, related, nil, time.Now()).Body.EventList
	}
	ev := export(origin)[0]
	b, _ := json.Marshal(ev)
	want, err := EventHash(b, map[string]string{"terroir": "https://t.example/ns/epcis/"})
	if err != nil || ev.EventID != want || !strings.HasPrefix(ev.EventID, "ni:///sha-256;") || !strings.HasSuffix(ev.EventID, "?ver=CBV2.0") {
		t.Fatalf("eventID %s, want the event hash %s (%v)", ev.EventID, want, err)
	}
	if ev.ChainHash != origin.Events[0].Hash || ev.Lot != origin.Code || ev.Seq != 1 || strings.Contains(ev.EventID, origin.Events[0].Hash) {
		t.Fatalf("chain link %s %d %s", ev.Lot, ev.Seq, ev.ChainHash)
	}
	if ev.EventTime != "2025-10-28T09:00:00.000Z" || ev.EventTimeZoneOffset != "+01:00" {
		t.Fatalf("eventTime %s %s", ev.EventTime, ev.EventTimeZoneOffset)
	}
	ids := map[string]map[string]string{} // bizStep/process → lot exported → eventID
	for _, l := range []Lot{origin, dried, packed} {
		for _, e := range export(l) {
			k := e.BizStep + "/" + e.Process
			if ids[k] == nil {
				ids[k] = map[string]string{}
			}
			ids[k][l.Code] = e.EventID
		}
	}
	if p := ids["packing/"]; len(p) != 2 || p[dried.Code] != p[packed.Code] {
		t.Errorf("packing step IDs by export: %v", p)
	}
	if d := ids["commissioning/drying"]; len(d) != 3 || d[origin.Code] != d[dried.Code] || d[dried.Code] != d[packed.Code] {
		t.Errorf("drying step IDs by export: %v", d)
	}
}

// TestEPCISCustodyNamesThePartiesAndTheirZones: shipping and receiving carry
// sourceList and destinationList with the cooperative and the shop (GLN
// when they have one), and each event the offset of its place's zone.
func TestEPCISCustodyNamesThePartiesAndTheirZones(t *testing.T) {
	origin, dried, packed := epcisChain(t)
	// Move the custody to summer: Paris is then at +02:00, Casablanca +01:00.
	for i := range packed.Events {
		switch e := &packed.Events[i]; e.Type {
		case EventShipped:
			e.Place = "SIROUA → EU-PLATFORM"
		case EventReceived, EventSold:
			e.Place = "EU-PLATFORM"
			e.At = time.Date(2026, 7, 10, 10, 0, 0, 0, time.UTC)
		}
	}
	parties := map[string]Party{
		"SIROUA":      {Code: "SIROUA", GLN: "6111234000004", TimeZone: "Africa/Casablanca"},
		"EU-PLATFORM": {Code: "EU-PLATFORM", TimeZone: "Europe/Paris", Shop: true},
	}
	doc := NewEPCISDocument(Codes{PublicURL: "https://t.example"}, packed, map[string]Lot{origin.Code: origin, dried.Code: dried}, parties, time.Now())
	checkEPCISSchema(t, doc)
	byStep := map[string]EPCISEvent{}
	for _, e := range doc.Body.EventList {
		byStep[e.BizStep] = e
	}
	coopParty, coopPlace := "https://id.gs1.org/417/6111234000004", "https://id.gs1.org/414/6111234000004"
	shop := "https://t.example/shop/EU-PLATFORM"
	for _, step := range []string{"shipping", "receiving"} {
		e := byStep[step]
		want := []EPCISSource{{"owning_party", coopParty}, {"location", coopPlace}}
		if !slices.Equal(e.SourceList, want) {
			t.Errorf("%s sourceList %+v, want %+v", step, e.SourceList, want)
		}
		wantTo := []EPCISDestination{{"owning_party", shop}, {"location", shop}}
		if !slices.Equal(e.DestinationList, wantTo) {
			t.Errorf("%s destinationList %+v, want %+v", step, e.DestinationList, wantTo)
		}
	}
	if e := byStep["shipping"]; e.ReadPoint.ID != coopPlace || e.EventTimeZoneOffset != "+01:00" {
		t.Errorf("shipping at %s %s", e.ReadPoint.ID, e.EventTimeZoneOffset)
	}
	if e := byStep["receiving"]; e.ReadPoint.ID != shop || e.EventTimeZoneOffset != "+02:00" {
		t.Errorf("receiving at %s %s, want the platform in summer, +02:00", e.ReadPoint.ID, e.EventTimeZoneOffset)
	}
	if e := byStep["retail_selling"]; e.SourceList != nil || e.EventTimeZoneOffset != "+02:00" {
		t.Errorf("sale %+v", e)
	}
}

func TestEPCISNamesUnknownLotsByTheirTraceURL(t *testing.T) {
	_, dried, _ := epcisChain(t)
	// Without the related lots, inputs and outputs are still named.
	doc := NewEPCISDocument(Codes{PublicURL: "https://t.example"}, dried, nil, nil, time.Now())
	ev := doc.Body.EventList
	if len(ev) != 2 || ev[0].InputQuantityList[0].EPCClass != "https://t.example/t/SAF-A1" ||
		ev[1].OutputQuantityList[0].EPCClass != "https://t.example/t/SAF-P1" {
		t.Fatalf("%+v", ev)
	}
}

// checkEPCISSchema checks, by hand, what the EPCIS 2.0 JSON schema
// (ref.gs1.org/standards/epcis/2.0.1/epcis-json-schema.json) requires of a
// document and of ObjectEvents and TransformationEvents, on the JSON as it
// is served: the document's @context, type, schemaVersion, creationDate and
// epcisBody.eventList; each event's type, eventTime and eventTimeZoneOffset
// (pattern); an ObjectEvent's action and a non-empty epcList or
// quantityList; a TransformationEvent's non-empty inputs and outputs;
// quantity elements with epcClass (URI), quantity and a Rec 20 uom; URIs
// where URIs are due; and every non-standard key namespaced (prefix:name).
func checkEPCISSchema(t *testing.T, doc EPCISDocument) {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"@context", "type", "schemaVersion", "creationDate", "epcisBody"} {
		if _, ok := m[k]; !ok {
			t.Errorf("document lacks %s", k)
		}
	}
	ctx, _ := m["@context"].([]any)
	if len(ctx) == 0 || ctx[0] != EPCISContext {
		t.Errorf("@context %v", m["@context"])
	}
	if m["type"] != "EPCISDocument" || m["schemaVersion"] != "2.0" {
		t.Errorf("type %v schemaVersion %v", m["type"], m["schemaVersion"])
	}
	isTime := func(v any) bool {
		s, _ := v.(string)
		_, err := time.Parse(time.RFC3339Nano, s)
		return err == nil
	}
	isURI := func(v any) bool {
		s, _ := v.(string)
		u, err := url.Parse(s)
		return err == nil && u.Scheme != ""
	}
	if !isTime(m["creationDate"]) {
		t.Errorf("creationDate %v", m["creationDate"])
	}
	body, _ := m["epcisBody"].(map[string]any)
	events, ok := body["eventList"].([]any)
	if !ok {
		t.Fatalf("epcisBody.eventList missing: %v", m["epcisBody"])
	}
	offset := regexp.MustCompile(`^(\+|-)((0[0-9]|1[0-3]):([0-5][0-9])|14:00)$`)
	uom := regexp.MustCompile(`^[A-Z0-9]{2,3}$`)
	standard := map[string]bool{"type": true, "eventID": true, "eventTime": true, "eventTimeZoneOffset": true, "action": true,
		"bizStep": true, "disposition": true, "epcList": true, "quantityList": true, "inputQuantityList": true,
		"outputQuantityList": true, "readPoint": true, "bizLocation": true, "sourceList": true, "destinationList": true}
	nonEmpty := func(e map[string]any, k string) bool { l, _ := e[k].([]any); return len(l) > 0 }
	for i, raw := range events {
		e := raw.(map[string]any)
		if !isTime(e["eventTime"]) {
			t.Errorf("event %d eventTime %v", i, e["eventTime"])
		}
		if s, _ := e["eventTimeZoneOffset"].(string); !offset.MatchString(s) {
			t.Errorf("event %d eventTimeZoneOffset %v", i, e["eventTimeZoneOffset"])
		}
		if !isURI(e["eventID"]) {
			t.Errorf("event %d eventID %v", i, e["eventID"])
		}
		for k := range e {
			if !standard[k] && !strings.Contains(k, ":") {
				t.Errorf("event %d: extension field %q is not namespaced", i, k)
			}
		}
		for _, k := range []string{"readPoint", "bizLocation"} {
			if p, ok := e[k].(map[string]any); ok && !isURI(p["id"]) {
				t.Errorf("event %d %s.id %v", i, k, p["id"])
			}
		}
		switch e["type"] {
		case "ObjectEvent":
			if a := e["action"]; a != "ADD" && a != "OBSERVE" && a != "DELETE" {
				t.Errorf("event %d action %v", i, a)
			}
			if !nonEmpty(e, "epcList") && !nonEmpty(e, "quantityList") {
				t.Errorf("event %d: ObjectEvent with neither epcList nor quantityList", i)
			}
		case "TransformationEvent":
			if _, ok := e["action"]; ok {
				t.Errorf("event %d: a TransformationEvent has no action", i)
			}
			if !nonEmpty(e, "inputQuantityList") || !nonEmpty(e, "outputQuantityList") {
				t.Errorf("event %d: TransformationEvent without inputs and outputs", i)
			}
		default:
			t.Errorf("event %d type %v", i, e["type"])
		}
		for _, k := range []string{"quantityList", "inputQuantityList", "outputQuantityList"} {
			list, _ := e[k].([]any)
			for _, q := range list {
				q := q.(map[string]any)
				if _, ok := q["quantity"].(float64); !ok || !isURI(q["epcClass"]) || !uom.MatchString(q["uom"].(string)) {
					t.Errorf("event %d %s element %v", i, k, q)
				}
			}
		}
	}
}
