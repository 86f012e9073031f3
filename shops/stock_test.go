package shops_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/internal/testworld"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
)

// fixture is a saffron cooperative whose 1 g jar (SAF-1G) TAROUDANNT sells
// at 120.00 MAD, and the managers of TAROUDANNT and AGADIR.
type fixture struct {
	w        *testworld.World
	coop     *testworld.Coop
	trd, agd access.Actor
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	w := testworld.New(t)
	f := fixture{w: w, trd: w.Shop("TAROUDANNT", shops.KindBoutique), agd: w.Shop("AGADIR", shops.KindBoutique)}
	f.coop = w.Cooperative("SIROUA", "saffron", 10_000)
	f.coop.Product("SAF-1G", "saffron_dried", 1, map[string]int64{"TAROUDANNT": 12000})
	return f
}

// packed dries a harvest and packs units of SAF-1G, best before the given
// number of days from the clock's today.
func (f fixture) packed(t *testing.T, units int64, bestIn int) traceability.Lot {
	t.Helper()
	l := f.coop.Lot("2025-10-28", units*5)
	out, err := f.w.Trace.Transform(context.Background(), f.coop.Manager, f.coop.Code, traceability.NewTransformation{Process: "drying",
		Inputs:  []traceability.LotInput{{Lot: l.Code, Quantity: traceability.Quantity{Amount: units * 5, Unit: "g"}}},
		Outputs: []traceability.LotOutput{{ProductKind: "saffron_dried", Quantity: traceability.Quantity{Amount: units, Unit: "g"}}}})
	if err != nil {
		t.Fatal(err)
	}
	day := f.w.Clock.Now().AddDate(0, 0, bestIn).Format(time.DateOnly)
	return f.coop.Pack(out[0].Code, "SAF-1G", units, day)
}

