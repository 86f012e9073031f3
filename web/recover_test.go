package web_test

import (
	"os"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/web/webtest"
)

// TestFailedPaymentWriteLeavesNothingHalfDone fails each write of a
// payment webhook in turn (what a full disk does to one write) and checks
// that nothing of it stays — the order pending, its units still reserved,
// the ledger whole — and that Stripe's redelivery then pays the order once.
// Crashes (the process killed at each write) are proven in
// cmd/terroir/crash_test.go and under load in cmd/terroir-load.
func TestFailedPaymentWriteLeavesNothingHalfDone(t *testing.T) {
	if os.Getenv("MONGODB_URI") != "" {
		t.Skip("faults are injected into the embedded store's journal; a replica set's transactions abort on their own")
	}
	e := webtest.New(t)
	f := newPlatform(t, e) // 20 jars at the EU platform
	_, o := placeOrder(t, e, 2, "")
	for n := 1; ; n++ {
		e.Store.InjectWriteFault(n, mongodb.FailWrite)
		st := webhookEvent(t, e, "", "checkout.session.completed", o.ID, "pi_redelivered", time.Now(), webtest.WebhookSecret)
		fired, _ := e.Store.FaultFired()
		e.Store.InjectWriteFault(0, 0)
		if !fired {
			if st != 200 || n < 5 {
				t.Fatalf("payment without a fault: %d after %d write points", st, n-1)
			}
			break
		}
		if st == 200 {
			// Only the journal cleanup after the commit may fail and
			// still acknowledge; the payment is then whole.
			if u, r := platformStock(t, e, f.eu); u != 18 || r != 0 {
				t.Fatalf("write %d: acknowledged payment left %d units, %d reserved", n, u, r)
			}
			checkShopLedger(t, e)
			return
		}
		if u, r := platformStock(t, e, f.eu); u != 20 || r != 2 {
			t.Fatalf("write %d failed: %d units, %d reserved; want 20 and the pending order's 2", n, u, r)
		}
		checkShopLedger(t, e)
	}
	if u, r := platformStock(t, e, f.eu); u != 18 || r != 0 {
		t.Fatalf("after the redelivered payment: %d units, %d reserved", u, r)
	}
	checkShopLedger(t, e)
	// A second delivery of the same payment changes nothing.
	if st := webhookEvent(t, e, "", "checkout.session.completed", o.ID, "pi_redelivered", time.Now(), webtest.WebhookSecret); st != 200 {
		t.Fatalf("second delivery: %d", st)
	}
	if u, r := platformStock(t, e, f.eu); u != 18 || r != 0 {
		t.Fatalf("paid twice: %d units, %d reserved", u, r)
	}
}
