package traceability

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
)

// BenchmarkLotWithOrigin reads one lot with its origin, inputs, events and
// the live status of its claims, among 10 000 lots in the embedded store:
// what an owner's lot page and the API's GET /lots/{code} do.
//
//	go test ./traceability -run '^$' -bench LotWithOrigin -benchtime 2000x
func BenchmarkLotWithOrigin(b *testing.B) {
	db := mongotest.New(b)
	ctx := context.Background()
	if err := db.EnsureIndexes(ctx, Indexes()); err != nil {
		b.Fatal(err)
	}
	s := NewService(NewStore(db), time.Now)
	admin := access.Actor{UserID: "bench", Role: access.Admin}
	if _, err := s.CreateCooperative(ctx, admin, Cooperative{Code: "SIROUA", Name: "Siroua", Kind: "saffron", Commune: "Taliouine", Province: "Taroudannt"}); err != nil {
		b.Fatal(err)
	}
	cert, err := s.CreateCertification(ctx, admin, NewCertification{Holder: "SIROUA", Scheme: "AOP Safran de Taliouine", Body: "ONSSA",
		Number: "AOP-1", ValidFrom: "2020-01-01", ValidTo: "2030-12-31"})
	if err != nil {
		b.Fatal(err)
	}
	const lots = 10_000
	codes := make([]string, 0, lots)
	batch := make([]any, 0, 500)
	now := time.Now().UTC()
	for i := range lots {
		code, _ := NewLotCode("saffron")
		l := Lot{Code: code, Cooperative: "SIROUA", ProductKind: "saffron", Source: SourceHarvest, Quantity: 1_000_000,
			Available: 1_000_000, Unit: Milligram, Inputs: []EventRef{}, Outputs: []EventRef{}, Flags: []Flag{},
			Claims: []Claim{{Certification: cert.ID, Scheme: cert.Scheme}}, CreatedBy: "bench", CreatedAt: now}
		for h := range 3 {
			l.Origin = append(l.Origin, OriginLine{Harvest: fmt.Sprintf("hrv_%d_%d", i, h), Date: "2025-10-28", Crop: "saffron",
				Quantity: 333_333, Parcel: fmt.Sprintf("prc_%d", i), ParcelName: "Tamazirt", Commune: "Taliouine",
				Lon: -7.92, Lat: 30.53, Member: "mbr_x", MemberName: "Fatima", Gender: "female", Village: "Siroua"})
		}
		creationEvent(&l)
		codes = append(codes, code)
		batch = append(batch, l)
		if len(batch) == cap(batch) {
			if _, err := db.Collection("lots").InsertMany(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		l, err := s.Lot(ctx, admin, codes[i%lots])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.ClaimStatuses(ctx, l); err != nil || len(l.Origin) != 3 {
			b.Fatal(err)
		}
		i++
	}
}
