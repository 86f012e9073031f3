package web_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/web/webtest"
)

// TestRecoverUndoesHalfDoneWork stages what a process killed mid-way
// leaves on the embedded store — a payment whose sale movement was written
// but not the order's status, a till sale's movement without the sale, a
// balance and shelf not updated — and checks that recovery brings the
// ledger back, keeps the reservation of the still-pending order, and that
// Stripe's redelivery then pays the order once.
func TestRecoverUndoesHalfDoneWork(t *testing.T) {
	e := webtest.New(t)
	f := newPlatform(t, e) // 20 jars at the EU platform
	_, o := placeOrder(t, e, 2, "")
	ctx := context.Background()
	bal := f.packed.Code
	// Half of a payment: the sale movement, and the balance already moved
	// (units −2, reserved −2), but not the order, not the event.
	if _, err := e.Store.Collection("movements").InsertOne(ctx, shops.Movement{ID: "mov_half", Shop: "EU-PLATFORM", Lot: bal, SKU: "SAF-1G",
		Kind: shops.MoveSale, Units: -2, Ref: o.ID, Actor: "stripe", At: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	// A till sale that died after its movement, before its balance and its
	// sale document.
	if _, err := e.Store.Collection("movements").InsertOne(ctx, shops.Movement{ID: "mov_orphan", Shop: "EU-PLATFORM", Lot: bal, SKU: "SAF-1G",
		Kind: shops.MoveSale, Units: -1, Ref: "sal_never_written", Actor: "x", At: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.Collection("balances").UpdateOne(ctx, bson.M{"_id": "EU-PLATFORM|" + bal}, bson.M{"$inc": bson.M{"units": -2, "reserved": -2}}); err != nil {
		t.Fatal(err)
	}
	if found, _, _ := e.Stock.Verify(ctx); len(found) == 0 {
		t.Fatal("the staged crash should break the ledger")
	}
	rep, err := e.Orders.Recover(ctx)
	if err != nil || rep.MovementsDeleted != 2 || rep.BalancesFixed != 1 {
		t.Fatalf("recover: %+v %v", rep, err)
	}
	if u, r := platformStock(t, e, f.eu); u != 20 || r != 2 {
		t.Fatalf("after recovery: %d units, %d reserved; want 20 and the pending order's 2", u, r)
	}
	checkShopLedger(t, e)
	if again, err := e.Orders.Recover(ctx); err != nil || again != (shops.RepairReport{}) {
		t.Fatalf("recovery is not idempotent: %+v %v", again, err)
	}
	// Stripe redelivers the payment it never got an answer to: paid once.
	if st := webhookEvent(t, e, "", "checkout.session.completed", o.ID, "pi_redelivered", time.Now(), webtest.WebhookSecret); st != 200 {
		t.Fatalf("redelivery: %d", st)
	}
	if u, r := platformStock(t, e, f.eu); u != 18 || r != 0 {
		t.Fatalf("after the redelivered payment: %d units, %d reserved", u, r)
	}
	checkShopLedger(t, e)
}
