package traceability

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
)

// EPCIS 2.0 export.
//
// A lot's history is exported as an EPCIS 2.0 JSON-LD document so that an
// auditor or a buyer's traceability system can read it without knowing our
// data model. The document holds the events of the lot and of every lot
// upstream of it (its inputs, their inputs…), oldest first, so the document
// of a jar tells its whole making from the harvest on. Mapping:
//
//	our event    EPCIS event          action  bizStep          disposition  quantities
//	created      ObjectEvent          ADD     commissioning    active       quantityList: the new lot
//	transformed  TransformationEvent  —       commissioning    active       inputQuantityList: the consumed lots (from the event's inputs),
//	                                                                          outputQuantityList: the new lot; terroir:process = drying, distillation…
//	packed       TransformationEvent  —       packing          active       inputQuantityList: the bulk lot, outputQuantityList: the units (H87)
//	consumed     TransformationEvent  —       commissioning or packing      (only for the exported lot itself, whose consumption
//	                                                                          produced lots downstream: input = it, outputs = the event's outputs)
//	shipped      ObjectEvent          OBSERVE shipping         in_transit   quantityList
//	received     ObjectEvent          OBSERVE receiving        in_progress  quantityList
//	sold         ObjectEvent          OBSERVE retail_selling   retail_sold  quantityList
//
// Not exported: flagged and justified events (a plausibility finding and its
// written answer are our internal control, with no EPCIS business step; the
// auditor reads them in the lot itself), and adjusted events (a count
// correction has no CBV step; losses could become "destroying" once an
// adjustment records why). Consumed events of upstream lots are not exported
// either: each one is the same physical step as the creation event of the
// lot it made, which is exported.
//
// Identifiers:
//   - epcClass: a lot of a product with a GTIN is the GS1 Digital Link URI
//     https://id.gs1.org/01/{gtin14}/10/{lot}; any other lot is its public
//     trace URL {PublicURL}/t/{lot} without signature (the signature proves a
//     printed label, it is not part of the lot's identity).
//   - quantities: UN/CEFACT Rec 20 codes: mg → MGM, ml → MLT, pcs → H87.
//   - eventID: ni:///sha-256;{hash}?ver=CBV2.0 where hash is the event's
//     chain hash (chain.go), a SHA-256 already unique per event. It is not
//     the CBV 2.0 canonical event hash, so a third party recomputing that
//     hash from the JSON will not find this value; it finds our event with
//     `terroir verify` instead.
//   - eventTime: RFC 3339 in UTC, eventTimeZoneOffset "+00:00": events are
//     stored in UTC and the cooperatives' local offset is not recorded.
//   - readPoint and bizLocation: {PublicURL}/coop/{code} when the event
//     happened at a cooperative, else {PublicURL}/places/{code} (a shop or
//     the EU platform).
//   - extension fields are in the terroir: namespace, {PublicURL}/ns/epcis#.

// EPCISContext is the JSON-LD context of EPCIS 2.0 documents.
const EPCISContext = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

// gs1DigitalLinkRoot is the root of the canonical GS1 Digital Link URIs
// EPCIS 2.0 uses as class-level identifiers.
const gs1DigitalLinkRoot = "https://id.gs1.org"

// EPCISDocument is an EPCIS 2.0 document in its JSON-LD binding.
type EPCISDocument struct {
	Context       []any     `json:"@context"`
	Type          string    `json:"type"`
	SchemaVersion string    `json:"schemaVersion"`
	CreationDate  string    `json:"creationDate"`
	Body          EPCISBody `json:"epcisBody"`
}

// EPCISBody holds the events.
type EPCISBody struct {
	EventList []EPCISEvent `json:"eventList"`
}

