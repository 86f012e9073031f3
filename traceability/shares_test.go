package traceability

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
)

func TestSplitLargestRemainder(t *testing.T) {
	for _, tc := range []struct {
		amount  int64
		weights []int64
		want    []int64
	}{
		{100, []int64{1, 1, 1}, []int64{34, 33, 33}},                 // ties go to the earlier weight
		{1000, []int64{60, 40, 20, 20}, []int64{428, 286, 143, 143}}, // .57 .71 .86 .86: the two .86, then the .71
		{10, []int64{0, 0}, []int64{0, 0}},
		{0, []int64{3, 4}, []int64{0, 0}},
		{7, []int64{5, 0, 5}, []int64{4, 0, 3}},
		{120_000, []int64{300_000, 200_000, 100_000}, []int64{60_000, 40_000, 20_000}},
	} {
		got := SplitLargestRemainder(tc.amount, tc.weights)
		if !slices.Equal(got, tc.want) {
			t.Errorf("split %d over %v = %v, want %v", tc.amount, tc.weights, got, tc.want)
		}
	}
	// Amounts and weights whose product overflows 64 bits are exact: 10 t
	// split over weights of tonnes, compared with big integers.
	rng := rand.New(rand.NewPCG(17, 4))
	for range 2000 {
		n := 1 + rng.IntN(8)
		weights := make([]int64, n)
		var sum int64
		for i := range weights {
			weights[i] = rng.Int64N(math.MaxInt64 / 16)
			sum += weights[i]
		}
		amount := rng.Int64N(math.MaxInt64 / 2)
		parts := SplitLargestRemainder(amount, weights)
		var total int64
		for i, p := range parts {
			total += p
			exact := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(amount), big.NewInt(weights[i])), big.NewInt(max(sum, 1)))
			diff := new(big.Rat).Sub(new(big.Rat).SetInt64(p), exact)
			if diff.Cmp(big.NewRat(-1, 1)) <= 0 || diff.Cmp(big.NewRat(1, 1)) >= 0 {
				t.Fatalf("part %d of %d over %v is %d, exact %s", i, amount, weights, p, exact.FloatString(3))
			}
		}
		if sum > 0 && total != amount {
			t.Fatalf("parts of %d over %v add up to %d", amount, weights, total)
		}
	}
}

// members adds members to the fixture's cooperative, each with a saffron
// parcel, and returns their IDs in order.
func (f *fixture) members(genders ...string) []string {
	f.t.Helper()
	var ids []string
	for i, g := range genders {
		m, err := f.s.AddMember(f.ctx, f.admin, f.coop, Member{Name: "Membre " + string(rune('A'+i)), Gender: g, Village: "Siroua"})
		if err != nil {
			f.t.Fatal(err)
		}
		p, err := f.s.AddParcel(f.ctx, f.admin, f.coop, NewParcel{Name: "Parcelle " + m.ID, Member: m.ID, Commune: "Taliouine",
			AreaM2: 100_000, Crop: "saffron", Location: Geometry{Type: "Point", Coordinates: []byte(`[-7.92,30.53]`)}})
		if err != nil {
			f.t.Fatal(err)
		}
		f.parcels[m.ID] = p.ID
		ids = append(ids, m.ID)
	}
	return ids
}

