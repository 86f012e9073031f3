package orders_test

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
)

// An independent model of who owns what in a lot, in exact rationals: an
// origin lot's member fractions are her harvests over the lot; an output's
// are Σ (taken from input i / taken in all) × input i's; a packed lot's its
// source's. A harvest correction recomputes every lot made after from then
// on; a sale is divided by the fractions in force when it happened.
type modelLot struct {
	code     string
	source   string
	inputs   []modelInput
	harvests []string // origin lots
	versions []modelVersion
	// err bounds how far (as a fraction of the lot) the service's integer
	// weights may be from the exact fractions: each largest-remainder split
	// of an input moves a member's weight by less than one base unit.
	err       *big.Rat
	available int64 // mg, bulk lots
	packable  bool
}

type modelInput struct {
	lot   string
	taken int64
}

type modelVersion struct {
	from time.Time
	frac map[string]*big.Rat
}

func (l *modelLot) at(t time.Time) map[string]*big.Rat {
	cur := l.versions[0].frac
	for _, v := range l.versions {
		if !t.Before(v.from) {
			cur = v.frac
		}
	}
	return cur
}

type model struct {
	lots     map[string]*modelLot
	order    []string // creation order: inputs before outputs
	harvests map[string]*modelHarvest
}

type modelHarvest struct {
	member string
	mg     int64
	lot    string
}

// recompute sets a lot's fractions from its origin or inputs as they are at t.
func (m *model) recompute(l *modelLot, t time.Time) {
	frac := map[string]*big.Rat{}
	errBound := new(big.Rat)
	switch l.source {
	case traceability.SourceHarvest:
		var total int64
		for _, h := range l.harvests {
			total += m.harvests[h].mg
		}
		for _, h := range l.harvests {
			hv := m.harvests[h]
			add(frac, hv.member, big.NewRat(hv.mg, total))
		}
	case traceability.SourcePacking:
		src := m.lots[l.inputs[0].lot]
		for k, v := range src.at(t) {
			frac[k] = new(big.Rat).Set(v)
		}
		errBound.Set(src.err)
	default:
		var total int64
		for _, in := range l.inputs {
			total += in.taken
		}
		for _, in := range l.inputs {
			src := m.lots[in.lot]
			part := big.NewRat(in.taken, total)
			for k, v := range src.at(t) {
				add(frac, k, new(big.Rat).Mul(part, v))
			}
			errBound.Add(errBound, new(big.Rat).Mul(part, src.err))
			errBound.Add(errBound, big.NewRat(1, total))
		}
	}
	l.err = errBound
	l.versions = append(l.versions, modelVersion{from: t, frac: frac})
}

func add(m map[string]*big.Rat, k string, v *big.Rat) {
	if m[k] == nil {
		m[k] = new(big.Rat)
	}
	m[k].Add(m[k], v)
}

// TestPropertyMembersShareEveryEntry: random deliveries, origin lots,
// dryings, blends (of blends), packings, harvest corrections, till sales
// and returns, online orders and refunds. Every entry's parts add up to its
// producer share exactly; each member's part is within the rounding the
// steps allow of the exact rational model; every refund gives back exactly
// what its sale gave; the members' statements reconcile and the cooperative's
// settlement producer share is the members' entries'.
func TestPropertyMembersShareEveryEntry(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { propertyRun(t, seed) })
	}
}

