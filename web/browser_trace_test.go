package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/terroir-coop/terroir/web/webtest"
)

// TestBrowserTracePageInThreeLanguages opens a jar's QR link on a phone, as
// a consumer would, in French, English and Arabic, and checks what they read
// first: the authenticity verdict, then the product, origin and claims.
func TestBrowserTracePageInThreeLanguages(t *testing.T) {
	e := webtest.New(t)
	p := newPackedSaffron(t, e, false)
	url := e.URL(traceURL(t, e, p.packed.Code, ""))
	ctx := newChrome(t)
	for _, tc := range []struct {
		lang, dir, verdict, origin string
	}{
		{"fr", "ltr", "Produit authentique", "Origine"},
		{"en", "ltr", "Authentic product", "Origin"},
		{"ar", "rtl", "منتج أصلي", "المنشأ"},
	} {
		err := chromedp.Do(ctx,
			chromedp.Navigate(url+"&lang="+tc.lang),
			chromedp.WaitVisible(chromedp.CSS(`#verdict h1`)),
		)
		if err != nil {
			t.Fatalf("%s: open the trace page: %v", tc.lang, err)
		}
		seen, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[
			document.documentElement.dir,
			document.querySelector('#verdict h1').innerText,
			document.querySelector('#origin h2').innerText,
			document.querySelector('#certifications').innerText,
			document.querySelector('#product h2').innerText,
			String(document.querySelector('#verdict').getBoundingClientRect().top < window.innerHeight / 2)]`))
		if err != nil {
			t.Fatal(err)
		}
		if seen[0] != tc.dir || !strings.Contains(seen[1], tc.verdict) || seen[2] != tc.origin {
			t.Errorf("%s: dir %q, verdict %q, origin heading %q", tc.lang, seen[0], seen[1], seen[2])
		}
		if !strings.Contains(seen[3], "AOP Safran de Taliouine") || !strings.Contains(seen[3], "EU organic") {
			t.Errorf("%s: certifications %q", tc.lang, seen[3])
		}
		if seen[5] != "true" {
			t.Errorf("%s: the verdict is not at the top of the screen", tc.lang)
		}
		fitsThePhone(t, ctx)
		screenshot(t, ctx, "trace-"+tc.lang)
	}
	// A copied label with an altered signature shows the warning first.
	if err := chromedp.Do(ctx, chromedp.Navigate(strings.Split(url, "?")[0]+"?s=AAAAAAAAAAAAAA&lang=fr"),
		chromedp.WaitVisible(chromedp.CSS(`#verdict.fake`))); err != nil {
		t.Fatalf("counterfeit warning: %v", err)
	}
	screenshot(t, ctx, "trace-counterfeit")
}
