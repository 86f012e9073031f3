package traceability

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
)

// Tampering is one finding of Verify.
type Tampering struct {
	Lot    string `json:"lot"`
	Seq    int64  `json:"seq"` // first broken event; 0 when the chain holds but the balance does not
	Reason string `json:"reason"`
}

// Verify recomputes every lot's hash chain and checks that the events'
// quantities sum to the lot's available quantity. progress, when not nil, is
// called after each lot with the count checked so far.
func (s *Service) Verify(ctx context.Context, progress func(checked int)) ([]Tampering, int, error) {
	var found []Tampering
	n := 0
	err := s.store.eachLot(ctx, func(l Lot) error {
		n++
		if seq, err := VerifyChain(l.Events); err != nil {
			found = append(found, Tampering{Lot: l.Code, Seq: seq, Reason: err.Error()})
		} else if len(l.Events) == 0 {
			found = append(found, Tampering{Lot: l.Code, Reason: "lot has no events"})
		} else if last := l.Events[len(l.Events)-1]; last.Hash != l.LastHash || last.Seq != l.Seq {
			found = append(found, Tampering{Lot: l.Code, Seq: last.Seq, Reason: "events after the last recorded one were removed or added"})
		} else if got := BalanceFromEvents(l.Events); got != l.Available {
			found = append(found, Tampering{Lot: l.Code, Reason: fmt.Sprintf("available is %d %s but the events sum to %d", l.Available, l.Unit, got)})
		}
		if progress != nil {
			progress(n)
		}
		return nil
	})
	return found, n, err
}

// FlaggedLot is a lot with plausibility flags, for auditors.
type FlaggedLot struct {
	Code        string `json:"code"`
	ProductKind string `json:"product_kind"`
	Flags       []Flag `json:"flags"`
	Open        int    `json:"open"`
}

// Flags lists a cooperative's flagged lots, justified or not.
func (s *Service) Flags(ctx context.Context, actor access.Actor, coop string) ([]FlaggedLot, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ReadCoop(coop); err != nil {
		return nil, err
	}
	lots, err := s.store.lots(ctx, coop, true, mongodb.Page{Limit: 10_000})
	if err != nil {
		return nil, err
	}
	out := []FlaggedLot{}
	for _, l := range lots {
		out = append(out, FlaggedLot{Code: l.Code, ProductKind: l.ProductKind, Flags: l.Flags, Open: l.OpenFlags()})
	}
	return out, nil
}

// BalanceRow is the mass balance of one product kind of a cooperative over
// a season: what came in (harvested, or produced by transformation, or
// packed), what left (consumed by transformations or packing, shipped,
// adjusted away), and what is on hand. In − Out = OnHand, always.
type BalanceRow struct {
	ProductKind  string `json:"product_kind"`
	Unit         Unit   `json:"unit"`
	Lots         int    `json:"lots"`
	Harvested    int64  `json:"harvested"`
	Produced     int64  `json:"produced"` // by transformation or packing
	Transformed  int64  `json:"transformed"`
	Packed       int64  `json:"packed"`
	Shipped      int64  `json:"shipped"`
	Adjusted     int64  `json:"adjusted"` // net of count adjustments and losses
	OnHand       int64  `json:"on_hand"`
	Losses       int64  `json:"losses"`        // input − output of this kind's transformations, same unit only
	YieldPercent string `json:"yield_percent"` // output / input of those transformations
}

// MassBalance reports a cooperative's mass balance for lots created in a
// season (1 September of that year to 31 August of the next; see seasonOf).
func (s *Service) MassBalance(ctx context.Context, actor access.Actor, coop string, season int) ([]BalanceRow, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ReadCoop(coop); err != nil {
		return nil, err
	}
	lots, err := s.store.lots(ctx, coop, false, mongodb.Page{Limit: 1_000_000})
	if err != nil {
		return nil, err
	}
	rows := map[string]*BalanceRow{}
	inputs := map[string]int64{}  // kind → consumed by transformations whose output keeps the unit
	outputs := map[string]int64{} // input kind → what those transformations produced
	for _, l := range lots {
		if seasonOf(l.CreatedAt) != season {
			continue
		}
		r := rows[l.ProductKind]
		if r == nil {
			r = &BalanceRow{ProductKind: l.ProductKind, Unit: l.Unit}
			rows[l.ProductKind] = r
		}
		r.Lots++
		r.OnHand += l.Available
		for _, e := range l.Events {
			switch e.Type {
			case EventCreated:
				r.Harvested += e.Quantity
			case EventTransformed, EventPacked:
				r.Produced += e.Quantity
			case EventConsumed:
				if e.Note == "packing" {
					r.Packed += e.Quantity
				} else {
					r.Transformed += e.Quantity
					if len(e.Outputs) > 0 && e.Outputs[0].Unit == l.Unit {
						inputs[l.ProductKind] += e.Quantity
					}
				}
			case EventShipped:
				r.Shipped += e.Quantity
			case EventAdjusted:
				r.Adjusted += e.Quantity
			}
		}
	}
	// Losses per input kind: what its transformations consumed minus what
	// came out of them in the same unit.
	kindOf := make(map[string]string, len(lots))
	for _, l := range lots {
		kindOf[l.Code] = l.ProductKind
	}
	for _, l := range lots {
		if seasonOf(l.CreatedAt) != season || l.Source != SourceTransformation || len(l.Inputs) == 0 {
			continue
		}
		if inKind := kindOf[l.Inputs[0].Lot]; inKind != "" && l.Unit == l.Inputs[0].Unit {
			outputs[inKind] += l.Quantity
		}
	}
	out := make([]BalanceRow, 0, len(rows))
	for kind, r := range rows {
		if in := inputs[kind]; in > 0 {
			r.Losses = in - outputs[kind]
			r.YieldPercent = fmt.Sprintf("%.1f", float64(outputs[kind])*100/float64(in))
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b BalanceRow) int { return strings.Compare(a.ProductKind, b.ProductKind) })
	return out, nil
}

// CurrentSeason is the season of today.
func (s *Service) CurrentSeason() int { return seasonOf(s.now().UTC()) }
