package traceability

import (
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/problem"
)

func balanceRow(t *testing.T, f *fixture, kind string) BalanceRow {
	t.Helper()
	rows, err := f.s.MassBalance(f.ctx, f.admin, f.coop, 2025)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.ProductKind == kind {
			return r
		}
	}
	t.Fatalf("no %s row in %+v", kind, rows)
	return BalanceRow{}
}

func checkVerify(t *testing.T, f *fixture) {
	t.Helper()
	found, n, err := f.s.Verify(f.ctx, nil)
	if err != nil || len(found) != 0 || n == 0 {
		t.Fatalf("verify: %d lots, %+v, %v", n, found, err)
	}
}

// TestMassBalanceInOneUnit is the case: harvest 500 g, dry to 100 g,
// pack 50 jars of 1 g, ship 30 to a shop.
func TestMassBalanceInOneUnit(t *testing.T) {
	f := newFixture(t)
	fresh := f.originLot("saffron", g(500))
	dried := f.mustTransform("drying", in(fresh, g(500)), out("saffron_dried", g(100)))[0]
	jars := f.pack(dried, 50, 1000)
	if err := f.ship(jars.Code, 30, "TAROUDANNT"); err != nil {
		t.Fatal(err)
	}
	// 6 jars sold at the shop, one brought back: sold counts 5, in units and content.
	for typ, n := range map[string]int64{EventSold: 6, EventReturned: 1} {
		if err := f.s.RecordCustody(f.ctx, jars.Code, typ, n, "TAROUDANNT", "shop@test"); err != nil {
			t.Fatal(err)
		}
	}
	r := balanceRow(t, f, "saffron_dried")
	if r.SoldUnits != 5 || r.Sold != 5_000 {
		t.Errorf("sold %d units, %d mg; want 5 and 5000", r.SoldUnits, r.Sold)
	}
	want := BalanceRow{ProductKind: "saffron_dried", Unit: Milligram, Lots: 2, Produced: 100_000, Packed: 50_000, OnHand: 50_000,
		PackedUnits: 50, ShippedUnits: 30, Shipped: 30_000, OnHandUnits: 20, OnHandPacked: 20_000}
	if r.Unit != want.Unit || r.Produced != want.Produced || r.Packed != want.Packed || r.OnHand != want.OnHand || r.Losses != 0 ||
		r.PackedUnits != 50 || r.ShippedUnits != 30 || r.Shipped != 30_000 || r.OnHandUnits != 20 || r.OnHandPacked != 20_000 || r.Lots != 2 {
		t.Fatalf("dried saffron row\n got %+v\nwant %+v", r, want)
	}
	if !r.Reconciles() {
		t.Fatalf("row does not reconcile: %+v", r)
	}
	s := balanceRow(t, f, "saffron")
	if s.Harvested != 500_000 || s.Transformed != 500_000 || s.OnHand != 0 || s.Losses != 0 || s.TransformationLoss != 400_000 || s.YieldPercent != "20.0" || !s.Reconciles() {
		t.Fatalf("fresh saffron row %+v", s)
	}
	checkVerify(t, f)
}

