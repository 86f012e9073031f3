package traceability

import (
	"context"
	"slices"
	"strings"
	"time"
)

// TraceOrigin is one harvest as the public sees it: where and when, not who.
type TraceOrigin struct {
	Parcel      string  `json:"parcel"`
	ParcelName  string  `json:"parcel_name"`
	Commune     string  `json:"commune"`
	Village     string  `json:"village"`
	HarvestDate string  `json:"harvest_date"`
	Lon         float64 `json:"lon"`
	Lat         float64 `json:"lat"`
	// Outline is the parcel's walked outline (a GeoJSON Polygon), absent
	// for a parcel recorded as a point: the trace page draws it. It is read
	// from the parcel when the record is built, and the record is cached
	// per lot, so a scan never reads the parcels.
	Outline *Geometry `json:"outline,omitempty"`
}

// TraceStep is one step of a lot's making, oldest first: harvest, then each
// transformation, then packing.
type TraceStep struct {
	Step        string `json:"step"` // harvest, a process name, or packing
	Date        string `json:"date"` // YYYY-MM-DD
	Lot         string `json:"lot"`
	ProductKind string `json:"product_kind"`
	Quantity    string `json:"quantity"` // formatted for people, in English symbols
	// Amount is the same quantity in its base unit, for a page to write in
	// its language.
	Amount Amount `json:"-"`
}

// CustodyStep is a move of the packed units after packing (shipped to a
// shop, received, sold).
type CustodyStep struct {
	Event    string `json:"event"`
	Date     string `json:"date"`
	Place    string `json:"place"`
	Quantity int64  `json:"quantity"`
}

// TraceCorrection is a correction of the lot or of a lot it was made from,
// as the public sees it: which lot, when, and the quantity before and after
// (the reason, written by the cooperative, stays in the lot's own record).
type TraceCorrection struct {
	Lot         string `json:"lot"`
	ProductKind string `json:"product_kind"`
	Date        string `json:"date"` // YYYY-MM-DD
	From        string `json:"from"` // formatted for people, in English symbols
	To          string `json:"to"`
	// FromAmount and ToAmount are the same in base units (a page writes
	// them in its language).
	FromAmount Amount `json:"-"`
	ToAmount   Amount `json:"-"`
}

// TraceRecord is everything the public trace page shows of a lot.
type TraceRecord struct {
	Lot          Lot
	Cooperative  Cooperative
	Origin       []TraceOrigin
	Producers    int // distinct members behind the lot
	Women        int // of whom women
	Steps        []TraceStep
	Claims       []ClaimStatus
	Custody      []CustodyStep
	Certificates []Certification
	// Corrected marks a lot whose record was corrected, its own quantity or
	// that of a lot or harvest it was made from; Corrections lists them,
	// oldest first.
	Corrected   bool
	Corrections []TraceCorrection
	// Quality is the lot's ISO 3632 category with the laboratory and the
	// report's date (quality.go), nil without a result; the public JSON
	// carries it as "quality".
	Quality *Quality
}

// maxAncestors bounds the walk up a lot's inputs (blends of blends).
const maxAncestors = 200

