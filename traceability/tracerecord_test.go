package traceability

import (
	"context"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
)

// TestReadMemoKeepsForItsTTLAndForgetsThisProcesssChanges: a parcel's
// outline is read once for all the lots that share it, for as long as the
// service was told to remember (RememberFor: the embedded store's long
// TTL), again after it, and at once after this process changes it.
func TestReadMemoKeepsForItsTTLAndForgetsThisProcesssChanges(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	store := NewStore(mongotest.New(t))
	s := &Service{store: store, now: func() time.Time { return now }}
	s.memo = newReadMemo(store, s.now)
	s.RememberFor(10 * time.Minute)
	reads := 0
	read := func() (*Geometry, error) { reads++; return &Geometry{Type: "Polygon"}, nil }
	for range 5 {
		if g, err := recall(s.memo, s.memo.outlines, "prc_1", read); err != nil || g.Type != "Polygon" {
			t.Fatalf("recall: %v %v", g, err)
		}
	}
	if reads != 1 {
		t.Fatalf("%d reads for five lots sharing a parcel, want 1", reads)
	}
	now = now.Add(9 * time.Minute) // past readMemoTTL, within the TTL set
	recall(s.memo, s.memo.outlines, "prc_1", read)
	if reads != 1 {
		t.Errorf("read again after 9 minutes with a 10-minute TTL")
	}
	store.parcelChanged("prc_1") // an outline walked since, imported here
	recall(s.memo, s.memo.outlines, "prc_1", read)
	if reads != 2 {
		t.Errorf("this process's change to the parcel was not forgotten (%d reads)", reads)
	}
	now = now.Add(11 * time.Minute) // another instance's change shows after the TTL
	recall(s.memo, s.memo.outlines, "prc_1", read)
	if reads != 3 {
		t.Errorf("not read again after the TTL (%d reads)", reads)
	}
}

// TestWarmOutlinesLeavesNoParcelToRead: after WarmOutlines a trace record
// reads no parcel it read — a walked outline and a point alike — while a
// parcel registered since, or changed while the warm read, is read when
// needed, never remembered from the warm's stale read.
func TestWarmOutlinesLeavesNoParcelToRead(t *testing.T) {
	ctx := context.Background()
	db := mongotest.New(t)
	store := NewStore(db)
	s := NewService(store, time.Now)
	s.RememberFor(10 * time.Minute)
	square := `{"type":"Polygon","coordinates":[[[-7.9,30.5],[-7.89,30.5],[-7.89,30.51],[-7.9,30.5]]]}`
	point := `{"type":"Point","coordinates":[-7.92,30.53]}`
	parcels := []any{
		Parcel{ID: "prc_walked", Cooperative: "SIROUA", LocationRaw: square},
		Parcel{ID: "prc_point", Cooperative: "SIROUA", LocationRaw: point},
		Parcel{ID: "prc_changed", Cooperative: "SIROUA", LocationRaw: point},
	}
	if _, err := db.Collection("parcels").InsertMany(ctx, parcels); err != nil {
		t.Fatal(err)
	}
	s.memo.afterWarmRead = func() { store.parcelChanged("prc_changed") } // its outline imported meanwhile
	n, err := s.WarmOutlines(ctx)
	if err != nil || n != 2 {
		t.Fatalf("warm: %d remembered, %v; want 2", n, err)
	}
	outline := func(id string, reads int64) *Geometry {
		t.Helper()
		before := db.Commands()
		g, err := s.traceOutline(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if sent := db.Commands() - before; sent != reads {
			t.Fatalf("the outline of %s sent %d commands, want %d", id, sent, reads)
		}
		return g
	}
	if g := outline("prc_walked", 0); g == nil || g.Type != "Polygon" {
		t.Fatalf("walked parcel: %+v", g)
	}
	if g := outline("prc_point", 0); g != nil {
		t.Fatalf("a point has an outline: %+v", g)
	}
	outline("prc_changed", 1) // read, then remembered as usual
	outline("prc_changed", 0)
	outline("prc_since", 1) // not in the warm's read
	if _, err := s.WarmOutlines(ctx); err != nil {
		t.Fatalf("a second warm: %v", err)
	}
}
