package traceability

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
)

// EPCIS 2.0 export.
//
// A lot's history is exported as an EPCIS 2.0 JSON-LD document so that an
// auditor or a buyer's traceability system can read it without knowing our
// data model, and merge it with other exports. The document of a lot holds
// the events of the lot and of every lot upstream of it (its inputs, their
// inputs…), oldest first, so the document of a jar tells its whole making
// from the harvest on; SeasonEPCIS exports every event of a cooperative's
// lots of a season (the auditor's file). Mapping:
//
//	our event          EPCIS event          action  bizStep          disposition  lists
//	created            ObjectEvent          ADD     commissioning    active       quantityList: the new lot
//	transformed        TransformationEvent  —       commissioning    active       input/outputQuantityList: the whole step
//	packed             TransformationEvent  —       packing          active       input: the bulk lot, output: the units (H87)
//	consumed           the same TransformationEvent as the outputs' creation (one physical step)
//	shipped            ObjectEvent          OBSERVE shipping         in_transit   quantityList; sourceList/destinationList
//	received           ObjectEvent          OBSERVE receiving        in_progress  quantityList; sourceList/destinationList
//	sold               ObjectEvent          OBSERVE retail_selling   retail_sold  quantityList
//	tested             ObjectEvent          OBSERVE inspecting       conformant   quantityList: the lot as it stood
//
// A laboratory result (tested, quality.go) is an inspection of the lot: its
// disposition is conformant when the figures meet an ISO 3632 category and
// non_conformant when they meet none; the standard, the category ("none"
// when none), the laboratory and the report file's SHA-256 (as an ni: URI,
// RFC 6920) travel in terroir: extension fields, so a buyer's system can
// tell which report backs the category printed on the jar.
//
// One physical step, one event: a transformation or a packing is one
// TransformationEvent whatever lot's export it appears in: its inputs are
// those the outputs' creation events name, its outputs those the inputs'
// consumption names (every output of the step: essential oil and hydrosol
// together), its time the step's. Its eventID is the CBV 2.0 event hash of
// its content (epcishash.go), so the jar's export and the bulk lot's export
// give the packing the same ID, and a repository receiving both stores it
// once.
//
// Not exported: flagged and justified events (a plausibility finding and its
// written answer are our internal control, with no EPCIS business step; the
// auditor reads them in the lot itself), corrected and adjusted events (a
// record correction has no CBV step; the quantities exported are those the
// events recorded), and returns.
//
// Identifiers:
//   - epcClass: a lot of a product with a GTIN is the GS1 Digital Link URI
//     https://id.gs1.org/01/{gtin14}/10/{lot}; any other lot is its public
//     trace URL {PublicURL}/t/{lot} without signature (the signature proves a
//     printed label, it is not part of the lot's identity).
//   - quantities: UN/CEFACT Rec 20 codes: mg → MGM, ml → MLT, pcs → H87.
//   - eventID: the CBV 2.0 event hash, ni:///sha-256;{hex}?ver=CBV2.0. The
//     event's link in our hash chain travels in terroir:lot, terroir:seq and
//     terroir:chainHash (for a step, the creation event of its first output),
//     so `terroir verify` and an auditor can find it.
//   - eventTime: RFC 3339 in UTC; eventTimeZoneOffset: the offset, at that
//     moment, of the place's IANA zone (Cooperative.Zone, the shop's zone
//     from Codes.Parties): +01:00 in Morocco and in France in winter.
//   - readPoint and bizLocation: the place's GLN as https://id.gs1.org/414/
//     when it has one, else {PublicURL}/coop/{code} for a cooperative and
//     {PublicURL}/shop/{code} for a shop. Shipping has no bizLocation (the
//     units are in transit).
//   - sourceList and destinationList (shipping and receiving): owning_party
//     and location of the cooperative and of the shop: the GLN as
//     https://id.gs1.org/417/ (party) and /414/ (location) when there is
//     one, else the URIs above.
//   - extension fields are in the terroir: namespace, {PublicURL}/ns/epcis/.

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
	Type                string             `json:"type"`
	EventID             string             `json:"eventID"`
	EventTime           string             `json:"eventTime"`
	EventTimeZoneOffset string             `json:"eventTimeZoneOffset"`
	Action              string             `json:"action,omitempty"` // ObjectEvent only
	BizStep             string             `json:"bizStep,omitempty"`
	Disposition         string             `json:"disposition,omitempty"`
	EPCList             []string           `json:"epcList,omitempty"`
	QuantityList        []EPCISQuantity    `json:"quantityList,omitempty"`
	InputQuantityList   []EPCISQuantity    `json:"inputQuantityList,omitempty"`
	OutputQuantityList  []EPCISQuantity    `json:"outputQuantityList,omitempty"`
	ReadPoint           *EPCISPlace        `json:"readPoint,omitempty"`
	BizLocation         *EPCISPlace        `json:"bizLocation,omitempty"`
	SourceList          []EPCISSource      `json:"sourceList,omitempty"`
	DestinationList     []EPCISDestination `json:"destinationList,omitempty"`
	Process             string             `json:"terroir:process,omitempty"`
	Standard            string             `json:"terroir:standard,omitempty"`        // inspections: the ISO 3632 edition
	Category            string             `json:"terroir:iso3632Category,omitempty"` // I, II, III or none
	Laboratory          string             `json:"terroir:laboratory,omitempty"`
	LabReport           string             `json:"terroir:labReport,omitempty"` // ni:///sha-256;{hex} of the report file
	Lot                 string             `json:"terroir:lot"`                 // the lot whose chain holds the event
	Seq                 int64              `json:"terroir:seq"`
	ChainHash           string             `json:"terroir:chainHash"`
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

