package traceability

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
)

// How a lot came to be.
const (
	SourceHarvest        = "harvest"        // origin lot, from harvests
	SourceTransformation = "transformation" // output of drying, distillation, pressing…
	SourcePacking        = "packing"        // units of a catalogue product
)

// Processes a transformation may record.
var Processes = []string{"drying", "sorting", "cracking", "distillation", "pressing", "extraction", "blending"}

// OriginLine is one harvest behind a lot, copied into the lot when it is
// made so that reading a lot with its whole origin is one _id lookup.
type OriginLine struct {
	Harvest    string  `json:"harvest" bson:"harvest"`
	Date       string  `json:"harvest_date" bson:"date"`
	Crop       string  `json:"crop" bson:"crop"`
	Quantity   int64   `json:"quantity" bson:"quantity"` // mg harvested
	Parcel     string  `json:"parcel" bson:"parcel"`
	ParcelName string  `json:"parcel_name" bson:"parcel_name"`
	Commune    string  `json:"commune" bson:"commune"`
	Lon        float64 `json:"lon" bson:"lon"`
	Lat        float64 `json:"lat" bson:"lat"`
	Member     string  `json:"member" bson:"member"`
	MemberName string  `json:"member_name" bson:"member_name"`
	Gender     string  `json:"gender" bson:"gender"`
	Village    string  `json:"village" bson:"village"`
}

// Claim is a certification a lot may claim (AOP, IGP, organic…). Its live
// status is read from the certification whenever the lot is shown.
type Claim struct {
	Certification string `json:"certification" bson:"certification"`
	Scheme        string `json:"scheme" bson:"scheme"`
}

// Flag is a plausibility finding on a lot; it needs a written justification.
type Flag struct {
	ID            string    `json:"id" bson:"id"`
	Kind          string    `json:"kind" bson:"kind"` // harvest, yield or lab (FlagKindLab)
	Reason        string    `json:"reason" bson:"reason"`
	RaisedAt      time.Time `json:"raised_at" bson:"raised_at"`
	Justification string    `json:"justification,omitempty" bson:"justification,omitempty"`
	JustifiedBy   string    `json:"justified_by,omitempty" bson:"justified_by,omitempty"`
	JustifiedAt   time.Time `json:"justified_at,omitzero" bson:"justified_at,omitempty"`
	// Harvest is what a harvest flag is about (nil for other kinds): the
	// Reason is English with the harvest's ID, for the API; pages write
	// this in their language with names, not IDs.
	Harvest *FlaggedHarvest `json:"-" bson:"harvest,omitempty"`
}

// FlaggedHarvest names the harvest a flag is about, as people know it.
type FlaggedHarvest struct {
	ID         string `json:"id" bson:"id"`
	Date       string `json:"date" bson:"date"`
	Crop       string `json:"crop" bson:"crop"`
	ParcelName string `json:"parcel_name" bson:"parcel_name"`
	AreaM2     int64  `json:"area_m2" bson:"area_m2"`
	Quantity   int64  `json:"quantity" bson:"quantity"` // mg
}

