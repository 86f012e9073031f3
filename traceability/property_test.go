package traceability

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
)

// model is what the test expects of the record, kept independently of the
// service: each lot's available and current quantity, and the mass balance
// per kind.
type model struct {
	lots map[string]*modelLot
	rows map[string]*BalanceRow
}

type modelLot struct {
	code, kind string
	unit       Unit
	packed     bool
	unitSize   int64
	available  int64
	current    int64 // quantity + corrections
	source     string
	harvest    string // origin lots: their one harvest
}

func (m *model) row(kind string) *BalanceRow {
	if m.rows[kind] == nil {
		m.rows[kind] = &BalanceRow{ProductKind: kind}
	}
	return m.rows[kind]
}

// TestRandomChainsReconcile generates random chains of harvests,
// transformations (valid and invalid), corrections of lots and harvests,
// packings and shipments, and checks after every step that each lot is
// what the model says and explained by its events, that every row of the
// mass balance is the model's and reconciles exactly, and that verify holds.
// Seeded: a failure names its seed and step.
func TestRandomChainsReconcile(t *testing.T) {
	seen := map[string]int{}
	for _, seed := range []uint64{1, 2, 3, 4} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { randomChain(t, seed, 80, seen) })
	}
	// The chains must have gone through every kind of step, accepted and
	// refused, or the test proves little.
	for _, k := range []string{"harvest", "transform", "transform refused", "pack", "ship", "ship refused",
		"correct", "correct refused", "correct harvest", "correct harvest refused"} {
		if seen[k] == 0 {
			t.Errorf("no %q step in the random chains: %v", k, seen)
		}
	}
	t.Logf("steps: %v", seen)
}

