package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/webtest"
)

// packedSaffron is a saffron lot of the Siroua cooperative, AOP and organic,
// dried and packed into 20 jars of 1 g with a GTIN; serials when asked.
type packedSaffron struct {
	f      coopFixture
	packed lotAnswer
	aop    string
}

func newPackedSaffron(t *testing.T, e *webtest.Env, serials bool) packedSaffron {
	t.Helper()
	f := newCoop(t, e, "SIROUA", "saffron", 1000)
	aop := certify(t, e, "SIROUA", "AOP Safran de Taliouine")
	certify(t, e, "SIROUA", "EU organic", f.parcel)
	_, dried := f.dry(t, f.lot(t, f.harvest(t, "2025-10-28", 400), f.harvest(t, "2025-11-02", 600)).Code, 1000, 200)
	if st := e.JSON("POST", "/api/v1/products", e.AdminToken, map[string]any{"sku": "SAF-1G",
		"names": map[string]string{"fr": "Safran de Taliouine 1 g", "en": "Taliouine saffron 1 g", "ar": "زعفران تالوين 1 غ"},
		"kind":  "saffron_dried", "cooperative": "SIROUA", "unit_size": map[string]any{"amount": 1, "unit": "g"}, "gtin": "6111234567895"}, nil); st != 201 {
		t.Fatalf("product: %d", st)
	}
	var packed lotAnswer
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/packings", f.manager, map[string]any{
		"lot": dried.Code, "sku": "SAF-1G", "units": 20, "best_before": "2028-12-31", "serials": serials}, &packed); st != 201 {
		t.Fatalf("packing: %d", st)
	}
	return packedSaffron{f: f, packed: packed, aop: aop}
}

