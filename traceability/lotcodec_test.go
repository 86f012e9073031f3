package traceability

import (
	"context"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
)

// TestLotLinesArePacked: every line of a lot (a slice field) is stored in
// the packed field and nothing else is; a lot reads back as it was
// written, packed or as stored before the packing.
func TestLotLinesArePacked(t *testing.T) {
	at := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	l := Lot{Code: "SAF-PACKED", Cooperative: "SIROUA", ProductKind: "saffron_dried", Source: SourcePacking, Quantity: 50, Available: 40, Unit: Piece,
		Origin:  []OriginLine{{Harvest: "hrv_1", Quantity: 400_000, Member: "mbr_1"}},
		Inputs:  []EventRef{{Lot: "SAF-DRIED", Quantity: 50_000, Unit: Milligram}},
		Outputs: []EventRef{}, Claims: []Claim{{Certification: "crt_1", Scheme: "aop"}}, Flags: []Flag{{ID: "flg_1", Reason: "late"}},
		Shares: []MemberShare{{Member: "mbr_1", Weight: 50}}, SKU: "SAF-1G", Seq: 1, LastHash: "ab", CreatedAt: at}
	l.Events = []Event{{Lot: l.Code, Seq: 1, Type: EventPacked, At: at, Quantity: 50, Unit: Piece, Hash: "ab"}}
	mongotest.CheckPacked(t, l, storedLot(l), packedLotKeys)
	raw, err := bson.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := bson.Raw(raw).LookupErr("coop"); err != nil || v.StringValue() != "SIROUA" {
		t.Fatalf("the cooperative (a list key) is not a field of its own: %v", err)
	}
}

// TestLotWrittenBeforePackingIsPackedAtItsNextWrite: a lot stored with
// every field at the top (before the packing) reads the same, and its next
// event writes it packed, history and chain whole.
func TestLotWrittenBeforePackingIsPackedAtItsNextWrite(t *testing.T) {
	f := newFixture(t)
	fresh := f.originLot("saffron", g(500))
	dried := f.mustTransform("drying", in(fresh, g(500)), out("saffron_dried", g(100)))[0]
	jars := f.pack(dried, 50, 1000)
	want := f.lot(jars.Code)
	head, err := f.s.store.lotHead(f.ctx, jars.Code)
	if err != nil {
		t.Fatal(err)
	}
	lots := f.s.store.db.Collection("lots")
	if _, err := lots.ReplaceOne(f.ctx, bson.M{"_id": jars.Code}, storedLot(head)); err != nil { // the old layout
		t.Fatal(err)
	}
	raw, err := lots.FindOne(f.ctx, bson.M{"_id": jars.Code}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.LookupErr("events"); err != nil {
		t.Fatal("the old layout was not written")
	}
	if got := f.lot(jars.Code); !reflect.DeepEqual(got, want) {
		t.Fatalf("old layout reads\n%+v\nwant\n%+v", got, want)
	}
	if err := f.s.store.db.Atomically(f.ctx, func(ctx context.Context) error {
		return f.s.RecordCustody(ctx, jars.Code, EventSold, 0, "TAROUDANNT", "shop@test")
	}); err != nil {
		t.Fatal(err)
	}
	if raw, err = lots.FindOne(f.ctx, bson.M{"_id": jars.Code}).Raw(); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.LookupErr("events"); err == nil {
		t.Fatal("the next write left the events at the top of the document")
	}
	got := f.lot(jars.Code)
	if len(got.Events) != len(want.Events)+1 || got.Seq != want.Seq+1 || !reflect.DeepEqual(got.Origin, want.Origin) ||
		!reflect.DeepEqual(got.Shares, want.Shares) || got.Available != want.Available {
		t.Fatalf("after the write\n%+v\nbefore\n%+v", got, want)
	}
	if at, err := VerifyChain(got.Events); err != nil {
		t.Fatalf("chain broken at %d: %v", at, err)
	}
	checkVerify(t, f)
}

// TestApplyLotUpdate: the operators the lot's writes use, applied in Go.
func TestApplyLotUpdate(t *testing.T) {
	cur := Lot{Code: "SAF-1", Available: 10, Seq: 1, Outputs: []EventRef{{Lot: "A", Quantity: 1}}}
	e := Event{Lot: "SAF-1", Seq: 2, Type: EventTransformed, Hash: "h2"}
	next, err := applyLotUpdate(cur, bson.M{
		"$inc":  bson.M{"available": int64(-4), "corrections": int64(2)},
		"$push": bson.M{"events": e, "outputs": bson.M{"$each": []EventRef{{Lot: "B", Quantity: 2}, {Lot: "C", Quantity: 3}}}},
		"$set":  bson.M{"seq": e.Seq, "last_hash": e.Hash, "flags": []Flag{{ID: "f"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Lot{Code: "SAF-1", Available: 6, Corrections: 2, Seq: 2, LastHash: "h2", Events: []Event{e}, Flags: []Flag{{ID: "f"}},
		Outputs: []EventRef{{Lot: "A", Quantity: 1}, {Lot: "B", Quantity: 2}, {Lot: "C", Quantity: 3}}}
	if !reflect.DeepEqual(next, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", next, want)
	}
	if !reflect.DeepEqual(cur.Outputs, []EventRef{{Lot: "A", Quantity: 1}}) {
		t.Fatal("the lot read was changed")
	}
	for name, bad := range map[string]bson.M{
		"unknown operator":    {"$pull": bson.M{"flags": 1}},
		"$inc of a string":    {"$inc": bson.M{"_id": 1}},
		"$push onto a number": {"$push": bson.M{"available": 1}},
	} {
		if _, err := applyLotUpdate(cur, bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
