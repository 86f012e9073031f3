package traceability

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/problem"
)

// Corrections. A mistaken quantity is never edited in place: a correction is
// a "corrected" event in the lot's chain carrying the signed difference and
// the reason, and the lot's corrections and available counters move with it
// in the same guarded update, as every appended event does. A harvest
// correction keeps the harvest's history (HarvestCorrection) and, when the
// harvest is in a lot, corrects that lot by the same difference.
//
// What a correction may not do:
//   - go below what already depends on the lot (consumed by a
//     transformation, packed, shipped): 409, naming those lots and shops;
//   - make the impossible possible: a harvest corrected beyond its crop's
//     hard limit, or a transformation output corrected to more than its
//     inputs could give, is refused with 422 like the original entry;
//   - raise an origin lot or a packed lot directly: more of an origin lot is
//     a harvest correction (its parcel's limit applies), and more jars come
//     from packing more of the bulk lot (their content must leave it).

// HarvestCorrection is one entry of a harvest's correction history.
type HarvestCorrection struct {
	From   int64     `json:"from" bson:"from"` // mg before
	To     int64     `json:"to" bson:"to"`     // mg after
	Reason string    `json:"reason" bson:"reason"`
	By     string    `json:"by" bson:"by"`
	At     time.Time `json:"at" bson:"at"`
}

// maxReason bounds a correction's reason.
const maxReason = 1000

func checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "", problem.Field("reason", "say why the quantity is corrected")
	}
	return reason, problem.RequireText("reason", reason, maxReason)
}

// CorrectLot corrects the quantity of a lot to quantity (the lot's true
// quantity, in a unit of its dimension) with a required reason, appending a
// "corrected" event. Errors: ErrLotNotFound for a lot the actor may not
// read; access.ErrForbidden for one it may read but not manage; 400 on
// "quantity" or "reason"; 409 (problem.Conflict) when the lot's consumed,
// packed or shipped quantity exceeds the new quantity; 422 when a
// transformation output would exceed what its inputs could give.
func (s *Service) CorrectLot(ctx context.Context, actor access.Actor, code string, quantity Quantity, reason string) (Lot, error) {
	var lot Lot
	err := s.store.db.Atomically(ctx, func(ctx context.Context) error {
		l, err := s.Lot(ctx, actor, code)
		if err != nil {
			return err
		}
		if err := actor.ManageCoop(l.Cooperative); err != nil {
			return err
		}
		if reason, err = checkReason(reason); err != nil {
			return err
		}
		amount, unit, err := quantity.Base()
		if err != nil {
			return err
		}
		if unit != l.Unit {
			return problem.Field("quantity", "lot %s is counted in %s (%s), not %s", l.Code, Dimension(l.Unit), l.Unit, Dimension(unit))
		}
		delta := amount - l.CurrentQuantity()
		switch {
		case delta == 0:
			return problem.Field("quantity", "lot %s already holds %s", l.Code, Amount{amount, unit})
		case delta > 0 && l.Source == SourceHarvest:
			return problem.Field("quantity", "an origin lot grows only by correcting its harvests, whose parcels' limits apply")
		case delta > 0 && l.Source == SourcePacking:
			return problem.Field("quantity", "more units come from packing more of the bulk lot; a packed lot's units can only be corrected down")
		case delta > 0:
			if err := s.checkOutputLimit(ctx, l, amount); err != nil {
				return err
			}
		}
		if err := dependents(l, delta); err != nil {
			return err
		}
		before := l
		e := l.appendEvent(Event{Type: EventCorrected, At: s.now().UTC(), Actor: actor.Email, Place: l.Cooperative, Quantity: delta, Note: reason})
		if err := s.store.correctLot(ctx, before, delta, e, nil); err != nil {
			return err
		}
		l.Corrections += delta
		l.Available += delta
		lot = l
		return nil
	})
	return lot, err
}

// Dependent is what already took from a lot: a lot made from it (by a
// transformation or packing) or a shop it shipped units to. A 409 of a
// correction lists them in its Details.
type Dependent struct {
	Lot      string `json:"lot,omitempty"`
	Shop     string `json:"shop,omitempty"`
	Quantity int64  `json:"quantity"` // base units of the corrected lot
	Unit     Unit   `json:"unit"`
}

// dependents refuses a correction by delta that would take the lot below
// what already left it, naming where it went.
func dependents(l Lot, delta int64) error {
	if l.Available+delta >= 0 {
		return nil
	}
	used := l.CurrentQuantity() - l.Available
	var deps []Dependent
	var names []string
	for _, e := range l.Events {
		switch e.Type {
		case EventConsumed:
			for _, o := range e.Outputs {
				deps = append(deps, Dependent{Lot: o.Lot, Quantity: e.Quantity, Unit: l.Unit})
				names = append(names, o.Lot)
			}
		case EventShipped:
			_, shop, _ := strings.Cut(e.Place, " → ")
			deps = append(deps, Dependent{Shop: shop, Quantity: e.Quantity, Unit: l.Unit})
			if !slices.Contains(names, shop) {
				names = append(names, shop)
			}
		}
	}
	err := problem.New(problem.Conflict, "lot %s cannot be corrected to %s: %s of it is already used by %s",
		l.Code, Amount{l.CurrentQuantity() + delta, l.Unit}, Amount{used, l.Unit}, strings.Join(names, ", "))
	err.Details = deps
	return err
}

