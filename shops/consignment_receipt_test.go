package shops

import (
	"context"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
)

// TestReceiptOfAConsignment: the platform receives the jars of a declared
// consignment; its movement refers to the consignment, which counts them,
// and a receipt beyond what was declared, or at another shop, changes
// nothing.
func TestReceiptOfAConsignment(t *testing.T) {
	ctx := context.Background()
	db := mongotest.New(t)
	if err := db.EnsureIndexes(ctx, append(traceability.Indexes(), Indexes()...)); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 11, 15, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	trace := traceability.NewService(traceability.NewStore(db), clock)
	shops := NewService(NewStore(db), clock)
	stock := NewStock(NewStore(db), trace, clock, nil)
	admin := access.Actor{UserID: "adm", Email: "admin@test", Role: access.Admin}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := trace.CreateCooperative(ctx, admin, traceability.Cooperative{Code: "SIROUA", Name: "Siroua", Kind: "saffron", Commune: "Taliouine", Province: "Taroudannt"})
	must(err)
	m, err := trace.AddMember(ctx, admin, "SIROUA", traceability.Member{Name: "Fatima", Gender: "female", Village: "Siroua"})
	must(err)
	p, err := trace.AddParcel(ctx, admin, "SIROUA", traceability.NewParcel{Name: "Tamazirt", Member: m.ID, Commune: "Taliouine", AreaM2: 100_000,
		Crop: "saffron", Location: traceability.Geometry{Type: "Point", Coordinates: []byte(`[-7.92,30.53]`)}})
	must(err)
	cert, err := trace.CreateCertification(ctx, admin, traceability.NewCertification{Holder: "SIROUA", Scheme: "EU organic", Body: "Ecocert Maroc",
		BodyCode: "MA-BIO-154", Number: "BIO-7", ValidFrom: "2025-01-01", ValidTo: "2026-12-31"})
	must(err)
	h, err := trace.AddHarvest(ctx, admin, "SIROUA", traceability.NewHarvest{Parcel: p.ID, Member: m.ID, Date: "2025-10-28", Crop: "saffron",
		Quantity: traceability.Quantity{Amount: 500, Unit: "g"}})
	must(err)
	fresh, err := trace.CreateOriginLot(ctx, admin, "SIROUA", traceability.NewOriginLot{ProductKind: "saffron", Harvests: []string{h.ID}})
	must(err)
	dried, err := trace.Transform(ctx, admin, "SIROUA", traceability.NewTransformation{Process: "drying",
		Inputs:  []traceability.LotInput{{Lot: fresh.Code, Quantity: traceability.Quantity{Amount: 500, Unit: "g"}}},
		Outputs: []traceability.LotOutput{{ProductKind: "saffron_dried", Quantity: traceability.Quantity{Amount: 100, Unit: "g"}}}})
	must(err)
	jars, err := trace.Pack(ctx, admin, "SIROUA", traceability.NewPacking{Lot: dried[0].Code, Units: 60, BestBefore: "2027-12-31",
		Product: traceability.PackedProduct{SKU: "SAF-1G", Kind: "saffron_dried", Cooperative: "SIROUA", UnitSize: 1000, UnitSizeUnit: traceability.Milligram}})
	must(err)
	for _, sh := range []Shop{{Code: "EU-PLATFORM", Name: "Plateforme", City: "Lyon", Currency: "EUR", Kind: KindPlatform},
		{Code: "TAROUDANNT", Name: "Boutique", City: "Taroudannt", Currency: "MAD", Kind: KindBoutique}} {
		_, err := shops.CreateShop(ctx, admin, sh)
		must(err)
	}
	c, err := trace.CreateConsignment(ctx, admin, traceability.NewConsignment{Cooperative: "SIROUA",
		Consignee:   traceability.Operator{Name: "Plateforme", Address: "Lyon", Country: "FR"},
		Destination: "EU-PLATFORM", ShippingDate: "2025-11-20", Certificate: cert.ID,
		Transport: traceability.Transport{Mode: "road", Identification: "TIR 1"},
		Lines: []traceability.NewConsignmentLine{{Lot: jars.Code, Units: 40, Packages: 1,
			GrossMass: traceability.Quantity{Amount: 2, Unit: "kg"}}}})
	must(err)

	platform := access.Actor{UserID: "plt", Email: "plateforme@test", Role: access.ShopManager, Org: "EU-PLATFORM"}
	b, err := stock.Receive(ctx, platform, "EU-PLATFORM", ReceiptRequest{Lot: jars.Code, Units: 30, Consignment: c.ID})
	must(err)
	if b.Units != 30 {
		t.Fatalf("balance %+v", b)
	}
	moves, err := stock.Movements(ctx, platform, "EU-PLATFORM", MovementFilter{}, mongodb.Page{Limit: 10})
	must(err)
	if len(moves) != 1 || moves[0].Consignment != c.ID || moves[0].Kind != MoveReceipt {
		t.Errorf("movements %+v", moves)
	}
	got, err := trace.Consignment(ctx, admin, c.ID)
	must(err)
	if got.Lines[0].ReceivedUnits != 30 || len(got.Receipts) != 1 || got.Status != traceability.ConsignmentDeclared {
		t.Errorf("consignment %+v", got)
	}
	// More than declared, or at a shop it is not bound for: refused, and
	// neither the lot, the balance nor the consignment changed.
	_, err = stock.Receive(ctx, platform, "EU-PLATFORM", ReceiptRequest{Lot: jars.Code, Units: 11, Consignment: c.ID})
	if p, ok := problem.As(err); !ok || p.Code != problem.Conflict || p.Field != "units" {
		t.Errorf("beyond the declared units: %v", err)
	}
	_, err = stock.Receive(ctx, admin, "TAROUDANNT", ReceiptRequest{Lot: jars.Code, Units: 5, Consignment: c.ID})
	if p, ok := problem.As(err); !ok || p.Code != problem.Invalid || p.Field != "consignment" {
		t.Errorf("at another shop: %v", err)
	}
	l, err := trace.Lot(ctx, admin, jars.Code)
	must(err)
	again, err := trace.Consignment(ctx, admin, c.ID)
	must(err)
	if l.Available != 30 || again.Lines[0].ReceivedUnits != 30 {
		t.Errorf("after refusals: lot available %d, received %d", l.Available, again.Lines[0].ReceivedUnits)
	}
	// The rest arrives; a receipt without a consignment still works.
	_, err = stock.Receive(ctx, platform, "EU-PLATFORM", ReceiptRequest{Lot: jars.Code, Units: 10, Consignment: c.ID})
	must(err)
	_, err = stock.Receive(ctx, admin, "TAROUDANNT", ReceiptRequest{Lot: jars.Code, Units: 5})
	must(err)
	done, err := trace.Consignment(ctx, admin, c.ID)
	must(err)
	if done.Status != traceability.ConsignmentReceived {
		t.Errorf("status %s", done.Status)
	}
	if found, _, err := trace.Verify(ctx, nil); err != nil || len(found) != 0 {
		t.Errorf("verify: %v %+v", err, found)
	}
	if found, _, err := stock.Verify(ctx); err != nil || len(found) != 0 {
		t.Errorf("shop verify: %v %+v", err, found)
	}
}