func propertyRun(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 17))
	w := newWorld(t, time.Date(2025, 11, 3, 9, 0, 0, 0, time.UTC))
	w.must(w.pay.SetRetention(w.ctx, w.manager, w.coop, fmt.Sprint(rng.IntN(21)), "2025-11-01"))
	var members []string
	for i := range 5 {
		members = append(members, w.member(fmt.Sprintf("Membre %d", i), []string{"female", "male"}[rng.IntN(2)]))
	}
	m := &model{lots: map[string]*modelLot{}, harvests: map[string]*modelHarvest{}}
	newLot := func(l traceability.Lot, ml *modelLot) {
		ml.code = l.Code
		m.lots[l.Code] = ml
		m.order = append(m.order, l.Code)
		m.recompute(ml, w.now())
	}
	var tillUnits, platformUnits int64
	type soldLot struct {
		sale     shops.Sale
		lot      string
		units    int64
		returned int64
	}
	var tillSold []*soldLot
	var paid []orders.Order
	steps := map[string]int{}
	for step := 0; step < 80; step++ {
		w.advance(time.Duration(1+rng.IntN(600)) * time.Minute)
		k := rng.IntN(10)
		// An action that cannot happen yet does what it waits for instead:
		// selling waits for packing, packing and blending for drying.
		switch {
		case (k == 5 && tillUnits == 0) || (k == 6 && platformUnits == 0) || (k == 7 && len(paid) == 0) || (k == 8 && len(tillSold) == 0):
			k = 4
		}
		if (k == 3 || k == 4) && pick(rng, m, func(l *modelLot) bool { return l.packable && l.available >= 15_000 }) == nil {
			k = 2
		}
		switch {
		case k <= 1 || len(m.lots) < 3: // deliveries into an origin lot
			var hs []traceability.Harvest
			for range 1 + rng.IntN(3) {
				hs = append(hs, w.harvest(members[rng.IntN(len(members))], int64(100+rng.IntN(300))*1000+int64(rng.IntN(1000)), 0))
			}
			l := w.originLot(hs...)
			ml := &modelLot{source: traceability.SourceHarvest, available: l.Available}
			for _, h := range hs {
				m.harvests[h.ID] = &modelHarvest{member: h.Member, mg: h.Quantity, lot: l.Code}
				ml.harvests = append(ml.harvests, h.ID)
			}
			newLot(l, ml)
			steps["deliver"]++
		case k == 2: // dry part of an origin lot
			src := pick(rng, m, func(l *modelLot) bool { return l.source == traceability.SourceHarvest && l.available >= 60_000 })
			if src == nil {
				continue
			}
			take := 50_000 + rng.Int64N(src.available-50_000+1)
			l := w.transform("drying", "saffron_dried", take/5, w.lotByCode(src.code), take)
			src.available -= take
			newLot(l, &modelLot{source: traceability.SourceTransformation, inputs: []modelInput{{src.code, take}}, available: l.Available, packable: true})
			steps["dry"]++
		case k == 3: // blend two dried lots (or blends)
			a := pick(rng, m, func(l *modelLot) bool { return l.packable && l.available >= 15_000 })
			b := pick(rng, m, func(l *modelLot) bool { return l.packable && l.available >= 15_000 && (a == nil || l.code != a.code) })
			if a == nil || b == nil {
				continue
			}
			ta, tb := 10_000+rng.Int64N(a.available-10_000+1), 10_000+rng.Int64N(b.available-10_000+1)
			l := w.transform("blending", "saffron_dried", ta+tb, w.lotByCode(a.code), ta, w.lotByCode(b.code), tb)
			a.available -= ta
			b.available -= tb
			newLot(l, &modelLot{source: traceability.SourceTransformation, inputs: []modelInput{{a.code, ta}, {b.code, tb}}, available: l.Available, packable: true})
			steps["blend"]++
		case k == 4: // pack jars, to the till and the platform
			src := pick(rng, m, func(l *modelLot) bool { return l.packable && l.available >= 2_000 })
			if src == nil {
				continue
			}
			units := 1 + rng.Int64N(min(src.available/1000, 30))
			toTill := rng.Int64N(units + 1)
			l := w.pack(w.lotByCode(src.code), units, toTill, units-toTill)
			src.available -= units * 1000
			tillUnits += toTill
			platformUnits += units - toTill
			newLot(l, &modelLot{source: traceability.SourcePacking, inputs: []modelInput{{src.code, units * 1000}}})
			steps["pack"]++
		case k == 5 && tillUnits > 0: // a till sale
			sale := w.sell(1 + rng.Int64N(min(tillUnits, 6)))
			for _, lu := range sale.Lines[0].Lots {
				tillSold = append(tillSold, &soldLot{sale: sale, lot: lu.Lot, units: lu.Units})
				tillUnits -= lu.Units
			}
			steps["sell"]++
		case k == 6 && platformUnits > 0: // an online order, paid
			n := 1 + rng.Int64N(min(platformUnits, 4))
			paid = append(paid, w.order(n))
			platformUnits -= n
			steps["order"]++
		case k == 7 && len(paid) > 0: // a refund
			i := rng.IntN(len(paid))
			w.refund(paid[i])
			for _, l := range paid[i].Lines {
				platformUnits += l.Units
			}
			paid = append(paid[:i], paid[i+1:]...)
			steps["refund"]++
		case k == 8 && len(tillSold) > 0: // a till return
			s := tillSold[rng.IntN(len(tillSold))]
			if s.returned == s.units {
				continue
			}
			w.giveBack(s.sale, s.lot, 1)
			s.returned++
			tillUnits++
			steps["return"]++
		case k == 9 && len(m.harvests) > 0: // a harvest correction
			var ids []string
			for id := range m.harvests {
				ids = append(ids, id)
			}
			id := sortedPick(rng, ids)
			h := m.harvests[id]
			lot := m.lots[h.lot]
			delta := int64(1+rng.IntN(80)) * 1000
			if rng.IntN(2) == 0 && lot.available >= delta && h.mg > delta {
				delta = -delta
			}
			if _, err := w.trace.CorrectHarvest(w.ctx, w.manager, w.coop, id, traceability.Quantity{Amount: h.mg + delta, Unit: "mg"}, "pesée refaite"); err != nil {
				t.Fatal(err)
			}
			h.mg += delta
			lot.available += delta
			// The lot and everything made after it, inputs first.
			for _, code := range m.order {
				if l := m.lots[code]; code == lot.code || m.madeFrom(l, lot.code) {
					m.recompute(l, w.now())
				}
			}
			steps["correct"]++
		}
		// Move to December halfway.
		if step == 35 {
			w.advance(30 * 24 * time.Hour)
		}
	}
	t.Logf("seed %d: %v", seed, steps)

	for _, want := range []string{"dry", "blend", "pack", "sell", "order", "refund", "return", "correct"} {
		if steps[want] == 0 {
			t.Fatalf("seed %d never did %s: %v", seed, want, steps)
		}
	}
	saleParts := map[string][]orders.MemberPart{}
	var refunds []orders.EntrySplit
	for _, month := range []string{"2025-11", "2025-12"} {
		entries := w.entries(month)
		perCurrency := map[string]int64{}
		for _, x := range entries {
			checkEntry(t, x)
			perCurrency[x.Currency] += x.ProducerShare
			if x.Unassigned != 0 {
				t.Fatalf("entry %s: %d unassigned", x.Entry, x.Unassigned)
			}
			// The sale's time: the entry's date is a day; the model is
			// asked at the sale's own time, which the entry's sale holds.
			at := w.saleTime(t, x)
			var units int64
			for _, lu := range x.Lots {
				units += lu.Units
			}
			abs := max(x.ProducerShare, -x.ProducerShare)
			exact := map[string]*big.Rat{}
			maxErr := new(big.Rat)
			for _, lu := range x.Lots {
				l := m.lots[lu.Lot]
				part := new(big.Rat).Mul(big.NewRat(abs, 1), big.NewRat(lu.Units, units))
				for k, v := range l.at(at) {
					add(exact, k, new(big.Rat).Mul(part, v))
				}
				if l.err.Cmp(maxErr) > 0 {
					maxErr.Set(l.err)
				}
			}
			tol := new(big.Rat).Add(big.NewRat(int64(2*len(x.Lots)+1), 1), new(big.Rat).Mul(big.NewRat(abs, 1), maxErr))
			got := map[string]int64{}
			for _, p := range x.Parts {
				got[p.Member] = p.Earnings * sign(x.ProducerShare)
			}
			for k := range exact {
				diff := new(big.Rat).Sub(big.NewRat(got[k], 1), exact[k])
				if new(big.Rat).Abs(diff).Cmp(tol) > 0 {
					t.Fatalf("entry %s (%d): %s got %d, exact %s (tolerance %s)", x.Entry, x.ProducerShare, k, got[k], exact[k].FloatString(2), tol.FloatString(2))
				}
			}
			for k := range got {
				if exact[k] == nil {
					t.Fatalf("entry %s: %s is paid but has no share", x.Entry, k)
				}
			}
			switch x.Kind {
			case orders.EntrySale:
				saleParts[x.Entry[len(orders.EntrySale):]] = x.Parts
			case orders.EntryRefund:
				refunds = append(refunds, x)
			}
		}
		st, err := w.orders.Statement(w.ctx, w.manager, w.coop, month)
		if err != nil {
			t.Fatal(err)
		}
		for _, tot := range st.Totals {
			if tot.ProducerShare != perCurrency[tot.Currency] {
				t.Fatalf("%s %s: settlement %d, members' entries %d", month, tot.Currency, tot.ProducerShare, perCurrency[tot.Currency])
			}
		}
		w.must(w.pay.SetRate(w.ctx, w.manager, w.coop, month, "EUR", fmt.Sprintf("10.%04d", rng.IntN(10_000))))
		checkStatements(t, w.statements(month))
	}
	for _, x := range refunds {
		sold := saleParts[x.Entry[len(orders.EntryRefund):]]
		if len(sold) != len(x.Parts) {
			t.Fatalf("refund %s has %d parts, its sale %d", x.Entry, len(x.Parts), len(sold))
		}
		for i := range sold {
			if x.Parts[i].Member != sold[i].Member || x.Parts[i].Earnings != -sold[i].Earnings || x.Parts[i].Retention != -sold[i].Retention {
				t.Fatalf("refund %s: %+v does not reverse %+v", x.Entry, x.Parts, sold)
			}
		}
	}
}

