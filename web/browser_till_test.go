package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/terroir-coop/terroir/web/webtest"
)

// TestBrowserTillSellsTwoProducts is a shop manager's sale, first on a
// tablet (768 px), then on a phone (390 px): find the first product by
// name, scan the second's barcode into the scan field, raise the units, pay
// cash, read the receipt (both lines, their lots, the total), then open the
// back-office and see the stock lowered by what was sold.
func TestBrowserTillSellsTwoProducts(t *testing.T) {
	e := webtest.New(t)
	f := newTill(t, e) // Taroudannt: 10 × SAF-1G at 120 MAD, 6 × SAF-2G at 220 MAD
	ctx := newChrome(t)

	err := chromedp.Do(ctx,
		chromedp.Navigate(e.URL("/login")),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "trd@shop.ma"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), webtest.Password),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.account a[href="/till/TAROUDANNT"]`)),
	)
	if err != nil {
		t.Fatalf("log in: %v", err)
	}
	saf1, saf2 := int64(10), int64(6)
	for _, screen := range []struct {
		name          string
		width, height int64
	}{{"tablet", 768, 1024}, {"phone", phoneWidth, phoneHeight}} {
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(screen.width, screen.height, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch),
			// The shop manager's menu leads to the till.
			chromedp.Click(chromedp.CSS(`nav.account a[href="/till/TAROUDANNT"]`), chromedp.NodeVisible),
			chromedp.WaitVisible(chromedp.CSS(`#till-scan`)),
			// Search the first product by name: results come as it is typed.
			chromedp.SendKeys(chromedp.CSS(`#till-q`), "taliouine 1 g"),
			chromedp.Click(chromedp.CSS(`#till-results button[data-sku="SAF-1G"]`), chromedp.NodeVisible),
			chromedp.WaitVisible(chromedp.CSS(`#till-cart li.cart-line`)),
			// Scan the second's barcode: the scanner types it and Enter.
			chromedp.SendKeys(chromedp.CSS(`#till-scan`), saf2GTIN+"\r"),
			chromedp.WaitVisible(chromedp.CSS(`#till-cart li.cart-line:nth-child(2)`)),
			// Two jars of the first.
			chromedp.Click(chromedp.CSS(`#till-cart li.cart-line:nth-child(1) button[name="inc"]`), chromedp.NodeVisible),
			chromedp.Click(chromedp.CSS(`.till-pay input[value="cash"]`), chromedp.NodeVisible),
		)
		if err != nil {
			screenshot(t, ctx, "till-failed-"+screen.name)
			t.Fatalf("%s: fill the cart: %v", screen.name, err)
		}
		cart, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[
			[...document.querySelectorAll('#till-cart input[name=sku]')].map(i => i.value).join(","),
			[...document.querySelectorAll('#till-cart input[name=units]')].map(i => i.value).join(","),
			document.getElementById('till-total').textContent]`))
		if err != nil {
			t.Fatal(err)
		}
		if cart[0] != "SAF-1G,SAF-2G" || cart[1] != "2,1" || cart[2] != "460,00\u00a0DH" {
			t.Fatalf("%s: cart %q", screen.name, cart)
		}
		fits(t, ctx, screen.width)
		screenshot(t, ctx, "till-"+screen.name)

		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`#till-checkout`), chromedp.NodeVisible),
			chromedp.WaitVisible(chromedp.CSS(`#receipt`)),
		)
		if err != nil {
			t.Fatalf("%s: check out: %v", screen.name, err)
		}
		receipt, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#receipt`)))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Safran de Taliouine 1 g", "Safran de Taliouine 2 g", f.packed.Code, f.packed2, "240,00\u00a0DH", "220,00\u00a0DH", "460,00\u00a0DH", "Espèces"} {
			if !strings.Contains(receipt, want) {
				t.Errorf("%s: receipt lacks %q:\n%s", screen.name, want, receipt)
			}
		}
		qrs, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#receipt svg.qr').length`))
		if err != nil || qrs != 2 {
			t.Errorf("%s: %d QR codes on the receipt, want 2 (%v)", screen.name, qrs, err)
		}
		fits(t, ctx, screen.width)
		screenshot(t, ctx, "receipt-"+screen.name)

		saf1, saf2 = saf1-2, saf2-1
		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`.actions a[href="/shop-admin/TAROUDANNT"]`), chromedp.NodeVisible),
			chromedp.WaitVisible(chromedp.CSS(`#by-lot`)),
		)
		if err != nil {
			t.Fatalf("%s: open the back-office: %v", screen.name, err)
		}
		units, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(`[%q, %q].map(l => document.querySelector('#by-lot tr[data-lot="' + l + '"] td.units').innerText)`, f.packed.Code, f.packed2)))
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{fmt.Sprint(saf1), fmt.Sprint(saf2)}; units[0] != want[0] || units[1] != want[1] {
			t.Errorf("%s: back-office shows %q units, want %q", screen.name, units, want)
		}
		fits(t, ctx, screen.width)
		screenshot(t, ctx, "shop-admin-"+screen.name)
		for _, page := range []struct{ link, ready string }{{"movements", "table.movements"}, {"count", "table.count"}} {
			err := chromedp.Do(ctx,
				chromedp.Click(chromedp.CSS(`nav.subnav a[href="/shop-admin/TAROUDANNT/`+page.link+`"]`), chromedp.NodeVisible),
				chromedp.WaitVisible(chromedp.CSS(page.ready)),
			)
			if err != nil {
				t.Fatalf("%s: open the %s: %v", screen.name, page.link, err)
			}
			fits(t, ctx, screen.width)
			screenshot(t, ctx, page.link+"-"+screen.name)
		}
	}
	checkShopLedger(t, e)
}

// fits fails when the page is wider than the screen, so the cashier would
// have to scroll sideways (wide tables scroll inside their card).
func fits(t *testing.T, ctx context.Context, width int64) {
	t.Helper()
	widths, err := chromedp.Run(ctx, chromedp.Evaluate[[]int64](`[window.innerWidth, document.documentElement.scrollWidth]`))
	if err != nil {
		t.Fatalf("measure the page: %v", err)
	}
	if widths[0] != width {
		t.Fatalf("viewport %d px wide, want %d", widths[0], width)
	}
	if widths[1] > widths[0] {
		t.Errorf("page is %d px wide on a %d px screen: it scrolls sideways", widths[1], widths[0])
	}
}