// Lot is a quantity of one product kind that can be traced. Its code is its
// _id. Invariants: 0 <= Available <= Quantity + Corrections; Available and
// Corrections change only together with an appended event, in one update;
// Events form a hash chain (chain.go) whose signed quantities sum to
// Available, so Quantity + Corrections = Available + what was consumed,
// packed and shipped (Account).
type Lot struct {
	Code        string `json:"code" bson:"_id"`
	Cooperative string `json:"cooperative" bson:"coop"`
	ProductKind string `json:"product_kind" bson:"kind"`
	Source      string `json:"source" bson:"source"`
	Quantity    int64  `json:"-" bson:"quantity"` // as made; never changes
	// Corrections is the net of the lot's corrected events: what it really
	// held is Quantity + Corrections (CurrentQuantity).
	Corrections int64        `json:"-" bson:"corrections,omitempty"`
	Available   int64        `json:"-" bson:"available"`
	Unit        Unit         `json:"-" bson:"unit"`
	Origin      []OriginLine `json:"origin" bson:"origin"`
	Inputs      []EventRef   `json:"inputs" bson:"inputs"`
	Outputs     []EventRef   `json:"outputs" bson:"outputs"`
	Process     string       `json:"process,omitempty" bson:"process,omitempty"`
	Note        string       `json:"note,omitempty" bson:"note,omitempty"`
	// Packed lots: units of a catalogue product.
	SKU        string `json:"sku,omitempty" bson:"sku,omitempty"`
	GTIN       string `json:"gtin,omitempty" bson:"gtin,omitempty"`
	BestBefore string `json:"best_before,omitempty" bson:"best_before,omitempty"`
	UnitSize   int64  `json:"-" bson:"unit_size,omitempty"`
	UnitSizeOf Unit   `json:"-" bson:"unit_size_unit,omitempty"`
	// Serials: each packed unit has its own signed serial (1…Quantity), so a
	// label copied onto many jars shows up as one serial scanned too often.
	Serials bool `json:"serials,omitempty" bson:"serials,omitempty"`
	// SerialForm is how the unit serials are written (SerialOf): lots
	// packed since issue 13 have SerialsUnit; older ones none, and keep
	// the zero-padded serials their labels carry.
	SerialForm string `json:"-" bson:"serial_form,omitempty"`

	// Shares are the members' parts of the lot (shares.go); ShareHistory
	// keeps the shares corrections replaced, with when they ended.
	Shares       []MemberShare  `json:"-" bson:"shares,omitempty"`
	ShareHistory []ShareVersion `json:"-" bson:"share_history,omitempty"`

	Claims []Claim `json:"-" bson:"claims"`
	Flags  []Flag  `json:"flags" bson:"flags"`
	// LabResults are the laboratory results of samples of this lot, in the
	// order recorded, each sealed by a tested event (quality.go).
	LabResults []LabResult `json:"lab_results,omitempty" bson:"lab_results,omitempty"`
	// Quality is the ISO 3632 category the lot shows, its own or inherited
	// through packing and sorting (Service.QualityOf); filled by Lot,
	// PublicLot and Trace, never stored.
	Quality *Quality `json:"quality" bson:"-"`

	// Events is the lot's whole history, in chain order, as read by the
	// store. Stored, the lot's document holds only the events after Sealed;
	// the older ones are sealed in blocks of their own (store.go, lot_events).
	Events []Event `json:"events" bson:"events"`
	// Sealed counts the events stored in blocks outside the lot's document
	// (a multiple of eventBlock).
	Sealed    int64     `json:"-" bson:"sealed,omitempty"`
	Seq       int64     `json:"-" bson:"seq"`
	LastHash  string    `json:"-" bson:"last_hash"`
	CreatedBy string    `json:"created_by" bson:"created_by"`
	CreatedAt time.Time `json:"created_at" bson:"created_at"`
}

// CurrentQuantity is what the lot holds by its record: its quantity as made
// plus its corrections.
func (l Lot) CurrentQuantity() int64 { return l.Quantity + l.Corrections }

// Corrected reports whether the lot's quantity was ever corrected.
func (l Lot) Corrected() bool {
	return slices.ContainsFunc(l.Events, func(e Event) bool { return e.Type == EventCorrected })
}

// OpenFlags counts flags still waiting for a justification.
func (l Lot) OpenFlags() int {
	n := 0
	for _, f := range l.Flags {
		if f.Justification == "" {
			n++
		}
	}
	return n
}

// Sentinel errors.
var (
	ErrLotNotFound       = problem.New(problem.NotFound, "lot not found")
	ErrInsufficientStock = problem.New(problem.InsufficientStock, "not enough available in the lot")
	ErrFlagNotFound      = problem.New(problem.NotFound, "flag not found")
	errLotChanged        = problem.New(problem.Conflict, "the lot changed while it was being updated; try again")
)

// signOf is how an event type moves a lot's available quantity.
func signOf(eventType string) int64 {
	switch eventType {
	case EventCreated, EventTransformed, EventPacked:
		return 1
	case EventConsumed, EventShipped:
		return -1
	case EventAdjusted, EventCorrected:
		return 1 // adjustments and corrections carry their own sign
	}
	return 0
}

// BalanceFromEvents recomputes the available quantity from the events alone.
func BalanceFromEvents(events []Event) int64 {
	var sum int64
	for _, e := range events {
		sum += signOf(e.Type) * e.Quantity
	}
	return sum
}

// appendEvent seals e after the lot's last event and applies it to the
// in-memory lot (the store writes the same change).
func (l *Lot) appendEvent(e Event) Event {
	var prev *Event
	if n := len(l.Events); n > 0 {
		prev = &l.Events[n-1]
	} else if l.Seq > 0 {
		prev = &Event{Seq: l.Seq, Hash: l.LastHash} // a head read without its history
	}
	e.Lot, e.Unit = l.Code, l.Unit
	sealed := SealEvent(prev, e)
	l.Events = append(l.Events, sealed)
	l.Seq, l.LastHash = sealed.Seq, sealed.Hash
	return sealed
}

