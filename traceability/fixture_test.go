package traceability

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
	"github.com/terroir-coop/terroir/internal/problem"
)

// fixture is one cooperative on a fresh embedded store, with a member and a
// parcel per crop, and helpers that fail the test on any error.
type fixture struct {
	t       testing.TB
	ctx     context.Context
	s       *Service
	admin   access.Actor
	manager access.Actor
	coop    string
	member  string
	parcels map[string]string // crop → parcel id
	now     time.Time
}

// fixtureNow is in the 2025 saffron season (harvests of late October).
var fixtureNow = time.Date(2025, 11, 15, 12, 0, 0, 0, time.UTC)

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db := mongotest.New(t)
	ctx := context.Background()
	if err := db.EnsureIndexes(ctx, Indexes()); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, coop: "SIROUA", parcels: map[string]string{}, now: fixtureNow,
		admin:   access.Actor{UserID: "adm", Email: "admin@test", Role: access.Admin},
		manager: access.Actor{UserID: "mgr", Email: "manager@siroua.ma", Role: access.CoopManager, Org: "SIROUA"}}
	f.s = NewService(NewStore(db), func() time.Time { return f.now })
	if _, err := f.s.CreateCooperative(ctx, f.admin, Cooperative{Code: f.coop, Name: "Siroua", Kind: "saffron", Commune: "Taliouine", Province: "Taroudannt"}); err != nil {
		t.Fatal(err)
	}
	m, err := f.s.AddMember(ctx, f.admin, f.coop, Member{Name: "Fatima", Gender: "female", Village: "Siroua"})
	if err != nil {
		t.Fatal(err)
	}
	f.member = m.ID
	return f
}

// parcel returns the fixture's parcel of a crop, creating it with the area.
func (f *fixture) parcel(crop string, areaM2 int64) string {
	f.t.Helper()
	if id, ok := f.parcels[crop]; ok {
		return id
	}
	p, err := f.s.AddParcel(f.ctx, f.admin, f.coop, NewParcel{Name: "Tamazirt " + crop, Member: f.member, Commune: "Taliouine",
		AreaM2: areaM2, Crop: crop, Location: Geometry{Type: "Point", Coordinates: []byte(`[-7.92,30.53]`)}})
	if err != nil {
		f.t.Fatal(err)
	}
	f.parcels[crop] = p.ID
	return p.ID
}

func (f *fixture) harvest(crop, day string, q Quantity) (Harvest, error) {
	f.t.Helper()
	return f.s.AddHarvest(f.ctx, f.manager, f.coop, NewHarvest{Parcel: f.parcel(crop, 100_000), Member: f.member, Date: day, Crop: crop, Quantity: q})
}

// originLot harvests q of crop and makes a lot of it.
func (f *fixture) originLot(crop string, q Quantity) Lot {
	f.t.Helper()
	h, err := f.harvest(crop, "2025-10-28", q)
	if err != nil {
		f.t.Fatal(err)
	}
	l, err := f.s.CreateOriginLot(f.ctx, f.manager, f.coop, NewOriginLot{ProductKind: crop, Harvests: []string{h.ID}})
	if err != nil {
		f.t.Fatal(err)
	}
	return l
}

func (f *fixture) transform(process string, in []LotInput, out ...LotOutput) ([]Lot, error) {
	f.t.Helper()
	return f.s.Transform(f.ctx, f.manager, f.coop, NewTransformation{Process: process, Inputs: in, Outputs: out})
}

func (f *fixture) mustTransform(process string, in []LotInput, out ...LotOutput) []Lot {
	f.t.Helper()
	made, err := f.transform(process, in, out...)
	if err != nil {
		f.t.Fatal(err)
	}
	return made
}

// pack packs units of unitSize (in the lot's base unit) from a lot.
func (f *fixture) pack(lot Lot, units, unitSize int64) Lot {
	f.t.Helper()
	p, err := f.s.Pack(f.ctx, f.manager, f.coop, NewPacking{Lot: lot.Code, Units: units, BestBefore: "2027-12-31",
		Product: PackedProduct{SKU: "SKU-" + lot.ProductKind, Kind: lot.ProductKind, Cooperative: f.coop, UnitSize: unitSize, UnitSizeUnit: lot.Unit}})
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// ship takes units of a packed lot to a shop through the seam the shops'
// receipts use, inside Atomically as they do.
func (f *fixture) ship(code string, units int64, shop string) error {
	f.t.Helper()
	return f.s.store.db.Atomically(f.ctx, func(ctx context.Context) error {
		_, err := f.s.ShipUnits(ctx, code, units, shop, "shop@test")
		return err
	})
}

// tamper changes a lot's stored document behind the service's back, as
// someone with access to the database could.
func (f *fixture) tamper(code string, change func(*Lot)) {
	f.t.Helper()
	l, err := f.s.store.lotHead(f.ctx, code)
	if err != nil {
		f.t.Fatal(err)
	}
	change(&l)
	if _, err := f.s.store.db.Collection("lots").ReplaceOne(f.ctx, bson.M{"_id": code}, l); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) lot(code string) Lot {
	f.t.Helper()
	l, err := f.s.Lot(f.ctx, f.admin, code)
	if err != nil {
		f.t.Fatal(err)
	}
	return l
}

func g(n int64) Quantity  { return Quantity{Amount: n, Unit: "g"} }
func kg(n int64) Quantity { return Quantity{Amount: n, Unit: "kg"} }
func ml(n int64) Quantity { return Quantity{Amount: n, Unit: "ml"} }

func in(l Lot, q Quantity) []LotInput { return []LotInput{{Lot: l.Code, Quantity: q}} }
func out(kind string, q Quantity) LotOutput {
	return LotOutput{ProductKind: kind, Quantity: q}
}

// wantProblem fails unless err is a *problem.Error of code on field.
func wantProblem(t testing.TB, err error, code problem.Code, field string) *problem.Error {
	t.Helper()
	p, ok := problem.As(err)
	if !ok || p.Code != code || p.Field != field {
		t.Fatalf("error %v, want %s on %q", err, code, field)
	}
	return p
}
