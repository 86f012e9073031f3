package orders_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/internal/testworld"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/webtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	webtest.StopStripeMock()
	os.Exit(code)
}

// fixture is the EU platform holding 10 jars of one packed lot (SAF-1G,
// 12.00 EUR there, 120.00 MAD at TAROUDANNT, which holds 10 jars of another
// lot), and the orders service paying through stripe-mock.
type fixture struct {
	w            *testworld.World
	orders       *orders.Service
	eu, trd      access.Actor
	euLot, trLot traceability.Lot
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	w := testworld.New(t)
	f := fixture{w: w, eu: w.Shop("EU-PLATFORM", shops.KindPlatform), trd: w.Shop("TAROUDANNT", shops.KindBoutique)}
	c := w.Cooperative("SIROUA", "saffron", 10_000)
	c.Product("SAF-1G", "saffron_dried", 1, map[string]int64{"EU-PLATFORM": 1200, "TAROUDANNT": 12000})
	ctx := context.Background()
	pack := func() traceability.Lot {
		l := c.Lot("2025-10-28", 50)
		out, err := w.Trace.Transform(ctx, c.Manager, c.Code, traceability.NewTransformation{Process: "drying",
			Inputs:  []traceability.LotInput{{Lot: l.Code, Quantity: traceability.Quantity{Amount: 50, Unit: "g"}}},
			Outputs: []traceability.LotOutput{{ProductKind: "saffron_dried", Quantity: traceability.Quantity{Amount: 10, Unit: "g"}}}})
		if err != nil {
			t.Fatal(err)
		}
		return c.Pack(out[0].Code, "SAF-1G", 10, w.Clock.Now().AddDate(1, 0, 0).Format(time.DateOnly))
	}
	f.euLot, f.trLot = pack(), pack()
	for shop, lot := range map[string]string{"EU-PLATFORM": f.euLot.Code, "TAROUDANNT": f.trLot.Code} {
		if _, err := w.Stock.Receive(ctx, w.Admin, shop, shops.ReceiptRequest{Lot: lot, Units: 10}); err != nil {
			t.Fatal(err)
		}
	}
	payments := orders.NewStripe("sk_test_terroir", webtest.WebhookSecret, webtest.StripeMock(t), nil)
	f.orders = orders.NewService(orders.NewStore(w.Store), w.Catalog, w.Shops, w.Stock, payments, orders.Config{PublicURL: "https://terroir.test"}, w.Clock.Now)
	return f
}

var customer = orders.Customer{Email: "claire@example.fr", Name: "Claire Martin",
	Address: orders.Address{Line1: "3 rue des Lilas", PostalCode: "69003", City: "Lyon", Country: "FR"}}

