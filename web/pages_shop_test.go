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
		f.packed.Code, f.packed2, "120,00\u00a0DH", "240,00\u00a0DH", "220,00\u00a0DH", "460,00\u00a0DH", "Espèces", "Vente enregistrée.",
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
	if !strings.Contains(page, `name="sku" value="SAF-2G"`) || !strings.Contains(page, "220,00\u00a0DH") {
		t.Fatal("scanned GTIN not in the cart")
	}
	// A jar's QR code (the trace URL) adds its lot's product; the cart stays.
	_, page = tillPost(b, csrf, [][2]string{{"SAF-2G", "1"}}, url.Values{"do": {"scan"}, "scan": {e.URL(traceURL(t, e, f.packed.Code, ""))}})
	if !strings.Contains(page, `name="sku" value="SAF-1G"`) || !strings.Contains(page, `name="sku" value="SAF-2G"`) || !strings.Contains(page, "340,00\u00a0DH") {
		t.Fatal("scanned trace URL not added to the cart")
	}
	// Scanning the same product again adds a unit to its line.
	_, page = tillPost(b, csrf, [][2]string{{"SAF-2G", "1"}}, url.Values{"do": {"scan"}, "scan": {"06111234567901"}})
	if strings.Count(page, `name="sku" value="SAF-2G"`) != 1 || !strings.Contains(page, `name="units" value="2"`) {
		t.Fatal("a second scan did not add a unit")
	}
	// Unknown codes are refused by the field, the cart kept.
	resp, page := tillPost(b, csrf, [][2]string{{"SAF-2G", "1"}}, url.Values{"do": {"scan"}, "scan": {"4006381333931"}})
	if resp.StatusCode != 400 || !strings.Contains(page, "Code scanné : aucun produit vendu ici") || !strings.Contains(page, `name="sku" value="SAF-2G"`) {
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
	if !strings.Contains(page, `name="units" value="4"`) || !strings.Contains(page, "880,00\u00a0DH") {
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

func TestShopBackOfficeForms(t *testing.T) {
	e := webtest.New(t)
	f := newTill(t, e)
	b := userBrowser(t, e, "trd@shop.ma")
	_, page := b.get("/shop-admin/TAROUDANNT")
	csrf := csrfOf(t, page)

	// A receipt beyond what the lot has left: 409, the message by the field,
	// what was typed kept.
	resp, page := b.post("/shop-admin/TAROUDANNT/receipts", url.Values{"csrf": {csrf}, "lot": {f.packed.Code}, "units": {"11"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, `value="11" aria-invalid="true"`) || !strings.Contains(page, `value="`+f.packed.Code+`"`) {
		t.Fatalf("receipt beyond the lot: %d", resp.StatusCode)
	}
	if !regexp.MustCompile(`id="receive">\s*<input[^>]+>\s*<p class="error" role="alert">Unités : `).MatchString(page) {
		t.Error("the insufficient_stock message is not shown in the receipt form")
	}
	resp, _ = b.post("/shop-admin/TAROUDANNT/receipts", url.Values{"csrf": {csrf}, "lot": {f.packed.Code}, "units": {"10"}})
	if resp.StatusCode != http.StatusSeeOther || !flashed(resp) {
		t.Fatalf("receipt: %d", resp.StatusCode)
	}
	if u := stockUnits(t, e, "TAROUDANNT", f.packed.Code); u != 20 {
		t.Fatalf("units after the receipt: %d", u)
	}

	// A threshold above what is free raises an alert.
	if resp, _ = b.post("/shop-admin/TAROUDANNT/thresholds", url.Values{"csrf": {csrf}, "sku": {"SAF-2G"}, "threshold": {"8"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("threshold: %d", resp.StatusCode)
	}
	if resp, page = b.post("/shop-admin/TAROUDANNT/thresholds", url.Values{"csrf": {csrf}, "sku": {"SAF-1G"}, "threshold": {"-1"}}); resp.StatusCode != 400 || !strings.Contains(page, `value="-1" aria-invalid="true"`) {
		t.Fatalf("negative threshold: %d", resp.StatusCode)
	}
	_, page = b.get("/shop-admin/TAROUDANNT")
	alerts := page[strings.Index(page, `id="alerts"`):strings.Index(page, `id="by-product"`)]
	if !strings.Contains(alerts, "SAF-2G") || strings.Contains(alerts, "SAF-1G") {
		t.Errorf("low-stock alerts: %s", alerts)
	}

	// Send 4 jars to Agadir; Agadir confirms 3 (one broken on the way).
	resp, page = b.post("/shop-admin/TAROUDANNT/transfers", url.Values{"csrf": {csrf}, "to": {"AGADIR"}, "lot": {f.packed.Code}, "units": {"40"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, `value="40" aria-invalid="true"`) {
		t.Fatalf("transfer beyond the stock: %d", resp.StatusCode)
	}
	if resp, _ = b.post("/shop-admin/TAROUDANNT/transfers", url.Values{"csrf": {csrf}, "to": {"AGADIR"}, "lot": {f.packed.Code}, "units": {"4"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("transfer: %d", resp.StatusCode)
	}
	ag := userBrowser(t, e, "aga@shop.ma")
	_, page = ag.get("/shop-admin/AGADIR")
	m := regexp.MustCompile(`action="/shop-admin/AGADIR/transfers/([^/"]+)/receive"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("Agadir does not see the transfer in transit")
	}
	if resp, _ = b.post("/shop-admin/AGADIR/transfers/"+m[1]+"/receive", url.Values{"csrf": {csrf}, "lot": {f.packed.Code}, "received": {"3"}}); resp.StatusCode != 403 {
		t.Fatalf("the sender confirms the arrival: %d", resp.StatusCode)
	}
	agCSRF := csrfOf(t, page)
	if resp, page = ag.post("/shop-admin/AGADIR/transfers/"+m[1]+"/receive", url.Values{"csrf": {agCSRF}, "lot": {f.packed.Code}, "received": {"5"}}); resp.StatusCode != 400 || !strings.Contains(page, `role="alert"`) {
		t.Fatalf("more arrived than sent: %d", resp.StatusCode)
	}
	if resp, _ = ag.post("/shop-admin/AGADIR/transfers/"+m[1]+"/receive", url.Values{"csrf": {agCSRF}, "lot": {f.packed.Code}, "received": {"3"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("arrival: %d", resp.StatusCode)
	}
	if u := stockUnits(t, e, "AGADIR", f.packed.Code); u != 3 {
		t.Fatalf("Agadir holds %d", u)
	}
	_, page = b.get("/shop-admin/TAROUDANNT")
	if sent := page[strings.Index(page, `id="sent"`):]; !strings.Contains(sent, "1 manquantes") {
		t.Errorf("the sender does not see the missing jar")
	}

	// A loss needs a reason; then it is in the history.
	if resp, page = b.post("/shop-admin/TAROUDANNT/adjustments", url.Values{"csrf": {csrf}, "lot": {f.packed.Code}, "kind": {"loss"}, "units": {"1"}, "reason": {""}}); resp.StatusCode != 400 || !strings.Contains(page, `name="reason" required maxlength="500" value="" aria-invalid="true"`) {
		t.Fatalf("loss without a reason: %d", resp.StatusCode)
	}
	if resp, _ = b.post("/shop-admin/TAROUDANNT/adjustments", url.Values{"csrf": {csrf}, "lot": {f.packed.Code}, "kind": {"loss"}, "units": {"1"}, "reason": {"bocal cassé en rayon"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("loss: %d", resp.StatusCode)
	}
	_, page = b.get("/shop-admin/TAROUDANNT/movements?kind=loss")
	if !strings.Contains(page, "bocal cassé en rayon") || strings.Contains(page, "mv-receipt") {
		t.Error("history filtered by kind")
	}
	_, page = b.get("/shop-admin/TAROUDANNT/movements?lot=" + f.packed2)
	if !strings.Contains(page, "mv-receipt") || strings.Contains(page, "<code>"+f.packed.Code+"</code>") {
		t.Error("history filtered by lot")
	}
	checkShopLedger(t, e)
}

func TestMovementHistoryPages(t *testing.T) {
	e := webtest.New(t)
	f := newTill(t, e)
	for i := 0; i < 30; i++ {
		if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/adjustments", f.trd, map[string]any{"lot": f.packed.Code, "units": 1, "reason": "count"}, nil); st != 201 {
			t.Fatal(st)
		}
	}
	b := userBrowser(t, e, "trd@shop.ma")
	_, page := b.get("/shop-admin/TAROUDANNT/movements?sku=saf-1g")
	if n := strings.Count(page, "<tr class=\"mv-"); n != 25 || !strings.Contains(page, "mo=25") {
		t.Fatalf("first page: %d rows", n)
	}
	_, page = b.get("/shop-admin/TAROUDANNT/movements?sku=saf-1g&mo=25")
	if n := strings.Count(page, "<tr class=\"mv-"); n != 6 { // 30 adjustments + 1 receipt
		t.Fatalf("second page: %d rows", n)
	}
}

func TestStockCountReviewThenApply(t *testing.T) {
	e := webtest.New(t)
	f := newTill(t, e)
	b := userBrowser(t, e, "trd@shop.ma")
	_, page := b.get("/shop-admin/TAROUDANNT/count")
	if !strings.Contains(page, `name="counted"`) || strings.Count(page, `<tr data-lot=`) != 2 {
		t.Fatal("the count lists every lot")
	}
	csrf := csrfOf(t, page)
	count := url.Values{"csrf": {csrf}, "lot": {f.packed.Code, f.packed2}, "expected": {"10", "6"}, "counted": {"8", ""}}
	count.Set("do", "review")
	resp, page := b.post("/shop-admin/TAROUDANNT/count", count)
	if resp.StatusCode != 200 || !strings.Contains(page, "<span dir=\"ltr\">-2</span>") || strings.Contains(page, f.packed2) || !strings.Contains(page, `name="confirm"`) {
		t.Fatalf("review: %d", resp.StatusCode)
	}
	if e.Count("movements") != 2 {
		t.Fatal("the review changed the stock")
	}
	// Applying needs the confirmation.
	apply := url.Values{"csrf": {csrf}, "lot": {f.packed.Code}, "expected": {"10"}, "counted": {"8"}, "do": {"apply"}, "reason": {"inventaire de fin de mois"}}
	if resp, page = b.post("/shop-admin/TAROUDANNT/count", apply); resp.StatusCode != 400 || !strings.Contains(page, "Confirmation : cochez la confirmation") {
		t.Fatalf("apply without confirmation: %d", resp.StatusCode)
	}
	// A sale between review and apply: the count is reviewed again.
	e.JSON("POST", "/api/v1/shops/TAROUDANNT/sales", f.trd, map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 1}}, "payment": "cash"}, nil)
	apply.Set("confirm", "yes")
	if resp, page = b.post("/shop-admin/TAROUDANNT/count", apply); resp.StatusCode != 409 || !strings.Contains(page, `name="expected" value="9"`) {
		t.Fatalf("apply after the stock moved: %d", resp.StatusCode)
	}
	apply.Set("expected", "9")
	resp, _ = b.post("/shop-admin/TAROUDANNT/count", apply)
	if resp.StatusCode != http.StatusSeeOther || !flashed(resp) {
		t.Fatalf("apply: %d", resp.StatusCode)
	}
	// The flash says it with French's singular (CLDR "one").
	if _, next := b.get(resp.Header.Get("Location")); !strings.Contains(next, "Inventaire appliqué : 1 ajustement.") {
		t.Error("the back-office does not say the count was applied, in the singular")
	}
	if u := stockUnits(t, e, "TAROUDANNT", f.packed.Code); u != 8 {
		t.Fatalf("units after the count: %d", u)
	}
	_, page = b.get("/shop-admin/TAROUDANNT/movements?kind=adjustment")
	if !strings.Contains(page, "inventaire de fin de mois") || !strings.Contains(page, "<span dir=\"ltr\">-1</span>") {
		t.Error("the count's adjustment is not in the history")
	}
	// Bad counts are refused on their line, nothing applied.
	bad := url.Values{"csrf": {csrf}, "lot": {f.packed.Code}, "expected": {"8"}, "counted": {"-3"}, "do": {"review"}}
	if resp, page = b.post("/shop-admin/TAROUDANNT/count", bad); resp.StatusCode != 400 || !regexp.MustCompile(`value="-3"[^>]+aria-invalid="true"`).MatchString(page) {
		t.Fatalf("negative count: %d", resp.StatusCode)
	}
	found, _, err := e.Stock.Verify(context.Background())
	if err != nil || len(found) != 0 {
		t.Fatalf("verify after the count: %+v %v", found, err)
	}
	checkShopLedger(t, e)
}

func TestCooperativeSeesWhereItsLotsAreAndWhatSold(t *testing.T) {
	e := webtest.New(t)
	f := newTill(t, e)
	if st := e.JSON("POST", "/api/v1/shops/AGADIR/receipts", f.aga, map[string]any{"lot": f.packed.Code, "units": 4}, nil); st != 201 {
		t.Fatal(st)
	}
	e.JSON("POST", "/api/v1/shops/TAROUDANNT/sales", f.trd, map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 3}, {"sku": "SAF-2G", "units": 2}}, "payment": "cash"}, nil)
	e.JSON("POST", "/api/v1/shops/AGADIR/sales", f.aga, map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 1}}, "payment": "card"}, nil)
	b := userBrowser(t, e, "siroua@coop.ma")
	_, page := b.get("/coop/SIROUA")
	if !strings.Contains(page, `href="/coop/SIROUA/holdings"`) {
		t.Error("the cooperative page has no link to its holdings")
	}
	_, page = b.get("/coop/SIROUA/holdings")
	held := page[strings.Index(page, `id="held"`):strings.Index(page, `id="sold"`)]
	for _, want := range []string{"Boutique solidaire de Taroudannt", "Boutique solidaire d&#39;Agadir", f.packed.Code, f.packed2, "<td class=\"num\">7</td>", "<td class=\"num\">4</td>", "<td class=\"num\">3</td>"} {
		if !strings.Contains(held, want) {
			t.Errorf("holdings lack %s", want)
		}
	}
	sold := page[strings.Index(page, `id="sold"`):]
	if !strings.Contains(sold, "<td class=\"num\">6</td>") || strings.Count(sold, "<tr><td>") != 3 {
		t.Errorf("sales: %s", sold)
	}
}