// NewOriginLot asks for a lot made from harvests.
type NewOriginLot struct {
	ProductKind string
	Harvests    []string
}

// CreateOriginLot makes a lot from harvests of the cooperative that are in
// no lot yet. Every harvest must be of the lot's product kind (its crop).
// Claims are those of the cooperative's certifications that covered every
// origin parcel on its harvest day; flagged harvests flag the lot.
func (s *Service) CreateOriginLot(ctx context.Context, actor access.Actor, coop string, req NewOriginLot) (Lot, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ManageCoop(coop); err != nil {
		return Lot{}, err
	}
	kind := strings.TrimSpace(req.ProductKind)
	if err := problem.OneOf("product_kind", kind, Crops); err != nil {
		return Lot{}, problem.Field("product_kind", "an origin lot is of a crop: one of %s", strings.Join(Crops, ", "))
	}
	if len(req.Harvests) == 0 {
		return Lot{}, problem.Field("harvests", "name at least one harvest")
	}
	if len(req.Harvests) > 1000 {
		return Lot{}, problem.Field("harvests", "at most 1000 harvests in one lot")
	}
	var lot Lot
	err := s.store.db.Atomically(ctx, func(ctx context.Context) error {
		var err error
		lot, err = s.buildOriginLot(ctx, actor, coop, kind, req.Harvests)
		if err != nil {
			return err
		}
		if err := s.store.insertLot(ctx, &lot); err != nil {
			return err
		}
		return s.store.assignHarvests(ctx, req.Harvests, lot.Code)
	})
	return lot, err
}

func (s *Service) buildOriginLot(ctx context.Context, actor access.Actor, coop, kind string, ids []string) (Lot, error) {
	now := s.now().UTC()
	lot := Lot{Cooperative: coop, ProductKind: kind, Source: SourceHarvest, Unit: Milligram,
		Inputs: []EventRef{}, Outputs: []EventRef{}, Flags: []Flag{}, CreatedBy: actor.Email, CreatedAt: now}
	seen := map[string]bool{}
	parcels := map[string]Parcel{}
	for i, harvestID := range ids {
		field := fmt.Sprintf("harvests[%d]", i)
		if seen[harvestID] {
			return Lot{}, problem.Field(field, "harvest %s is listed twice", harvestID)
		}
		seen[harvestID] = true
		h, err := s.store.harvest(ctx, harvestID)
		if err != nil || h.Cooperative != coop {
			return Lot{}, notFoundField(field, "%q is not a harvest of cooperative %s", harvestID, coop)
		}
		if h.Lot != "" {
			return Lot{}, problem.New(problem.Conflict, "harvest %s is already in lot %s", harvestID, h.Lot)
		}
		if h.Crop != kind {
			return Lot{}, problem.Field(field, "harvest %s is %s, not %s", harvestID, problem.Kind(h.Crop), problem.Kind(kind))
		}
		p, ok := parcels[h.Parcel]
		if !ok {
			if p, err = s.store.parcel(ctx, h.Parcel); err != nil {
				return Lot{}, err
			}
			parcels[h.Parcel] = p
		}
		m, err := s.store.member(ctx, h.Member)
		if err != nil {
			return Lot{}, err
		}
		if lot.Quantity, ok = addQuantities(lot.Quantity, h.Quantity); !ok {
			return Lot{}, errTotalTooLarge(field)
		}
		lot.Origin = append(lot.Origin, OriginLine{
			Harvest: h.ID, Date: h.Date, Crop: h.Crop, Quantity: h.Quantity,
			Parcel: p.ID, ParcelName: p.Name, Commune: p.Commune, Lon: p.Lon, Lat: p.Lat,
			Member: m.ID, MemberName: m.Name, Gender: m.Gender, Village: m.Village,
		})
		if h.Flag != "" {
			lot.Flags = append(lot.Flags, Flag{ID: id.New("flg"), Kind: "harvest", Reason: "harvest " + h.ID + ": " + h.Flag, RaisedAt: now,
				Harvest: &FlaggedHarvest{ID: h.ID, Date: h.Date, Crop: h.Crop, ParcelName: p.Name, AreaM2: p.AreaM2, Quantity: h.Quantity}})
		}
	}
	claims, err := s.originClaims(ctx, coop, kind, lot.Origin)
	if err != nil {
		return Lot{}, err
	}
	lot.Claims = claims
	lot.Available = lot.Quantity
	lot.Shares = originShares(lot.Origin)
	return lot, nil
}