func (f fixture) order(t *testing.T, units int64) orders.Order {
	t.Helper()
	p, _, err := f.orders.Create(context.Background(), orders.NewOrder{Channel: "EU-PLATFORM", Customer: customer,
		Lines: []orders.OrderLine{{SKU: "SAF-1G", Units: units}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	return p.Order
}

// held is what a shop holds of a lot: units and reserved.
func (f fixture) held(t *testing.T, shop, lot string) (int64, int64) {
	t.Helper()
	lines, err := f.w.Stock.StockOf(context.Background(), f.w.Admin, shop)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if l.Lot == lot {
			return l.Units, l.Reserved
		}
	}
	return 0, 0
}

func (f fixture) status(t *testing.T, id string) string {
	t.Helper()
	o, err := f.orders.Order(context.Background(), f.w.Admin, id, "")
	if err != nil {
		t.Fatal(err)
	}
	return o.Status
}

func TestAnOrderReservesItsJarsUntilItsTimeRunsOut(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	o := f.order(t, 3)
	if o.Status != orders.StatusPendingPayment || o.Total.Amount != 3600 || o.Total.Currency != "EUR" || o.CheckoutURL == "" {
		t.Fatalf("placed %+v: want 36.00 EUR, pending, with a payment page", o)
	}
	if len(o.Lines) != 1 || o.Lines[0].UnitPrice != 1200 || len(o.Lines[0].Lots) != 1 || o.Lines[0].Lots[0] != (shops.LotUnits{Lot: f.euLot.Code, Units: 3}) {
		t.Fatalf("lines %+v: priced from the catalogue, reserved on the platform's lot", o.Lines)
	}
	if u, r := f.held(t, "EU-PLATFORM", f.euLot.Code); u != 10 || r != 3 {
		t.Fatalf("platform holds %d with %d reserved, want 10 and 3", u, r)
	}
	// Not yet due: the sweeper leaves it.
	// (Three of ten jars leave the shelf nearly sold out, so the order holds
	// them for the contended hold rather than the full reservation.)
	f.w.Clock.Advance(o.ExpiresAt.Sub(f.w.Clock.Now()) - time.Minute)
	if n, err := f.orders.ExpireDue(ctx); err != nil || n != 0 {
		t.Fatalf("expired %d (%v) before the time", n, err)
	}
	// Past its time: expired, the jars free again.
	f.w.Clock.Advance(2 * time.Minute)
	if n, err := f.orders.ExpireDue(ctx); err != nil || n != 1 {
		t.Fatalf("expired %d (%v), want 1", n, err)
	}
	if st := f.status(t, o.ID); st != orders.StatusExpired {
		t.Fatalf("status %s", st)
	}
	if _, r := f.held(t, "EU-PLATFORM", f.euLot.Code); r != 0 {
		t.Fatalf("%d jars still reserved after expiry", r)
	}
	if n, _ := f.orders.ExpireDue(ctx); n != 0 {
		t.Fatalf("an order expired twice")
	}
}

func TestOrdersRacingForTheLastJarsReserveNoMoreThanThereAre(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	placed := 0
	for range 14 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := f.orders.Create(context.Background(), orders.NewOrder{Channel: "EU-PLATFORM", Customer: customer,
				Lines: []orders.OrderLine{{SKU: "SAF-1G", Units: 1}}}, "")
			switch {
			case err == nil:
				mu.Lock()
				placed++
				mu.Unlock()
			case problem.CodeOf(err) != problem.InsufficientStock:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, r := f.held(t, "EU-PLATFORM", f.euLot.Code); placed != 10 || r != 10 {
		t.Fatalf("%d orders placed, %d reserved; want 10 and 10", placed, r)
	}
}

func TestAPaymentIsAppliedOnceAndALateOneIsRefunded(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	o := f.order(t, 3)
	paid := orders.Event{ID: "evt_pay_1", Type: orders.EventCheckoutCompleted, OrderID: o.ID, PaymentIntent: "pi_1", Created: f.w.Clock.Now(),
		PaymentStatus: "paid", AmountTotal: o.Total.Amount, Currency: o.Total.Currency}
	if err := f.orders.HandleEvent(ctx, paid); err != nil {
		t.Fatal(err)
	}
	if err := f.orders.HandleEvent(ctx, paid); !errors.Is(err, orders.ErrDuplicateEvent) {
		t.Fatalf("the same event twice: %v", err)
	}
	if st := f.status(t, o.ID); st != orders.StatusPaid {
		t.Fatalf("status %s", st)
	}
	if u, r := f.held(t, "EU-PLATFORM", f.euLot.Code); u != 7 || r != 0 {
		t.Fatalf("after payment the platform holds %d (%d reserved), want 7 and 0", u, r)
	}
	// A second completion of the same order (another event ID) changes nothing.
	if err := f.orders.HandleEvent(ctx, orders.Event{ID: "evt_pay_2", Type: orders.EventCheckoutCompleted, OrderID: o.ID, PaymentIntent: "pi_1",
		PaymentStatus: "paid", AmountTotal: o.Total.Amount, Currency: o.Total.Currency}); err != nil {
		t.Fatal(err)
	}
	if u, _ := f.held(t, "EU-PLATFORM", f.euLot.Code); u != 7 {
		t.Fatalf("a second completion sold again: %d units", u)
	}
	// The confirmation is in the outbox once.
	emails, err := f.orders.Outbox(ctx, f.eu, "EU-PLATFORM", mongodb.Page{Limit: 10})
	if err != nil || len(emails) != 1 || emails[0].To != customer.Email {
		t.Fatalf("outbox %+v %v", emails, err)
	}
	// An order paid after its time ran out is refunded, never marked paid.
	late := f.order(t, 2)
	f.w.Clock.Advance(orders.ReservationTTL + time.Minute)
	if _, err := f.orders.ExpireDue(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.orders.HandleEvent(ctx, orders.Event{ID: "evt_late", Type: orders.EventCheckoutCompleted, OrderID: late.ID, PaymentIntent: "pi_late",
		PaymentStatus: "paid", AmountTotal: late.Total.Amount, Currency: late.Total.Currency}); err != nil {
		t.Fatal(err)
	}
	if st := f.status(t, late.ID); st != orders.StatusRefunded {
		t.Fatalf("late payment left the order %s", st)
	}
	if u, r := f.held(t, "EU-PLATFORM", f.euLot.Code); u != 7 || r != 0 {
		t.Fatalf("a late payment moved stock: %d (%d reserved)", u, r)
	}
}

func TestAStatementCountsEachSaleInItsMonth(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sell := func(at time.Time, units int64) {
		t.Helper()
		f.w.Clock.Set(at)
		if _, err := f.w.Stock.Sell(ctx, f.trd, "TAROUDANNT", shops.SaleRequest{Lines: []shops.Line{{SKU: "SAF-1G", Units: units}}, Payment: "cash"}); err != nil {
			t.Fatal(err)
		}
	}
	// One sale in the last minute of March, one in the first of April
	// (UTC): the month boundary is tested by moving the clock, not by luck.
	march := time.Date(2026, time.March, 31, 23, 59, 0, 0, time.UTC)
	sell(march, 2)
	sell(march.Add(2*time.Minute), 3)
	for month, want := range map[string]int64{"2026-03": 2, "2026-04": 3, "2026-05": 0} {
		st, err := f.orders.Statement(ctx, f.w.Admin, "SIROUA", month)
		if err != nil {
			t.Fatal(err)
		}
		var units, gross, share, margin int64
		for _, l := range st.Lines {
			units += l.Units
			gross += l.Gross
			share += l.ProducerShare
			margin += l.ShopMargin
		}
		if units != want || gross != want*12000 || share+margin != gross {
			t.Errorf("%s: %d units, gross %d, share %d + margin %d; want %d units at 120.00 MAD", month, units, gross, share, margin, want)
		}
		// The default agreement: 70 % to the cooperative.
		if want > 0 && share != want*12000*70/100 {
			t.Errorf("%s: producer share %d, want 70 %% of %d", month, share, gross)
		}
	}
	// Closing March records it; closing it again is refused.
	if _, err := f.orders.CloseStatement(ctx, f.w.Admin, "SIROUA", "2026-03"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.orders.CloseStatement(ctx, f.w.Admin, "SIROUA", "2026-03"); problem.CodeOf(err) != problem.Conflict {
		t.Fatalf("closing a month twice: %v", err)
	}
	// Statements are the cooperative's, its auditors' and the admin's.
	other := access.Actor{UserID: "u", Email: "x@coop", Role: access.CoopManager, Org: "TIZNIT"}
	if _, err := f.orders.Statement(ctx, other, "SIROUA", "2026-03"); !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("another cooperative reads the statement: %v", err)
	}
}