// traceURL is the URL printed in the lot's QR code, as a path on the test server.
func traceURL(t *testing.T, e *webtest.Env, code, serial string) string {
	t.Helper()
	l, err := e.Traceability.PublicLot(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(e.Codes.URL(traceability.RefOf(l, serial)), e.Server.URL)
}

func getPage(t *testing.T, e *webtest.Env, path, lang string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.URL(path), nil)
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestTracePageOfAPackedSaffronLot(t *testing.T) {
	e := webtest.New(t)
	p := newPackedSaffron(t, e, false)
	path := traceURL(t, e, p.packed.Code, "")
	if !strings.HasPrefix(path, "/01/06111234567895/10/"+p.packed.Code+"?s=") {
		t.Fatalf("a product with a GTIN gets a Digital Link: %s", path)
	}
	st, page := getPage(t, e, path, "fr")
	if st != 200 {
		t.Fatalf("trace page: %d", st)
	}
	for _, want := range []string{"Produit authentique", "Safran de Taliouine 1 g", "Coopérative SIROUA", "Tamazirt", "Siroua",
		"2025-10-28", "2025-11-02", "Séchage", "Conditionnement", "AOP Safran de Taliouine", "EU organic", "valide", "MA-BIO-154", `<g class="pin">`} {
		if !strings.Contains(page, want) {
			t.Errorf("trace page lacks %q", want)
		}
	}
	if strings.Contains(page, "Fatima") {
		t.Error("the public page must not name members")
	}
	// Withdrawing the AOP changes the page at once.
	if st := e.JSON("POST", "/api/v1/certifications/"+p.aop+"/status", e.AdminToken, map[string]string{"status": "withdrawn", "reason": "control failed"}, nil); st != 200 {
		t.Fatal(st)
	}
	_, page = getPage(t, e, path, "fr")
	if !strings.Contains(page, `class="claim withdrawn"><strong>AOP Safran de Taliouine</strong> — <span class="status">retirée`) {
		t.Error("withdrawn AOP not shown as withdrawn at once")
	}
}

func TestTraceAuthenticity(t *testing.T) {
	e := webtest.New(t)
	p := newPackedSaffron(t, e, false)
	good := traceURL(t, e, p.packed.Code, "")
	i := strings.Index(good, "?s=")
	pathPart, sig := good[:i], good[i+3:]
	flip := func(s string, at int) string {
		b := []byte(s)
		if b[at] == 'A' {
			b[at] = 'B'
		} else {
			b[at] = 'A'
		}
		return string(b)
	}
	lotAt := strings.LastIndex(pathPart, "/") + 5 // a character of the lot's random part
	cases := []struct {
		name, path string
		status     int
		want       string
	}{
		{"as printed", good, 200, "Produit authentique"},
		{"one character of s changed", pathPart + "?s=" + flip(sig, 3), 200, "code non authentique"},
		{"one character of the lot changed", flip(pathPart, lotAt) + "?s=" + sig, 404, "Code inconnu"},
		{"no signature", pathPart, 200, "Code non vérifié"},
		{"short form /t/ of the same lot", "/t/" + p.packed.Code + "?s=" + sig, 200, "Produit authentique"},
		{"GTIN of another product", "/01/06111234567888/10/" + p.packed.Code + "?s=" + sig, 404, "Code inconnu"},
		{"bad GTIN check digit", "/01/06111234567890/10/" + p.packed.Code + "?s=" + sig, 400, "pas un code Terroir valide"},
		{"lot longer than GS1 allows", "/t/" + strings.Repeat("A", 21), 400, "pas un code Terroir valide"},
		{"serial the lot never had", pathPart + "/21/0001?s=" + sig, 404, "Code inconnu"},
	}
	for _, c := range cases {
		st, page := getPage(t, e, c.path, "fr")
		if st != c.status || !strings.Contains(page, c.want) {
			t.Errorf("%s (%s): %d, want %d with %q", c.name, c.path, st, c.status, c.want)
		}
	}
	// The JSON twin, as API.md lists it.
	var a map[string]any
	if st := e.JSON("GET", "/api/v1/trace/"+p.packed.Code+"?s="+url.QueryEscape(sig), "", nil, &a); st != 200 || a["authentic"] != true {
		t.Fatalf("trace JSON: %d %v", st, a)
	}
	for _, k := range []string{"code", "authentic", "product", "cooperative", "origin", "process", "claims", "scans"} {
		if _, ok := a[k]; !ok {
			t.Errorf("trace JSON lacks %q", k)
		}
	}
	origin := a["origin"].([]any)[0].(map[string]any)
	if origin["parcel"] == "" || origin["commune"] != "Taliouine" || origin["harvest_date"] != "2025-10-28" {
		t.Errorf("origin %v", origin)
	}
	if st := e.JSON("GET", "/api/v1/trace/"+p.packed.Code+"?s="+flip(sig, 0), "", nil, &a); st != 200 || a["authentic"] != false {
		t.Fatalf("altered signature in JSON: %d %v", st, a)
	}
	if st := e.JSON("GET", "/api/v1/trace/SAF-00000000X", "", nil, nil); st != 404 {
		t.Fatalf("unknown code in JSON: %d", st)
	}
	// Digital Link with Accept: application/json answers JSON.
	resp, body := e.Do("GET", good, "", nil, "Accept", "application/json")
	if resp.StatusCode != 200 || !json.Valid(body) || !strings.Contains(string(body), `"authentic":true`) {
		t.Fatalf("DL as JSON: %d %s", resp.StatusCode, body)
	}
}

func TestTracePageLanguages(t *testing.T) {
	e := webtest.New(t)
	p := newPackedSaffron(t, e, false)
	path := traceURL(t, e, p.packed.Code, "")
	for lang, want := range map[string]string{"en-GB,en;q=0.8": "Authentic product", "ar": "منتج أصلي", "fr-FR": "Produit authentique"} {
		_, page := getPage(t, e, path, lang)
		if !strings.Contains(page, want) {
			t.Errorf("%s: page lacks %q", lang, want)
		}
	}
	_, page := getPage(t, e, path, "ar")
	if !strings.Contains(page, `dir="rtl"`) || !strings.Contains(page, "زعفران تالوين 1 غ") {
		t.Error("Arabic page is not right-to-left with the Arabic product name")
	}
	if len(page) > 20_000 {
		t.Errorf("trace page is %d bytes; it must stay light for weak connections", len(page))
	}
}

func TestScansAreCountedAndClonedLabelsFlagged(t *testing.T) {
	e := webtest.New(t)
	p := newPackedSaffron(t, e, true)
	unit := traceURL(t, e, p.packed.Code, "U7")
	if !strings.Contains(unit, "/21/U7?s=") {
		t.Fatalf("unit URL %s", unit)
	}
	// One phone scanning its jar again and again is one scanner; many
	// "phones" from one address count as two.
	for i := range 40 {
		_, page := getPage(t, e, unit, "en", "User-Agent", fmt.Sprintf("phone-%d", i%2))
		_, page2 := getPage(t, e, unit, "en", "User-Agent", fmt.Sprintf("rotating-%d", i))
		if strings.Contains(page, "This code has been scanned") || strings.Contains(page2, "This code has been scanned") {
			t.Fatalf("scan %d from one address raised the warning", i)
		}
	}
	// Eleven phones at eleven addresses (through a trusted proxy).
	e = webtest.NewWith(t, webtest.Options{TrustedProxies: []string{"127.0.0.1/32"}})
	p = newPackedSaffron(t, e, true)
	unit = traceURL(t, e, p.packed.Code, "U7")
	for i := 1; i <= 11; i++ {
		for range 3 { // each phone scans a few times
			getPage(t, e, unit, "en", "User-Agent", fmt.Sprintf("phone-%d", i), "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
		}
		_, page := getPage(t, e, unit, "en", "User-Agent", fmt.Sprintf("phone-%d", i), "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
		cloned := strings.Contains(page, "This code has been scanned")
		if cloned != (i > 10) {
			t.Fatalf("phone %d: cloned warning %v", i, cloned)
		}
		if i == 11 && !strings.Contains(page, "scanned on 11 different phones") {
			t.Fatal("warning does not give the count")
		}
	}
	// Forged scans are not counted.
	getPage(t, e, strings.Split(unit, "?")[0]+"?s=AAAAAAAAAAAAAA", "en")
	if err := e.Scans.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	auditor := e.User("audit@onssa.ma", access.Auditor, "", "SIROUA")
	var alerts []traceability.ScanStat
	if st := e.JSON("GET", "/api/v1/cooperatives/SIROUA/scan-alerts", auditor, nil, &alerts); st != 200 || len(alerts) != 1 ||
		alerts[0].Serial != "U7" || alerts[0].Count != 11 || alerts[0].FirstScan.IsZero() {
		t.Fatalf("scan alerts: %d %+v", st, alerts)
	}
	if st := e.JSON("GET", "/api/v1/cooperatives/SIROUA/scan-alerts", "", nil, nil); st != 401 {
		t.Fatalf("anonymous scan alerts: %d", st)
	}
}

// TestATracePageIgnoresTheFirstVisitorsQuery: the cached page is keyed by
// the code, its signature state and the language; a parameter the first
// visitor added is neither cached nor shown to the next (issue 14: the
// page grew from 4.9 KB to 95 KB).
func TestATracePageIgnoresTheFirstVisitorsQuery(t *testing.T) {
	e := webtest.New(t)
	p := newPackedSaffron(t, e, true)
	u := traceURL(t, e, p.packed.Code, "")
	junk := strings.Repeat("x", 5000)
	_, first := getPage(t, e, u+"&utm_source="+junk, "fr")
	_, next := getPage(t, e, u, "fr")
	if strings.Contains(first, junk) || strings.Contains(next, junk) || strings.Contains(next, "utm_source") {
		t.Fatal("a visitor's query parameter is on the page")
	}
	if !strings.Contains(next, "s=") {
		t.Fatal("the language links lost the signature")
	}
}

// TestTraceCustodyNamesPlacesAndSumsSales: the custody list reads shops and
// the cooperative by name, and a lot's sales in one shop are one line with
// their total, not one line per jar sold.
func TestTraceCustodyNamesPlacesAndSumsSales(t *testing.T) {
	e := webtest.New(t)
	f := newShops(t, e, false)
	if st := f.receive(t, e, f.trd, "TAROUDANNT", 10); st != 201 {
		t.Fatalf("receipt: %d", st)
	}
	for range 3 {
		if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/sales", f.trd, map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 2}}, "payment": "cash"}, nil); st != 201 {
			t.Fatalf("sale: %d", st)
		}
	}
	_, page := getPage(t, e, traceURL(t, e, f.packed.Code, ""), "fr")
	i := strings.Index(page, `id="custody"`)
	if i < 0 {
		t.Fatal("no custody section")
	}
	custody := page[i:]
	custody = custody[:strings.Index(custody, "</section>")]
	if !strings.Contains(custody, "Boutique solidaire de Taroudannt") || strings.Contains(custody, "TAROUDANNT") {
		t.Errorf("custody does not name the shop:\n%s", custody)
	}
	if n := strings.Count(custody, "Vendu"); n != 1 || !strings.Contains(custody, "<bdi>6 pièces</bdi>") {
		t.Errorf("%d sale lines, want one of 6 units:\n%s", n, custody)
	}
	// A shipment's two places are isolated one by one, the arrow pointing
	// the page's way: right in French, left in Arabic.
	if !regexp.MustCompile(`</bdi> → <bdi>Boutique solidaire de Taroudannt</bdi>`).MatchString(custody) {
		t.Errorf("French shipment line:\n%s", custody)
	}
	_, ar := getPage(t, e, traceURL(t, e, f.packed.Code, ""), "ar")
	if !strings.Contains(ar, `</bdi> ← <bdi>`) || strings.Contains(ar, " → <bdi>") {
		t.Errorf("Arabic shipment line does not read right to left")
	}
}

// pageWithBuyLink scans path until its links to buy include want: the
// channels' catalogues are built in the background, and a page rendered
// before they are is served without their links. Every page on the way
// must answer 200 and never offer a link it should not (checked by the
// caller on the last).
func pageWithBuyLink(t *testing.T, e *webtest.Env, path, lang, want string) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		st, page := getPage(t, e, path, lang)
		if st != 200 {
			t.Fatalf("%s answers %d", path, st)
		}
		if strings.Contains(section(page, "buy"), want) {
			return page
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s on %s:\n%s", want, path, section(page, "buy"))
		}
	}
}

