package traceability

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestLongHistoryIsSealedInBlocks sells a packed lot 100 times: the lot's
// document keeps at most eventBlock events, the older ones are sealed in
// blocks, and the history read back is whole, in order, with its chain
// intact — through the lot's page, the streaming read and the audit.
func TestLongHistoryIsSealedInBlocks(t *testing.T) {
	f := newFixture(t)
	fresh := f.originLot("saffron", g(500))
	dried := f.mustTransform("drying", in(fresh, g(500)), out("saffron_dried", g(100)))[0]
	jars := f.pack(dried, 50, 1000)
	if err := f.ship(jars.Code, 40, "TAROUDANNT"); err != nil {
		t.Fatal(err)
	}
	const sales = 100
	for range sales {
		if err := f.s.store.db.Atomically(f.ctx, func(ctx context.Context) error {
			return f.s.RecordCustody(ctx, jars.Code, EventSold, 0, "TAROUDANNT", "shop@test")
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Stored: a bounded document and sealed blocks.
	doc, err := f.s.store.lotHead(f.ctx, jars.Code) // the document alone
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Events) == 0 || len(doc.Events) > eventBlock || doc.Sealed%eventBlock != 0 || doc.Sealed+int64(len(doc.Events)) != doc.Seq {
		t.Fatalf("lot document holds %d events, sealed %d, seq %d", len(doc.Events), doc.Sealed, doc.Seq)
	}
	blocks, err := f.s.store.db.Collection("lot_events").CountDocuments(f.ctx, bson.M{"lot": jars.Code})
	if err != nil || blocks != doc.Sealed/eventBlock || blocks < 3 {
		t.Fatalf("%d blocks for %d sealed events (%v)", blocks, doc.Sealed, err)
	}
	// Read back whole.
	l := f.lot(jars.Code)
	if int64(len(l.Events)) != l.Seq || l.Seq < sales {
		t.Fatalf("read %d events of %d", len(l.Events), l.Seq)
	}
	if at, err := VerifyChain(l.Events); err != nil {
		t.Fatalf("chain broken at %d: %v", at, err)
	}
	sold := 0
	for _, e := range l.Events {
		if e.Type == EventSold {
			sold++
		}
	}
	if sold != sales {
		t.Fatalf("%d sold events read, want %d", sold, sales)
	}
	streamed := 0
	if err := f.s.store.eachLot(f.ctx, func(x Lot) error {
		if x.Code == jars.Code {
			streamed = len(x.Events)
			if _, err := VerifyChain(x.Events); err != nil {
				return err
			}
		}
		return nil
	}); err != nil || streamed != len(l.Events) {
		t.Fatalf("streamed %d events (%v), want %d", streamed, err, len(l.Events))
	}
	checkVerify(t, f)
}

// TestOldLotDocumentIsSealedAtItsNextAppend: a lot written before blocks
// existed holds its whole history in its document; it reads as before and
// the next event seals its full blocks, losing nothing.
func TestOldLotDocumentIsSealedAtItsNextAppend(t *testing.T) {
	f := newFixture(t)
	code, err := NewLotCode("saffron_dried")
	if err != nil {
		t.Fatal(err)
	}
	l := Lot{Code: code, Cooperative: f.coop, ProductKind: "saffron_dried", Source: SourcePacking, Quantity: 500, Available: 500,
		Unit: Piece, Origin: []OriginLine{}, Inputs: []EventRef{}, Outputs: []EventRef{}, Claims: []Claim{}, Flags: []Flag{}}
	for range 70 {
		l.appendEvent(Event{Type: EventSold, At: f.s.now(), Actor: "shop@test", Place: "TAROUDANNT"})
	}
	if _, err := f.s.store.db.Collection("lots").InsertOne(f.ctx, l); err != nil {
		t.Fatal(err)
	}
	if got := f.lot(l.Code); len(got.Events) != 70 {
		t.Fatalf("old document reads %d events", len(got.Events))
	}
	if err := f.s.store.db.Atomically(f.ctx, func(ctx context.Context) error {
		return f.s.RecordCustody(ctx, l.Code, EventReturned, 1, "TAROUDANNT", "shop@test")
	}); err != nil {
		t.Fatal(err)
	}
	got := f.lot(l.Code)
	if len(got.Events) != 71 || got.Sealed != 64 || got.Events[70].Type != EventReturned {
		t.Fatalf("after one append: %d events, sealed %d", len(got.Events), got.Sealed)
	}
	if at, err := VerifyChain(got.Events); err != nil {
		t.Fatalf("chain broken at %d: %v", at, err)
	}
}
