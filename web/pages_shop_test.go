package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/web/webtest"
)

// tillFixture: the shops of newShops with two priced products in
// Taroudannt — SAF-1G (10 jars received) and SAF-2G, packed from the same
// dried saffron with its own GTIN (6 jars received).
type tillFixture struct {
	shopFixture
	packed2 string // the SAF-2G lot
}

const saf2GTIN = "6111234567901"

func newTill(t *testing.T, e *webtest.Env) tillFixture {
	t.Helper()
	f := tillFixture{shopFixture: newShops(t, e, false)}
	packed, err := e.Traceability.PublicLot(context.Background(), f.packed.Code)
	if err != nil || len(packed.Inputs) == 0 {
		t.Fatalf("packed lot inputs: %+v %v", packed.Inputs, err)
	}
	if st := e.JSON("POST", "/api/v1/products", e.AdminToken, map[string]any{"sku": "SAF-2G",
		"names": map[string]string{"fr": "Safran de Taliouine 2 g", "en": "Taliouine saffron 2 g", "ar": "زعفران تالوين 2 غ"},
		"kind":  "saffron_dried", "cooperative": "SIROUA", "unit_size": map[string]any{"amount": 2, "unit": "g"}, "gtin": saf2GTIN}, nil); st != 201 {
		t.Fatalf("product SAF-2G: %d", st)
	}
	var lot lotAnswer
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/packings", f.f.manager, map[string]any{
		"lot": packed.Inputs[0].Lot, "sku": "SAF-2G", "units": 10, "best_before": "2028-06-30"}, &lot); st != 201 {
		t.Fatalf("packing SAF-2G: %d", st)
	}
	f.packed2 = lot.Code
	if st := e.JSON("PUT", "/api/v1/products/SAF-2G/prices/TAROUDANNT", e.AdminToken, map[string]any{"amount": 22000, "currency": "MAD"}, nil); st != 200 {
		t.Fatalf("price SAF-2G: %d", st)
	}
	if st := f.receive(t, e, f.trd, "TAROUDANNT", 10); st != 201 {
		t.Fatalf("receive SAF-1G: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/receipts", f.trd, map[string]any{"lot": f.packed2, "units": 6}, nil); st != 201 {
		t.Fatalf("receive SAF-2G: %d", st)
	}
	return f
}

func userBrowser(t *testing.T, e *webtest.Env, email string) *browser {
	t.Helper()
	b := newBrowser(t, e)
	if email == webtest.AdminEmail {
		b.login("")
	} else if email != "" {
		b.loginAs(email)
	}
	return b
}

// stockUnits reads a shop's units of a lot from the store.
func stockUnits(t *testing.T, e *webtest.Env, shop, lot string) int64 {
	t.Helper()
	lines, err := e.Stock.StockOf(context.Background(), access.Actor{UserID: "t", Role: access.Admin}, shop)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if l.Lot == lot {
			return l.Units
		}
	}
	return 0
}

