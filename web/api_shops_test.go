package web_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/web/webtest"
)

// shopFixture: the packed saffron of newPackedSaffron, two shops with a
// manager each, and a price in each.
type shopFixture struct {
	packedSaffron
	trd, aga string // managers' tokens
}

func newShops(t *testing.T, e *webtest.Env, serials bool) shopFixture {
	t.Helper()
	f := shopFixture{packedSaffron: newPackedSaffron(t, e, serials)}
	for _, sh := range []map[string]string{
		{"code": "TAROUDANNT", "name": "Boutique solidaire de Taroudannt", "city": "Taroudannt", "currency": "MAD", "kind": "boutique"},
		{"code": "AGADIR", "name": "Boutique solidaire d'Agadir", "city": "Agadir", "currency": "MAD", "kind": "boutique"},
		{"code": "EU-PLATFORM", "name": "Plateforme européenne", "city": "France", "currency": "EUR", "kind": "platform"},
	} {
		if st := e.JSON("POST", "/api/v1/shops", e.AdminToken, sh, nil); st != 201 {
			t.Fatalf("shop %s: %d", sh["code"], st)
		}
	}
	f.trd = e.User("trd@shop.ma", access.ShopManager, "TAROUDANNT")
	f.aga = e.User("aga@shop.ma", access.ShopManager, "AGADIR")
	for ch, amount := range map[string]int64{"TAROUDANNT": 12000, "AGADIR": 12500} {
		if st := e.JSON("PUT", "/api/v1/products/SAF-1G/prices/"+ch, e.AdminToken, map[string]any{"amount": amount, "currency": "MAD"}, nil); st != 200 {
			t.Fatalf("price in %s: %d", ch, st)
		}
	}
	return f
}

func (f shopFixture) receive(t *testing.T, e *webtest.Env, token, shop string, units int64) int {
	t.Helper()
	return e.JSON("POST", "/api/v1/shops/"+shop+"/receipts", token, map[string]any{"lot": f.packed.Code, "units": units}, nil)
}

func checkShopLedger(t *testing.T, e *webtest.Env) {
	t.Helper()
	found, n, err := e.Stock.Verify(context.Background())
	if err != nil || len(found) != 0 {
		t.Fatalf("shops verify: %d balances, %+v, %v", n, found, err)
	}
	checkVerify(t, e)
}

func TestReceiptsAreBoundedByTheLot(t *testing.T) {
	e := webtest.New(t)
	f := newShops(t, e, false)
	var apiErr webtest.APIError
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/receipts", f.trd, map[string]any{"lot": f.packed.Code, "units": 21}, &apiErr); st != 409 || apiErr.Error.Code != "insufficient_stock" {
		t.Fatalf("receipt beyond the lot: %d %+v", st, apiErr)
	}
	if st := f.receive(t, e, f.trd, "TAROUDANNT", 12); st != 201 {
		t.Fatalf("receipt: %d", st)
	}
	// The same units can never be received twice across the network.
	if st := f.receive(t, e, f.aga, "AGADIR", 9); st != 409 {
		t.Fatalf("Agadir receives more than is left: %d", st)
	}
	if st := f.receive(t, e, f.aga, "AGADIR", 8); st != 201 {
		t.Fatalf("Agadir receives the rest: %d", st)
	}
	if st := f.receive(t, e, f.trd, "AGADIR", 1); st != 403 {
		t.Fatalf("Taroudannt's manager receives into Agadir: %d", st)
	}
	if st := e.JSON("GET", "/api/v1/shops/AGADIR/stock", f.trd, nil, nil); st != 403 {
		t.Fatalf("Taroudannt's manager reads Agadir's stock: %d", st)
	}
	var stock []map[string]any
	if st := e.JSON("GET", "/api/v1/shops/TAROUDANNT/stock", f.trd, nil, &stock); st != 200 || len(stock) != 1 ||
		stock[0]["units"] != 12.0 || stock[0]["reserved"] != 0.0 || stock[0]["best_before"] != "2028-12-31" || stock[0]["sku"] != "SAF-1G" {
		t.Fatalf("stock: %d %v", st, stock)
	}
	if l := getLot(t, e, f.f.manager, f.packed.Code); l.Available.Amount != 0 {
		t.Fatalf("packed lot available after receipts: %d", l.Available.Amount)
	}
	checkShopLedger(t, e)
}