// TestTracePageShowsWhoMadeItAndWhereToBuyIt: the consumer sees the
// product's picture, who made it (women and men counted with plurals, in
// French and Arabic, units in the language), and the shops that have it in
// stock — only those, and none on a copied or unknown code.
func TestTracePageShowsWhoMadeItAndWhereToBuyIt(t *testing.T) {
	e := webtest.New(t)
	f := newShops(t, e, false)
	if st, apiErr, _ := photoUpload(t, e, e.AdminToken, "SAF-1G", "photo", encodePNG(t, testImage(600, 600, false))); st != 201 {
		t.Fatalf("photo: %d %+v", st, apiErr)
	}
	// Taroudannt has jars; Agadir prices the product but holds none; the
	// platform holds none and has no price.
	if st := f.receive(t, e, f.trd, "TAROUDANNT", 10); st != 201 {
		t.Fatalf("receipt: %d", st)
	}
	path := traceURL(t, e, f.packed.Code, "")
	// A scan never waits for a channel's catalogue to be built: the first
	// page may come without the links, is not kept, and a later scan
	// brings them (a hang guard, not a timing assertion).
	fr := pageWithBuyLink(t, e, path, "fr", `href="/shop/TAROUDANNT/SAF-1G"`)
	product := section(fr, "product")
	if !strings.Contains(product, `<img class="photo" src="/photos/`) || !strings.Contains(product, `loading="lazy"`) ||
		!strings.Contains(product, `width="96" height="96"`) || !strings.Contains(product, `alt="Safran de Taliouine 1 g"`) {
		t.Errorf("product card without its small lazy picture:\n%s", product)
	}
	who := section(fr, "made-by")
	for _, want := range []string{"Qui l'a fait", "Coopérative SIROUA", "Taliouine, Taroudannt", "Siroua", "1 : 1 femme"} {
		if !strings.Contains(who, want) {
			t.Errorf("who made it lacks %q:\n%s", want, who)
		}
	}
	buy := section(fr, "buy")
	if !strings.Contains(buy, `href="/shop/TAROUDANNT/SAF-1G"`) || !strings.Contains(buy, "Boutique solidaire de Taroudannt") || !strings.Contains(buy, "120,00\u00a0DH") {
		t.Errorf("no link to the shop that has it:\n%s", buy)
	}
	if strings.Contains(buy, "AGADIR") || strings.Contains(buy, "EU-PLATFORM") {
		t.Errorf("a shop without stock is offered:\n%s", buy)
	}
	if st, _ := getPage(t, e, "/shop/TAROUDANNT/SAF-1G", "fr"); st != 200 {
		t.Errorf("the buy link's page answers %d", st)
	}
	// The picture it shows is small: the page and the picture together
	// stay far below 100 KB.
	i := strings.Index(product, `src="`) + len(`src="`)
	src := product[i : i+strings.Index(product[i:], `"`)]
	resp, img := e.Do("GET", strings.ReplaceAll(src, "&amp;", "&"), "", nil)
	if resp.StatusCode != 200 || len(img) == 0 || len(img)+len(fr) > 60_000 {
		t.Errorf("picture %s: %d, %d bytes with a page of %d", src, resp.StatusCode, len(img), len(fr))
	}
	// Arabic: the same in Arabic words and units.
	_, ar := getPage(t, e, path, "ar")
	if w := section(ar, "made-by"); !strings.Contains(w, "من صنعه") || !strings.Contains(w, "امرأة واحدة") {
		t.Errorf("Arabic who made it:\n%s", w)
	}
	if p := section(ar, "product"); !strings.Contains(p, "<bdi>1 غ</bdi>") {
		t.Errorf("Arabic net quantity not in Arabic units:\n%s", p)
	}
	if p := section(ar, "process"); strings.Contains(p, " g<") || strings.Contains(p, "pcs") || !strings.Contains(p, "20 قطعة") {
		t.Errorf("Arabic steps not in Arabic units:\n%s", p)
	}
	if p := section(fr, "process"); strings.Contains(p, "pcs") || !strings.Contains(p, "20 pièces") {
		t.Errorf("French steps say pcs:\n%s", p)
	}
	// The API keeps its English symbols.
	var a struct {
		Product struct{ Quantity, NetQuantity string } `json:"product"`
	}
	if st := e.JSON("GET", "/api/v1/trace/"+f.packed.Code, "", nil, &a); st != 200 || a.Product.Quantity != "20 pcs" {
		t.Errorf("trace JSON quantity: %d %+v", st, a)
	}
	// Once Taroudannt has sold out, and Agadir has jars, the link follows.
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/sales", f.trd, map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 10}}, "payment": "cash"}, nil); st != 201 {
		t.Fatalf("sale: %d", st)
	}
	if st := f.receive(t, e, f.aga, "AGADIR", 5); st != 201 {
		t.Fatalf("receipt: %d", st)
	}
	fr = pageWithBuyLink(t, e, path, "fr", `href="/shop/AGADIR/SAF-1G"`)
	if buy := section(fr, "buy"); !strings.Contains(buy, `href="/shop/AGADIR/SAF-1G"`) || strings.Contains(buy, "TAROUDANNT") {
		t.Errorf("after the sale and the receipt:\n%s", buy)
	}
	// A copied label and an unknown code: nothing to buy, no valid claim.
	j := strings.Index(path, "?s=")
	for _, bad := range []string{path[:j] + "?s=AAAAAAAAAAAAAA", "/t/SAF-00000000X"} {
		_, page := getPage(t, e, bad, "fr")
		if strings.Contains(page, `id="buy"`) || strings.Contains(page, "/shop/") || strings.Contains(page, `class="claim valid"`) {
			t.Errorf("%s offers the product or a valid claim", bad)
		}
	}
}
