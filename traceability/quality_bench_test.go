package traceability

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
)

// benchStore is an embedded store with a cooperative.
func benchStore(b *testing.B) (*Service, *mongodb.Store, access.Actor) {
	db := mongotest.New(b)
	ctx := context.Background()
	if err := db.EnsureIndexes(ctx, Indexes()); err != nil {
		b.Fatal(err)
	}
	s := NewService(NewStore(db), time.Now)
	admin := access.Actor{UserID: "bench", Email: "bench@x", Role: access.Admin}
	if _, err := s.CreateCooperative(ctx, admin, Cooperative{Code: "SIROUA", Name: "Siroua", Kind: "saffron", Commune: "Taliouine", Province: "Taroudannt"}); err != nil {
		b.Fatal(err)
	}
	return s, db, admin
}

// benchChain builds, without the service's checks, a chain of lots as the
// service would store it: fresh saffron, dried saffron with a category I
// result, then sorted and packed; it returns them in that order.
func benchChain(i int, now time.Time) []Lot {
	mk := func(kind, source, process string, qty int64, unit Unit, inputs []EventRef) Lot {
		code, _ := NewLotCode(kind)
		l := Lot{Code: code, Cooperative: "SIROUA", ProductKind: kind, Source: source, Process: process, Quantity: qty, Available: qty,
			Unit: unit, Inputs: inputs, Outputs: []EventRef{}, Flags: []Flag{}, Claims: []Claim{}, CreatedBy: "bench", CreatedAt: now,
			Origin: []OriginLine{{Harvest: fmt.Sprintf("hrv_%d", i), Date: "2025-10-28", Crop: "saffron", Quantity: 500_000,
				Parcel: fmt.Sprintf("prc_%d", i), Commune: "Taliouine", Member: "mbr_x", Gender: "female"}}}
		creationEvent(&l)
		return l
	}
	fresh := mk("saffron", SourceHarvest, "", 500_000, Milligram, []EventRef{})
	dried := mk("saffron_dried", SourceTransformation, "drying", 100_000, Milligram, []EventRef{{Lot: fresh.Code, Quantity: 500_000, Unit: Milligram}})
	r := LabResult{ID: id.New("lab"), Laboratory: Laboratory{Name: "Lab", Accreditation: "MA-1"}, SampleDate: "2025-11-05", ReportDate: "2025-11-12",
		Method: ISO3632Method, Standard: DefaultISO3632Edition, Form: FormFilaments, Category: "I", Misses: []string{}, Flags: []string{},
		Figures:    LabFigures{E257: M(92), E330: M(34), E440: M(246), Moisture: M(8.7), FloralWaste: M(0.2), ForeignMatter: M(0.05)},
		RecordedBy: "bench", RecordedAt: now.Truncate(time.Millisecond), Seq: 2}
	dried.appendEvent(Event{Type: EventTested, At: now, Actor: "bench", Place: "SIROUA", Note: labDigest(r)})
	dried.LabResults = []LabResult{r}
	sorted := mk("saffron_dried", SourceTransformation, "sorting", 95_000, Milligram, []EventRef{{Lot: dried.Code, Quantity: 100_000, Unit: Milligram}})
	jars := mk("saffron_dried", SourcePacking, "", 95, Piece, []EventRef{{Lot: sorted.Code, Quantity: 95_000, Unit: Milligram}})
	jars.UnitSize, jars.UnitSizeOf = 1000, Milligram
	return []Lot{fresh, dried, sorted, jars}
}

func insertLots(b *testing.B, db *mongodb.Store, lots []Lot) {
	ctx := context.Background()
	for start := 0; start < len(lots); start += 500 {
		batch := make([]any, 0, 500)
		for _, l := range lots[start:min(start+500, len(lots))] {
			batch = append(batch, l)
		}
		if _, err := db.Collection("lots").InsertMany(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLotQuality reads a lot of dried saffron with its own result, and
// jars that show the result of the lot they were sorted and packed from
// (two more _id reads), among 10 000 lots: the cost of Quality on the API's
// GET /lots/{code} and on a cold trace page.
//
//	go test ./traceability -run '^$' -bench LotQuality -benchtime 2000x
func BenchmarkLotQuality(b *testing.B) {
	s, db, admin := benchStore(b)
	now := time.Now().UTC()
	var all []Lot
	for i := range 2500 {
		all = append(all, benchChain(i, now)...)
	}
	insertLots(b, db, all)
	ctx := context.Background()
	for _, bc := range []struct {
		name   string
		offset int // within a chain
	}{{"own_result", 1}, {"inherited_through_sorting_and_packing", 3}} {
		b.Run(bc.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				l, err := s.Lot(ctx, admin, all[(i%2500)*4+bc.offset].Code)
				if err != nil || l.Quality == nil || l.Quality.Category != "I" {
					b.Fatalf("%v %+v", err, l.Quality)
				}
				i++
			}
		})
	}
}

// BenchmarkSeasonEvidence makes the evidence ZIP of a season of 1 200 lots
// (300 chains of harvest, drying with a result, sorting, packing), without
// the PDF summary (web/documents has its own benchmark): reading the
// records, the mass balance, the season's EPCIS, the CSV files and the ZIP.
//
//	go test ./traceability -run '^$' -bench SeasonEvidence -benchtime 5x
func BenchmarkSeasonEvidence(b *testing.B) {
	s, db, admin := benchStore(b)
	now := time.Now().UTC()
	var all []Lot
	for i := range 300 {
		all = append(all, benchChain(i, now)...)
	}
	insertLots(b, db, all)
	ctx := context.Background()
	req := EvidenceRequest{Cooperative: "SIROUA", Season: seasonOf(now)}
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		f, _, err := s.WriteEvidence(ctx, admin, req, Codes{PublicURL: "http://x"}, stubSummary, &buf, nil)
		if err != nil || len(f.Lots) != len(all) || len(f.LabResults) != 300 {
			b.Fatalf("%v: %d lots", err, len(f.Lots))
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size)/1024, "KiB/zip")
}
