package traceability

import (
	"context"
	"slices"
	"strings"
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
}

// TraceStep is one step of a lot's making, oldest first: harvest, then each
// transformation, then packing.
type TraceStep struct {
	Step        string `json:"step"` // harvest, a process name, or packing
	Date        string `json:"date"` // YYYY-MM-DD
	Lot         string `json:"lot"`
	ProductKind string `json:"product_kind"`
	Quantity    string `json:"quantity"` // formatted for people
}

// CustodyStep is a move of the packed units after packing (shipped to a
// shop, received, sold).
type CustodyStep struct {
	Event    string `json:"event"`
	Date     string `json:"date"`
	Place    string `json:"place"`
	Quantity int64  `json:"quantity"`
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
	rec := TraceRecord{Lot: l}
	if rec.Cooperative, err = s.store.cooperative(ctx, l.Cooperative); err != nil {
		return TraceRecord{}, err
	}
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
		rec.Origin = append(rec.Origin, TraceOrigin{Parcel: o.Parcel, ParcelName: o.ParcelName, Commune: o.Commune,
			Village: o.Village, HarvestDate: o.Date, Lon: o.Lon, Lat: o.Lat})
		rec.Steps = append(rec.Steps, TraceStep{Step: "harvest", Date: o.Date, ProductKind: o.Crop,
			Quantity: FormatQuantity(o.Quantity, Milligram)})
	}
	rec.Producers = len(members)
	// Walk up the inputs: every ancestor made by transformation or packing
	// is a step.
	queue := []Lot{l}
	visited := map[string]bool{l.Code: true}
	var made []TraceStep // newest first, as the walk goes up
	for len(queue) > 0 && len(visited) <= maxAncestors {
		cur := queue[0]
		queue = queue[1:]
		if cur.Source != SourceHarvest {
			step := cur.Process
			if cur.Source == SourcePacking {
				step = "packing"
			}
			made = append(made, TraceStep{Step: step, Date: cur.CreatedAt.Format("2006-01-02"), Lot: cur.Code,
				ProductKind: cur.ProductKind, Quantity: FormatQuantity(cur.Quantity, cur.Unit)})
		}
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
	slices.Reverse(made) // oldest first: a same-day drying comes before its packing
	rec.Steps = append(rec.Steps, made...)
	slices.SortStableFunc(rec.Steps, func(a, b TraceStep) int { return strings.Compare(a.Date, b.Date) })
	for _, cl := range l.Claims {
		c, err := s.store.certification(ctx, cl.Certification)
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