func TestTillSaleTakesFEFOLotsAndPricesFromTheCatalogue(t *testing.T) {
	e := webtest.New(t)
	f := newShops(t, e, false)
	f.receive(t, e, f.trd, "TAROUDANNT", 5)
	var sale struct {
		ID    string `json:"id"`
		Lines []struct {
			SKU   string `json:"sku"`
			Units int64  `json:"units"`
			Lots  []struct {
				Lot   string `json:"lot"`
				Units int64  `json:"units"`
			} `json:"lots"`
		} `json:"lines"`
		Total struct {
			Amount   int64  `json:"amount"`
			Currency string `json:"currency"`
		} `json:"total"`
	}
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/sales", f.trd, map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 2}}, "payment": "cash"}, &sale); st != 201 {
		t.Fatalf("sale: %d", st)
	}
	if sale.Total.Amount != 24000 || sale.Total.Currency != "MAD" || len(sale.Lines) != 1 || sale.Lines[0].Lots[0].Lot != f.packed.Code || sale.Lines[0].Lots[0].Units != 2 {
		t.Fatalf("sale %+v", sale)
	}
	var apiErr webtest.APIError
	for _, c := range []struct {
		body  map[string]any
		code  string
		field string
	}{
		{map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 4}}, "payment": "cash"}, "insufficient_stock", "lines[0].units"},
		{map[string]any{"lines": []map[string]any{{"sku": "NOPE", "units": 1}}, "payment": "cash"}, "invalid", "lines[0].sku"},
		{map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 1}}, "payment": "goats"}, "invalid", "payment"},
		{map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": -1}}, "payment": "cash"}, "invalid", "lines[0].units"},
		{map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 1}}, "payment": "cash", "total": 1}, "invalid", "total"},
	} {
		if e.JSON("POST", "/api/v1/shops/TAROUDANNT/sales", f.trd, c.body, &apiErr); apiErr.Error.Code != c.code || apiErr.Error.Field != c.field {
			t.Errorf("%v: %+v, want %s on %s", c.body, apiErr, c.code, c.field)
		}
	}
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/sales", e.AdminToken, map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 1}}, "payment": "cash"}, nil); st != 403 {
		t.Fatalf("the admin sells at a shop's till: %d", st)
	}
	// A return puts units back, at most what the sale took.
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/returns", f.trd, map[string]any{"sale": sale.ID, "lot": f.packed.Code, "units": 3}, &apiErr); st != 400 {
		t.Fatalf("returning more than sold: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/returns", f.trd, map[string]any{"sale": sale.ID, "lot": f.packed.Code, "units": 1}, nil); st != 201 {
		t.Fatalf("return: %d", st)
	}
	checkShopLedger(t, e)
	lot := getLot(t, e, f.f.manager, f.packed.Code)
	last := lot.Events[len(lot.Events)-1]
	if last.Type != "returned" || lot.Events[len(lot.Events)-2].Type != "sold" {
		t.Fatalf("custody events: %+v", lot.Events)
	}
}

// TestConcurrentTillSalesNeverOversell: ten tills sell the last five jars
// at once; exactly five sales go through.
func TestConcurrentTillSalesNeverOversell(t *testing.T) {
	e := webtest.New(t)
	f := newShops(t, e, false)
	f.receive(t, e, f.trd, "TAROUDANNT", 5)
	var wg sync.WaitGroup
	statuses := make([]int, 10)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.JSON("POST", "/api/v1/shops/TAROUDANNT/sales", f.trd, map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 1}}, "payment": "cash"}, nil)
		}()
	}
	wg.Wait()
	ok := 0
	for _, st := range statuses {
		switch st {
		case 201:
			ok++
		case 409:
		default:
			t.Errorf("status %d", st)
		}
	}
	var stock []map[string]any
	e.JSON("GET", "/api/v1/shops/TAROUDANNT/stock", f.trd, nil, &stock)
	if ok != 5 || len(stock) != 0 {
		t.Fatalf("%d sales succeeded, stock left %v; want 5 and none", ok, stock)
	}
	checkShopLedger(t, e)
}