// EPCISEvent is an ObjectEvent or a TransformationEvent: the fields of
// both, those of the other type left out.
type EPCISEvent struct {
	Type                string          `json:"type"`
	EventID             string          `json:"eventID"`
	EventTime           string          `json:"eventTime"`
	EventTimeZoneOffset string          `json:"eventTimeZoneOffset"`
	Action              string          `json:"action,omitempty"` // ObjectEvent only
	BizStep             string          `json:"bizStep,omitempty"`
	Disposition         string          `json:"disposition,omitempty"`
	EPCList             []string        `json:"epcList,omitempty"`
	QuantityList        []EPCISQuantity `json:"quantityList,omitempty"`
	InputQuantityList   []EPCISQuantity `json:"inputQuantityList,omitempty"`
	OutputQuantityList  []EPCISQuantity `json:"outputQuantityList,omitempty"`
	ReadPoint           *EPCISPlace     `json:"readPoint,omitempty"`
	BizLocation         *EPCISPlace     `json:"bizLocation,omitempty"`
	Process             string          `json:"terroir:process,omitempty"`
	Lot                 string          `json:"terroir:lot"` // the lot whose chain holds the event
	Seq                 int64           `json:"terroir:seq"`
}

// EPCISQuantity is a quantity of a class of objects (a lot).
type EPCISQuantity struct {
	EPCClass string `json:"epcClass"`
	Quantity int64  `json:"quantity"`
	UOM      string `json:"uom"`
}

// EPCISPlace is a readPoint or bizLocation.
type EPCISPlace struct {
	ID string `json:"id"`
}

// UNCefactCode returns the UN/CEFACT Rec 20 unit code of a base unit.
func UNCefactCode(u Unit) string {
	switch u {
	case Milligram:
		return "MGM"
	case Millilitre:
		return "MLT"
	case Piece:
		return "H87"
	}
	return ""
}

// ClassEPC returns the class-level identifier of a lot in EPCIS: its GS1
// Digital Link URI when it has a GTIN, else its unsigned public trace URL.
func (c Codes) ClassEPC(l Lot) string {
	ref := TraceRef{GTIN: l.GTIN, Lot: l.Code}
	if l.GTIN != "" {
		return gs1DigitalLinkRoot + ref.CanonicalPath()
	}
	return strings.TrimRight(c.PublicURL, "/") + ref.CanonicalPath()
}

// NewEPCISDocument maps the history of l to an EPCIS 2.0 document (see the
// mapping above). related holds the lots upstream of l and those its
// consumption produced, by code; a lot missing from it is named by its /t/
// URL. The function reads nothing else, so the mapping is testable alone.
func NewEPCISDocument(codes Codes, l Lot, related map[string]Lot, now time.Time) EPCISDocument {
	base := strings.TrimRight(codes.PublicURL, "/")
	m := epcisMapper{codes: codes, base: base, related: make(map[string]Lot, len(related)+1)}
	for code, r := range related {
		m.related[code] = r
	}
	m.related[l.Code] = l

	var events []EPCISEvent
	for _, lot := range upstreamOf(l, related) {
		events = append(events, m.lotEvents(lot, lot.Code == l.Code)...)
	}
	// Oldest first; the stable sort keeps chain order for events of the
	// same instant.
	slices.SortStableFunc(events, func(a, b EPCISEvent) int { return strings.Compare(a.EventTime, b.EventTime) })
	if events == nil {
		events = []EPCISEvent{}
	}
	return EPCISDocument{
		Context:       []any{EPCISContext, map[string]string{"terroir": base + "/ns/epcis#"}},
		Type:          "EPCISDocument",
		SchemaVersion: "2.0",
		CreationDate:  epcisTime(now),
		Body:          EPCISBody{EventList: events},
	}
}

// upstreamOf returns l and the lots upstream of it found in related, from
// the most distant ancestor down (breadth-first, reversed), each once.
func upstreamOf(l Lot, related map[string]Lot) []Lot {
	out := []Lot{l}
	seen := map[string]bool{l.Code: true}
	for i := 0; i < len(out) && len(out) <= maxAncestors; i++ {
		for _, in := range out[i].Inputs {
			parent, ok := related[in.Lot]
			if !ok || seen[in.Lot] {
				continue
			}
			seen[in.Lot] = true
			out = append(out, parent)
		}
	}
	slices.Reverse(out)
	return out
}

type epcisMapper struct {
	codes   Codes
	base    string
	related map[string]Lot
}

