package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/web/webtest"
)

// midMarch is where the settlement tests put the clock: every sale of a
// test falls in one month however long it runs.
var midMarch = time.Date(2026, time.March, 15, 12, 0, 0, 0, time.UTC)

func TestStatementReconcilesToTheCent(t *testing.T) {
	e := webtest.New(t)
	e.Clock.Set(midMarch)
	f := newPlatform(t, e) // 20 jars at the EU platform; the lot is now empty at the cooperative
	// Till: three jars moved from the platform to Taroudannt, sold in two sales.
	var tr struct {
		ID string `json:"id"`
	}
	if st := e.JSON("POST", "/api/v1/shops/EU-PLATFORM/transfers", f.eu, map[string]any{"to": "TAROUDANNT", "lines": []map[string]any{{"lot": f.packed.Code, "units": 3}}}, &tr); st != 201 {
		t.Fatalf("transfer: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/transfers/"+tr.ID+"/receive", f.trd, nil, nil); st != 200 {
		t.Fatalf("arrival: %d", st)
	}
	if st := e.JSON("PUT", "/api/v1/products/SAF-1G/shares/TAROUDANNT", e.AdminToken, map[string]any{"kind": "percent", "percent": 6667}, nil); st != 200 {
		t.Fatalf("share: %d", st)
	}
	var apiErr webtest.APIError
	if st := e.JSON("PUT", "/api/v1/products/SAF-1G/shares/TAROUDANNT", e.AdminToken, map[string]any{"kind": "percent", "percent": 20000}, &apiErr); st != 400 || apiErr.Error.Field != "percent" {
		t.Fatalf("share over 100 %%: %d %+v", st, apiErr)
	}
	for _, units := range []int{2, 1} {
		if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/sales", f.trd, map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": units}}, "payment": "cash"}, nil); st != 201 {
			t.Fatalf("till sale: %d", st)
		}
	}
	// Online: three jars paid.
	_, o := placeOrder(t, e, 3, "")
	webhookEvent(t, e, "", "checkout.session.completed", o.ID, "pi_settle", time.Now(), webtest.WebhookSecret)
	// An advance from the revolving fund, repaid at 50 % of each month's share.
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/advances", e.AdminToken, map[string]any{"amount": map[string]any{"amount": 10000, "currency": "MAD"}, "repayment_percent": 50, "note": "séchoir électrique"}, nil); st != 201 {
		t.Fatalf("advance: %d", st)
	}
	month := e.Clock.Now().UTC().Format("2006-01")
	auditor := e.User("audit@onssa.ma", access.Auditor, "", "SIROUA")
	var st orders.Statement
	if code := e.JSON("GET", "/api/v1/cooperatives/SIROUA/statements/"+month, auditor, nil, &st); code != 200 || len(st.Lines) != 3 {
		t.Fatalf("statement: %d %+v", code, st)
	}
	sums := map[string]*orders.StatementTotals{}
	for _, l := range st.Lines {
		if l.ProducerShare+l.ShopMargin != l.Gross {
			t.Errorf("line %+v: share + margin ≠ gross", l)
		}
		s := sums[l.Currency]
		if s == nil {
			s = &orders.StatementTotals{}
			sums[l.Currency] = s
		}
		s.Gross += l.Gross
		s.ProducerShare += l.ProducerShare
		s.Fees += l.Fees
		s.Units += l.Units
	}
	for _, tot := range st.Totals {
		s := sums[tot.Currency]
		if s.Gross != tot.Gross || s.ProducerShare != tot.ProducerShare || s.Fees != tot.Fees || s.Units != tot.Units ||
			tot.ProducerShare+tot.ShopMargin != tot.Gross || tot.NetDue != tot.ProducerShare-tot.AdvanceRepayment-tot.Payouts {
			t.Errorf("%s totals %+v do not reconcile with lines %+v", tot.Currency, tot, s)
		}
	}
	mad, eur := st.Totals[1], st.Totals[0]
	if mad.Gross != 36000 || mad.ProducerShare != 16000+8000 || mad.AdvanceRepayment != 10000 {
		// 24000×0.6667 = 16000.8 → 16000; 12000×0.6667 = 8000.4 → 8000; repayment min(10000, 50 %)
		t.Fatalf("MAD totals %+v", mad)
	}
	if eur.Gross != 3600 || eur.ProducerShare != 2520 || eur.Fees != orders.OrderFee(3600) {
		t.Fatalf("EUR totals %+v", eur)
	}
	// Close the month: only once it has ended; the repayment is recorded
	// once; a payout lowers the net due.
	if code := e.JSON("POST", "/api/v1/cooperatives/SIROUA/statements/"+month+"/close", f.f.manager, nil, nil); code != 403 {
		t.Fatalf("a cooperative closes its own statement: %d", code)
	}
	if code := e.JSON("POST", "/api/v1/cooperatives/SIROUA/statements/"+month+"/close", e.AdminToken, nil, &apiErr); code != 409 || apiErr.Error.Field != "month" {
		t.Fatalf("closing the month before it ends: %d %+v", code, apiErr)
	}
	next := time.Now().UTC().AddDate(0, 1, -time.Now().UTC().Day()+1).Truncate(24 * time.Hour)
	e.Clock.Advance(time.Until(next) + time.Hour)
	e.AdminToken = e.Token(webtest.AdminEmail, webtest.Password)
	f.f.manager = e.Token("siroua@coop.ma", webtest.Password)
	auditor = e.Token("audit@onssa.ma", webtest.Password)
	if code := e.JSON("POST", "/api/v1/cooperatives/SIROUA/statements/"+month+"/close", e.AdminToken, nil, &st); code != 200 || !st.Closed {
		t.Fatalf("close: %d", code)
	}
	if code := e.JSON("POST", "/api/v1/cooperatives/SIROUA/statements/"+month+"/close", e.AdminToken, nil, nil); code != 409 {
		t.Fatalf("close twice: %d", code)
	}
	if code := e.JSON("POST", "/api/v1/cooperatives/SIROUA/payouts", e.AdminToken, map[string]any{"month": month, "amount": map[string]any{"amount": 5000, "currency": "MAD"}, "reference": "virement CIH 0042"}, nil); code != 201 {
		t.Fatalf("payout: %d", code)
	}
	e.JSON("GET", "/api/v1/cooperatives/SIROUA/statements/"+month, f.f.manager, nil, &st)
	if got := st.Totals[1]; got.NetDue != 24000-10000-5000 || got.AdvanceLeft != 0 {
		t.Fatalf("after close and payout: %+v", got)
	}
	resp, body := e.Do("GET", "/api/v1/cooperatives/SIROUA/statements/"+month+"?format=csv", auditor, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "MAD,3,36000,24000,12000,0,10000,5000,9000,0") {
		t.Fatalf("csv: %d\n%s", resp.StatusCode, body)
	}
	if code := e.JSON("GET", "/api/v1/cooperatives/SIROUA/statements/2026-13", auditor, nil, &apiErr); code != 400 || apiErr.Error.Field != "month" {
		t.Fatalf("bad month: %d %+v", code, apiErr)
	}
}