// Trace builds the public trace record of a lot: its public origin, the
// steps of its making up through its ancestors, its claims with their
// status today and the custody of its units. Anyone may read it; it reveals
// places and dates, never members' names.
func (s *Service) Trace(ctx context.Context, code string) (TraceRecord, error) {
	l, err := s.store.lot(ctx, NormalizeLotCode(code))
	if err != nil {
		return TraceRecord{}, err
	}
	if l.Quality, err = s.qualityOf(ctx, l); err != nil {
		return TraceRecord{}, err
	}
	rec := TraceRecord{Lot: l, Quality: l.Quality}
	if rec.Cooperative, err = s.traceCooperative(ctx, l.Cooperative); err != nil {
		return TraceRecord{}, err
	}
	// Walk up the inputs: every ancestor made by transformation or packing
	// is a step; corrections anywhere upstream mark the record; origin
	// lots hold their harvests' corrected quantities.
	queue := []Lot{l}
	visited := map[string]bool{l.Code: true}
	harvested := map[string]int64{} // harvest → quantity, from the origin lots
	var made []TraceStep            // newest first, as the walk goes up
	var corrections [][]TraceCorrection
	for len(queue) > 0 && len(visited) <= maxAncestors {
		cur := queue[0]
		queue = queue[1:]
		if cur.Source == SourceHarvest {
			for _, o := range cur.Origin {
				harvested[o.Harvest] = o.Quantity
			}
		} else {
			step := cur.Process
			if cur.Source == SourcePacking {
				step = "packing"
			}
			made = append(made, TraceStep{Step: step, Date: cur.CreatedAt.Format("2006-01-02"), Lot: cur.Code,
				ProductKind: cur.ProductKind, Quantity: FormatQuantity(cur.CurrentQuantity(), cur.Unit), Amount: Amount{cur.CurrentQuantity(), cur.Unit}})
		}
		corrections = append(corrections, traceCorrections(cur))
		for _, in := range cur.Inputs {
			if visited[in.Lot] {
				continue
			}
			visited[in.Lot] = true
			parent, err := s.store.lot(ctx, in.Lot)
			if err != nil {
				return TraceRecord{}, err
			}
			queue = append(queue, parent)
		}
	}
	slices.Reverse(corrections) // ancestors first, then by day
	rec.Corrections = slices.Concat(corrections...)
	slices.SortStableFunc(rec.Corrections, func(a, b TraceCorrection) int { return strings.Compare(a.Date, b.Date) })
	rec.Corrected = len(rec.Corrections) > 0
	members := map[string]bool{}
	seen := map[string]bool{}
	for _, o := range l.Origin {
		if !members[o.Member] {
			members[o.Member] = true
			if o.Gender == "female" {
				rec.Women++
			}
		}
		key := o.Parcel + "|" + o.Date
		if seen[key] {
			continue
		}
		seen[key] = true
		qty := o.Quantity
		if q, ok := harvested[o.Harvest]; ok {
			qty = q
		}
		rec.Origin = append(rec.Origin, TraceOrigin{Parcel: o.Parcel, ParcelName: o.ParcelName, Commune: o.Commune,
			Village: o.Village, HarvestDate: o.Date, Lon: o.Lon, Lat: o.Lat})
		rec.Steps = append(rec.Steps, TraceStep{Step: "harvest", Date: o.Date, ProductKind: o.Crop,
			Quantity: FormatQuantity(qty, Milligram), Amount: Amount{qty, Milligram}})
	}
	if err := s.traceOutlines(ctx, rec.Origin); err != nil {
		return TraceRecord{}, err
	}
	rec.Producers = len(members)
	slices.Reverse(made) // oldest first: a same-day drying comes before its packing
	rec.Steps = append(rec.Steps, made...)
	slices.SortStableFunc(rec.Steps, func(a, b TraceStep) int { return strings.Compare(a.Date, b.Date) })
	for _, cl := range l.Claims {
		c, err := s.traceCertification(ctx, cl.Certification)
		if err != nil {
			return TraceRecord{}, err
		}
		rec.Certificates = append(rec.Certificates, c)
		rec.Claims = append(rec.Claims, claimStatusOf(c, s.now()))
	}
	for _, e := range l.Events {
		switch e.Type {
		case EventShipped, EventReceived, EventSold:
			rec.Custody = append(rec.Custody, CustodyStep{Event: e.Type, Date: e.At.Format("2006-01-02"), Place: e.Place, Quantity: e.Quantity})
		}
	}
	return rec, nil
}

// traceCorrections lists a lot's corrected events with the quantity before
// and after each.
func traceCorrections(l Lot) []TraceCorrection {
	var out []TraceCorrection
	q := l.Quantity
	for _, e := range l.Events {
		if e.Type != EventCorrected {
			continue
		}
		out = append(out, TraceCorrection{Lot: l.Code, ProductKind: l.ProductKind, Date: e.At.Format(time.DateOnly),
			From: FormatQuantity(q, l.Unit), To: FormatQuantity(q+e.Quantity, l.Unit),
			FromAmount: Amount{q, l.Unit}, ToAmount: Amount{q + e.Quantity, l.Unit}})
		q += e.Quantity
	}
	return out
}

// traceOutlines adds each origin parcel's outline, read once per parcel; a
// parcel recorded as a point, or no longer found, keeps its point only.
func (s *Service) traceOutlines(ctx context.Context, origin []TraceOrigin) error {
	outlines := map[string]*Geometry{}
	for i, o := range origin {
		g, ok := outlines[o.Parcel]
		if !ok {
			var err error
			if g, err = s.traceOutline(ctx, o.Parcel); err != nil {
				return err
			}
			outlines[o.Parcel] = g
		}
		origin[i].Outline = g
	}
	return nil
}