// lotEvents maps the events of one lot's chain; self says whether it is the
// exported lot, whose consumption is exported too.
func (m epcisMapper) lotEvents(l Lot, self bool) []EPCISEvent {
	var out []EPCISEvent
	for _, e := range l.Events {
		ev := EPCISEvent{
			EventID:             "ni:///sha-256;" + e.Hash + "?ver=CBV2.0",
			EventTime:           epcisTime(e.At),
			EventTimeZoneOffset: "+00:00",
			ReadPoint:           m.place(l, e.Place),
			Lot:                 l.Code,
			Seq:                 e.Seq,
		}
		ev.BizLocation = ev.ReadPoint
		this := []EPCISQuantity{m.quantity(l.Code, e.Quantity, l.Unit)}
		switch e.Type {
		case EventCreated:
			ev.Type, ev.Action, ev.BizStep, ev.Disposition = "ObjectEvent", "ADD", "commissioning", "active"
			ev.QuantityList = this
		case EventTransformed, EventPacked:
			ev.Type, ev.BizStep, ev.Disposition = "TransformationEvent", "commissioning", "active"
			if e.Type == EventPacked {
				ev.BizStep = "packing"
			} else {
				ev.Process = l.Process
			}
			ev.InputQuantityList = m.quantities(e.Inputs)
			ev.OutputQuantityList = this
		case EventConsumed:
			if !self {
				continue
			}
			ev.Type, ev.BizStep, ev.Disposition = "TransformationEvent", "commissioning", "active"
			if e.Note == "packing" {
				ev.BizStep = "packing"
			} else {
				ev.Process = e.Note
			}
			ev.InputQuantityList = this
			ev.OutputQuantityList = m.quantities(e.Outputs)
		case EventShipped, EventReceived, EventSold:
			ev.Type, ev.Action = "ObjectEvent", "OBSERVE"
			ev.BizStep, ev.Disposition = custodyStep(e.Type)
			ev.QuantityList = this
		default: // flagged, justified, adjusted: see the package mapping
			continue
		}
		out = append(out, ev)
	}
	return out
}

// custodyStep returns the CBV business step and disposition of a custody
// event.
func custodyStep(eventType string) (bizStep, disposition string) {
	switch eventType {
	case EventShipped:
		return "shipping", "in_transit"
	case EventReceived:
		return "receiving", "in_progress"
	}
	return "retail_selling", "retail_sold"
}

func (m epcisMapper) quantity(code string, amount int64, unit Unit) EPCISQuantity {
	l, ok := m.related[code]
	if !ok {
		l = Lot{Code: code}
	}
	return EPCISQuantity{EPCClass: m.codes.ClassEPC(l), Quantity: amount, UOM: UNCefactCode(unit)}
}

func (m epcisMapper) quantities(refs []EventRef) []EPCISQuantity {
	out := make([]EPCISQuantity, 0, len(refs))
	for _, r := range refs {
		out = append(out, m.quantity(r.Lot, r.Quantity, r.Unit))
	}
	return out
}

func (m epcisMapper) place(l Lot, place string) *EPCISPlace {
	if place == "" {
		return nil
	}
	if place == l.Cooperative {
		return &EPCISPlace{ID: m.base + "/coop/" + escapeTraceValue(place)}
	}
	return &EPCISPlace{ID: m.base + "/places/" + escapeTraceValue(place)}
}

func epcisTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// EPCIS returns the EPCIS 2.0 document of a lot's history to those who may
// read the lot (its cooperative's manager, auditors in scope, admins). It
// reads the lot, its upstream lots (at most 200) and the lots its own
// consumption produced, each by _id.
func (s *Service) EPCIS(ctx context.Context, actor access.Actor, code string, codes Codes) (EPCISDocument, error) {
	l, err := s.Lot(ctx, actor, code)
	if err != nil {
		return EPCISDocument{}, err
	}
	related := map[string]Lot{}
	queue := []Lot{l}
	for len(queue) > 0 && len(related) < maxAncestors {
		cur := queue[0]
		queue = queue[1:]
		for _, in := range cur.Inputs {
			if _, ok := related[in.Lot]; ok || in.Lot == l.Code {
				continue
			}
			parent, err := s.store.lot(ctx, in.Lot)
			if err != nil {
				return EPCISDocument{}, err
			}
			related[in.Lot] = parent
			queue = append(queue, parent)
		}
	}
	for _, out := range l.Outputs {
		if _, ok := related[out.Lot]; ok {
			continue
		}
		child, err := s.store.lot(ctx, out.Lot)
		if err != nil {
			return EPCISDocument{}, err
		}
		related[out.Lot] = child
	}
	return NewEPCISDocument(codes, l, related, s.now()), nil
}
