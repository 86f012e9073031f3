package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/webtest"
)

// catalogFixture: newShops (saffron SAF-1G priced in Taroudannt and Agadir,
// 12 jars received in Taroudannt) plus an argan oil priced in Taroudannt
// with no stock.
func newCatalog(t *testing.T, e *webtest.Env) shopFixture {
	t.Helper()
	f := newShops(t, e, false)
	if st := f.receive(t, e, f.trd, "TAROUDANNT", 12); st != 201 {
		t.Fatalf("receipt: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/products", e.AdminToken, map[string]any{"sku": "ARG-250",
		"names": map[string]string{"fr": "Huile d'argan 250 ml", "en": "Argan oil 250 ml", "ar": "زيت الأركان 250 مل"},
		"kind":  "argan_oil", "cooperative": "SIROUA", "unit_size": map[string]any{"amount": 250, "unit": "ml"}}, nil); st != 201 {
		t.Fatalf("argan product: %d", st)
	}
	if st := e.JSON("PUT", "/api/v1/products/ARG-250/prices/TAROUDANNT", e.AdminToken, map[string]any{"amount": 123450, "currency": "MAD"}, nil); st != 200 {
		t.Fatalf("argan price: %d", st)
	}
	return f
}

func TestCatalogPageInThreeLanguages(t *testing.T) {
	e := webtest.New(t)
	f := newCatalog(t, e)
	for _, c := range []struct {
		lang   string
		header string
		want   []string
	}{
		{"fr", "fr-FR,fr;q=0.9", []string{`lang="fr" dir="ltr"`, "Safran de Taliouine 1 g", "120,00\u00a0DH", "En stock : 12",
			"Huile d&#39;argan 250 ml", "1\u00a0234,50\u00a0DH", "Épuisé", "AOP Safran de Taliouine", "EU organic", "2 produits"}},
		{"en", "en-GB,en;q=0.9", []string{`lang="en" dir="ltr"`, "Taliouine saffron 1 g", "MAD 120.00", "In stock: 12",
			"Argan oil 250 ml", "MAD 1,234.50", "Out of stock", "AOP Safran de Taliouine"}},
		{"ar", "ar-MA,ar;q=0.9", []string{`lang="ar" dir="rtl"`, "زعفران تالوين 1 غ", "120,00\u00a0درهم", "متوفر: 12",
			"زيت الأركان 250 مل", "نفد من المخزون", "AOP Safran de Taliouine"}},
	} {
		st, body := getPage(t, e, "/shop/TAROUDANNT", c.header)
		if st != 200 {
			t.Fatalf("%s: %d", c.lang, st)
		}
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: page lacks %q", c.lang, w)
			}
		}
		// In stock first; the argan oil has no stock, so no claim badge.
		if strings.Index(body, `data-sku="SAF-1G"`) > strings.Index(body, `data-sku="ARG-250"`) {
			t.Errorf("%s: the product in stock is not listed first", c.lang)
		}
		argan := body[strings.Index(body, `data-sku="ARG-250"`):]
		if strings.Contains(argan[:strings.Index(argan, "</li>\n</ul>")], "badges") {
			t.Errorf("%s: a product with no lot in stock shows claims", c.lang)
		}
	}
	// A till sale shows at once: the rendered page is not served stale.
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/sales", f.trd, map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 1}}, "payment": "cash"}, nil); st != 201 {
		t.Fatalf("sale: %d", st)
	}
	if _, body := getPage(t, e, "/shop/TAROUDANNT", "fr"); !strings.Contains(body, "En stock : 11") {
		t.Error("the catalogue still shows the stock before the sale")
	}
	if _, body := getPage(t, e, "/shop/TAROUDANNT/SAF-1G", "fr"); !strings.Contains(body, "En stock : 11") {
		t.Error("the product page still shows the stock before the sale")
	}
	// ?lang= wins over Accept-Language.
	if _, body := getPage(t, e, "/shop/taroudannt?lang=en", "fr"); !strings.Contains(body, "MAD 120.00") {
		t.Error("?lang=en did not give English")
	}
	// An anonymous visitor needs no session: no cookie other than the language.
	resp, _ := e.Do("GET", "/shop/TAROUDANNT", "", nil)
	for _, ck := range resp.Cookies() {
		t.Errorf("the catalogue set cookie %s", ck.Name)
	}
	if cc := resp.Header.Get("Cache-Control"); cc == "" || strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q", cc)
	}
	// A channel with no price yet shows the empty state.
	if st, body := getPage(t, e, "/shop/EU-PLATFORM", "fr"); st != 200 || !strings.Contains(body, `id="empty"`) ||
		!strings.Contains(body, "Aucun produit n&#39;est encore proposé ici.") {
		t.Errorf("empty channel: %d %s", st, body)
	}
}