func TestShopPagesAreForTheirUsers(t *testing.T) {
	e := webtest.New(t)
	f := newTill(t, e)
	e.User("auditor@bio.ma", access.Auditor, "", "SIROUA")
	e.Cooperative("TIWIZWINE", "argan")
	e.User("other@coop.ma", access.Auditor, "", "TIWIZWINE")
	for _, c := range []struct {
		who, path string
		want      int
	}{
		{"trd@shop.ma", "/till/TAROUDANNT", 200},
		{"aga@shop.ma", "/till/TAROUDANNT", 403},
		{webtest.AdminEmail, "/till/TAROUDANNT", 403}, // the admin does not sell at a shop's till
		{"", "/till/TAROUDANNT", 303},
		{"siroua@coop.ma", "/till/TAROUDANNT", 403},
		{"trd@shop.ma", "/shop-admin/TAROUDANNT", 200},
		{webtest.AdminEmail, "/shop-admin/TAROUDANNT", 200},
		{"aga@shop.ma", "/shop-admin/TAROUDANNT", 403},
		{"aga@shop.ma", "/shop-admin/TAROUDANNT/movements", 403},
		{"aga@shop.ma", "/shop-admin/TAROUDANNT/count", 403},
		{"", "/shop-admin/TAROUDANNT", 303},
		{"trd@shop.ma", "/shop-admin/TAROUDANNT/movements", 200},
		{"trd@shop.ma", "/shop-admin/TAROUDANNT/count", 200},
		{"trd@shop.ma", "/shop-admin/NOWHERE", 403},
		{webtest.AdminEmail, "/shop-admin/NOWHERE", 404},
		{"siroua@coop.ma", "/coop/SIROUA/holdings", 200},
		{"auditor@bio.ma", "/coop/SIROUA/holdings", 200},
		{"other@coop.ma", "/coop/SIROUA/holdings", 403},
		{webtest.AdminEmail, "/coop/SIROUA/holdings", 200},
		{"trd@shop.ma", "/coop/SIROUA/holdings", 403},
		{"", "/coop/SIROUA/holdings", 303},
	} {
		b := userBrowser(t, e, c.who)
		resp, _ := b.get(c.path)
		if resp.StatusCode != c.want {
			t.Errorf("%q GET %s: %d, want %d", c.who, c.path, resp.StatusCode, c.want)
		}
		if c.want == 303 && !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
			t.Errorf("anonymous %s sent to %q", c.path, resp.Header.Get("Location"))
		}
	}
	// A shop manager's menu leads to their till and back-office.
	_, page := userBrowser(t, e, "trd@shop.ma").get("/shop-admin/TAROUDANNT")
	for _, want := range []string{`href="/till/TAROUDANNT"`, `href="/shop-admin/TAROUDANNT"`, f.packed.Code, f.packed2, "Safran de Taliouine 2 g"} {
		if !strings.Contains(page, want) {
			t.Errorf("back-office lacks %s", want)
		}
	}
}

// tillPost posts the till form with a cart of sku=units pairs.
func tillPost(b *browser, csrf string, cart [][2]string, extra url.Values) (*http.Response, string) {
	form := url.Values{"csrf": {csrf}, "payment": {"cash"}}
	for _, l := range cart {
		form.Add("sku", l[0])
		form.Add("units", l[1])
	}
	for k, v := range extra {
		form[k] = v
	}
	return b.post("/till/TAROUDANNT", form)
}