// LotInput is a quantity taken from an existing lot.
type LotInput struct {
	Lot      string
	Quantity Quantity
}

// LotOutput is a lot a transformation produces.
type LotOutput struct {
	ProductKind string
	Quantity    Quantity
}

// NewTransformation records a process turning input lots into output lots.
type NewTransformation struct {
	Process string
	Inputs  []LotInput
	Outputs []LotOutput
	Note    string
}

type takenInput struct {
	lot    Lot
	amount int64
}

// Transform consumes quantities of input lots and creates the output lots,
// atomically: either every input is reduced and every output exists, or
// nothing changed. Consuming more than a lot has available returns
// ErrInsufficientStock. The inputs are all of one kind and the outputs are
// kinds the process makes from it (the process graph, graph.go), else 400
// naming the field; outputs holding more than the inputs are refused with
// 422 (TransformationLimit). Outputs carry only the claims that all inputs
// carry (mixing with a non-organic lot drops organic) and whose scope covers
// the output's kind (a certificate of dried saffron does not follow it into
// another kind), the union of the inputs' origins, and a flag when the yield
// is outside the typical range.
func (s *Service) Transform(ctx context.Context, actor access.Actor, coop string, req NewTransformation) ([]Lot, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ManageCoop(coop); err != nil {
		return nil, err
	}
	req.Process = strings.TrimSpace(req.Process)
	if err := problem.OneOf("process", req.Process, Processes); err != nil {
		return nil, err
	}
	if len(req.Inputs) == 0 || len(req.Inputs) > 100 {
		return nil, problem.Field("inputs", "name between 1 and 100 input lots")
	}
	if len(req.Outputs) == 0 || len(req.Outputs) > 20 {
		return nil, problem.Field("outputs", "name between 1 and 20 output lots")
	}
	if len([]rune(req.Note)) > 2000 {
		return nil, problem.Field("note", "must be at most 2000 characters")
	}
	type outSpec struct {
		kind   string
		amount int64
		unit   Unit
	}
	var outs []outSpec
	for i, o := range req.Outputs {
		field := fmt.Sprintf("outputs[%d]", i)
		kind := strings.TrimSpace(o.ProductKind)
		if _, err := checkKind(field+".product_kind", kind); err != nil {
			return nil, err
		}
		amount, unit, err := baseOfKind(field+".quantity", o.Quantity, kind)
		if err != nil {
			return nil, err
		}
		outs = append(outs, outSpec{kind, amount, unit})
	}
	var made []Lot
	err := s.store.db.Atomically(ctx, func(ctx context.Context) error {
		made = nil
		// Every check comes before the first write (Atomically on the
		// embedded store cannot roll back).
		var taken []takenInput
		seen := map[string]bool{}
		for i, in := range req.Inputs {
			field := fmt.Sprintf("inputs[%d]", i)
			code := NormalizeLotCode(in.Lot)
			if seen[code] {
				return problem.Field(field+".lot", "lot %s is listed twice", code)
			}
			seen[code] = true
			l, err := s.store.lot(ctx, code)
			if err != nil || l.Cooperative != coop {
				return notFoundField(field+".lot", "%q is not a lot of cooperative %s", in.Lot, coop)
			}
			amount, unit, err := in.Quantity.Base()
			if err != nil {
				return renamed(err, field+".quantity")
			}
			if unit != l.Unit {
				return problem.Field(field+".quantity", "lot %s is counted in %s, not %s", code, l.Unit, unit)
			}
			if l.Source == SourcePacking {
				return problem.Field(field+".lot", "lot %s is packed units; transform the lot it was packed from", code)
			}
			if amount > l.Available {
				return problem.New(problem.InsufficientStock, "lot %s has %s available, %s asked",
					code, Amount{l.Available, l.Unit}, Amount{amount, unit}).At(field + ".quantity")
			}
			taken = append(taken, takenInput{l, amount})
		}
		// One kind in, and only what the process graph makes from it
		// (graph.go); then no more out than in (plausibility.go).
		inKind, inUnit := taken[0].lot.ProductKind, taken[0].lot.Unit
		var inTotal int64
		for i, t := range taken {
			if t.lot.ProductKind != inKind {
				return problem.Field(fmt.Sprintf("inputs[%d].lot", i), "lot %s is %s; the inputs of one transformation are all of one kind (%s)", t.lot.Code, problem.Kind(t.lot.ProductKind), problem.Kind(inKind))
			}
			var ok bool
			if inTotal, ok = addQuantities(inTotal, t.amount); !ok {
				return problem.Field("inputs", "the inputs' total is too large to be counted")
			}
		}
		amounts := make([]OutputAmount, 0, len(outs))
		for i, o := range outs {
			if _, err := checkEdge(fmt.Sprintf("outputs[%d].product_kind", i), req.Process, inKind, o.kind); err != nil {
				return err
			}
			amounts = append(amounts, OutputAmount{Kind: o.kind, Amount: o.amount})
		}
		if err := TransformationLimit(req.Process, inKind, inTotal, amounts); err != nil {
			return err
		}
		now := s.now().UTC()
		origin := mergedOrigin(taken)
		common := commonClaims(taken)
		shares, err := s.takenShares(ctx, taken)
		if err != nil {
			return err
		}
		inputs := make([]EventRef, len(taken))
		for i, t := range taken {
			inputs[i] = EventRef{Lot: t.lot.Code, Quantity: t.amount, Unit: t.lot.Unit}
		}
		outTotals := map[string]int64{}
		for _, o := range outs {
			total, ok := addQuantities(outTotals[o.kind], o.amount)
			if !ok {
				return problem.Field("outputs", "the outputs' total is too large to be counted")
			}
			outTotals[o.kind] = total
		}
		scoped := map[string][]Claim{} // output kind → the common claims whose scope covers it
		for _, o := range outs {
			if _, ok := scoped[o.kind]; !ok {
				c, err := s.scopedClaims(ctx, common, o.kind, origin)
				if err != nil {
					return err
				}
				scoped[o.kind] = c
			}
		}
		for _, o := range outs {
			claims := slices.Clone(scoped[o.kind])
			lot := Lot{Cooperative: coop, ProductKind: o.kind, Source: SourceTransformation, Quantity: o.amount,
				Available: o.amount, Unit: o.unit, Origin: origin, Inputs: inputs, Outputs: []EventRef{},
				Process: req.Process, Note: strings.TrimSpace(req.Note), Claims: claims, Flags: []Flag{},
				Shares: slices.Clone(shares), CreatedBy: actor.Email, CreatedAt: now}
			if reason, ok := CheckYield(req.Process, taken[0].lot.ProductKind, o.kind, inTotal, outTotals[o.kind], inUnit, o.unit); !ok {
				lot.Flags = append(lot.Flags, Flag{ID: id.New("flg"), Kind: "yield", Reason: reason, RaisedAt: now})
			}
			made = append(made, lot)
		}
		for i := range made {
			if err := s.store.insertLot(ctx, &made[i]); err != nil {
				return err
			}
		}
		var outRefs []EventRef
		for _, l := range made {
			outRefs = append(outRefs, EventRef{Lot: l.Code, Quantity: l.Quantity, Unit: l.Unit})
		}
		for _, t := range taken {
			l := t.lot
			e := l.appendEvent(Event{Type: EventConsumed, At: now, Actor: actor.Email, Place: coop,
				Quantity: t.amount, Outputs: outRefs, Note: req.Process})
			if err := s.store.consume(ctx, t.lot, t.amount, e, outRefs); err != nil {
				return err
			}
		}
		return nil
	})
	return made, err
}

