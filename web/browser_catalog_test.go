package web_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/terroir-coop/terroir/web/webtest"
)

// TestBrowserCatalogOnAPhone browses a shop's catalogue on a phone as a
// visitor would: in French, then in Arabic (right to left), searches in
// Arabic, opens the saffron, goes back to French and follows the link of a
// lot on the shelf to its trace page, which says the product is authentic.
func TestBrowserCatalogOnAPhone(t *testing.T) {
	e := webtest.New(t)
	f := newCatalog(t, e)
	// A photo of the jar: a saffron-red picture, so the screenshots show one.
	img := image.NewRGBA(image.Rect(0, 0, 1200, 900))
	for y := range 900 {
		for x := range 1200 {
			img.SetRGBA(x, y, color.RGBA{uint8(150 + x/12), uint8(30 + y/15), 20, 255})
		}
	}
	var jp bytes.Buffer
	if err := jpeg.Encode(&jp, img, nil); err != nil {
		t.Fatal(err)
	}
	if st, apiErr, _ := photoUpload(t, e, f.f.manager, "SAF-1G", "photo", jp.Bytes()); st != 201 {
		t.Fatalf("photo: %d %+v", st, apiErr)
	}
	ctx := newChrome(t)

	// French, as the phone asks.
	// Photos load lazily: wait (bounded) until the first one is decoded
	// rather than reading it the moment the list shows.
	if err := chromedp.Do(ctx, chromedp.Navigate(e.URL("/shop/TAROUDANNT")), chromedp.WaitVisible(chromedp.CSS(`#products`))); err != nil {
		t.Fatalf("open the catalogue: %v", err)
	}
	waitPhoto(t, ctx, "#products img")
	seen, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.documentElement.lang, document.documentElement.dir,
		document.querySelector('#products').innerText, String(document.querySelector('#products img').complete && document.querySelector('#products img').naturalWidth)]`))
	if err != nil {
		t.Fatal(err)
	}
	if seen[0] != "fr" || seen[1] != "ltr" || !strings.Contains(seen[2], "Safran de Taliouine 1 g") || !strings.Contains(seen[2], "En stock : 12") ||
		!strings.Contains(seen[2], "Épuisé") || !strings.Contains(seen[2], "AOP Safran de Taliouine") || seen[3] != "240" {
		t.Errorf("French catalogue: %q", seen)
	}
	fitsThePhone(t, ctx)
	screenshot(t, ctx, "catalog-fr")

	// Arabic, from the language switch.
	if err := chromedp.Do(ctx,
		chromedp.Click(`//nav[@class="langs"]/a[normalize-space()="العربية"]`, chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`html[dir="rtl"] #products`)),
	); err != nil {
		t.Fatalf("switch to Arabic: %v", err)
	}
	fitsThePhone(t, ctx)
	screenshot(t, ctx, "catalog-ar")

	// Search by the Arabic name: only the saffron is left.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`input[name="q"]`), "زعفران"),
		chromedp.Submit(chromedp.CSS(`input[name="q"]`)),
		chromedp.WaitVisible(chromedp.CSS(`html[dir="rtl"] a.reset`)),
	); err != nil {
		t.Fatalf("search: %v", err)
	}
	names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#products .name')].map(n => n.innerText)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[0] != "زعفران تالوين 1 غ" {
		t.Fatalf("search results: %q", names)
	}
	screenshot(t, ctx, "catalog-ar-search")

	// The product page, in Arabic, then in French.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#products a.open`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`html[dir="rtl"] #lots a.trace`)),
	); err != nil {
		t.Fatalf("open the product: %v", err)
	}
	fitsThePhone(t, ctx)
	screenshot(t, ctx, "product-ar")
	if err := chromedp.Do(ctx,
		chromedp.Click(`//nav[@class="langs"]/a[normalize-space()="Français"]`, chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="fr"] #lots a.trace`)),
	); err != nil {
		t.Fatalf("product page in French: %v", err)
	}
	waitPhoto(t, ctx, "img.photo")
	page, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.querySelector('main h1').innerText,
		document.querySelector('#availability').innerText, document.querySelector('#certifications').innerText,
		document.querySelector('#cooperative').innerText, String(document.querySelector('img.photo').naturalWidth)]`))
	if err != nil {
		t.Fatal(err)
	}
	if page[0] != "Safran de Taliouine 1 g" || page[1] != "En stock : 12" || !strings.Contains(page[2], "AOP Safran de Taliouine — valide") || page[4] != "800" {
		t.Errorf("product page: %q", page)
	}
	fitsThePhone(t, ctx)
	screenshot(t, ctx, "product-fr")

	// The lot's trace page: authentic.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#lots a.trace`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`#verdict h1`)),
	); err != nil {
		t.Fatalf("follow the trace link: %v", err)
	}
	verdict, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#verdict h1`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(verdict, "Produit authentique") {
		t.Fatalf("trace verdict %q", verdict)
	}
	screenshot(t, ctx, "product-trace")
}

// waitPhoto waits (30 s at most) until the first image matching selector
// is decoded: photos load lazily, so they may still be on their way when
// the page shows.
func waitPhoto(t *testing.T, ctx context.Context, selector string) {
	t.Helper()
	js := `(() => { const i = document.querySelector(` + "`" + selector + "`" + `); return !!i && i.complete && i.naturalWidth > 0 })()`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js)); err != nil {
		t.Fatalf("photo %s never loaded: %v", selector, err)
	}
}