// madeFrom reports whether l was made, directly or not, from the lot code.
func (m *model) madeFrom(l *modelLot, code string) bool {
	for _, in := range l.inputs {
		if in.lot == code || m.madeFrom(m.lots[in.lot], code) {
			return true
		}
	}
	return false
}

func pick(rng *rand.Rand, m *model, ok func(*modelLot) bool) *modelLot {
	var c []*modelLot
	for _, code := range m.order {
		if l := m.lots[code]; ok(l) {
			c = append(c, l)
		}
	}
	if len(c) == 0 {
		return nil
	}
	return c[rng.IntN(len(c))]
}

func sortedPick(rng *rand.Rand, ids []string) string {
	slices.Sort(ids)
	return ids[rng.IntN(len(ids))]
}

func (w *world) lotByCode(code string) traceability.Lot { return traceability.Lot{Code: code} }

// saleTime is when the sale an entry divides happened (for a refund or a
// return: the sale it reverses). An entry is kind|ref|sku[|movement].
func (w *world) saleTime(t testing.TB, x orders.EntrySplit) time.Time {
	t.Helper()
	ref := strings.Split(x.Entry, "|")[1]
	if x.Source == "online" {
		o, err := w.orders.Order(w.ctx, w.admin, ref, "")
		if err != nil {
			t.Fatal(err)
		}
		return o.PaidAt
	}
	s, err := w.stock.Sale(w.ctx, w.till, "TAROUDANNT", ref)
	if err != nil {
		t.Fatal(err)
	}
	return s.At
}