// takenShares are the shares of a transformation's outputs: what it took
// of each input, split over that input's shares (shares.go).
func (s *Service) takenShares(ctx context.Context, taken []takenInput) ([]MemberShare, error) {
	ins := make([]shareInput, len(taken))
	for i, t := range taken {
		sh, err := s.currentShares(ctx, t.lot)
		if err != nil {
			return nil, err
		}
		ins[i] = shareInput{shares: sh, taken: t.amount}
	}
	return inheritShares(ins), nil
}

// commonClaims keeps the claims every input carries: organic integrity means
// one non-organic input drops the organic claim of the whole output.
func commonClaims(taken []takenInput) []Claim {
	out := slices.Clone(taken[0].lot.Claims)
	for _, t := range taken[1:] {
		out = slices.DeleteFunc(out, func(c Claim) bool {
			return !slices.ContainsFunc(t.lot.Claims, func(x Claim) bool { return x.Certification == c.Certification })
		})
	}
	if out == nil {
		out = []Claim{}
	}
	return out
}

// mergedOrigin is the union of the inputs' origins, each harvest once.
func mergedOrigin(taken []takenInput) []OriginLine {
	seen := map[string]bool{}
	var out []OriginLine
	for _, t := range taken {
		for _, o := range t.lot.Origin {
			if !seen[o.Harvest] {
				seen[o.Harvest] = true
				out = append(out, o)
			}
		}
	}
	return out
}