func TestTillCheckoutShowsTheReceiptWithLots(t *testing.T) {
	e := webtest.New(t)
	f := newTill(t, e)
	b := userBrowser(t, e, "trd@shop.ma")
	_, page := b.get("/till/TAROUDANNT")
	csrf := csrfOf(t, page)
	// A client-sent price or total is never read.
	resp, _ := tillPost(b, csrf, [][2]string{{"SAF-1G", "2"}, {"saf-2g", "1"}}, url.Values{"do": {"checkout"}, "total": {"1"}, "price": {"1"}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/till/TAROUDANNT/receipts/") {
		t.Fatalf("checkout: %d to %q", resp.StatusCode, loc)
	}
	resp, receipt := b.get(loc)
	if resp.StatusCode != 200 {
		t.Fatalf("receipt: %d", resp.StatusCode)
	}
	for _, want := range []string{"Boutique solidaire de Taroudannt", "Safran de Taliouine 1 g", "Safran de Taliouine 2 g",
		f.packed.Code, f.packed2, "120.00 MAD", "240.00 MAD", "220.00 MAD", "460.00 MAD", "Espèces", "Vente enregistrée.",
		`<svg class="qr"`, "/01/06111234567895/10/" + f.packed.Code + "?s=", "/01/06111234567901/10/" + f.packed2 + "?s="} {
		if !strings.Contains(receipt, want) {
			t.Errorf("receipt lacks %q", want)
		}
	}
	if n := strings.Count(receipt, `<svg class="qr"`); n != 2 {
		t.Errorf("%d QR codes on the receipt, want one per lot (2)", n)
	}
	// The printed URL opens the authentic trace page.
	m := regexp.MustCompile(`href="(http[^"]+/10/` + f.packed2 + `\?s=[^"]+)"`).FindStringSubmatch(receipt)
	if m == nil {
		t.Fatal("no trace link of the SAF-2G lot")
	}
	if st, trace := getPage(t, e, strings.TrimPrefix(strings.ReplaceAll(m[1], "&amp;", "&"), e.Server.URL), "fr"); st != 200 || !strings.Contains(trace, "Produit authentique") {
		t.Errorf("trace link from the receipt: %d", st)
	}
	if u1, u2 := stockUnits(t, e, "TAROUDANNT", f.packed.Code), stockUnits(t, e, "TAROUDANNT", f.packed2); u1 != 8 || u2 != 5 {
		t.Errorf("stock after the sale: %d and %d, want 8 and 5", u1, u2)
	}
	// Another shop's manager cannot read the receipt.
	if resp, _ := userBrowser(t, e, "aga@shop.ma").get(loc); resp.StatusCode != 403 {
		t.Errorf("Agadir reads Taroudannt's receipt: %d", resp.StatusCode)
	}
	if resp, _ := b.get("/till/TAROUDANNT/receipts/sal_nope"); resp.StatusCode != 404 {
		t.Errorf("unknown receipt: %d", resp.StatusCode)
	}
	checkShopLedger(t, e)
}

func TestTillRefusalKeepsTheCartAndNamesTheLine(t *testing.T) {
	e := webtest.New(t)
	newTill(t, e)
	b := userBrowser(t, e, "trd@shop.ma")
	_, page := b.get("/till/TAROUDANNT")
	before := e.Count("sales")
	resp, page := tillPost(b, csrfOf(t, page), [][2]string{{"SAF-1G", "1"}, {"SAF-2G", "7"}}, url.Values{"do": {"checkout"}, "payment": {"card"}})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("checkout beyond the stock: %d", resp.StatusCode)
	}
	if e.Count("sales") != before {
		t.Fatal("a refused sale was recorded")
	}
	for _, want := range []string{`name="sku" value="SAF-1G"`, `name="sku" value="SAF-2G"`, `value="7"`,
		"Pas assez de stock pour « Safran de Taliouine 2 g »", `value="card" checked`} {
		if !strings.Contains(page, want) {
			t.Errorf("refused checkout lacks %s", want)
		}
	}
	// The message sits on the second line, not the first.
	lines := strings.Split(page, `<li class="cart-line`)
	if len(lines) < 3 || strings.Contains(lines[1], "role=\"alert\"") || !strings.Contains(lines[2], `aria-invalid="true"`) {
		t.Errorf("the refusal is not on the SAF-2G line")
	}
	// Units that are not a number are refused on their line too.
	resp, page = tillPost(b, csrfOf(t, page), [][2]string{{"SAF-1G", "deux"}}, url.Values{"do": {"checkout"}})
	if resp.StatusCode != 400 || !strings.Contains(page, "Indiquez un nombre entier") || !strings.Contains(page, `value="deux"`) {
		t.Errorf("units not a number: %d", resp.StatusCode)
	}
	// An empty cart cannot be paid.
	if resp, _ = tillPost(b, csrfOf(t, page), nil, url.Values{"do": {"checkout"}}); resp.StatusCode != 400 {
		t.Errorf("empty cart: %d", resp.StatusCode)
	}
}

