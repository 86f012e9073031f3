package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/web/webtest"
)

// TestCartSaysWhyWithoutOnlinePayment: without a Stripe key the cart says,
// in the page's language, that online payment is unavailable and offers no
// checkout; the checkout page leads back to the cart, and a checkout form
// sent anyway is answered by the cart (503) with nothing sent to Stripe,
// no order kept and the cart as it was.
func TestCartSaysWhyWithoutOnlinePayment(t *testing.T) {
	wire := &stripeWire{}
	e := webtest.NewWith(t, webtest.Options{NoStripeKey: true, StripeTransport: wire})
	f := newPlatform(t, e)
	b := newBrowser(t, e)
	if resp := b.addToCart("SAF-1G", "2"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add to cart: %d", resp.StatusCode)
	}
	for lang, want := range map[string]string{
		"fr": "Le paiement en ligne n&#39;est pas disponible pour le moment",
		"en": "Online payment is not available right now",
		"ar": "الدفع عبر الإنترنت غير متاح حاليًا",
	} {
		resp, page := b.get("/cart?lang=" + lang)
		if resp.StatusCode != 200 || !strings.Contains(page, `id="payments-off">`+want) {
			t.Errorf("cart in %s does not say why: %d", lang, resp.StatusCode)
		}
		if strings.Contains(page, `id="go-checkout"`) || strings.Contains(page, `href="/checkout"`) {
			t.Errorf("cart in %s offers a checkout that cannot pay", lang)
		}
	}
	if resp, _ := b.get("/checkout"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/cart" {
		t.Fatalf("checkout page without payment: %d to %q, want the cart", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A checkout form kept from before (or sent by hand).
	_, page := b.get("/cart")
	form := customerForm()
	form.Set("csrf", csrfOf(t, page))
	form.Set("nonce", strings.Repeat("ab", 16))
	resp, page := b.post("/checkout", form)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page, `id="payments-off"`) || !strings.Contains(page, `data-sku="SAF-1G"`) {
		t.Fatalf("checkout sent without payment: %d %s", resp.StatusCode, page)
	}
	if n := wire.calls.Load(); n != 0 {
		t.Fatalf("%d requests went to Stripe", n)
	}
	if n := e.Count("orders"); n != 0 {
		t.Fatalf("%d orders kept (with the customer's name and address)", n)
	}
	if _, r := platformStock(t, e, f.eu); r != 0 {
		t.Fatalf("%d units reserved", r)
	}
	if got := b.cartCookie(); got != "SAF-1G*2" {
		t.Fatalf("the cart became %q", got)
	}
}

// TestCartOffersCheckoutWithOnlinePayment: the same cart with a Stripe key
// says nothing about payment being off and leads to the checkout.
func TestCartOffersCheckoutWithOnlinePayment(t *testing.T) {
	e := webtest.New(t)
	newPlatform(t, e)
	b := newBrowser(t, e)
	b.addToCart("SAF-1G", "1")
	_, page := b.get("/cart")
	if strings.Contains(page, `id="payments-off"`) || !strings.Contains(page, `id="go-checkout"`) {
		t.Fatal("with payment configured the cart must offer the checkout and no warning")
	}
	if resp, _ := b.get("/checkout"); resp.StatusCode != 200 {
		t.Fatalf("checkout page: %d", resp.StatusCode)
	}
}
