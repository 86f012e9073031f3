package traceability

import (
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
