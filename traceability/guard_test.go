package traceability

import (
	"context"
	"testing"

	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
)

// TestLotGuardRefusesStaleWrites: the guard of a lot update (the sequence
// the writer read, the quantity it takes) still refuses a stale or
// overdrawing write now that the embedded store checks it on the lot read
// by _id instead of in the update's filter.
func TestLotGuardRefusesStaleWrites(t *testing.T) {
	db := mongotest.New(t)
	ctx := context.Background()
	s := NewStore(db)
	if _, err := db.Collection("lots").InsertOne(ctx, Lot{Code: "SAF-TEST", Seq: 3, Available: 10}); err != nil {
		t.Fatal(err)
	}
	set := func(code, note string) Lot { return Lot{Code: code, Seq: 3, Available: 10, Note: note} }
	for name, err := range map[string]error{
		"stale sequence": s.replaceLotGuarded(ctx, "SAF-TEST", 2, 0, set("SAF-TEST", "stale")),
		"overdraw":       s.replaceLotGuarded(ctx, "SAF-TEST", 3, 11, set("SAF-TEST", "overdraw")),
		"unknown lot":    s.replaceLotGuarded(ctx, "SAF-NONE", 3, 0, set("SAF-NONE", "none")),
	} {
		if err != errLotChanged {
			t.Errorf("%s: %v, want errLotChanged", name, err)
		}
	}
	if err := s.replaceLotGuarded(ctx, "SAF-TEST", 3, 10, set("SAF-TEST", "ok")); err != nil {
		t.Fatalf("current sequence, enough available: %v", err)
	}
	l, err := s.lot(ctx, "SAF-TEST")
	if err != nil || l.Note != "ok" {
		t.Fatalf("lot after the writes: %+v, %v", l, err)
	}
}