// checkOutputLimit refuses raising a transformation output to amount when
// the transformation's outputs would then hold more than its inputs.
func (s *Service) checkOutputLimit(ctx context.Context, l Lot, amount int64) error {
	if len(l.Inputs) == 0 {
		return nil
	}
	first, err := s.store.lot(ctx, l.Inputs[0].Lot)
	if err != nil {
		return err
	}
	var inTotal int64
	for _, in := range l.Inputs {
		inTotal += in.Quantity
	}
	// The siblings made by the same step are the outputs of the input's
	// consumption that made this lot.
	outputs := []OutputAmount{{Kind: l.ProductKind, Amount: amount}}
	for _, e := range first.Events {
		if e.Type != EventConsumed || !slices.ContainsFunc(e.Outputs, func(r EventRef) bool { return r.Lot == l.Code }) {
			continue
		}
		for _, r := range e.Outputs {
			if r.Lot == l.Code {
				continue
			}
			sib, err := s.store.lot(ctx, r.Lot)
			if err != nil {
				return err
			}
			outputs = append(outputs, OutputAmount{Kind: sib.ProductKind, Amount: sib.CurrentQuantity()})
		}
		break
	}
	return renamed(TransformationLimit(l.Process, first.ProductKind, inTotal, outputs), "quantity")
}

// CorrectHarvest corrects the quantity of a harvest of the cooperative, with
// a required reason. The harvest keeps its history, its parcel's season total
// follows, its plausibility flag is recomputed, and when the harvest is in a
// lot, the lot gets a "corrected" event by the same difference (and the flag,
// when the corrected total is now out of range). Errors: access.ErrForbidden
// for another cooperative's manager; ErrHarvestNotFound for a harvest that
// is not the cooperative's; 400 on "quantity" or "reason"; 422 beyond the
// crop's hard limit; 409 when the harvest's lot has already passed on more
// than the corrected quantity leaves it.
func (s *Service) CorrectHarvest(ctx context.Context, actor access.Actor, coop, harvestID string, quantity Quantity, reason string) (Harvest, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ManageCoop(coop); err != nil {
		return Harvest{}, err
	}
	reason, err := checkReason(reason)
	if err != nil {
		return Harvest{}, err
	}
	var out Harvest
	err = s.store.db.Atomically(ctx, func(ctx context.Context) error {
		h, err := s.store.harvest(ctx, strings.TrimSpace(harvestID))
		if err != nil || h.Cooperative != coop {
			return ErrHarvestNotFound
		}
		amount, _, err := baseOfKind("quantity", quantity, h.Crop)
		if err != nil {
			return err
		}
		delta := amount - h.Quantity
		if delta == 0 {
			return problem.Field("quantity", "harvest %s is already %s", h.ID, Amount{amount, Milligram})
		}
		p, err := s.store.parcel(ctx, h.Parcel)
		if err != nil {
			return err
		}
		day, _ := time.Parse(time.DateOnly, h.Date)
		key := seasonKey(seasonOf(day), h.Crop)
		total := p.SeasonTotals[key] + delta
		if err := HarvestLimit("quantity", h.Crop, total, p.AreaM2); err != nil {
			return err
		}
		flag := ""
		if reason, ok := CheckHarvest(h.Crop, total, p.AreaM2); !ok {
			flag = reason
		}
		now := s.now().UTC()
		// Every check comes before the first write; the lot is written
		// first, under its guard, so a refused lot leaves the harvest alone.
		if h.Lot != "" {
			if err := s.correctHarvestLot(ctx, actor, h, amount, delta, flag, reason, now); err != nil {
				return err
			}
		}
		c := HarvestCorrection{From: h.Quantity, To: amount, Reason: reason, By: actor.Email, At: now}
		if err := s.store.correctHarvest(ctx, h.ID, amount, flag, c); err != nil {
			return err
		}
		if err := s.store.addSeasonTotal(ctx, p.ID, key, delta); err != nil {
			return err
		}
		h.Quantity, h.Flag = amount, flag
		h.Corrections = append(h.Corrections, c)
		out = h
		return nil
	})
	return out, err
}

// correctHarvestLot appends the lot's side of a harvest correction: the
// corrected event, the origin line's new quantity and, when the corrected
// harvest is out of range, a flag that needs a justification.
func (s *Service) correctHarvestLot(ctx context.Context, actor access.Actor, h Harvest, amount, delta int64, flag, reason string, now time.Time) error {
	l, err := s.store.lot(ctx, h.Lot)
	if err != nil {
		return err
	}
	if err := dependents(l, delta); err != nil {
		return err
	}
	oldShares, err := s.currentShares(ctx, l)
	if err != nil {
		return err
	}
	for i := range l.Origin {
		if l.Origin[i].Harvest == h.ID {
			l.Origin[i].Quantity = amount
		}
	}
	// The member's share follows her corrected harvest, here and in every
	// lot made from this one (shares.go).
	shares := originShares(l.Origin)
	set := map[string]any{"origin": l.Origin, "shares": shares,
		"share_history": append(slices.Clone(l.ShareHistory), ShareVersion{Until: now.UTC().Truncate(time.Millisecond), Shares: oldShares})}
	if flag != "" && flag != h.Flag {
		l.Flags = append(l.Flags, Flag{ID: id.New("flg"), Kind: "harvest", Reason: "harvest " + h.ID + " (corrected): " + flag, RaisedAt: now})
		set["flags"] = l.Flags
	}
	before := l
	why := "harvest " + h.ID + ": " + reason
	e := l.appendEvent(Event{Type: EventCorrected, At: now, Actor: actor.Email, Place: l.Cooperative, Quantity: delta, Note: why})
	if err := s.store.correctLot(ctx, before, delta, e, set); err != nil {
		return err
	}
	return s.reshareDownstream(ctx, actor, l, oldShares, shares, "harvest "+h.ID+" corrected: "+reason, now)
}
