package web_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	"github.com/terroir-coop/terroir/web/webtest"
)

// twoJars is the platform fixture plus a second saffron jar (2 g, packed
// from a second dried lot) priced and shelved on the EU platform.
func twoJars(t *testing.T, e *webtest.Env) (platformFixture, lotAnswer) {
	t.Helper()
	f := newPlatform(t, e)
	_, dried := f.f.dry(t, f.f.lot(t, f.f.harvest(t, "2025-11-05", 500)).Code, 500, 100)
	if st := e.JSON("POST", "/api/v1/products", e.AdminToken, map[string]any{"sku": "SAF-2G",
		"names": map[string]string{"fr": "Safran de Taliouine 2 g", "en": "Taliouine saffron 2 g", "ar": "زعفران تالوين 2 غ"},
		"kind":  "saffron_dried", "cooperative": "SIROUA", "unit_size": map[string]any{"amount": 2, "unit": "g"}}, nil); st != 201 {
		t.Fatalf("product SAF-2G: %d", st)
	}
	var packed lotAnswer
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/packings", f.f.manager, map[string]any{"lot": dried.Code, "sku": "SAF-2G", "units": 10, "best_before": "2029-06-30"}, &packed); st != 201 {
		t.Fatalf("packing SAF-2G: %d", st)
	}
	if st := e.JSON("PUT", "/api/v1/products/SAF-2G/prices/EU-PLATFORM", f.eu, map[string]any{"amount": 2200, "currency": "EUR"}, nil); st != 200 {
		t.Fatalf("price SAF-2G: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/shops/EU-PLATFORM/receipts", f.eu, map[string]any{"lot": packed.Code, "units": 10}, nil); st != 201 {
		t.Fatalf("receipt SAF-2G: %d", st)
	}
	return f, packed
}