func TestCatalogFiltersSearchAndPages(t *testing.T) {
	e := webtest.New(t)
	newCatalog(t, e)
	skus := regexp.MustCompile(`data-sku="([^"]+)"`)
	listed := func(path string) []string {
		t.Helper()
		st, body := getPage(t, e, path, "fr")
		if st != 200 {
			t.Fatalf("%s: %d", path, st)
		}
		var out []string
		for _, m := range skus.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	for _, c := range []struct {
		query string
		want  string
	}{
		{"", "SAF-1G ARG-250"},
		{"kind=argan_oil", "ARG-250"},
		{"kind=saffron_dried", "SAF-1G"},
		{"cooperative=siroua", "SAF-1G ARG-250"},
		{"cooperative=TIWIZWINE", ""},
		{"claim=" + url.QueryEscape("AOP Safran de Taliouine"), "SAF-1G"},
		{"claim=" + url.QueryEscape("eu organic"), "SAF-1G"},
		{"q=" + url.QueryEscape("زعفران"), "SAF-1G"},
		{"q=ARGAN", "ARG-250"},
		{"q=" + url.QueryEscape("huile d'argan"), "ARG-250"},
		{"q=" + url.QueryEscape("Taliouine saffron"), "SAF-1G"},
		{"q=caviar", ""},
		{"kind=argan_oil&q=safran", ""},
	} {
		if got := strings.Join(listed("/shop/TAROUDANNT?"+c.query), " "); got != c.want {
			t.Errorf("%s: listed %q, want %q", c.query, got, c.want)
		}
	}
	if _, body := getPage(t, e, "/shop/TAROUDANNT?q=caviar", "fr"); !strings.Contains(body, "Aucun produit ne correspond à votre recherche.") ||
		!strings.Contains(body, `value="caviar"`) {
		t.Error("a search that finds nothing shows no empty state or loses the query")
	}
	// The filter form keeps what was chosen.
	if _, body := getPage(t, e, "/shop/TAROUDANNT?kind=argan_oil", "fr"); !strings.Contains(body, `<option value="argan_oil" selected>`) {
		t.Error("the kind filter is not kept selected")
	}
}

func TestCatalogPagination(t *testing.T) {
	e := webtest.New(t)
	f := newCatalog(t, e)
	ctx := context.Background()
	var docs []any
	for i := range 30 {
		docs = append(docs, catalog.Product{SKU: fmt.Sprintf("HON-%03d", i), Kind: "honey", Cooperative: "SIROUA",
			Names:    catalog.Names{FR: fmt.Sprintf("Miel de thym %d", i), EN: fmt.Sprintf("Thyme honey %d", i), AR: fmt.Sprintf("عسل الزعتر %d", i)},
			UnitSize: 250_000, UnitSizeUnit: traceability.Milligram, CreatedAt: time.Now().UTC(),
			Prices: map[string]catalog.Money{"TAROUDANNT": {Amount: 8000 + int64(i), Currency: "MAD"}}})
	}
	if _, err := e.Store.Collection("products").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	e.JSON("PUT", "/api/v1/products/SAF-1G/prices/TAROUDANNT", f.trd, map[string]any{"amount": 12000, "currency": "MAD"}, nil) // drops the cache
	count := func(body string) int { return strings.Count(body, `class="item"`) }
	_, p1 := getPage(t, e, "/shop/TAROUDANNT", "fr")
	if count(p1) != 24 || !strings.Contains(p1, "Page 1 sur 2") || !strings.Contains(p1, `href="/shop/TAROUDANNT?page=2" rel="next"`) || strings.Contains(p1, `rel="prev"`) {
		t.Fatalf("page 1: %d items\n%s", count(p1), p1[strings.Index(p1, "<main>"):])
	}
	_, p2 := getPage(t, e, "/shop/TAROUDANNT?page=2", "fr")
	if count(p2) != 8 || !strings.Contains(p2, `rel="prev"`) || strings.Contains(p2, `rel="next"`) {
		t.Fatalf("page 2: %d items", count(p2))
	}
	// A filter is kept across pages; past the end shows the last page.
	_, ph := getPage(t, e, "/shop/TAROUDANNT?kind=honey&page=9", "en")
	if count(ph) != 6 || !strings.Contains(ph, "Page 2 of 2") || !strings.Contains(ph, `href="/shop/TAROUDANNT?kind=honey&amp;page=1"`) {
		t.Fatalf("honey page past the end: %d items", count(ph))
	}
}

func TestProductPage(t *testing.T) {
	e := webtest.New(t)
	f := newCatalog(t, e)
	st, body := getPage(t, e, "/shop/TAROUDANNT/SAF-1G", "fr")
	if st != 200 {
		t.Fatalf("product page: %d", st)
	}
	for _, w := range []string{"<h1>Safran de Taliouine 1 g</h1>", "Taliouine saffron 1 g", "زعفران تالوين 1 غ", "120,00\u00a0DH", "En stock : 12",
		"Contenance", "<bdi>1 g</bdi>", "Taliouine", "Productrices et producteurs de ces lots : 1, dont 1 femme",
		"AOP Safran de Taliouine</strong> — <span class=\"status\">valide", "EU organic", f.packed.Code} {
		if !strings.Contains(body, w) {
			t.Errorf("product page lacks %q", w)
		}
	}
	// The trace links are the signed QR URLs of the lots on the shelf.
	links := regexp.MustCompile(`<a href="([^"]+)" class="trace">`).FindAllStringSubmatch(body, -1)
	if len(links) != 1 {
		t.Fatalf("trace links: %v", links)
	}
	u, err := url.Parse(html.UnescapeString(links[0][1]))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := traceability.ParseTracePath(u.EscapedPath())
	if err != nil || ref.Lot != f.packed.Code || !e.Codes.Authentic(ref, u.Query().Get("s")) {
		t.Fatalf("trace link %s: %+v %v", u, ref, err)
	}
	if st, page := getPage(t, e, u.RequestURI(), "fr"); st != 200 || !strings.Contains(page, "Produit authentique") {
		t.Fatalf("following the trace link: %d", st)
	}
	// A suspended certificate shows as such at once.
	if st := e.JSON("POST", "/api/v1/certifications/"+f.aop+"/status", e.AdminToken, map[string]string{"status": "suspended", "reason": "audit pending"}, nil); st != 200 {
		t.Fatal(st)
	}
	if _, body := getPage(t, e, "/shop/TAROUDANNT/SAF-1G", "en"); !strings.Contains(body, `<li class="claim suspended"><strong>AOP Safran de Taliouine</strong> — <span class="status">suspended`) {
		t.Errorf("suspended AOP not shown: %s", body)
	}
	// Arabic, right to left.
	if _, body := getPage(t, e, "/shop/TAROUDANNT/saf-1g", "ar"); !strings.Contains(body, `dir="rtl"`) || !strings.Contains(body, "<h1>زعفران تالوين 1 غ</h1>") {
		t.Error("Arabic product page")
	}
	// Out of stock: no lots, no claims.
	if _, body := getPage(t, e, "/shop/TAROUDANNT/ARG-250", "fr"); !strings.Contains(body, "Épuisé") || !strings.Contains(body, "Aucun lot en boutique") || strings.Contains(body, `class="trace"`) {
		t.Error("out-of-stock product page")
	}
	for _, p := range []string{"/shop/NOWHERE", "/shop/NOWHERE/SAF-1G", "/shop/TAROUDANNT/NOPE", "/shop/AGADIR/ARG-250" /* no price there */} {
		if st, body := getPage(t, e, p, "fr"); st != 404 || !strings.Contains(body, `id="missing"`) {
			t.Errorf("%s: %d", p, st)
		}
	}
}

// photoUpload posts img as the multipart field "photo".
func photoUpload(t *testing.T, e *webtest.Env, token, sku, field string, img []byte) (int, webtest.APIError, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile(field, "jar.jpg")
	fw.Write(img)
	mw.Close()
	resp, body := e.Do("POST", "/api/v1/products/"+sku+"/photo", token, buf.Bytes(), "Content-Type", mw.FormDataContentType())
	var apiErr webtest.APIError
	var ok map[string]any
	if resp.StatusCode == 201 {
		_ = json.Unmarshal(body, &ok)
	} else {
		_ = json.Unmarshal(body, &apiErr)
	}
	return resp.StatusCode, apiErr, ok
}

func testImage(w, h int, noise bool) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			c := color.RGBA{uint8(180 + x%60), uint8(60 + y%80), 15, 255}
			if noise {
				c = color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func encodePNG(t *testing.T, img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPhotoUpload(t *testing.T) {
	e := webtest.New(t)
	f := newCatalog(t, e)
	// More than the 1 MiB body limit of other requests, less than 2 MiB.
	getPage(t, e, "/shop/TAROUDANNT", "fr") // cache the page without a photo
	big := encodePNG(t, testImage(720, 540, true))
	if len(big) < 1<<20 || len(big) > 2<<20 {
		t.Fatalf("test photo is %d bytes", len(big))
	}
	st, apiErr, ok := photoUpload(t, e, e.AdminToken, "SAF-1G", "photo", big)
	if st != 201 || ok["width"] != 720.0 || ok["height"] != 540.0 {
		t.Fatalf("admin upload: %d %+v %v", st, apiErr, ok)
	}
	// The cooperative's own manager may; its photo is scaled to 800 px wide.
	var jp bytes.Buffer
	jpeg.Encode(&jp, testImage(1600, 1200, false), &jpeg.Options{Quality: 90})
	st, apiErr, ok = photoUpload(t, e, f.f.manager, "saf-1g", "photo", jp.Bytes())
	if st != 201 || ok["width"] != 800.0 || ok["height"] != 600.0 {
		t.Fatalf("manager upload: %d %+v %v", st, apiErr, ok)
	}
	if n := e.Count("photos"); n != 1 {
		t.Fatalf("%d photos stored after replacing one", n)
	}
	photoURL := ok["url"].(string)
	resp, served := e.Do("GET", photoURL, "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=31536000") {
		t.Fatalf("GET photo: %d %v", resp.StatusCode, resp.Header)
	}
	if bytes.Equal(served, jp.Bytes()) {
		t.Fatal("the uploaded bytes are served as they came")
	}
	if cfg, format, err := image.DecodeConfig(bytes.NewReader(served)); err != nil || format != "jpeg" || cfg.Width != 800 || cfg.Height != 600 {
		t.Fatalf("served photo: %v %s %v", cfg, format, err)
	}
	// The box filter keeps the picture: the average colour survives scaling.
	img, _ := jpeg.Decode(bytes.NewReader(served))
	if r, g, _, _ := img.At(400, 300).RGBA(); r>>8 < 170 || g>>8 < 50 || g>>8 > 150 {
		t.Errorf("scaled colour off: r=%d g=%d", r>>8, g>>8)
	}
	etag := resp.Header.Get("ETag")
	if resp, _ := e.Do("GET", photoURL, "", nil, "If-None-Match", etag); resp.StatusCode != 304 {
		t.Errorf("If-None-Match: %d", resp.StatusCode)
	}
	if resp, thumb := e.Do("GET", photoURL+"?size=thumb", "", nil); resp.StatusCode != 200 || len(thumb) >= len(served) {
		t.Errorf("thumbnail: %d, %d bytes", resp.StatusCode, len(thumb))
	}
	id := strings.TrimSuffix(strings.TrimPrefix(photoURL, "/photos/"), ".jpg")
	// The pages show it with its size, lazily.
	if _, body := getPage(t, e, "/shop/TAROUDANNT/SAF-1G", "fr"); !strings.Contains(body, `<img class="photo" src="/photos/`+id+`.jpg" width="800" height="600"`) ||
		!strings.Contains(body, `loading="lazy"`) {
		t.Error("product page has no photo")
	}
	if _, body := getPage(t, e, "/shop/TAROUDANNT", "fr"); !strings.Contains(body, `<img src="/photos/`+id+`.jpg?size=thumb" width="240" height="180" alt="" loading="lazy">`) {
		t.Error("catalogue has no thumbnail")
	}

	// Refusals store nothing.
	other := newCoop(t, e, "TIWIZWINE", "argan", 1000)
	gif := []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
	tooBig := append(append([]byte{}, jp.Bytes()[:4]...), bytes.Repeat([]byte{0}, 2<<20)...)
	tall := encodePNG(t, image.NewGray(image.Rect(0, 0, 10, 4001)))
	for _, c := range []struct {
		name, token, sku, field string
		body                    []byte
		status                  int
		code, errField          string
	}{
		{"anonymous", "", "SAF-1G", "photo", jp.Bytes(), 401, "unauthorized", ""},
		{"another cooperative", other.manager, "SAF-1G", "photo", jp.Bytes(), 403, "forbidden", ""},
		{"a shop manager", f.trd, "SAF-1G", "photo", jp.Bytes(), 403, "forbidden", ""},
		{"unknown product", e.AdminToken, "NOPE", "photo", jp.Bytes(), 404, "not_found", ""},
		{"over 2 MiB", e.AdminToken, "SAF-1G", "photo", tooBig, 413, "too_large", "photo"},
		{"a GIF", e.AdminToken, "SAF-1G", "photo", gif, 400, "invalid", "photo"},
		{"HTML", e.AdminToken, "SAF-1G", "photo", []byte("<html><script>alert(1)</script></html>"), 400, "invalid", "photo"},
		{"a broken JPEG", e.AdminToken, "SAF-1G", "photo", jp.Bytes()[:600], 400, "invalid", "photo"},
		{"taller than 4000 px", e.AdminToken, "SAF-1G", "photo", tall, 400, "invalid", "photo"},
		{"wrong field", e.AdminToken, "SAF-1G", "image", jp.Bytes(), 400, "invalid", "photo"},
	} {
		st, apiErr, _ := photoUpload(t, e, c.token, c.sku, c.field, c.body)
		if st != c.status || apiErr.Error.Code != c.code || apiErr.Error.Field != c.errField {
			t.Errorf("%s: %d %+v, want %d %s on %q", c.name, st, apiErr, c.status, c.code, c.errField)
		}
	}
	if n := e.Count("photos"); n != 1 {
		t.Fatalf("%d photos stored after refusals", n)
	}
	if p, _ := e.Catalog.Product(context.Background(), "SAF-1G"); p.Photo != id {
		t.Fatalf("product photo changed by a refusal: %s", p.Photo)
	}
	// Not multipart at all.
	if st := e.JSON("POST", "/api/v1/products/SAF-1G/photo", e.AdminToken, map[string]string{"photo": "x"}, nil); st != 400 {
		t.Errorf("JSON body: %d", st)
	}
}

func TestPhotoPathsAreOnlyIDs(t *testing.T) {
	e := webtest.New(t)
	for _, p := range []string{"/photos/../../etc/passwd", "/photos/..%2F..%2Fetc%2Fpasswd", "/photos/..%2F..%2Fetc%2Fpasswd.jpg",
		"/photos/%2e%2e%2f%2e%2e%2fetc%2fpasswd.jpg", "/photos/passwd.jpg", "/photos/0123456789abcdef0123-800x600.jpg", "/photos/0123456789abcdef0123-800x600.png"} {
		req, _ := http.NewRequest("GET", e.URL("/"), nil)
		req.URL.Opaque = p // sent exactly as written, dots and escapes included
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 && resp.StatusCode != 400 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
		if resp.Header.Get("Content-Type") == "image/jpeg" {
			t.Errorf("%s served an image", p)
		}
	}
	if catalog.ValidPhotoID("../../etc/passwd") {
		t.Fatal("a path is a photo ID")
	}
}

func TestAuditorCannotUploadPhotos(t *testing.T) {
	e := webtest.New(t)
	newCatalog(t, e)
	auditor := e.User("audit@ecocert.ma", access.Auditor, "SIROUA", "SIROUA")
	var jp bytes.Buffer
	jpeg.Encode(&jp, testImage(10, 10, false), nil)
	if st, _, _ := photoUpload(t, e, auditor, "SAF-1G", "photo", jp.Bytes()); st != 403 {
		t.Fatalf("auditor upload: %d", st)
	}
}