func TestStatementPageAndCSV(t *testing.T) {
	e := webtest.New(t)
	e.Clock.Set(midMarch)
	f := newShops(t, e, false)
	f.receive(t, e, f.trd, "TAROUDANNT", 3)
	e.JSON("POST", "/api/v1/shops/TAROUDANNT/sales", f.trd, map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 2}}, "payment": "cash"}, nil)
	b := newBrowser(t, e)
	_, page := b.get("/login")
	b.post("/login", url.Values{"csrf": {csrfOf(t, page)}, "email": {"siroua@coop.ma"}, "password": {webtest.Password}})
	month := e.Clock.Now().UTC().Format("2006-01")
	resp, page := b.get("/coop/SIROUA/statements/" + month)
	if resp.StatusCode != 200 || !strings.Contains(page, "Relevé de ventes") || !strings.Contains(page, "SAF-1G") || !strings.Contains(page, "240,00") {
		t.Fatalf("statement page: %d", resp.StatusCode)
	}
	resp, csvBody := b.get("/coop/SIROUA/statements/" + month + ".csv")
	if resp.StatusCode != 200 || !strings.Contains(csvBody, "MAD,2,24000,16800,7200") {
		t.Fatalf("statement csv: %d %s", resp.StatusCode, csvBody)
	}
	other := newBrowser(t, e)
	if resp, _ := other.get("/coop/SIROUA/statements/" + month); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("anonymous: %d", resp.StatusCode)
	}
}