// PackedProduct is what packing needs to know of the catalogue product; the
// caller (web) reads it from the catalogue, since catalogue depends on
// traceability and not the other way round.
type PackedProduct struct {
	SKU          string
	Kind         string
	Cooperative  string
	UnitSize     int64 // base units in one packed unit
	UnitSizeUnit Unit
	GTIN         string
}

// NewPacking packs units of a product from a lot.
type NewPacking struct {
	Lot        string
	Units      int64
	BestBefore string
	Product    PackedProduct
	Serials    bool // give each unit its own serial (needs a product GTIN)
}

// Pack takes units × the product's unit size out of the lot and creates a
// packed lot counted in pieces, which carries the source lot's claims and
// origin.
func (s *Service) Pack(ctx context.Context, actor access.Actor, coop string, req NewPacking) (Lot, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ManageCoop(coop); err != nil {
		return Lot{}, err
	}
	if req.Units <= 0 || req.Units > 1_000_000 {
		return Lot{}, problem.Field("units", "must be a whole number between 1 and 1 000 000")
	}
	bb, err := time.Parse(time.DateOnly, strings.TrimSpace(req.BestBefore))
	if err != nil {
		return Lot{}, problem.Field("best_before", "must be a calendar date as YYYY-MM-DD")
	}
	if !bb.After(s.now().UTC()) {
		return Lot{}, problem.Field("best_before", "must be after today")
	}
	p := req.Product
	if req.Serials && p.GTIN == "" {
		return Lot{}, problem.Field("serials", "per-unit serials need a product with a GTIN (GS1 Digital Link /01/…/21/…)")
	}
	if p.Cooperative != coop {
		return Lot{}, problem.Field("sku", "product %s belongs to cooperative %s", p.SKU, p.Cooperative)
	}
	need := req.Units * p.UnitSize
	if p.UnitSize <= 0 || need/req.Units != p.UnitSize {
		return Lot{}, problem.Field("units", "is too large")
	}
	var packed Lot
	err = s.store.db.Atomically(ctx, func(ctx context.Context) error {
		src, err := s.store.lot(ctx, NormalizeLotCode(req.Lot))
		if err != nil || src.Cooperative != coop {
			return notFoundField("lot", "%q is not a lot of cooperative %s", req.Lot, coop)
		}
		if src.Source == SourcePacking {
			return problem.Field("lot", "lot %s is already packed units", src.Code)
		}
		if src.ProductKind != p.Kind {
			return problem.Field("sku", "product %s is %s but lot %s is %s", p.SKU, problem.Kind(p.Kind), src.Code, problem.Kind(src.ProductKind))
		}
		if src.Unit != p.UnitSizeUnit {
			return problem.Field("sku", "product %s is sold by %s but lot %s is counted in %s", p.SKU,
				problem.Dimension(Dimension(p.UnitSizeUnit)), src.Code, problem.Dimension(Dimension(src.Unit)))
		}
		if need > src.Available {
			return problem.New(problem.InsufficientStock, "%d × %s needs %s; lot %s has %s available", req.Units,
				Amount{p.UnitSize, p.UnitSizeUnit}, Amount{need, src.Unit}, src.Code, Amount{src.Available, src.Unit}).At("units")
		}
		now := s.now().UTC()
		shares, err := s.currentShares(ctx, src)
		if err != nil {
			return err
		}
		packed = Lot{Cooperative: coop, ProductKind: p.Kind, Source: SourcePacking, Quantity: req.Units, Shares: slices.Clone(shares),
			Available: req.Units, Unit: Piece, Origin: src.Origin,
			Inputs: []EventRef{{Lot: src.Code, Quantity: need, Unit: src.Unit}}, Outputs: []EventRef{},
			SKU: p.SKU, GTIN: p.GTIN, BestBefore: bb.Format(time.DateOnly), UnitSize: p.UnitSize, UnitSizeOf: p.UnitSizeUnit, Serials: req.Serials,
			SerialForm: serialFormOf(req.Serials), Claims: slices.Clone(src.Claims), Flags: []Flag{}, CreatedBy: actor.Email, CreatedAt: now}
		if packed.Claims == nil {
			packed.Claims = []Claim{}
		}
		if err := s.store.insertLot(ctx, &packed); err != nil {
			return err
		}
		out := []EventRef{{Lot: packed.Code, Quantity: req.Units, Unit: Piece}}
		before := src
		e := src.appendEvent(Event{Type: EventConsumed, At: now, Actor: actor.Email, Place: coop,
			Quantity: need, Outputs: out, Note: "packing"})
		return s.store.consume(ctx, before, need, e, out)
	})
	return packed, err
}