// delivered records a member's saffron harvest and returns it.
func (f *fixture) delivered(member string, q Quantity) Harvest {
	f.t.Helper()
	h, err := f.s.AddHarvest(f.ctx, f.manager, f.coop, NewHarvest{Parcel: f.parcels[member], Member: member, Date: "2025-10-28", Crop: "saffron", Quantity: q})
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

func (f *fixture) lotOf(harvests ...Harvest) Lot {
	f.t.Helper()
	var ids []string
	for _, h := range harvests {
		ids = append(ids, h.ID)
	}
	l, err := f.s.CreateOriginLot(f.ctx, f.manager, f.coop, NewOriginLot{ProductKind: "saffron", Harvests: ids})
	if err != nil {
		f.t.Fatal(err)
	}
	return l
}

func (f *fixture) shares(code string) LotShares {
	f.t.Helper()
	sh, err := f.s.Shares(f.ctx, f.manager, code)
	if err != nil {
		f.t.Fatal(err)
	}
	return sh
}

func weightsOf(sh LotShares) map[string]int64 {
	out := map[string]int64{}
	for _, s := range sh.Shares {
		out[s.Member] = s.Share.Numerator
		if s.Share.Denominator != sh.Basis {
			panic("denominator is not the basis")
		}
	}
	return out
}

// TestSharesCarriedByMass is the chain: three members deliver 300,
// 200 and 100 g of saffron into one lot, it is dried, blended with another
// member's dried lot and packed; the shares follow the mass at every step.
func TestSharesCarriedByMass(t *testing.T) {
	f := newFixture(t)
	m := f.members("female", "female", "male", "female")
	fresh := f.lotOf(f.delivered(m[0], g(300)), f.delivered(m[1], g(200)), f.delivered(m[2], g(100)))
	sh := f.shares(fresh.Code)
	if sh.Basis != 600_000 || sh.BasisUnit != Milligram || sh.Members != 3 || sh.Women != 2 {
		t.Fatalf("origin lot shares: %+v", sh)
	}
	if w := weightsOf(sh); w[m[0]] != 300_000 || w[m[1]] != 200_000 || w[m[2]] != 100_000 {
		t.Fatalf("origin weights %v", w)
	}
	for _, s := range sh.Shares {
		if s.Name == "" || s.Gender == "" {
			t.Fatalf("share without name or gender: %+v", s)
		}
	}
	dried := f.mustTransform("drying", in(fresh, g(600)), out("saffron_dried", g(120)))[0]
	other := f.mustTransform("drying", in(f.lotOf(f.delivered(m[3], g(100))), g(100)), out("saffron_dried", g(20)))[0]
	blend := f.mustTransform("blending", []LotInput{{Lot: dried.Code, Quantity: g(120)}, {Lot: other.Code, Quantity: g(20)}},
		out("saffron_dried", g(140)))[0]
	jars := f.pack(blend, 140, 1000)
	for _, code := range []string{blend.Code, jars.Code} {
		sh := f.shares(code)
		// 60, 40 and 20 g of the first dried lot, 20 g of the other: 3:2:1:1,
		// as their fresh grams.
		if w := weightsOf(sh); sh.Basis != 140_000 || w[m[0]] != 60_000 || w[m[1]] != 40_000 || w[m[2]] != 20_000 || w[m[3]] != 20_000 {
			t.Fatalf("%s weights %v of %d", code, w, sh.Basis)
		}
		var perMille, content int64
		for _, s := range sh.Shares {
			perMille += s.PerMille
			content += s.Quantity.Amount
		}
		if perMille != 1000 || content != sh.Content.Amount || sh.Content.Amount != 140_000 || sh.Women != 3 || sh.Members != 4 {
			t.Fatalf("%s: per-mille %d, content %d of %+v", code, perMille, content, sh)
		}
	}
	// Who may read them.
	other2 := access.Actor{UserID: "x", Email: "x@other", Role: access.CoopManager, Org: "OTHER"}
	auditor := access.Actor{UserID: "a", Email: "a@audit", Role: access.Auditor, Scope: []string{f.coop}}
	if _, err := f.s.Shares(f.ctx, other2, jars.Code); err != ErrLotNotFound {
		t.Fatalf("another cooperative reads the shares: %v", err)
	}
	if _, err := f.s.Shares(f.ctx, auditor, jars.Code); err != nil {
		t.Fatalf("auditor in scope: %v", err)
	}
	if _, err := f.s.Shares(f.ctx, access.Actor{}, jars.Code); problem.CodeOf(err) != problem.Unauthorized {
		t.Fatalf("anonymous: %v", err)
	}
	// The public record: counts, never names.
	rec, err := f.s.Trace(f.ctx, jars.Code)
	if err != nil || rec.Producers != 4 || rec.Women != 3 {
		t.Fatalf("trace record: %d producers, %d women, %v", rec.Producers, rec.Women, err)
	}
}

// TestCorrectedHarvestReshares: a harvest correction changes its member's
// share in its lot and in every lot made from it, each change is an event
// of the lot's chain, and the shares before the correction are kept for
// what was sold before it.
func TestCorrectedHarvestReshares(t *testing.T) {
	f := newFixture(t)
	m := f.members("female", "female", "male")
	h := []Harvest{f.delivered(m[0], g(300)), f.delivered(m[1], g(200)), f.delivered(m[2], g(100))}
	fresh := f.lotOf(h...)
	dried := f.mustTransform("drying", in(fresh, g(500)), out("saffron_dried", g(100)))[0]
	jars := f.pack(dried, 50, 1000)
	beforeJars := f.shares(jars.Code)
	at := f.now
	f.now = f.now.Add(time.Hour)
	if _, err := f.s.CorrectHarvest(f.ctx, f.manager, f.coop, h[2].ID, g(40), "balance mal tarée"); err != nil {
		t.Fatal(err)
	}
	// The origin lot: 300 + 200 + 40.
	if w := weightsOf(f.shares(fresh.Code)); w[m[2]] != 40_000 || w[m[0]] != 300_000 {
		t.Fatalf("origin weights after the correction: %v", w)
	}
	// The dried lot took 500 g: now split 300:200:40.
	want := SplitLargestRemainder(500_000, []int64{300_000, 200_000, 40_000})
	for _, code := range []string{dried.Code, jars.Code} {
		l := f.lot(code)
		w := weightsOf(f.shares(code))
		if w[m[0]] != want[0] || w[m[1]] != want[1] || w[m[2]] != want[2] {
			t.Fatalf("%s weights %v, want %v", code, w, want)
		}
		last := l.Events[len(l.Events)-1]
		if last.Type != EventSharesChanged || !strings.Contains(last.Note, h[2].ID) || !strings.Contains(last.Note, m[2]) || last.Quantity != 0 {
			t.Fatalf("%s: last event %+v", code, last)
		}
		if len(l.ShareHistory) != 1 || !l.ShareHistory[0].Until.Equal(f.now) {
			t.Fatalf("%s history %+v", code, l.ShareHistory)
		}
	}
	tl, err := f.s.ShareTimeline(f.ctx, jars.Code)
	if err != nil {
		t.Fatal(err)
	}
	var old []MemberShare
	for _, s := range beforeJars.Shares {
		old = append(old, MemberShare{Member: s.Member, Weight: s.Share.Numerator})
	}
	if !slices.Equal(tl.At(at), old) || slices.Equal(tl.At(f.now), old) {
		t.Fatalf("shares at the sale before the correction %v, after %v; were %v", tl.At(at), tl.At(f.now), old)
	}
	checkVerify(t, f)
}

// TestLotsWithoutStoredShares: lots recorded before shares existed get the
// same shares, derived from their origin and inputs.
func TestLotsWithoutStoredShares(t *testing.T) {
	f := newFixture(t)
	m := f.members("female", "male")
	fresh := f.lotOf(f.delivered(m[0], g(250)), f.delivered(m[1], g(150)))
	dried := f.mustTransform("drying", in(fresh, g(400)), out("saffron_dried", g(80)))[0]
	jars := f.pack(dried, 40, 1000)
	want := map[string]LotShares{}
	for _, code := range []string{fresh.Code, dried.Code, jars.Code} {
		want[code] = f.shares(code)
	}
	for code := range want {
		f.tamper(code, func(l *Lot) { l.Shares = nil })
	}
	for code, w := range want {
		if len(f.lot(code).Shares) != 0 {
			t.Fatal("shares still stored")
		}
		if got := f.shares(code); !slices.Equal(got.Shares, w.Shares) {
			t.Fatalf("%s derived %+v, stored %+v", code, got.Shares, w.Shares)
		}
	}
	// A correction stores them, with the derived shares as their history.
	f.now = f.now.Add(time.Hour)
	h, err := f.s.Harvests(f.ctx, f.admin, f.coop, mongodb.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.CorrectHarvest(f.ctx, f.manager, f.coop, h[0].ID, g(260), "pesée refaite"); err != nil {
		t.Fatal(err)
	}
	l := f.lot(jars.Code)
	if len(l.Shares) != 2 || len(l.ShareHistory) != 1 || ShareBasis(l.ShareHistory[0].Shares) != 400_000 {
		t.Fatalf("jars after the correction: %+v / %+v", l.Shares, l.ShareHistory)
	}
	checkVerify(t, f)
}

// TestHarvestAdvance: a harvest may carry an advance paid at delivery;
// bad advances are refused naming the field and nothing is written.
func TestHarvestAdvance(t *testing.T) {
	f := newFixture(t)
	m := f.members("female")
	nh := func(a *HarvestAdvance) NewHarvest {
		return NewHarvest{Parcel: f.parcels[m[0]], Member: m[0], Date: "2025-10-28", Crop: "saffron", Quantity: g(200), Advance: a}
	}
	h, err := f.s.AddHarvest(f.ctx, f.manager, f.coop, nh(&HarvestAdvance{Amount: 20_000, Currency: "mad", Method: "cash"}))
	if err != nil || h.Advance == nil || h.Advance.Currency != "MAD" || h.Advance.Amount != 20_000 {
		t.Fatalf("harvest with an advance: %+v %v", h.Advance, err)
	}
	all, _ := f.s.AllHarvests(f.ctx, f.manager, f.coop)
	if len(all) != 1 || all[0].Advance == nil || all[0].Advance.Method != "cash" {
		t.Fatalf("stored: %+v", all)
	}
	for _, tc := range []struct {
		a     HarvestAdvance
		field string
	}{
		{HarvestAdvance{Amount: 0, Currency: "MAD", Method: "cash"}, "advance.amount"},
		{HarvestAdvance{Amount: -5, Currency: "MAD", Method: "cash"}, "advance.amount"},
		{HarvestAdvance{Amount: 100, Currency: "EUR", Method: "cash"}, "advance.currency"},
		{HarvestAdvance{Amount: 100, Currency: "MAD", Method: "cheque"}, "advance.method"},
	} {
		_, err := f.s.AddHarvest(f.ctx, f.manager, f.coop, nh(&tc.a))
		wantProblem(t, err, problem.Invalid, tc.field)
	}
	// An advance on another cooperative's member: not a member of this one.
	if _, err := f.s.CreateCooperative(f.ctx, f.admin, Cooperative{Code: "TIWIZWINE", Name: "Tiwizwine", Kind: "argan", Commune: "Tamanar", Province: "Essaouira"}); err != nil {
		t.Fatal(err)
	}
	stranger, err := f.s.AddMember(f.ctx, f.admin, "TIWIZWINE", Member{Name: "Itto", Gender: "female", Village: "Tamanar"})
	if err != nil {
		t.Fatal(err)
	}
	req := nh(&HarvestAdvance{Amount: 100, Currency: "MAD", Method: "cash"})
	req.Member = stranger.ID
	_, err = f.s.AddHarvest(f.ctx, f.manager, f.coop, req)
	wantProblem(t, err, problem.NotFound, "member")
	if all, _ := f.s.AllHarvests(f.ctx, f.admin, ""); len(all) != 1 {
		t.Fatalf("refused advances wrote %d harvests", len(all)-1)
	}
}

// TestOutputsOfOneStepShareTheirMembers: a distillation's essential oil
// and hydrosol come from the same plants, so they have the same shares,
// weighed in the plants taken (mg) though the outputs are counted in ml.
func TestOutputsOfOneStepShareTheirMembers(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for i, gender := range []string{"female", "male"} {
		m, err := f.s.AddMember(f.ctx, f.admin, f.coop, Member{Name: "Cueilleur " + string(rune('A'+i)), Gender: gender, Village: "Tagmoute"})
		if err != nil {
			t.Fatal(err)
		}
		p, err := f.s.AddParcel(f.ctx, f.admin, f.coop, NewParcel{Name: "Romarin " + m.ID, Member: m.ID, Commune: "Tagmoute",
			AreaM2: 100_000, Crop: "pamm", Location: Geometry{Type: "Point", Coordinates: []byte(`[-7.92,30.53]`)}})
		if err != nil {
			t.Fatal(err)
		}
		h, err := f.s.AddHarvest(f.ctx, f.manager, f.coop, NewHarvest{Parcel: p.ID, Member: m.ID, Date: "2025-10-28", Crop: "pamm", Quantity: kg(int64(100 * (i + 1)))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, h.ID)
	}
	plants, err := f.s.CreateOriginLot(f.ctx, f.manager, f.coop, NewOriginLot{ProductKind: "pamm", Harvests: ids})
	if err != nil {
		t.Fatal(err)
	}
	made := f.mustTransform("distillation", in(plants, kg(250)), out("essential_oil", ml(1500)), out("hydrosol", ml(200_000)))
	oil, water := f.shares(made[0].Code), f.shares(made[1].Code)
	if len(oil.Shares) != 2 || len(water.Shares) != 2 || oil.Basis != 250_000_000 || oil.BasisUnit != Milligram || water.Basis != oil.Basis {
		t.Fatalf("oil %+v, hydrosol %+v", oil, water)
	}
	for i := range oil.Shares {
		if oil.Shares[i].Share != water.Shares[i].Share || oil.Shares[i].Member != water.Shares[i].Member {
			t.Fatalf("oil share %+v, hydrosol %+v", oil.Shares[i], water.Shares[i])
		}
	}
	// 250 kg of 100 + 200 kg: 83.333… and 166.666… kg, by largest remainder.
	got := []int64{oil.Shares[0].Share.Numerator, oil.Shares[1].Share.Numerator}
	slices.Sort(got)
	if !slices.Equal(got, []int64{83_333_333, 166_666_667}) {
		t.Fatalf("weights %v", got)
	}
	if oil.Content.Unit != "ml" || oil.Content.Amount != 1500 || oil.Shares[0].Quantity.Amount+oil.Shares[1].Quantity.Amount != 1500 {
		t.Fatalf("oil content %+v: %+v", oil.Content, oil.Shares)
	}
}