func TestTransferWithAMissingJar(t *testing.T) {
	e := webtest.New(t)
	f := newShops(t, e, false)
	f.receive(t, e, f.trd, "TAROUDANNT", 10)
	var tr struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Lines  []struct {
			Units, Received, Missing int64
		} `json:"lines"`
	}
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/transfers", f.trd, map[string]any{"to": "AGADIR", "lines": []map[string]any{{"lot": f.packed.Code, "units": 4}}}, &tr); st != 201 || tr.Status != "in_transit" {
		t.Fatalf("send: %d %+v", st, tr)
	}
	if st := e.JSON("POST", "/api/v1/shops/AGADIR/transfers/"+tr.ID+"/receive", f.trd, map[string]any{}, nil); st != 403 {
		t.Fatalf("the sender confirms the arrival: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/shops/AGADIR/transfers/"+tr.ID+"/receive", f.aga, map[string]any{"lines": []map[string]any{{"lot": f.packed.Code, "units": 5}}}, nil); st != 400 {
		t.Fatalf("more arrived than was sent: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/shops/AGADIR/transfers/"+tr.ID+"/receive", f.aga, map[string]any{"lines": []map[string]any{{"lot": f.packed.Code, "units": 3}}}, &tr); st != 200 ||
		tr.Status != "received" || tr.Lines[0].Received != 3 || tr.Lines[0].Missing != 1 {
		t.Fatalf("arrival: %d %+v", st, tr)
	}
	if st := e.JSON("POST", "/api/v1/shops/AGADIR/transfers/"+tr.ID+"/receive", f.aga, map[string]any{}, nil); st != 409 {
		t.Fatalf("received twice: %d", st)
	}
	var stock []map[string]any
	e.JSON("GET", "/api/v1/shops/AGADIR/stock", f.aga, nil, &stock)
	if len(stock) != 1 || stock[0]["units"] != 3.0 {
		t.Fatalf("Agadir stock %v", stock)
	}
	checkShopLedger(t, e)
}

func TestCountAndLossAdjustments(t *testing.T) {
	e := webtest.New(t)
	f := newShops(t, e, false)
	f.receive(t, e, f.trd, "TAROUDANNT", 10)
	var apiErr webtest.APIError
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/adjustments", f.trd, map[string]any{"lot": f.packed.Code, "units": 1, "kind": "loss"}, &apiErr); st != 400 || apiErr.Error.Field != "reason" {
		t.Fatalf("loss without reason: %d %+v", st, apiErr)
	}
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/adjustments", f.trd, map[string]any{"lot": f.packed.Code, "units": 1, "kind": "loss", "reason": "jar broken on the shelf"}, nil); st != 201 {
		t.Fatalf("loss: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/adjustments", f.trd, map[string]any{"lot": f.packed.Code, "units": -50, "reason": "count"}, &apiErr); st != 409 {
		t.Fatalf("adjusting below zero: %d %+v", st, apiErr)
	}
	var counted struct {
		Adjustments []struct {
			Units int64 `json:"units"`
		} `json:"adjustments"`
	}
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/counts", f.trd, map[string]any{"lines": []map[string]any{{"lot": f.packed.Code, "counted": 7}}}, &counted); st != 201 || len(counted.Adjustments) != 1 || counted.Adjustments[0].Units != -2 {
		t.Fatalf("count: %d %+v", st, counted)
	}
	var ms []map[string]any
	if st := e.JSON("GET", "/api/v1/shops/TAROUDANNT/movements?kind=loss", f.trd, nil, &ms); st != 200 || len(ms) != 1 || ms[0]["reason"] != "jar broken on the shelf" {
		t.Fatalf("movement history: %d %v", st, ms)
	}
	checkShopLedger(t, e)
}