// creationEvent is the first event of a new lot.
func creationEvent(l *Lot) {
	typ := EventCreated
	switch l.Source {
	case SourceTransformation:
		typ = EventTransformed
	case SourcePacking:
		typ = EventPacked
	}
	var flags []string
	for _, f := range l.Flags {
		flags = append(flags, f.Reason)
	}
	l.Events = nil
	l.appendEvent(Event{Type: typ, At: l.CreatedAt, Actor: l.CreatedBy, Place: l.Cooperative,
		Quantity: l.Quantity, Inputs: l.Inputs, Note: strings.Join(flags, "; ")})
}

// Lot returns a lot to those who may read its cooperative's records.
func (s *Service) Lot(ctx context.Context, actor access.Actor, code string) (Lot, error) {
	l, err := s.store.lot(ctx, NormalizeLotCode(code))
	if err != nil {
		return Lot{}, err
	}
	if err := actor.ReadCoop(l.Cooperative); err != nil {
		if access.IsForbidden(err) {
			return Lot{}, ErrLotNotFound // do not reveal other cooperatives' lots
		}
		return Lot{}, err
	}
	l.Quality, err = s.qualityOf(ctx, l)
	return l, err
}

// PublicLot returns a lot for the public trace page, whoever asks.
func (s *Service) PublicLot(ctx context.Context, code string) (Lot, error) {
	l, err := s.store.lot(ctx, NormalizeLotCode(code))
	if err != nil {
		return Lot{}, err
	}
	l.Quality, err = s.qualityOf(ctx, l)
	return l, err
}

// Lots lists a cooperative's lots, newest first.
func (s *Service) Lots(ctx context.Context, actor access.Actor, coop string, page mongodb.Page) ([]Lot, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ReadCoop(coop); err != nil {
		return nil, err
	}
	return s.store.lots(ctx, coop, false, page.Normalized())
}

// JustifyFlag records the cooperative's written justification of a flag.
func (s *Service) JustifyFlag(ctx context.Context, actor access.Actor, code, flagID, text string) (Lot, error) {
	text = strings.TrimSpace(text)
	var lot Lot
	err := s.store.db.Atomically(ctx, func(ctx context.Context) error {
		l, err := s.store.lot(ctx, NormalizeLotCode(code))
		if err != nil {
			return err
		}
		// Access first: who may not justify learns nothing of the rules.
		if err := actor.ManageCoop(l.Cooperative); err != nil {
			return err
		}
		if err := problem.RequireText("justification", text, 2000); err != nil {
			return err
		}
		if len([]rune(text)) < 10 {
			return problem.Field("justification", "must explain the finding in at least 10 characters")
		}
		i := slices.IndexFunc(l.Flags, func(f Flag) bool { return f.ID == flagID })
		if i < 0 {
			return ErrFlagNotFound
		}
		if l.Flags[i].Justification != "" {
			return problem.New(problem.Conflict, "flag %s is already justified", flagID)
		}
		now := s.now().UTC()
		l.Flags[i].Justification, l.Flags[i].JustifiedBy, l.Flags[i].JustifiedAt = text, actor.Email, now
		before := l
		e := l.appendEvent(Event{Type: EventJustified, At: now, Actor: actor.Email, Place: l.Cooperative,
			Note: l.Flags[i].Reason + " — " + text})
		if err := s.store.justify(ctx, before, l.Flags, e); err != nil {
			return err
		}
		lot = l
		return nil
	})
	return lot, err
}

// notFoundField is a 404 that names the field: the record does not exist for
// this cooperative (another cooperative's records are not revealed).
func notFoundField(field, format string, args ...any) error {
	return problem.New(problem.NotFound, format, args...).At(field)
}

// SerialsUnit is the serial form of lots packed since issue 13: "U" and
// the unit's number without leading zeros (U1 … U250). A serial that is
// all digits, or starts with a zero, can read as a GS1 application
// identifier: GS1's toolkit takes a unit URI ending /21/01 (or 253, 255,
// 401, 414, 8003…) for another key, and its compression turns 03 into 3.
// A serial that starts with a letter is never an AI, and without leading
// zeros it survives compression.
const SerialsUnit = "U"

