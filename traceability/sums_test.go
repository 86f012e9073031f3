package traceability

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
	"github.com/terroir-coop/terroir/internal/problem"
)

// TestQuantitySumsNeverWrap: each harvest may be as large as an int64 of
// milligrams, but a parcel's season total and a lot made of several
// harvests are sums; one that would not fit is refused as a client error
// before anything is written, never stored wrapped or failed in the store.
func TestQuantitySumsNeverWrap(t *testing.T) {
	db := mongotest.New(t)
	ctx := context.Background()
	if err := db.EnsureIndexes(ctx, Indexes()); err != nil {
		t.Fatal(err)
	}
	s := NewService(NewStore(db), func() time.Time { return time.Date(2025, 11, 15, 12, 0, 0, 0, time.UTC) })
	admin := access.Actor{UserID: "t", Email: "t@test", Role: access.Admin}
	if _, err := s.CreateCooperative(ctx, admin, Cooperative{Code: "SIROUA", Name: "Siroua", Kind: "saffron", Commune: "Taliouine", Province: "Taroudannt"}); err != nil {
		t.Fatal(err)
	}
	m, err := s.AddMember(ctx, admin, "SIROUA", Member{Name: "Fatima", Gender: "female", Village: "Siroua"})
	if err != nil {
		t.Fatal(err)
	}
	// A harvest as large as an int64 of milligrams is beyond the crop's
	// hard limit: refused as unprocessable, nothing written.
	huge := Quantity{Amount: math.MaxInt64, Unit: "mg"}
	p, err := s.AddParcel(ctx, admin, "SIROUA", NewParcel{Name: "Tamazirt", Member: m.ID, Commune: "Taliouine", AreaM2: 1000, Crop: "saffron",
		Location: Geometry{Type: "Point", Coordinates: []byte(`[-7.92,30.53]`)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddHarvest(ctx, admin, "SIROUA", NewHarvest{Parcel: p.ID, Member: m.ID, Date: "2025-10-28", Crop: "saffron", Quantity: huge}); problem.CodeOf(err) != problem.Unprocessable {
		t.Fatalf("harvest of MaxInt64 mg: %v, want unprocessable", err)
	}
	// Hard limits keep harvests far below what could overflow, but a lot's
	// sum is still guarded: harvests stored before the limits existed.
	var harvests []string
	for i := range 2 {
		h := Harvest{ID: id.New("hrv"), Cooperative: "SIROUA", Parcel: p.ID, Member: m.ID, Date: "2025-10-2" + string(rune('0'+i)),
			Crop: "saffron", Quantity: math.MaxInt64, Unit: Milligram, CreatedBy: "t@test"}
		if err := s.store.insertHarvest(ctx, h); err != nil {
			t.Fatal(err)
		}
		harvests = append(harvests, h.ID)
	}
	before, _ := db.Collection("lots").CountDocuments(ctx, map[string]any{})
	_, err = s.CreateOriginLot(ctx, admin, "SIROUA", NewOriginLot{ProductKind: "saffron", Harvests: harvests})
	after, _ := db.Collection("lots").CountDocuments(ctx, map[string]any{})
	if problem.CodeOf(err) != problem.Invalid || after != before {
		t.Fatalf("lot whose harvests overflow: %v, lots %d→%d; want invalid and nothing written", err, before, after)
	}
}