// TestLotCorrections: a correction is an event with its reason, never an
// edit; it is refused without a reason, below what depends on the lot, and
// to those who do not manage the lot; it shows in the mass balance and the
// public record; verify holds after it and names a lot edited in place.
func TestLotCorrections(t *testing.T) {
	f := newFixture(t)
	fresh := f.originLot("saffron", g(500))
	dried := f.mustTransform("drying", in(fresh, g(400)), out("saffron_dried", g(80)))[0]
	jars := f.pack(dried, 30, 1000)

	// Without a reason → 400 naming reason, nothing written.
	_, err := f.s.CorrectLot(f.ctx, f.manager, dried.Code, g(78), "  ")
	wantProblem(t, err, problem.Invalid, "reason")
	// Below what was packed (30 g) → 409 naming the packed lot.
	_, err = f.s.CorrectLot(f.ctx, f.manager, dried.Code, g(20), "weighed again after drying")
	if p := wantProblem(t, err, problem.Conflict, ""); !strings.Contains(p.Message, jars.Code) {
		t.Errorf("409 message %q does not name the packed lot", p.Message)
	} else if deps, _ := p.Details.([]Dependent); len(deps) != 1 || deps[0].Lot != jars.Code || deps[0].Quantity != 30_000 {
		t.Errorf("409 details %+v", p.Details)
	}
	// Another cooperative's manager learns nothing; an auditor may read
	// but not correct.
	other := access.Actor{UserID: "o", Email: "o@test", Role: access.CoopManager, Org: "TIWIZWINE"}
	if _, err := f.s.CorrectLot(f.ctx, other, dried.Code, g(78), "typo"); problem.CodeOf(err) != problem.NotFound {
		t.Errorf("another cooperative: %v, want not found", err)
	}
	auditor := access.Actor{UserID: "a", Email: "a@test", Role: access.Auditor, Scope: []string{f.coop}}
	if _, err := f.s.CorrectLot(f.ctx, auditor, dried.Code, g(78), "typo"); !access.IsForbidden(err) {
		t.Errorf("auditor: %v, want forbidden", err)
	}
	// Unit of another dimension, the same quantity, more than the inputs
	// could give: 400, 400, 422.
	_, err = f.s.CorrectLot(f.ctx, f.manager, dried.Code, ml(78), "typo")
	wantProblem(t, err, problem.Invalid, "quantity")
	_, err = f.s.CorrectLot(f.ctx, f.manager, dried.Code, g(80), "typo")
	wantProblem(t, err, problem.Invalid, "quantity")
	_, err = f.s.CorrectLot(f.ctx, f.manager, dried.Code, g(401), "typo")
	wantProblem(t, err, problem.Unprocessable, "quantity")
	if got := f.lot(dried.Code); len(got.Events) != 2 || got.Available != 50_000 {
		t.Fatalf("refused corrections changed the lot: %d events, %d available", len(got.Events), got.Available)
	}

	// A valid correction: an event, the counters move with it.
	corrected, err := f.s.CorrectLot(f.ctx, f.manager, dried.Code, g(78), "the scale was not tared")
	if err != nil {
		t.Fatal(err)
	}
	stored := f.lot(dried.Code)
	last := stored.Events[len(stored.Events)-1]
	if last.Type != EventCorrected || last.Quantity != -2_000 || last.Note != "the scale was not tared" || last.Actor != f.manager.Email {
		t.Fatalf("correction event %+v", last)
	}
	if stored.Quantity != 80_000 || stored.Corrections != -2_000 || stored.CurrentQuantity() != 78_000 || stored.Available != 48_000 || corrected.Available != 48_000 {
		t.Fatalf("corrected lot: quantity %d corrections %d available %d", stored.Quantity, stored.Corrections, stored.Available)
	}
	// Up again, within what 400 g of fresh saffron can give.
	if _, err := f.s.CorrectLot(f.ctx, f.manager, dried.Code, g(81), "second weighing, scale tared"); err != nil {
		t.Fatal(err)
	}
	// Packed units are corrected down only; origin lots grow through their
	// harvests.
	_, err = f.s.CorrectLot(f.ctx, f.manager, jars.Code, Quantity{Amount: 31, Unit: "pcs"}, "miscount")
	wantProblem(t, err, problem.Invalid, "quantity")
	if _, err := f.s.CorrectLot(f.ctx, f.manager, jars.Code, Quantity{Amount: 29, Unit: "pcs"}, "one jar broke at labelling"); err != nil {
		t.Fatal(err)
	}
	_, err = f.s.CorrectLot(f.ctx, f.manager, fresh.Code, g(600), "more")
	wantProblem(t, err, problem.Invalid, "quantity")

	r := balanceRow(t, f, "saffron_dried")
	if r.Produced != 80_000 || r.Corrections != 1_000 || r.Packed != 30_000 || r.OnHand != 51_000 || r.UnitCorrections != -1 || r.OnHandUnits != 29 || !r.Reconciles() {
		t.Fatalf("mass balance after corrections %+v", r)
	}
	rec, err := f.s.Trace(f.ctx, jars.Code)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Corrected || len(rec.Corrections) != 3 || rec.Corrections[0].Lot != dried.Code || rec.Corrections[0].From != "80 g" || rec.Corrections[0].To != "78 g" {
		t.Fatalf("trace record corrections: %v %+v", rec.Corrected, rec.Corrections)
	}
	if rec, _ := f.s.Trace(f.ctx, fresh.Code); rec.Corrected {
		t.Error("the uncorrected origin lot is marked corrected")
	}
	checkVerify(t, f)

	// Editing a stored quantity in place is named by verify.
	if _, err := f.s.store.db.Collection("lots").UpdateOne(f.ctx, bson.M{"_id": dried.Code}, bson.M{"$set": bson.M{"quantity": 90_000}}); err != nil {
		t.Fatal(err)
	}
	found, _, err := f.s.Verify(f.ctx, nil)
	if err != nil || len(found) != 1 || found[0].Lot != dried.Code || !strings.Contains(found[0].Reason, "quantity is 90000 mg but its creation event says 80000") {
		t.Fatalf("verify after an edit in place: %+v %v", found, err)
	}
	if r := balanceRow(t, f, "saffron_dried"); r.Reconciles() || len(r.InconsistentLots) != 1 || r.InconsistentLots[0] != dried.Code {
		t.Fatalf("mass balance after an edit in place: %+v", r)
	}
}