func TestTillScanAndSearch(t *testing.T) {
	e := webtest.New(t)
	f := newTill(t, e)
	b := userBrowser(t, e, "trd@shop.ma")
	_, page := b.get("/till/TAROUDANNT")
	csrf := csrfOf(t, page)
	// Enter in the scan field with a GTIN-13 adds the product.
	_, page = tillPost(b, csrf, nil, url.Values{"do": {"enter"}, "scan": {saf2GTIN}})
	if !strings.Contains(page, `name="sku" value="SAF-2G"`) || !strings.Contains(page, "220.00 MAD") {
		t.Fatal("scanned GTIN not in the cart")
	}
	// A jar's QR code (the trace URL) adds its lot's product; the cart stays.
	_, page = tillPost(b, csrf, [][2]string{{"SAF-2G", "1"}}, url.Values{"do": {"scan"}, "scan": {e.URL(traceURL(t, e, f.packed.Code, ""))}})
	if !strings.Contains(page, `name="sku" value="SAF-1G"`) || !strings.Contains(page, `name="sku" value="SAF-2G"`) || !strings.Contains(page, "340.00 MAD") {
		t.Fatal("scanned trace URL not added to the cart")
	}
	// Scanning the same product again adds a unit to its line.
	_, page = tillPost(b, csrf, [][2]string{{"SAF-2G", "1"}}, url.Values{"do": {"scan"}, "scan": {"06111234567901"}})
	if strings.Count(page, `name="sku" value="SAF-2G"`) != 1 || !strings.Contains(page, `name="units" value="2"`) {
		t.Fatal("a second scan did not add a unit")
	}
	// Unknown codes are refused by the field, the cart kept.
	resp, page := tillPost(b, csrf, [][2]string{{"SAF-2G", "1"}}, url.Values{"do": {"scan"}, "scan": {"4006381333931"}})
	if resp.StatusCode != 400 || !strings.Contains(page, "Aucun produit vendu ici") || !strings.Contains(page, `name="sku" value="SAF-2G"`) {
		t.Fatalf("unknown GTIN: %d", resp.StatusCode)
	}
	// Search by name in any language, then add from the results.
	_, page = tillPost(b, csrf, nil, url.Values{"do": {"enter"}, "q": {"2 غ"}})
	if !strings.Contains(page, `name="add" value="SAF-2G"`) || strings.Contains(page, `name="add" value="SAF-1G"`) {
		t.Fatal("search by the Arabic name")
	}
	_, page = tillPost(b, csrf, [][2]string{{"SAF-2G", "3"}}, url.Values{"add": {"SAF-1G"}})
	if !strings.Contains(page, `name="sku" value="SAF-1G"`) {
		t.Fatal("add from the results")
	}
	// Steps and removal without JavaScript.
	_, page = tillPost(b, csrf, [][2]string{{"SAF-1G", "1"}, {"SAF-2G", "3"}}, url.Values{"remove": {"0"}})
	if strings.Contains(page, `name="sku" value="SAF-1G"`) || !strings.Contains(page, `name="sku" value="SAF-2G"`) {
		t.Fatal("remove a line")
	}
	_, page = tillPost(b, csrf, [][2]string{{"SAF-2G", "3"}}, url.Values{"inc": {"0"}})
	if !strings.Contains(page, `name="units" value="4"`) || !strings.Contains(page, "880.00 MAD") {
		t.Fatal("one unit more")
	}
}

func TestShopFormsNeedTheCSRFToken(t *testing.T) {
	e := webtest.New(t)
	f := newTill(t, e)
	b := userBrowser(t, e, "trd@shop.ma")
	movements, sales := e.Count("movements"), e.Count("sales")
	for path, form := range map[string]url.Values{
		"/till/TAROUDANNT":                               {"sku": {"SAF-1G"}, "units": {"1"}, "do": {"checkout"}, "payment": {"cash"}},
		"/shop-admin/TAROUDANNT/receipts":                {"lot": {f.packed.Code}, "units": {"1"}},
		"/shop-admin/TAROUDANNT/thresholds":              {"sku": {"SAF-1G"}, "threshold": {"5"}},
		"/shop-admin/TAROUDANNT/transfers":               {"to": {"AGADIR"}, "lot": {f.packed.Code}, "units": {"1"}},
		"/shop-admin/TAROUDANNT/transfers/trf_x/receive": {"lot": {f.packed.Code}, "received": {"1"}},
		"/shop-admin/TAROUDANNT/adjustments":             {"lot": {f.packed.Code}, "units": {"1"}, "kind": {"loss"}, "reason": {"broken"}},
		"/shop-admin/TAROUDANNT/count":                   {"lot": {f.packed.Code}, "counted": {"1"}, "do": {"apply"}, "confirm": {"yes"}},
	} {
		for _, token := range []string{"", "forged"} {
			send := url.Values{}
			for k, v := range form {
				send[k] = v
			}
			if token != "" {
				send.Set("csrf", token)
			}
			if resp, _ := b.post(path, send); resp.StatusCode != 403 {
				t.Errorf("POST %s with CSRF %q: %d, want 403", path, token, resp.StatusCode)
			}
		}
	}
	if e.Count("movements") != movements || e.Count("sales") != sales {
		t.Fatal("a form without its CSRF token changed the stock")
	}
	shelf, _ := e.Stock.Shelf(context.Background(), "TAROUDANNT", "SAF-1G")
	if shelf.Threshold != 0 {
		t.Fatal("a threshold was set without the CSRF token")
	}
}