func (f fixture) receive(t *testing.T, shop, lot string, n int64) {
	t.Helper()
	if _, err := f.w.Stock.Receive(context.Background(), f.w.Admin, shop, shops.ReceiptRequest{Lot: lot, Units: n}); err != nil {
		t.Fatal(err)
	}
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

func moneyMAD(amount int64) catalog.Money { return catalog.Money{Amount: amount, Currency: "MAD"} }

func (f fixture) sell(shop string, actor access.Actor, sku string, n int64) (shops.Sale, error) {
	return f.w.Stock.Sell(context.Background(), actor, shop, shops.SaleRequest{Lines: []shops.Line{{SKU: sku, Units: n}}, Payment: "cash"})
}

func TestSalesTakeFirstExpiringLotsFirstAndNeverAnExpiredOne(t *testing.T) {
	f := newFixture(t)
	soon := f.packed(t, 5, 2)   // expires first
	later := f.packed(t, 5, 90) // then this one
	late := f.packed(t, 5, 400)
	for _, l := range []traceability.Lot{late, soon, later} {
		f.receive(t, "TAROUDANNT", l.Code, 5)
	}
	sale, err := f.sell("TAROUDANNT", f.trd, "SAF-1G", 7)
	if err != nil {
		t.Fatal(err)
	}
	got := sale.Lines[0].Lots
	if len(got) != 2 || got[0] != (shops.LotUnits{Lot: soon.Code, Units: 5}) || got[1] != (shops.LotUnits{Lot: later.Code, Units: 2}) {
		t.Fatalf("FEFO: %+v, want 5 of %s then 2 of %s", got, soon.Code, later.Code)
	}
	// A unit comes back to the first lot; three days on, that lot is
	// expired: nothing more is sold from it.
	if _, err := f.w.Stock.Return(context.Background(), f.trd, "TAROUDANNT", shops.ReturnRequest{Sale: sale.ID, Lot: soon.Code, Units: 1}); err != nil {
		t.Fatal(err)
	}
	f.w.Clock.Advance(3 * 24 * time.Hour)
	sale, err = f.sell("TAROUDANNT", f.trd, "SAF-1G", 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, lu := range sale.Lines[0].Lots {
		if lu.Lot == soon.Code {
			t.Fatalf("sold %d units of the expired lot %s", lu.Units, soon.Code)
		}
	}
	if u, _ := f.held(t, "TAROUDANNT", soon.Code); u != 1 {
		t.Fatalf("the expired lot holds %d units, want the 1 returned", u)
	}
	// More than the unexpired lots hold is refused on its line; nothing moves.
	before, _ := f.held(t, "TAROUDANNT", late.Code)
	_, err = f.sell("TAROUDANNT", f.trd, "SAF-1G", 100)
	if pe, ok := problem.As(err); !ok || pe.Code != problem.InsufficientStock || pe.Field != "lines[0].units" {
		t.Fatalf("oversell: %v", err)
	}
	if after, _ := f.held(t, "TAROUDANNT", late.Code); after != before {
		t.Fatalf("a refused sale moved stock: %d → %d", before, after)
	}
}

func TestASaleIsPricedByTheCatalogueOnly(t *testing.T) {
	f := newFixture(t)
	l := f.packed(t, 10, 300)
	f.receive(t, "TAROUDANNT", l.Code, 10)
	sale, err := f.sell("TAROUDANNT", f.trd, "saf-1g", 3)
	if err != nil {
		t.Fatal(err)
	}
	if sale.Currency != "MAD" || sale.Total != 36000 || sale.Lines[0].UnitPrice != 12000 || sale.Lines[0].Amount != 36000 {
		t.Fatalf("sale priced %+v", sale)
	}
	// A new price applies to the next sale.
	if _, err := f.w.Catalog.SetPrice(context.Background(), f.w.Admin, "SAF-1G", "TAROUDANNT", "MAD", moneyMAD(13000)); err != nil {
		t.Fatal(err)
	}
	if sale, err = f.sell("TAROUDANNT", f.trd, "SAF-1G", 1); err != nil || sale.Total != 13000 {
		t.Fatalf("after the new price: %+v %v", sale, err)
	}
	// A product the channel does not price, or that does not exist, is
	// refused on its line before anything moves.
	f.coop.Product("SAF-5G", "saffron_dried", 5, nil)
	for sku, want := range map[string]string{"SAF-5G": "%s has no price in %s", "NOPE": "no product %q in the catalogue"} {
		_, err := f.sell("TAROUDANNT", f.trd, sku, 1)
		if pe, ok := problem.As(err); !ok || pe.Field != "lines[0].sku" || pe.Key != want {
			t.Errorf("%s: %v, want %q on lines[0].sku", sku, err, want)
		}
	}
	// The quote a till shows is the same arithmetic, and marks what is not
	// priced.
	q, err := f.w.Stock.Quote(context.Background(), "TAROUDANNT", []shops.Line{{SKU: "SAF-1G", Units: 2}, {SKU: "SAF-5G", Units: 1}})
	if err != nil || q.Total != 26000 || q.Currency != "MAD" || !q.Lines[0].Priced || q.Lines[1].Priced || q.Lines[1].Amount != 0 {
		t.Fatalf("quote %+v %v", q, err)
	}
	// Only the shop's own manager sells: the admin and another shop's are refused.
	for _, who := range []access.Actor{f.w.Admin, f.agd} {
		if _, err := f.sell("TAROUDANNT", who, "SAF-1G", 1); !errors.Is(err, access.ErrForbidden) {
			t.Errorf("%s sells at TAROUDANNT: %v", who.Email, err)
		}
	}
}

func TestConcurrentTillsNeverSellBelowZero(t *testing.T) {
	f := newFixture(t)
	l := f.packed(t, 5, 300)
	f.receive(t, "TAROUDANNT", l.Code, 5)
	var wg sync.WaitGroup
	var mu sync.Mutex
	sold := 0
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.sell("TAROUDANNT", f.trd, "SAF-1G", 1); err == nil {
				mu.Lock()
				sold++
				mu.Unlock()
			} else if problem.CodeOf(err) != problem.InsufficientStock {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if u, _ := f.held(t, "TAROUDANNT", l.Code); sold != 5 || u != 0 {
		t.Fatalf("%d sales succeeded, %d units left; want 5 and 0", sold, u)
	}
	// Each sale read its shelf, balance, lot and lists ahead of the write
	// lock (readAhead), all at once: every one written before it had to be
	// read again, so the books still add up.
	if found, _, err := f.w.Stock.Verify(context.Background()); err != nil || len(found) != 0 {
		t.Fatalf("verify: %+v %v", found, err)
	}
	moves, err := f.w.Stock.Movements(context.Background(), f.trd, "TAROUDANNT", shops.MovementFilter{Lot: l.Code}, mongodb.Page{Limit: 100})
	if err != nil || len(moves) != 6 { // the receipt and five sales
		t.Fatalf("the lot's movements list %d (%v), want 6", len(moves), err)
	}
}

func TestATransferRecordsWhatArrived(t *testing.T) {
	f := newFixture(t)
	l := f.packed(t, 10, 300)
	f.receive(t, "TAROUDANNT", l.Code, 10)
	ctx := context.Background()
	// Sending is the shop's own act; more than is free is refused by line.
	if _, err := f.w.Stock.Send(ctx, f.w.Admin, "TAROUDANNT", "AGADIR", []shops.LotUnits{{Lot: l.Code, Units: 1}}); !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("the admin sends: %v", err)
	}
	if _, err := f.w.Stock.Send(ctx, f.trd, "TAROUDANNT", "AGADIR", []shops.LotUnits{{Lot: l.Code, Units: 11}}); problem.CodeOf(err) != problem.InsufficientStock {
		t.Fatalf("sending 11 of 10: %v", err)
	}
	tr, err := f.w.Stock.Send(ctx, f.trd, "TAROUDANNT", "AGADIR", []shops.LotUnits{{Lot: l.Code, Units: 4}})
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := f.held(t, "TAROUDANNT", l.Code); u != 6 {
		t.Fatalf("sender holds %d after sending 4 of 10", u)
	}
	if u, _ := f.held(t, "AGADIR", l.Code); u != 0 {
		t.Fatalf("receiver holds %d before the arrival", u)
	}
	// One jar broke on the way: 3 arrive, 1 is recorded missing.
	tr, err = f.w.Stock.ReceiveTransfer(ctx, f.agd, "AGADIR", tr.ID, []shops.LotUnits{{Lot: l.Code, Units: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status == shops.TransferInTransit || tr.Lines[0].Received != 3 || tr.Lines[0].Missing != 1 {
		t.Fatalf("arrival recorded %+v", tr)
	}
	if u, _ := f.held(t, "AGADIR", l.Code); u != 3 {
		t.Fatalf("receiver holds %d, want 3", u)
	}
	if _, err := f.w.Stock.ReceiveTransfer(ctx, f.agd, "AGADIR", tr.ID, nil); problem.CodeOf(err) != problem.Conflict {
		t.Fatalf("a transfer received twice: %v", err)
	}
	// Every balance is the sum of its movements.
	if found, _, err := f.w.Stock.Verify(ctx); err != nil || len(found) != 0 {
		t.Fatalf("verify: %+v %v", found, err)
	}
}

func TestACountBooksTheDifferencesAndCountsReservedUnits(t *testing.T) {
	f := newFixture(t)
	a, b := f.packed(t, 10, 300), f.packed(t, 10, 300)
	f.receive(t, "TAROUDANNT", a.Code, 10)
	f.receive(t, "TAROUDANNT", b.Code, 10)
	ctx := context.Background()
	if _, err := f.w.Stock.ApplyCount(ctx, f.trd, "TAROUDANNT", []shops.CountLine{{Lot: a.Code, Counted: 8}, {Lot: a.Code, Counted: 9}}, "inventaire"); problem.CodeOf(err) != problem.Invalid {
		t.Fatalf("a lot counted twice: %v", err)
	}
	ms, err := f.w.Stock.ApplyCount(ctx, f.trd, "TAROUDANNT", []shops.CountLine{{Lot: a.Code, Counted: 8}, {Lot: b.Code, Counted: 10}}, "inventaire de fin de mois")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Lot != a.Code || ms[0].Units != -2 || ms[0].Kind != shops.MoveAdjustment || ms[0].ID == "" {
		t.Fatalf("count booked %+v, want one adjustment of −2 on %s", ms, a.Code)
	}
	if u, _ := f.held(t, "TAROUDANNT", a.Code); u != 8 {
		t.Fatalf("after the count: %d", u)
	}
	// Units reserved for an online order must be counted too: a count below
	// them is refused, nothing changes.
	if _, err := f.w.Stock.Reserve(ctx, "TAROUDANNT", []shops.Line{{SKU: "SAF-1G", Units: 3}}); err != nil {
		t.Fatal(err)
	}
	reservedLot := a.Code
	if _, r := f.held(t, "TAROUDANNT", b.Code); r > 0 {
		reservedLot = b.Code
	}
	if _, err := f.w.Stock.ApplyCount(ctx, f.trd, "TAROUDANNT", []shops.CountLine{{Lot: reservedLot, Counted: 1}}, "x"); err == nil {
		t.Fatal("a count below the reserved units was applied")
	}
}

func TestEveryStockChangeIsAnnounced(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	var got []string
	f.w.Stock.OnChange(func(shop, sku string) {
		mu.Lock()
		got = append(got, shop+"/"+sku)
		mu.Unlock()
	})
	l := f.packed(t, 10, 300)
	f.receive(t, "TAROUDANNT", l.Code, 10)
	if _, err := f.sell("TAROUDANNT", f.trd, "SAF-1G", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := f.w.Stock.Send(context.Background(), f.trd, "TAROUDANNT", "AGADIR", []shops.LotUnits{{Lot: l.Code, Units: 2}}); err != nil {
		t.Fatal(err)
	}
	// A refused change announces nothing.
	_, _ = f.sell("TAROUDANNT", f.trd, "SAF-1G", 1000)
	mu.Lock()
	defer mu.Unlock()
	want := []string{"TAROUDANNT/SAF-1G", "TAROUDANNT/SAF-1G", "TAROUDANNT/SAF-1G"}
	if len(got) != len(want) {
		t.Fatalf("announced %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("announced %v, want %v", got, want)
		}
	}
}
