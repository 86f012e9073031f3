package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/webtest"
)

// TestHomeLeadsSomewhere: the home page offers the shops (the platform
// first), "check a code" and the sign-in to an anonymous visitor, in the
// visitor's language; a typed code opens its trace page; an empty one is
// refused in French; after signing in, the platform's manager lands on the
// orders to pack and a signed-in visitor's home leads to her work.
func TestHomeLeadsSomewhere(t *testing.T) {
	e := webtest.New(t)
	for _, sh := range []map[string]string{
		{"code": "TAROUDANNT", "name": "Boutique solidaire de Taroudannt", "city": "Taroudannt", "currency": "MAD", "kind": "boutique"},
		{"code": "EU-PLATFORM", "name": "Plateforme de distribution UE", "city": "Marseille", "currency": "EUR", "kind": "platform"},
	} {
		if st := e.JSON("POST", "/api/v1/shops", e.AdminToken, sh, nil); st != 201 {
			t.Fatalf("shop %s: %d", sh["code"], st)
		}
	}
	b := newBrowser(t, e)
	resp, page := b.get("/?lang=fr")
	if resp.StatusCode != 200 {
		t.Fatalf("home: %d", resp.StatusCode)
	}
	for _, want := range []string{`href="/shop/EU-PLATFORM"`, `href="/shop/TAROUDANNT"`, `action="/check"`, `href="/login"`, "Vérifier un code"} {
		if !strings.Contains(page, want) {
			t.Errorf("the home page lacks %s", want)
		}
	}
	if strings.Index(page, `href="/shop/EU-PLATFORM"`) > strings.Index(page, `href="/shop/TAROUDANNT"`) {
		t.Error("the platform is not listed first")
	}
	if _, ar := b.get("/?lang=ar"); !strings.Contains(ar, "التحقق من رمز") || !strings.Contains(ar, `dir="rtl"`) {
		t.Error("the Arabic home page is not in Arabic")
	}

	code, err := traceability.NewLotCode("saffron_dried")
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = b.get("/check?code=+" + url.QueryEscape(strings.ToLower(code)) + "+")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/t/"+code {
		t.Fatalf("a typed code: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page = b.get("/check?code=&lang=fr")
	if resp.StatusCode != 400 || !strings.Contains(page, "tapez le code imprimé sous le QR code") {
		t.Fatalf("an empty code: %d, no French message", resp.StatusCode)
	}
	typo := code[:len(code)-1] + map[bool]string{true: "2", false: "3"}[code[len(code)-1] != '2'] // the check character wrong
	resp, page = b.get("/check?lang=fr&code=" + url.QueryEscape(typo))
	if resp.StatusCode != 400 || !strings.Contains(page, "vérifiez chaque caractère") || !strings.Contains(page, `value="`+typo+`"`) {
		t.Fatalf("a mistyped code: %d, no French message or the code not kept", resp.StatusCode)
	}

	e.User("eu@plateforme.fr", access.ShopManager, "EU-PLATFORM")
	e.User("caisse@taroudannt.ma", access.ShopManager, "TAROUDANNT")
	for email, want := range map[string]string{"eu@plateforme.fr": "/platform/EU-PLATFORM", "caisse@taroudannt.ma": "/shop-admin/TAROUDANNT", webtest.AdminEmail: "/admin"} {
		b := newBrowser(t, e)
		_, login := b.get("/login")
		resp, _ := b.post("/login", map[string][]string{"csrf": {csrfOf(t, login)}, "email": {email}, "password": {webtest.Password}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("%s lands on %q, want %s", email, resp.Header.Get("Location"), want)
		}
		if _, home := b.get("/"); !strings.Contains(home, `href="`+want+`"`) || strings.Contains(home, `class="button" href="/login"`) {
			t.Errorf("%s's home does not lead to %s", email, want)
		}
	}
}

// TestTextIsCompressedAndStaticFilesKeptLong: pages, CSS and JSON travel
// gzipped to a client that accepts it (and plain to one that does not),
// images do not; the stylesheet a page links is versioned by its content
// and may be kept a year; the favicon exists.
func TestTextIsCompressedAndStaticFilesKeptLong(t *testing.T) {
	e := webtest.New(t)
	get := func(path, enc string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", e.URL(path), nil)
		if enc != "" {
			req.Header.Set("Accept-Encoding", enc) // set by hand: the client then leaves the body as sent
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, zipped := get("/?lang=fr", "gzip, deflate, br")
	if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("the home page: Content-Encoding %q, Vary %q", resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !strings.Contains(string(plain), "Vérifier un code") {
		t.Fatalf("the gzipped page does not read back: %v", err)
	}
	resp, asIs := get("/?lang=fr", "")
	if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(asIs, plain) {
		t.Fatal("a client that does not accept gzip gets something else than the page")
	}
	if resp, _ := get("/?lang=fr", "gzip;q=0"); resp.Header.Get("Content-Encoding") != "" {
		t.Fatal("gzip;q=0 is a refusal")
	}
	if resp, _ := get("/api/v1/openapi.json", "gzip"); resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatal("JSON is not compressed")
	}
	if resp, _ := get("/healthz", "gzip"); resp.Header.Get("Content-Encoding") != "" {
		t.Fatal("a 20-byte answer is compressed")
	}
	m := regexp.MustCompile(`href="(/static/style\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(string(plain))
	if m == nil {
		t.Fatal("the page links its stylesheet without a content version")
	}
	resp, css := get(m[1], "gzip")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=31536000") {
		t.Fatalf("the versioned stylesheet: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Cache-Control"))
	}
	if len(css) == 0 {
		t.Fatal("empty stylesheet")
	}
	if resp, _ := get("/static/style.css?v=old", ""); strings.Contains(resp.Header.Get("Cache-Control"), "31536000") {
		t.Fatal("a stale version is kept a year")
	}
	resp, _ = get("/favicon.ico", "")
	if resp.StatusCode != http.StatusMovedPermanently {
		t.Fatalf("favicon: %d", resp.StatusCode)
	}
	if resp, icon := get(resp.Header.Get("Location"), ""); resp.StatusCode != 200 || !strings.HasPrefix(string(icon), "<svg") {
		t.Fatalf("the favicon's target: %d", resp.StatusCode)
	}
	if !strings.Contains(string(plain), `<meta name="description"`) {
		t.Fatal("no meta description")
	}
}
