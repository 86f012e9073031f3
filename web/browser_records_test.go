package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/terroir-coop/terroir/web/webtest"
)

// TestBrowserHarvestToLot is a cooperative manager's day on a phone: log in,
// record a harvest through the form, make a lot of it, and read the lot's
// origin — the parcel and the harvest day a consumer's QR code will show.
func TestBrowserHarvestToLot(t *testing.T) {
	e := webtest.New(t)
	newCoop(t, e, "SIROUA", "saffron", 1000) // member Fatima Aït Brahim, parcel Tamazirt
	ctx := newChrome(t)

	err := chromedp.Do(ctx,
		chromedp.Navigate(e.URL("/login")),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "siroua@coop.ma"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), webtest.Password),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		// A manager lands on the cooperative's page, whose tabs lead to the records.
		chromedp.WaitVisible(chromedp.CSS(`nav.subnav`)),
		chromedp.Click(chromedp.CSS(`nav.subnav a[href$="/harvests"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`input[name="amount"]`)),
	)
	if err != nil {
		t.Fatalf("log in and open the harvests: %v", err)
	}
	fitsThePhone(t, ctx)
	screenshot(t, ctx, "harvests-fr")

	// The parcel is preselected; member and crop default to the parcel's.
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`input[name="date"]`), "2025-10-28"),
		chromedp.SendKeys(chromedp.CSS(`input[name="amount"]`), "450"),
		chromedp.SetValue(chromedp.CSS(`select[name="unit"]`), "g"),
		chromedp.Click(chromedp.CSS(`form[action$="/harvests"] button[type="submit"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
	)
	if err != nil {
		t.Fatalf("record the harvest: %v", err)
	}
	row, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main section.card table tbody tr`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(row, "2025-10-28") || !strings.Contains(row, "450 g") || !strings.Contains(row, "Tamazirt") {
		t.Fatalf("harvest list shows %q", row)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav.subnav a[href$="/lots"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`input[name="harvest"]`)),
	)
	if err != nil {
		t.Fatalf("open the lots: %v", err)
	}
	fitsThePhone(t, ctx)
	screenshot(t, ctx, "lots-fr")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name="harvest"]`), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[action$="/lots"] button[type="submit"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`dl.facts`)), // only the lot page has it
	)
	if err != nil {
		t.Fatalf("make a lot of the harvest: %v", err)
	}
	origin, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("main section.card")].filter(s => s.querySelector("h2").innerText === "Origine").map(s => s.querySelector("tbody").innerText)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(origin) != 1 || !strings.Contains(origin[0], "Tamazirt") || !strings.Contains(origin[0], "2025-10-28") {
		t.Fatalf("origin section shows %q, want the parcel Tamazirt harvested on 2025-10-28", origin)
	}
	fitsThePhone(t, ctx)
	screenshot(t, ctx, "lot-fr")

	err = chromedp.Do(ctx,
		chromedp.Click(`//nav[@class="langs"]/a[normalize-space()="العربية"]`, chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="ar"] dl.facts`)),
	)
	if err != nil {
		t.Fatalf("read the lot in Arabic: %v", err)
	}
	fitsThePhone(t, ctx)
	screenshot(t, ctx, "lot-ar")
}