func TestCatalogueShowsPriceAvailabilityAndLiveClaims(t *testing.T) {
	e := webtest.New(t)
	f := newShops(t, e, false)
	type item struct {
		SKU            string   `json:"sku"`
		AvailableUnits int64    `json:"available_units"`
		Claims         []string `json:"claims"`
		Price          struct {
			Amount   int64  `json:"amount"`
			Currency string `json:"currency"`
		} `json:"price"`
		Names map[string]string `json:"names"`
	}
	var items []item
	if st := e.JSON("GET", "/api/v1/catalog?channel=TAROUDANNT", "", nil, &items); st != 200 || len(items) != 1 || items[0].AvailableUnits != 0 || items[0].Price.Amount != 12000 {
		t.Fatalf("catalogue before stock: %d %+v", st, items)
	}
	f.receive(t, e, f.trd, "TAROUDANNT", 6)
	e.JSON("POST", "/api/v1/shops/TAROUDANNT/sales", f.trd, map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 1}}, "payment": "cash"}, nil)
	e.JSON("GET", "/api/v1/catalog?channel=TAROUDANNT", "", nil, &items)
	if items[0].AvailableUnits != 5 || len(items[0].Claims) != 2 || items[0].Names["ar"] == "" {
		t.Fatalf("catalogue with stock: %+v", items)
	}
	for q, n := range map[string]int{"taliouine": 1, "زعفران": 1, "argan": 0, "safran 1 g": 1, "safran argan": 0} {
		e.JSON("GET", "/api/v1/catalog?channel=TAROUDANNT&q="+url.QueryEscape(q), "", nil, &items)
		if len(items) != n {
			t.Errorf("search %q: %d items, want %d", q, len(items), n)
		}
	}
	e.JSON("GET", "/api/v1/catalog?channel=TAROUDANNT&claim=EU+organic", "", nil, &items)
	if len(items) != 1 {
		t.Errorf("claim filter: %+v", items)
	}
	if st := e.JSON("POST", "/api/v1/certifications/"+f.aop+"/status", e.AdminToken, map[string]string{"status": "suspended", "reason": "audit pending"}, nil); st != 200 {
		t.Fatal(st)
	}
	e.JSON("GET", "/api/v1/catalog?channel=TAROUDANNT", "", nil, &items)
	if len(items[0].Claims) != 1 || items[0].Claims[0] != "EU organic" {
		t.Fatalf("a suspended AOP is still claimed: %+v", items[0].Claims)
	}
	var apiErr webtest.APIError
	if st := e.JSON("GET", "/api/v1/catalog", "", nil, &apiErr); st != 400 || apiErr.Error.Field != "channel" {
		t.Fatalf("no channel: %d %+v", st, apiErr)
	}
	if st := e.JSON("PUT", "/api/v1/products/SAF-1G/prices/TAROUDANNT", f.aga, map[string]any{"amount": 1, "currency": "MAD"}, nil); st != 403 {
		t.Fatalf("Agadir prices Taroudannt: %d", st)
	}
	if st := e.JSON("PUT", "/api/v1/products/SAF-1G/prices/EU-PLATFORM", e.AdminToken, map[string]any{"amount": 1500, "currency": "MAD"}, &apiErr); st != 400 || apiErr.Error.Field != "currency" {
		t.Fatalf("MAD price on the EUR channel: %d %+v", st, apiErr)
	}
	if st := e.JSON("PUT", "/api/v1/products/SAF-1G/prices/TAROUDANNT", f.trd, map[string]any{"amount": 13000, "currency": "MAD"}, nil); st != 200 {
		t.Fatalf("the shop's manager sets its price: %d", st)
	}
	e.JSON("GET", "/api/v1/catalog?channel=TAROUDANNT", "", nil, &items)
	if items[0].Price.Amount != 13000 {
		t.Fatalf("new price not shown: %+v", items[0].Price)
	}
}

// TestTracePageFollowsLotChangesMadeOutsideTheHandlers: a change written by
// any service of this process (here a sale made through the stock service
// directly) drops the cached trace page at once, whatever the TTL.
func TestTracePageFollowsLotChangesMadeOutsideTheHandlers(t *testing.T) {
	e := webtest.New(t)
	f := newShops(t, e, false)
	f.receive(t, e, f.trd, "TAROUDANNT", 3)
	path := traceURL(t, e, f.packed.Code, "")
	if _, page := getPage(t, e, path, "en"); strings.Contains(page, "Sold") {
		t.Fatal("sold before any sale")
	}
	actor := access.Actor{UserID: "u", Email: "trd@shop.ma", Role: access.ShopManager, Org: "TAROUDANNT"}
	if _, err := e.Stock.Sell(context.Background(), actor, "TAROUDANNT", shops.SaleRequest{
		Lines: []shops.Line{{SKU: "SAF-1G", Units: 1}}, Payment: "cash"}); err != nil {
		t.Fatal(err)
	}
	if _, page := getPage(t, e, path, "en"); !strings.Contains(page, "Sold") {
		t.Fatal("the cached trace page did not follow the sale")
	}
}
