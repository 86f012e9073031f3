package traceability

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/terroir-coop/terroir/internal/mongodb"
)

// VerifyLinks checks that every lot and harvest is explained by the
// documents around it, beyond each lot's own chain (Verify): a
// transformed or packed lot's inputs each record its consumption, with the
// same quantity, and every consumption names outputs that exist and list
// that input; an origin lot's harvests exist and are marked as in it, and a
// harvest marked as in a lot is in that lot's origin; a parcel's season
// totals are the sum of its harvests. A change cut in the middle (a
// transformation whose outputs exist but whose inputs were not consumed)
// shows here.
//
// TODO(rec): corrections of lots and harvests (branch rec) add events and
// documents that must be explained too; extend the checks when it lands.
func (s *Service) VerifyLinks(ctx context.Context) ([]Tampering, error) {
	lots := map[string]Lot{}
	if err := s.store.eachLot(ctx, func(l Lot) error {
		lots[l.Code] = l
		return nil
	}); err != nil {
		return nil, err
	}
	var found []Tampering
	add := func(lot, format string, args ...any) {
		found = append(found, Tampering{Lot: lot, Reason: fmt.Sprintf(format, args...)})
	}
	codes := make([]string, 0, len(lots))
	for c := range lots {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, code := range codes {
		l := lots[code]
		for _, in := range l.Inputs {
			src, ok := lots[in.Lot]
			if !ok {
				add(code, "input lot %s does not exist", in.Lot)
				continue
			}
			if !slices.ContainsFunc(src.Events, func(e Event) bool {
				return e.Type == EventConsumed && e.Quantity == in.Quantity && slices.ContainsFunc(e.Outputs, func(o EventRef) bool { return o.Lot == code })
			}) {
				add(code, "input lot %s records no consumption of %d %s for it", in.Lot, in.Quantity, in.Unit)
			}
		}
		for _, e := range l.Events {
			if e.Type != EventConsumed {
				continue
			}
			for _, o := range e.Outputs {
				out, ok := lots[o.Lot]
				if !ok {
					add(code, "event %d consumed %d %s for lot %s, which does not exist", e.Seq, e.Quantity, e.Unit, o.Lot)
					continue
				}
				if !slices.ContainsFunc(out.Inputs, func(r EventRef) bool { return r.Lot == code && r.Quantity == e.Quantity }) {
					add(code, "event %d consumed %d %s for lot %s, which does not list it as an input", e.Seq, e.Quantity, e.Unit, o.Lot)
				}
			}
		}
		if l.Source != SourceHarvest {
			continue
		}
		for _, o := range l.Origin {
			h, err := s.store.harvest(ctx, o.Harvest)
			if err != nil {
				add(code, "origin harvest %s: %v", o.Harvest, err)
			} else if h.Lot != code {
				add(code, "origin harvest %s is marked as in lot %q", o.Harvest, h.Lot)
			}
		}
	}
	coops, err := s.store.cooperatives(ctx, nil, mongodb.Page{Limit: 100_000})
	if err != nil {
		return nil, err
	}
	for _, c := range coops {
		totals := map[string]map[string]int64{} // parcel → season key → mg
		for off := 0; ; off += 1000 {
			hs, err := s.store.harvests(ctx, c.Code, mongodb.Page{Offset: off, Limit: 1000})
			if err != nil {
				return nil, err
			}
			for _, h := range hs {
				if h.Lot != "" {
					l, ok := lots[h.Lot]
					if !ok || !slices.ContainsFunc(l.Origin, func(o OriginLine) bool { return o.Harvest == h.ID }) {
						add(h.Lot, "harvest %s is marked as in this lot, which does not list it", h.ID)
					}
				}
				day, _ := time.Parse(time.DateOnly, h.Date)
				if totals[h.Parcel] == nil {
					totals[h.Parcel] = map[string]int64{}
				}
				totals[h.Parcel][seasonKey(seasonOf(day), h.Crop)] += h.Quantity
			}
			if len(hs) < 1000 {
				break
			}
		}
		parcels, err := s.store.parcels(ctx, c.Code, mongodb.Page{Limit: 100_000})
		if err != nil {
			return nil, err
		}
		for _, p := range parcels {
			want := totals[p.ID]
			for k, v := range p.SeasonTotals {
				if want[k] != v {
					add("", "parcel %s: season total %s is %d mg but its harvests sum to %d", p.ID, k, v, want[k])
				}
			}
			for k, v := range want {
				if _, ok := p.SeasonTotals[k]; !ok {
					add("", "parcel %s: harvests of %s sum to %d mg but the parcel has no total", p.ID, k, v)
				}
			}
		}
	}
	return found, nil
}

// EachLot calls fn for every lot, in code order (verification and exports).
func (s *Service) EachLot(ctx context.Context, fn func(Lot) error) error {
	return s.store.eachLot(ctx, fn)
}