// EPCISSource and EPCISDestination are elements of sourceList and
// destinationList: a CBV source/destination type and an identifier.
type EPCISSource struct {
	Type   string `json:"type"`
	Source string `json:"source"`
}

// EPCISDestination is an element of destinationList.
type EPCISDestination struct {
	Type        string `json:"type"`
	Destination string `json:"destination"`
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

// EPCISNamespace is the IRI of the terroir: extension prefix.
func (c Codes) EPCISNamespace() string { return strings.TrimRight(c.PublicURL, "/") + "/ns/epcis/" }

// NewEPCISDocument maps the history of l to an EPCIS 2.0 document (see the
// mapping above). related holds the lots upstream of l, those its
// consumption produced and the other outputs of the steps that made them,
// by code; a lot missing from it is named by its /t/ URL and a step whose
// lots are missing is written from what l knows of it. parties holds the
// cooperatives and shops the events name (a missing one gets the defaults:
// a URI of this server, Africa/Casablanca). The function reads nothing
// else, so the mapping is testable alone.
func NewEPCISDocument(codes Codes, l Lot, related map[string]Lot, parties map[string]Party, now time.Time) EPCISDocument {
	m := newEPCISMapper(codes, related, parties)
	m.related[l.Code] = l
	for _, lot := range upstreamOf(l, related) {
		m.lotEvents(lot, lot.Code == l.Code)
	}
	return m.document(now)
}

// epcisMapper builds the events of a document, each physical step once.
type epcisMapper struct {
	codes   Codes
	base    string
	related map[string]Lot
	parties map[string]Party
	events  []EPCISEvent
	steps   map[string]bool // steps written, by their outputs
}

func newEPCISMapper(codes Codes, related map[string]Lot, parties map[string]Party) *epcisMapper {
	m := &epcisMapper{codes: codes, base: strings.TrimRight(codes.PublicURL, "/"), related: make(map[string]Lot, len(related)+1),
		parties: parties, steps: map[string]bool{}}
	for code, r := range related {
		m.related[code] = r
	}
	return m
}

// document sorts the events, oldest first (the stable sort keeps chain
// order for events of the same instant), and gives each its event hash.
func (m *epcisMapper) document(now time.Time) EPCISDocument {
	slices.SortStableFunc(m.events, func(a, b EPCISEvent) int { return strings.Compare(a.EventTime, b.EventTime) })
	ns := map[string]string{"terroir": m.codes.EPCISNamespace()}
	for i := range m.events {
		b, err := json.Marshal(m.events[i])
		if err == nil {
			m.events[i].EventID, err = EventHash(b, ns)
		}
		if err != nil {
			// Our events are plain JSON without sensor data: this cannot
			// happen, and an event without an ID would fail validation.
			panic("epcis: event hash: " + err.Error())
		}
	}
	events := m.events
	if events == nil {
		events = []EPCISEvent{}
	}
	return EPCISDocument{
		Context:       []any{EPCISContext, map[string]string{"terroir": m.codes.EPCISNamespace()}},
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

// lotEvents maps the events of one lot's chain; withConsumption says
// whether the steps that consumed it are exported too (the exported lot,
// or every lot of a season export).
func (m *epcisMapper) lotEvents(l Lot, withConsumption bool) {
	for i, e := range l.Events {
		switch e.Type {
		case EventCreated:
			ev := m.at(l, e, l.Cooperative)
			ev.Type, ev.Action, ev.BizStep, ev.Disposition = "ObjectEvent", "ADD", "commissioning", "active"
			ev.QuantityList = []EPCISQuantity{m.quantity(l.Code, e.Quantity, l.Unit)}
			ev.BizLocation = ev.ReadPoint
			m.events = append(m.events, ev)
		case EventTransformed, EventPacked:
			m.step(m.outputsOf(l, e), e.Inputs, l, e)
		case EventConsumed:
			if withConsumption {
				m.step(e.Outputs, m.inputsOf(e.Outputs, l, e), l, e)
			}
		case EventShipped, EventReceived, EventSold:
			m.custody(l, e)
		case EventTested:
			m.inspection(l, e, BalanceFromEvents(l.Events[:i]))
		}
	}
}

// inspection writes a laboratory result: the lot observed as it stood
// (available, its chain's balance before the event) at the cooperative.
func (m *epcisMapper) inspection(l Lot, e Event, available int64) {
	i := slices.IndexFunc(l.LabResults, func(r LabResult) bool { return r.Seq == e.Seq })
	if i < 0 {
		return // a result missing from the lot: verify names the lot
	}
	r := l.LabResults[i]
	ev := m.at(l, e, l.Cooperative)
	ev.Type, ev.Action, ev.BizStep, ev.Disposition = "ObjectEvent", "OBSERVE", "inspecting", "conformant"
	ev.BizLocation = ev.ReadPoint
	ev.QuantityList = []EPCISQuantity{m.quantity(l.Code, available, l.Unit)}
	ev.Standard, ev.Category, ev.Laboratory = r.Standard, r.Category, r.Laboratory.Name
	if r.Category == "" {
		ev.Disposition, ev.Category = "non_conformant", "none"
	}
	if r.Report != nil {
		ev.LabReport = "ni:///sha-256;" + r.Report.SHA256
	}
	m.events = append(m.events, ev)
}

// outputsOf returns every output of the step that made l: the outputs its
// first input's consumption names, else l alone.
func (m *epcisMapper) outputsOf(l Lot, creation Event) []EventRef {
	if len(l.Inputs) > 0 {
		if in, ok := m.related[l.Inputs[0].Lot]; ok {
			for _, e := range in.Events {
				if e.Type == EventConsumed && slices.ContainsFunc(e.Outputs, func(r EventRef) bool { return r.Lot == l.Code }) {
					return e.Outputs
				}
			}
		}
	}
	return []EventRef{{Lot: l.Code, Quantity: creation.Quantity, Unit: l.Unit}}
}

// inputsOf returns every input of the step whose outputs are given: those
// its first output's creation names, else the consuming lot alone.
func (m *epcisMapper) inputsOf(outputs []EventRef, consumer Lot, consumed Event) []EventRef {
	if len(outputs) > 0 {
		if out, ok := m.related[outputs[0].Lot]; ok && len(out.Events) > 0 {
			return out.Events[0].Inputs
		}
	}
	return []EventRef{{Lot: consumer.Code, Quantity: consumed.Quantity, Unit: consumer.Unit}}
}

// step writes one transformation or packing, once per document. Its time
// and chain link are its first output's creation event; when the document
// does not hold that lot, the event of lot from that led to the step.
func (m *epcisMapper) step(outputs, inputs []EventRef, from Lot, fromEvent Event) {
	if len(outputs) == 0 {
		return
	}
	var key strings.Builder
	for _, o := range outputs {
		key.WriteString(o.Lot + "|")
	}
	if m.steps[key.String()] {
		return
	}
	m.steps[key.String()] = true
	lot, e := from, fromEvent
	if first, ok := m.related[outputs[0].Lot]; ok && len(first.Events) > 0 {
		lot, e = first, first.Events[0]
	}
	ev := m.at(lot, e, lot.Cooperative)
	ev.BizLocation = ev.ReadPoint
	ev.Type, ev.BizStep, ev.Disposition = "TransformationEvent", "commissioning", "active"
	switch {
	case lot.Source == SourcePacking || (e.Type == EventConsumed && e.Note == "packing"):
		ev.BizStep = "packing"
	case e.Type == EventConsumed:
		ev.Process = e.Note
	default:
		ev.Process = lot.Process
	}
	ev.InputQuantityList = m.quantities(inputs)
	ev.OutputQuantityList = m.quantities(outputs)
	m.events = append(m.events, ev)
}

// custody writes a shipment, a receipt or a sale of packed units.
func (m *epcisMapper) custody(l Lot, e Event) {
	coop, shop := l.Cooperative, e.Place
	if e.Type == EventShipped {
		if _, to, ok := strings.Cut(e.Place, " → "); ok {
			shop = to
		}
	}
	place := shop
	if e.Type == EventShipped {
		place = coop
	}
	ev := m.at(l, e, place)
	ev.Type, ev.Action = "ObjectEvent", "OBSERVE"
	ev.QuantityList = []EPCISQuantity{m.quantity(l.Code, e.Quantity, l.Unit)}
	switch e.Type {
	case EventShipped:
		ev.BizStep, ev.Disposition = "shipping", "in_transit"
	case EventReceived:
		ev.BizStep, ev.Disposition = "receiving", "in_progress"
		ev.BizLocation = ev.ReadPoint
	default:
		ev.BizStep, ev.Disposition = "retail_selling", "retail_sold"
		ev.BizLocation = ev.ReadPoint
	}
	if e.Type != EventSold {
		from, to := m.party(coop, false), m.party(shop, true)
		ev.SourceList = []EPCISSource{{Type: "owning_party", Source: m.partyID(from)}, {Type: "location", Source: m.locationID(from)}}
		ev.DestinationList = []EPCISDestination{{Type: "owning_party", Destination: m.partyID(to)}, {Type: "location", Destination: m.locationID(to)}}
	}
	m.events = append(m.events, ev)
}

// at starts an event of l's chain that happened at place: its time, the
// place's offset then, its readPoint and its chain link.
func (m *epcisMapper) at(l Lot, e Event, place string) EPCISEvent {
	p := m.party(place, place != l.Cooperative)
	return EPCISEvent{
		EventTime:           epcisTime(e.At),
		EventTimeZoneOffset: zoneOffset(p.TimeZone, e.At),
		ReadPoint:           &EPCISPlace{ID: m.locationID(p)},
		Lot:                 l.Code,
		Seq:                 e.Seq,
		ChainHash:           e.Hash,
	}
}

// party returns what the document knows of an organisation, with the
// defaults for one it does not.
func (m *epcisMapper) party(code string, shop bool) Party {
	if p, ok := m.parties[code]; ok {
		return p
	}
	return Party{Code: code, TimeZone: DefaultCooperativeZone, Shop: shop}
}

func (m *epcisMapper) orgURI(p Party) string {
	if p.Shop {
		return m.base + "/shop/" + escapeTraceValue(p.Code)
	}
	return m.base + "/coop/" + escapeTraceValue(p.Code)
}

func (m *epcisMapper) partyID(p Party) string {
	if p.GLN != "" {
		return gs1DigitalLinkRoot + "/417/" + p.GLN
	}
	return m.orgURI(p)
}

func (m *epcisMapper) locationID(p Party) string {
	if p.GLN != "" {
		return gs1DigitalLinkRoot + "/414/" + p.GLN
	}
	return m.orgURI(p)
}

func (m *epcisMapper) quantity(code string, amount int64, unit Unit) EPCISQuantity {
	l, ok := m.related[code]
	if !ok {
		l = Lot{Code: code}
	}
	return EPCISQuantity{EPCClass: m.codes.ClassEPC(l), Quantity: amount, UOM: UNCefactCode(unit)}
}

func (m *epcisMapper) quantities(refs []EventRef) []EPCISQuantity {
	out := make([]EPCISQuantity, 0, len(refs))
	for _, r := range refs {
		out = append(out, m.quantity(r.Lot, r.Quantity, r.Unit))
	}
	return out
}

func epcisTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// EPCIS returns the EPCIS 2.0 document of a lot's history to those who may
// read the lot (its cooperative's manager, auditors in scope, admins). It
// reads the lot, its upstream lots (at most 200), the lots its own
// consumption produced and the other outputs of the steps among them, each
// by _id, and the parties the events name.
func (s *Service) EPCIS(ctx context.Context, actor access.Actor, code string, codes Codes) (EPCISDocument, error) {
	l, err := s.Lot(ctx, actor, code)
	if err != nil {
		return EPCISDocument{}, err
	}
	related := map[string]Lot{}
	load := func(code string) (Lot, error) {
		if r, ok := related[code]; ok {
			return r, nil
		}
		if code == l.Code {
			return l, nil
		}
		r, err := s.store.lot(ctx, code)
		if err == nil {
			related[code] = r
		}
		return r, err
	}
	queue := []Lot{l}
	chain := []Lot{l}
	for len(queue) > 0 && len(related) < maxAncestors {
		cur := queue[0]
		queue = queue[1:]
		for _, in := range cur.Inputs {
			if _, ok := related[in.Lot]; ok || in.Lot == l.Code {
				continue
			}
			parent, err := load(in.Lot)
			if err != nil {
				return EPCISDocument{}, err
			}
			queue = append(queue, parent)
			chain = append(chain, parent)
		}
	}
	for _, e := range l.Events {
		for _, out := range e.Outputs {
			if _, err := load(out.Lot); err != nil {
				return EPCISDocument{}, err
			}
		}
	}
	// The other outputs of every step in the document, so that the step is
	// written the same way from any of its lots.
	for _, x := range chain {
		if len(x.Inputs) == 0 {
			continue
		}
		in, err := load(x.Inputs[0].Lot)
		if err != nil {
			return EPCISDocument{}, err
		}
		for _, e := range in.Events {
			if e.Type == EventConsumed && slices.ContainsFunc(e.Outputs, func(r EventRef) bool { return r.Lot == x.Code }) {
				for _, o := range e.Outputs {
					if _, err := load(o.Lot); err != nil {
						return EPCISDocument{}, err
					}
				}
			}
		}
	}
	all := append([]Lot{l}, chain...)
	for _, r := range related {
		all = append(all, r)
	}
	parties, err := s.partiesOf(ctx, codes, all)
	if err != nil {
		return EPCISDocument{}, err
	}
	return NewEPCISDocument(codes, l, related, parties, s.now()), nil
}

// SeasonEPCIS returns the EPCIS 2.0 document of every event of a
// cooperative's lots made in a season (1 September to 31 August, named by
// its first year): the auditor's file. Each physical step is one event, as
// in the lot exports, so the two merge without duplicates.
func (s *Service) SeasonEPCIS(ctx context.Context, actor access.Actor, coop string, season int, codes Codes) (EPCISDocument, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ReadCoop(coop); err != nil {
		return EPCISDocument{}, err
	}
	lots, err := s.store.lots(ctx, coop, false, mongodb.Page{Limit: 1_000_000})
	if err != nil {
		return EPCISDocument{}, err
	}
	return s.seasonEPCIS(ctx, codes, lots, season)
}

// seasonEPCIS builds the season document from all of a cooperative's lots.
func (s *Service) seasonEPCIS(ctx context.Context, codes Codes, lots []Lot, season int) (EPCISDocument, error) {
	lots = slices.Clone(lots)
	related := make(map[string]Lot, len(lots))
	for _, l := range lots {
		related[l.Code] = l
	}
	parties, err := s.partiesOf(ctx, codes, lots)
	if err != nil {
		return EPCISDocument{}, err
	}
	m := newEPCISMapper(codes, related, parties)
	// Oldest lots first, so that a step is written after what it consumed
	// whatever the store's order.
	slices.SortStableFunc(lots, func(a, b Lot) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for _, l := range lots {
		if seasonOf(l.CreatedAt) == season {
			m.lotEvents(l, true)
		}
	}
	return m.document(s.now()), nil
}

// partiesOf describes the cooperatives and shops the lots' events name:
// cooperatives from the store, shops from codes.Parties.
func (s *Service) partiesOf(ctx context.Context, codes Codes, lots []Lot) (map[string]Party, error) {
	out := map[string]Party{}
	for _, l := range lots {
		if _, ok := out[l.Cooperative]; !ok {
			c, err := s.store.cooperative(ctx, l.Cooperative)
			if err != nil {
				return nil, err
			}
			out[c.Code] = Party{Code: c.Code, GLN: c.GLN, TimeZone: c.Zone()}
		}
		for _, e := range l.Events {
			var shop string
			switch e.Type {
			case EventShipped:
				_, shop, _ = strings.Cut(e.Place, " → ")
			case EventReceived, EventSold:
				shop = e.Place
			}
			if _, ok := out[shop]; shop == "" || ok {
				continue
			}
			p := Party{Code: shop, TimeZone: DefaultCooperativeZone, Shop: true}
			if codes.Parties != nil {
				got, ok, err := codes.Parties.Party(ctx, shop)
				if err != nil {
					return nil, err
				}
				if ok {
					p = got
					p.Shop = true
				}
			}
			out[shop] = p
		}
	}
	return out, nil
}