func randomChain(t *testing.T, seed uint64, steps int, seen map[string]int) {
	f := newFixture(t)
	rng := rand.New(rand.NewPCG(seed, seed*7919))
	m := &model{lots: map[string]*modelLot{}, rows: map[string]*BalanceRow{}}
	crops := []string{"saffron", "pamm", "argan", "olive", "rose", "almond"}
	pick := func(ok func(*modelLot) bool) *modelLot {
		var c []*modelLot
		for _, l := range m.lots {
			if ok(l) {
				c = append(c, l)
			}
		}
		if len(c) == 0 {
			return nil
		}
		slices.SortFunc(c, func(a, b *modelLot) int { return compareStrings(a.code, b.code) })
		return c[rng.IntN(len(c))]
	}
	add := func(l Lot, harvest string) {
		ml := &modelLot{code: l.Code, kind: l.ProductKind, unit: l.Unit, packed: l.Source == SourcePacking, unitSize: l.UnitSize,
			available: l.Quantity, current: l.Quantity, source: l.Source, harvest: harvest}
		m.lots[l.Code] = ml
		r := m.row(l.ProductKind)
		r.Lots++
		switch l.Source {
		case SourceHarvest:
			r.Harvested += l.Quantity
		case SourceTransformation:
			r.Produced += l.Quantity
		case SourcePacking:
			r.PackedUnits += l.Quantity
		}
	}
	for step := range steps {
		what := ""
		switch op := rng.IntN(10); {
		case op < 2 || len(m.lots) == 0: // harvest → origin lot
			crop := crops[rng.IntN(len(crops))]
			amount := Quantity{Amount: 1 + rng.Int64N(5000), Unit: "g"}
			what = fmt.Sprintf("harvest %s %d g", crop, amount.Amount)
			h, err := f.harvest(crop, "2025-10-28", amount)
			if err != nil {
				t.Fatalf("seed %d step %d %s: %v", seed, step, what, err)
			}
			l, err := f.s.CreateOriginLot(f.ctx, f.manager, f.coop, NewOriginLot{ProductKind: crop, Harvests: []string{h.ID}})
			if err != nil {
				t.Fatalf("seed %d step %d %s: %v", seed, step, what, err)
			}
			add(l, h.ID)
			seen["harvest"]++
		case op < 5: // transformation, sometimes impossible
			src := pick(func(l *modelLot) bool { return !l.packed && l.available > 0 && len(TransformationOptions(l.kind)) > 0 })
			if src == nil {
				continue
			}
			opts := TransformationOptions(src.kind)
			opt := opts[rng.IntN(len(opts))]
			take := 1 + rng.Int64N(src.available)
			var outs []LotOutput
			var counted float64
			for _, kind := range opt.Outputs {
				if len(outs) > 0 && rng.IntN(2) == 0 {
					continue
				}
				e, _ := edge(opt.Process, src.kind, kind)
				// A fraction of the hard limit, shared between the outputs;
				// one time in six, past it.
				frac := 0.2 + 0.3*rng.Float64()
				if rng.IntN(6) == 0 {
					frac = 1.5
				}
				amount := int64(frac * e.Limit * float64(take))
				if !e.Uncounted {
					counted += float64(amount) / e.Limit
				}
				outs = append(outs, LotOutput{ProductKind: kind, Quantity: Quantity{Amount: max(amount, 1), Unit: string(productKinds[kind])}})
			}
			if rng.IntN(8) == 0 { // a kind the process cannot make
				outs = append(outs, LotOutput{ProductKind: "crafts", Quantity: Quantity{Amount: 1, Unit: "pcs"}})
			}
			what = fmt.Sprintf("%s %d %s of %s → %+v", opt.Process, take, src.unit, src.code, outs)
			made, err := f.transform(opt.Process, []LotInput{{Lot: src.code, Quantity: Quantity{Amount: take, Unit: string(src.unit)}}}, outs...)
			if err != nil {
				if c := problem.CodeOf(err); c != problem.Unprocessable && c != problem.Invalid {
					t.Fatalf("seed %d step %d %s: %v", seed, step, what, err)
				}
				seen["transform refused"]++
				break
			}
			seen["transform"]++
			src.available -= take
			r := m.row(src.kind)
			r.Transformed += take
			for _, l := range made {
				add(l, "")
			}
		case op < 6: // pack
			src := pick(func(l *modelLot) bool { return !l.packed && l.available >= 1000 })
			if src == nil {
				continue
			}
			size := int64(1000)
			units := 1 + rng.Int64N(src.available/size)
			what = fmt.Sprintf("pack %d × %d of %s", units, size, src.code)
			p := f.pack(f.lot(src.code), units, size)
			src.available -= units * size
			m.row(src.kind).Packed += units * size
			add(p, "")
			seen["pack"]++
		case op < 7: // ship, sometimes more than there is
			src := pick(func(l *modelLot) bool { return l.packed && l.available > 0 })
			if src == nil {
				continue
			}
			units := 1 + rng.Int64N(src.available)
			if rng.IntN(4) == 0 {
				units = src.available + 1 + rng.Int64N(3) // more than there is
			}
			what = fmt.Sprintf("ship %d of %s", units, src.code)
			if err := f.ship(src.code, units, "TAROUDANNT"); err != nil {
				if units <= src.available || problem.CodeOf(err) != problem.InsufficientStock {
					t.Fatalf("seed %d step %d %s: %v", seed, step, what, err)
				}
				seen["ship refused"]++
				break
			}
			seen["ship"]++
			src.available -= units
			r := m.row(src.kind)
			r.ShippedUnits += units
			r.Shipped += units * src.unitSize
		case op < 9: // correct a lot
			src := pick(func(l *modelLot) bool { return true })
			used := src.current - src.available
			var target int64
			switch k := rng.IntN(4); {
			case k == 0 && used > 1: // below what already left the lot
				target = 1 + rng.Int64N(used-1)
			case k == 1: // up
				target = src.current + 1 + rng.Int64N(src.current/4+1)
			default: // down, within what is available
				target = max(1, used+rng.Int64N(src.available+1))
			}
			what = fmt.Sprintf("correct %s from %d to %d", src.code, src.current, target)
			_, err := f.s.CorrectLot(f.ctx, f.manager, src.code, Quantity{Amount: target, Unit: string(src.unit)}, "counted again")
			up := target > src.current
			// What the rules say of it: below what left the lot → 409; the
			// same quantity, or up on an origin or packed lot → 400; up on
			// an output → accepted within the hard limit, else 422.
			want := problem.Code("")
			switch {
			case target < used:
				want = problem.Conflict
			case target == src.current || up && src.source != SourceTransformation:
				want = problem.Invalid
			}
			if c := problem.CodeOf(err); c != want && !(want == "" && up && c == problem.Unprocessable) {
				t.Fatalf("seed %d step %d %s: %v, want %q", seed, step, what, err, want)
			}
			if err != nil {
				seen["correct refused"]++
				break
			}
			seen["correct"]++
			delta := target - src.current
			src.current, src.available = target, src.available+delta
			if src.packed {
				m.row(src.kind).UnitCorrections += delta
			} else {
				m.row(src.kind).Corrections += delta
			}
		default: // correct the harvest of an origin lot
			src := pick(func(l *modelLot) bool { return l.harvest != "" })
			if src == nil {
				continue
			}
			target := max(1, src.current-src.available+rng.Int64N(src.available+1000)-500)
			what = fmt.Sprintf("correct harvest of %s from %d to %d", src.code, src.current, target)
			h, err := f.s.store.harvest(f.ctx, src.harvest)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.s.CorrectHarvest(f.ctx, f.manager, f.coop, src.harvest, Quantity{Amount: target, Unit: "mg"}, "the picking book said otherwise")
			if err != nil {
				if c := problem.CodeOf(err); c != problem.Conflict && c != problem.Invalid {
					t.Fatalf("seed %d step %d %s: %v", seed, step, what, err)
				}
				seen["correct harvest refused"]++
				break
			}
			seen["correct harvest"]++
			delta := target - h.Quantity
			src.current += delta
			src.available += delta
			m.row(src.kind).Corrections += delta
		}
		checkModel(t, f, m, fmt.Sprintf("seed %d step %d (%s)", seed, step, what))
	}
	checkVerify(t, f)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// checkModel compares every lot and every balance row with the model.
func checkModel(t *testing.T, f *fixture, m *model, where string) {
	t.Helper()
	lots, err := f.s.store.lots(f.ctx, f.coop, false, mongodb.Page{Limit: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	if len(lots) != len(m.lots) {
		t.Fatalf("%s: %d lots stored, %d expected", where, len(lots), len(m.lots))
	}
	for _, l := range lots {
		ml := m.lots[l.Code]
		if ml == nil || l.Available != ml.available || l.CurrentQuantity() != ml.current {
			t.Fatalf("%s: lot %s available %d quantity %d, want %+v", where, l.Code, l.Available, l.CurrentQuantity(), ml)
		}
		if why := explained(l); why != "" {
			t.Fatalf("%s: lot %s %s", where, l.Code, why)
		}
		a := AccountOf(l.Events)
		if a.Created+a.Corrections+a.Adjusted != a.Available+a.Consumed+a.Packed+a.Shipped {
			t.Fatalf("%s: lot %s account %+v", where, l.Code, a)
		}
	}
	rows := massBalance(lots, 2025)
	if len(rows) != len(m.rows) {
		t.Fatalf("%s: %d balance rows, want %d", where, len(rows), len(m.rows))
	}
	onHand := map[string][2]int64{} // kind → bulk, units
	for _, ml := range m.lots {
		v := onHand[ml.kind]
		if ml.packed {
			v[1] += ml.available
		} else {
			v[0] += ml.available
		}
		onHand[ml.kind] = v
	}
	for _, r := range rows {
		w := m.rows[r.ProductKind]
		if w == nil || !r.Reconciles() || r.Unit != productKinds[r.ProductKind] || r.Lots != w.Lots ||
			r.Harvested != w.Harvested || r.Produced != w.Produced || r.Corrections != w.Corrections || r.Transformed != w.Transformed ||
			r.Packed != w.Packed || r.OnHand != onHand[r.ProductKind][0] || r.Losses != 0 ||
			r.PackedUnits != w.PackedUnits || r.UnitCorrections != w.UnitCorrections || r.ShippedUnits != w.ShippedUnits ||
			r.Shipped != w.Shipped || r.OnHandUnits != onHand[r.ProductKind][1] {
			t.Fatalf("%s: balance row\n got %+v\nwant %+v (on hand %v)", where, r, w, onHand[r.ProductKind])
		}
	}
}