// TestHarvestCorrections: correcting a harvest in a lot corrects the lot by
// an event; limits and dependents apply as for the original entry.
func TestHarvestCorrections(t *testing.T) {
	f := newFixture(t)
	f.parcel("saffron", 1000) // at most 60 kg a season (10 × 60 kg/ha)
	h, err := f.harvest("saffron", "2025-10-28", g(500))
	if err != nil {
		t.Fatal(err)
	}
	free, err := f.harvest("saffron", "2025-10-29", g(100))
	if err != nil {
		t.Fatal(err)
	}
	lot, err := f.s.CreateOriginLot(f.ctx, f.manager, f.coop, NewOriginLot{ProductKind: "saffron", Harvests: []string{h.ID}})
	if err != nil {
		t.Fatal(err)
	}
	f.mustTransform("drying", in(lot, g(300)), out("saffron_dried", g(60)))

	_, err = f.s.CorrectHarvest(f.ctx, f.manager, f.coop, h.ID, g(450), "")
	wantProblem(t, err, problem.Invalid, "reason")
	_, err = f.s.CorrectHarvest(f.ctx, f.manager, f.coop, h.ID, kg(61), "typo")
	wantProblem(t, err, problem.Unprocessable, "quantity")
	_, err = f.s.CorrectHarvest(f.ctx, f.manager, f.coop, h.ID, g(250), "typo") // 300 g already dried
	wantProblem(t, err, problem.Conflict, "")
	if _, err := f.s.CorrectHarvest(f.ctx, f.manager, "TIWIZWINE", h.ID, g(450), "typo"); !access.IsForbidden(err) {
		t.Errorf("another cooperative: %v", err)
	}
	if _, err := f.s.CorrectHarvest(f.ctx, f.admin, f.coop, "hrv_nope", g(450), "typo"); problem.CodeOf(err) != problem.NotFound {
		t.Errorf("unknown harvest: %v", err)
	}

	got, err := f.s.CorrectHarvest(f.ctx, f.manager, f.coop, h.ID, g(450), "two crates were weighed twice")
	if err != nil {
		t.Fatal(err)
	}
	if got.Quantity != 450_000 || len(got.Corrections) != 1 || got.Corrections[0].From != 500_000 || got.Corrections[0].To != 450_000 {
		t.Fatalf("corrected harvest %+v", got)
	}
	l := f.lot(lot.Code)
	last := l.Events[len(l.Events)-1]
	if last.Type != EventCorrected || last.Quantity != -50_000 || !strings.Contains(last.Note, h.ID) || l.Available != 150_000 || l.Origin[0].Quantity != 450_000 {
		t.Fatalf("lot after the harvest correction: %+v, available %d, origin %+v", last, l.Available, l.Origin)
	}
	if p, _ := f.s.store.parcel(f.ctx, h.Parcel); p.SeasonTotals["2025_saffron"] != 550_000 {
		t.Fatalf("season total %v", p.SeasonTotals)
	}
	// A harvest in no lot: only the harvest and its parcel change.
	if _, err := f.s.CorrectHarvest(f.ctx, f.manager, f.coop, free.ID, g(120), "typo in the picking book"); err != nil {
		t.Fatal(err)
	}
	r := balanceRow(t, f, "saffron")
	if r.Harvested != 500_000 || r.Corrections != -50_000 || r.Transformed != 300_000 || r.OnHand != 150_000 || !r.Reconciles() {
		t.Fatalf("saffron row %+v", r)
	}
	rec, err := f.s.Trace(f.ctx, lot.Code)
	if err != nil || !rec.Corrected || rec.Steps[0].Quantity != "450 g" {
		t.Fatalf("trace: %v %+v %v", rec.Corrected, rec.Steps, err)
	}
	checkVerify(t, f)
}