// TestBrowserBuysTwoJars is a customer in Lyon on a phone: two jars into the
// cart, the checkout form (a forgotten field first), off to Stripe's payment
// page (intercepted: the test has no network), then Stripe's signed webhook,
// and the order page says paid and names the lot of each jar.
func TestBrowserBuysTwoJars(t *testing.T) {
	e := webtest.New(t)
	f, second := twoJars(t, e)
	ctx := newChrome(t)

	// The hosted payment page is answered by the test: the redirect is the
	// proof that the customer was sent to pay.
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "https://checkout.stripe.com/*"}}}); err != nil {
		t.Fatalf("intercept the payment page: %v", err)
	}
	toStripe := make(chan string, 4)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			toStripe <- ev.Request.URL
			_, _ = chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: 200,
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html; charset=utf-8"}},
				Body:            []byte(`<!doctype html><meta name="viewport" content="width=device-width"><h1 id="stripe">Stripe Checkout (test)</h1>`)})
		}
	}()

	addButton := func(sku string) string { return `form.pick:has(input[name="sku"][value="` + sku + `"]) button` }
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.URL("/cart")),
		chromedp.WaitVisible(chromedp.CSS(`#picker`)),
		chromedp.Click(chromedp.CSS(addButton("SAF-1G")), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`#cart-total`)),
		chromedp.Click(chromedp.CSS(addButton("SAF-2G")), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`li.cartline[data-sku="SAF-2G"]`)),
	)
	if err != nil {
		t.Fatalf("add two jars: %v", err)
	}
	total, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#cart-total`)))
	if err != nil || total != "34,00\u00a0€" {
		t.Fatalf("cart total %q (%v), want 12,00 + 22,00 €", total, err)
	}
	fitsThePhone(t, ctx)
	screenshot(t, ctx, "store-cart-fr")

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#go-checkout`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`#checkout-form`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "claire@example.fr"),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Claire Martin"),
		chromedp.SendKeys(chromedp.CSS(`input[name="line1"]`), "12 rue des Lilas"),
		chromedp.SendKeys(chromedp.CSS(`input[name="postal_code"]`), "69003"),
		chromedp.Click(chromedp.CSS(`#pay`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`#err-city`)),
	)
	if err != nil {
		t.Fatalf("checkout without the city: %v", err)
	}
	kept, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('input[name="line1"]').value`))
	if err != nil || kept != "12 rue des Lilas" {
		t.Fatalf("the refused form lost the address: %q %v", kept, err)
	}
	fitsThePhone(t, ctx)
	screenshot(t, ctx, "store-checkout-error-fr")

	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`input[name="city"]`), "Lyon"),
		chromedp.Click(chromedp.CSS(`#pay`), chromedp.NodeVisible),
	)
	if err != nil {
		t.Fatalf("pay: %v", err)
	}
	select {
	case u := <-toStripe:
		if !strings.HasPrefix(u, "https://checkout.stripe.com/") {
			t.Fatalf("sent to %q", u)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the checkout did not send the customer to the payment page")
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#stripe`))); err != nil {
		t.Fatalf("payment page: %v", err)
	}

	// Back on the site, the cart is empty and links to the order.
	err = chromedp.Do(ctx,
		chromedp.Navigate(e.URL("/cart")),
		chromedp.WaitVisible(chromedp.CSS(`#last-order`)),
	)
	if err != nil {
		t.Fatalf("cart after the order: %v", err)
	}
	link, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#last-order').getAttribute('href')`))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(u.Path, "/orders/")
	if err := chromedp.Do(ctx, chromedp.Navigate(e.URL(link)), chromedp.WaitVisible(chromedp.CSS(`#order-status`))); err != nil {
		t.Fatalf("order page: %v", err)
	}
	if st, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#order-status`))); st != "en attente de paiement" {
		t.Fatalf("status before payment %q", st)
	}
	screenshot(t, ctx, "store-order-pending-fr")

	if st := webhookEvent(t, e, "", "checkout.session.completed", id, "pi_browser", time.Now(), webtest.WebhookSecret); st != 200 {
		t.Fatalf("webhook: %d", st)
	}
	for _, tc := range []struct{ lang, paid string }{{"fr", "payée"}, {"en", "paid"}, {"ar", "مدفوع"}} {
		err := chromedp.Do(ctx, chromedp.Navigate(e.URL(link+"&lang="+tc.lang)), chromedp.WaitVisible(chromedp.CSS(`#order-status`)))
		if err != nil {
			t.Fatalf("%s: reload the order page: %v", tc.lang, err)
		}
		seen, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.querySelector('#order-status').innerText,
			[...document.querySelectorAll('li.lot code')].map(c => c.innerText).join(' '),
			String(document.querySelectorAll('li.lot a.trace').length),
			String(!!document.querySelector('#pay-now'))]`))
		if err != nil {
			t.Fatal(err)
		}
		if seen[0] != tc.paid || !strings.Contains(seen[1], f.packed.Code) || !strings.Contains(seen[1], second.Code) || seen[2] != "2" || seen[3] != "false" {
			t.Errorf("%s: order page shows %q", tc.lang, seen)
		}
		fitsThePhone(t, ctx)
		screenshot(t, ctx, "store-order-paid-"+tc.lang)
	}

	// The platform's manager sees the order to pack, with the lot of each jar.
	err = chromedp.Do(ctx,
		chromedp.Navigate(e.URL("/login?lang=fr")),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "eu@plateforme.fr"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), webtest.Password),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`header .who`)),
		chromedp.Navigate(e.URL("/platform/EU-PLATFORM")),
		chromedp.WaitVisible(chromedp.CSS(`#o-`+id+` table.packing`)),
	)
	if err != nil {
		t.Fatalf("fulfilment page: %v", err)
	}
	packing, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#o-`+id+` table.packing`)))
	if err != nil || !strings.Contains(packing, f.packed.Code) || !strings.Contains(packing, second.Code) {
		t.Fatalf("packing list %q %v", packing, err)
	}
	fitsThePhone(t, ctx)
	screenshot(t, ctx, "store-fulfilment-fr")
}