func serialFormOf(serials bool) string {
	if serials {
		return SerialsUnit
	}
	return ""
}

// SerialOf returns the serial of the i-th unit (1-based) of a packed lot:
// U{i} (SerialsUnit), or for lots packed before it, i zero-padded to the
// width of the lot's quantity, as their printed labels read.
func (l Lot) SerialOf(i int64) string {
	if l.SerialForm == SerialsUnit {
		return SerialsUnit + strconv.FormatInt(i, 10)
	}
	return fmt.Sprintf("%0*d", len(strconv.FormatInt(l.Quantity, 10)), i)
}

// HasSerial reports whether serial names one of the lot's units, written
// exactly as SerialOf writes it.
func (l Lot) HasSerial(serial string) bool {
	if !l.Serials || serial == "" {
		return false
	}
	digits := serial
	if l.SerialForm == SerialsUnit {
		var ok bool
		if digits, ok = strings.CutPrefix(serial, SerialsUnit); !ok {
			return false
		}
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	return err == nil && n >= 1 && n <= l.Quantity && l.SerialOf(n) == serial
}

// Custody events recorded by the shops: they do not change what a lot has
// available at its cooperative (units left it when shipped), only its story.
const (
	EventReturned = "returned" // units brought back by a customer
)

// ShipUnits takes units of a packed lot out of its cooperative's available
// quantity towards a shop (a receipt at the shop), appending "shipped" and
// "received" events. It must run inside the caller's Atomically: the shop's
// balance and the lot change together. More than available returns
// ErrInsufficientStock naming the field "units".
func (s *Service) ShipUnits(ctx context.Context, code string, units int64, shop, actor string) (Lot, error) {
	if units <= 0 {
		return Lot{}, problem.Field("units", "must be a positive whole number")
	}
	l, err := s.store.lot(ctx, NormalizeLotCode(code))
	if err != nil {
		return Lot{}, notFoundField("lot", "no lot %q", code)
	}
	if l.Source != SourcePacking {
		return Lot{}, problem.Field("lot", "lot %s is not packed units; shops receive packed lots", l.Code)
	}
	if units > l.Available {
		return Lot{}, problem.New(problem.InsufficientStock, "lot %s has %d units available at the cooperative, %d asked",
			l.Code, l.Available, units).At("units")
	}
	now := s.now().UTC()
	before := l
	shipped := l.appendEvent(Event{Type: EventShipped, At: now, Actor: actor, Place: l.Cooperative + " → " + shop, Quantity: units})
	if err := s.store.appendLotEvent(ctx, before, -units, shipped); err != nil {
		return Lot{}, err
	}
	return s.appendCustody(ctx, l, EventReceived, units, shop, actor)
}

// RecordCustody appends a custody event (received, sold, returned) to a
// packed lot without changing its available quantity. Callers hold Atomically.
func (s *Service) RecordCustody(ctx context.Context, code, eventType string, units int64, place, actor string) error {
	// The head is enough to append: a sale never reads the lot's history.
	l, err := s.store.lotHead(ctx, NormalizeLotCode(code))
	if err != nil {
		return err
	}
	_, err = s.appendCustody(ctx, l, eventType, units, place, actor)
	return err
}

// CustodyDocs names the documents RecordCustody writes for lot code, for
// a change that journals at once everything it is about to write
// (mongodb.Store.Prepare): the lot's document, read once by Prepare.
func (s *Service) CustodyDocs(code string) []mongodb.Doc {
	return []mongodb.Doc{{Coll: "lots", ID: NormalizeLotCode(code)}}
}

func (s *Service) appendCustody(ctx context.Context, l Lot, eventType string, units int64, place, actor string) (Lot, error) {
	before := l
	e := l.appendEvent(Event{Type: eventType, At: s.now().UTC(), Actor: actor, Place: place, Quantity: units})
	if err := s.store.appendLotEvent(ctx, before, 0, e); err != nil {
		return Lot{}, err
	}
	return l, nil
}

// OnLotChange registers fn to be told the code of every lot this process
// changes, right after the change is written. The web layer drops its
// cached trace pages with it.
func (s *Service) OnLotChange(fn func(code string)) { s.store.watchLots(fn) }

// OnParcelChange registers fn to be told the ID of every parcel whose
// location this process changes (an import replacing a point by the
// outline walked since): trace records show parcels' outlines.
func (s *Service) OnParcelChange(fn func(id string)) { s.store.watchParcels(fn) }
