package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/webtest"
)

var (
	nonceInput   = regexp.MustCompile(`name="nonce" value="([0-9a-f]+)"`)
	traceLinkRef = regexp.MustCompile(`class="trace" href="([^"]+)"`)
)

// addToCart posts the add-to-cart form as the cart's picker (or the public
// catalogue's product page) does.
func (b *browser) addToCart(sku string, units string) *http.Response {
	b.t.Helper()
	_, page := b.get("/cart")
	resp, _ := b.post("/cart/add", url.Values{"csrf": {csrfOf(b.t, page)}, "sku": {sku}, "units": {units}, "channel": {"EU-PLATFORM"}})
	return resp
}

func (b *browser) cartCookie() string {
	for _, c := range b.c.Jar.Cookies(mustURL(b.t, b.e.URL("/"))) {
		if c.Name == "terroir_cart" {
			return c.Value
		}
	}
	return ""
}

func (b *browser) setCartCookie(v string) {
	b.c.Jar.SetCookies(mustURL(b.t, b.e.URL("/")), []*http.Cookie{{Name: "terroir_cart", Value: v, Path: "/"}})
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func customerForm() url.Values {
	return url.Values{"email": {"claire@example.fr"}, "name": {"Claire Martin"}, "line1": {"12 rue des Lilas"},
		"postal_code": {"69003"}, "city": {"Lyon"}, "country": {"FR"}}
}

// checkoutForm opens the checkout page and returns its CSRF token and nonce.
func (b *browser) checkoutForm() (csrf, nonce string) {
	b.t.Helper()
	resp, page := b.get("/checkout")
	if resp.StatusCode != 200 {
		b.t.Fatalf("checkout page: %d", resp.StatusCode)
	}
	m := nonceInput.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatal("no nonce in the checkout form")
	}
	return csrfOf(b.t, page), m[1]
}

func (b *browser) submitCheckout(csrf, nonce string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	f := url.Values{"csrf": {csrf}, "nonce": {nonce}}
	for k, v := range form {
		f[k] = v
	}
	return b.post("/checkout", f)
}

// lastOrder reads the link to the order just placed from the cart page.
func (b *browser) lastOrder() (path, id, token string) {
	b.t.Helper()
	_, page := b.get("/cart")
	m := regexp.MustCompile(`href="(/orders/([^"?]+)\?token=([^"]+))" id="last-order"`).FindStringSubmatch(page)
	if m == nil {
		b.t.Fatal("the cart shows no link to the order just placed")
	}
	return html.UnescapeString(m[1]), m[2], html.UnescapeString(m[3])
}

func TestCartAddUpdateRemoveAndTamperedCookie(t *testing.T) {
	e := webtest.New(t)
	newPlatform(t, e)
	b := newBrowser(t, e)
	if _, page := b.get("/cart"); !strings.Contains(page, "Votre panier est vide.") || !strings.Contains(page, "Safran de Taliouine 1 g") {
		t.Fatal("an empty cart shows its state and the product picker")
	}
	if resp := b.addToCart("SAF-1G", "2"); resp.StatusCode != 303 {
		t.Fatalf("add: %d", resp.StatusCode)
	}
	b.addToCart("saf-1g", "1")
	if got := b.cartCookie(); got != "SAF-1G*3" {
		t.Fatalf("cart cookie %q: only SKUs and units", got)
	}
	_, page := b.get("/cart?lang=en")
	if !strings.Contains(page, "Taliouine saffron 1 g") || !strings.Contains(page, `id="cart-total">€36.00<`) {
		t.Fatalf("cart in English with its total: %s", page)
	}
	csrf := csrfOf(t, page)
	b.post("/cart/update", url.Values{"csrf": {csrf}, "sku": {"SAF-1G"}, "units": {"5"}})
	if _, page := b.get("/cart"); !strings.Contains(page, `id="cart-total">€60.00<`) {
		t.Fatal("updated units not priced")
	}
	if resp, _ := b.post("/cart/update", url.Values{"sku": {"SAF-1G"}, "units": {"1"}}); resp.StatusCode != 403 || b.cartCookie() != "SAF-1G*5" {
		t.Fatalf("update without CSRF: %d, cookie %q", resp.StatusCode, b.cartCookie())
	}
	// Quantities out of range are refused, in the page's language, never
	// silently ignored (-2) or lowered (500): the cart stays as it was.
	for _, typed := range []string{"-2", "500", "deux"} {
		resp, page := b.post("/cart/update?lang=fr", url.Values{"csrf": {csrf}, "sku": {"SAF-1G"}, "units": {typed}})
		if resp.StatusCode != 400 || !strings.Contains(page, "pas un nombre d&#39;unités de 0 à 100") || b.cartCookie() != "SAF-1G*5" {
			t.Fatalf("units %q: %d, cookie %q", typed, resp.StatusCode, b.cartCookie())
		}
	}
	if resp, page := b.post("/cart/add?lang=fr", url.Values{"csrf": {csrf}, "sku": {"SAF-1G"}, "units": {"96"}}); resp.StatusCode != 400 ||
		!strings.Contains(page, "le panier en contient déjà 5") || b.cartCookie() != "SAF-1G*5" {
		t.Fatalf("adding past the limit: %d, cookie %q", resp.StatusCode, b.cartCookie())
	}
	b.get("/cart?lang=en") // back to the English the rest of the test reads
	if resp, _ := b.post("/cart/add", url.Values{"csrf": {csrf}, "sku": {"SAF-1G"}, "units": {"1"}, "channel": {"TAROUDANNT"}}); resp.StatusCode != 400 {
		t.Fatalf("add for another channel: %d", resp.StatusCode)
	}
	if resp, _ := b.post("/cart/add", url.Values{"csrf": {csrf}, "sku": {"NOPE-1"}, "units": {"1"}}); resp.StatusCode != 404 {
		t.Fatalf("add an unknown product: %d", resp.StatusCode)
	}
	b.post("/cart/remove", url.Values{"csrf": {csrf}, "sku": {"SAF-1G"}})
	if _, page := b.get("/cart"); !strings.Contains(page, "Your cart is empty.") || b.cartCookie() != "" {
		t.Fatal("remove left the line")
	}
	// A cookie edited by hand is ignored as a whole, never trusted and never
	// an error page; prices are never read from it.
	for _, bad := range []string{"SAF-1G*999", "SAF-1G*2*1", "SAF-1G*0", "SAF-1G*2|SAF-1G*1", "<script>*1", "SAF-1G*-3", "SAF-1G"} {
		b.setCartCookie(bad)
		resp, page := b.get("/cart")
		if resp.StatusCode != 200 || !strings.Contains(page, "Your cart is empty.") {
			t.Errorf("tampered cookie %q: %d", bad, resp.StatusCode)
		}
		if b.cartCookie() != "" {
			t.Errorf("tampered cookie %q kept", bad)
		}
	}
	// A product not sold on the platform drops out of the cart.
	b.setCartCookie("SAF-1G*1|OLD-SKU*2")
	if _, page := b.get("/cart"); !strings.Contains(page, "no longer on sale") || b.cartCookie() != "SAF-1G*1" {
		t.Fatalf("unsold product kept: %q", b.cartCookie())
	}
}

func TestCheckoutValidationKeepsInput(t *testing.T) {
	e := webtest.New(t)
	newPlatform(t, e)
	b := newBrowser(t, e)
	if resp, _ := b.get("/checkout"); resp.StatusCode != 303 || resp.Header.Get("Location") != "/cart" {
		t.Fatalf("checkout of an empty cart: %d", resp.StatusCode)
	}
	b.addToCart("SAF-1G", "2")
	csrf, nonce := b.checkoutForm()
	form := customerForm()
	form.Set("city", "")
	form.Set("line2", "Bâtiment B")
	resp, page := b.submitCheckout(csrf, nonce, form)
	if resp.StatusCode != 400 || !strings.Contains(page, `id="err-city">Ce champ est obligatoire.`) ||
		!strings.Contains(page, `value="Claire Martin"`) || !strings.Contains(page, `value="Bâtiment B"`) || !strings.Contains(page, `name="nonce" value="`+nonce+`"`) {
		t.Fatalf("missing city: %d %s", resp.StatusCode, page)
	}
	// The orders service's own rules show by their field too.
	form = customerForm()
	form.Set("email", "claire@@example")
	resp, page = b.submitCheckout(csrf, nonce, form)
	if resp.StatusCode != 400 || !strings.Contains(page, `id="err-email">Cette adresse e-mail n&#39;est pas valide.`) || !strings.Contains(page, `value="claire@@example"`) {
		t.Fatalf("bad email: %d", resp.StatusCode)
	}
	form = customerForm()
	form.Set("country", "US")
	if resp, page := b.submitCheckout(csrf, nonce, form); resp.StatusCode != 400 || !strings.Contains(page, `id="err-country">Nous ne livrons pas`) {
		t.Fatalf("country outside the list: %d", resp.StatusCode)
	}
	if e.Count("orders") != 0 || b.cartCookie() != "SAF-1G*2" {
		t.Fatalf("a refused form placed an order or lost the cart")
	}
}

func TestCheckoutDoubleSubmitPlacesOneOrder(t *testing.T) {
	e := webtest.New(t)
	f := newPlatform(t, e)
	b := newBrowser(t, e)
	b.addToCart("SAF-1G", "2")
	csrf, nonce := b.checkoutForm()
	cart := b.cartCookie()
	resp, _ := b.submitCheckout(csrf, nonce, customerForm())
	pay := resp.Header.Get("Location")
	if resp.StatusCode != 303 || !strings.HasPrefix(pay, "https://") {
		t.Fatalf("checkout: %d to %q, want the payment page", resp.StatusCode, pay)
	}
	if b.cartCookie() != "" {
		t.Fatal("the cart is kept after the order was placed")
	}
	// The same form sent again (double click, a retry on a weak link) with
	// the cart it carried then: the same order, the same payment page.
	b.setCartCookie(cart)
	resp, _ = b.submitCheckout(csrf, nonce, customerForm())
	if resp.StatusCode != 303 || resp.Header.Get("Location") != pay {
		t.Fatalf("second submit: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Once the cart is gone, the same nonce leads to the order.
	path, id, _ := b.lastOrder()
	resp, _ = b.submitCheckout(csrf, nonce, customerForm())
	if resp.Header.Get("Location") != path {
		t.Fatalf("submit after the cart was cleared: to %q, want %q", resp.Header.Get("Location"), path)
	}
	if n := e.Count("orders"); n != 1 {
		t.Fatalf("%d orders for one form", n)
	}
	if _, r := platformStock(t, e, f.eu); r != 2 {
		t.Fatalf("%d reserved, want 2", r)
	}
	o, err := e.Orders.Order(context.Background(), adminActor(), id, "")
	if err != nil || o.Total.Amount != 2400 || o.Customer.Address.City != "Lyon" {
		t.Fatalf("order %+v %v", o, err)
	}
}

func TestCheckoutOutOfStockIsShownByTheLine(t *testing.T) {
	e := webtest.New(t)
	newPlatform(t, e)
	b := newBrowser(t, e)
	b.addToCart("SAF-1G", "21") // 20 on the shelf
	csrf, nonce := b.checkoutForm()
	resp, page := b.submitCheckout(csrf, nonce, customerForm())
	if resp.StatusCode != 409 || !regexp.MustCompile(`data-sku="SAF-1G"[\s\S]*role="alert">Plus assez de stock`).MatchString(page) {
		t.Fatalf("out of stock: %d %s", resp.StatusCode, page)
	}
	if b.cartCookie() != "SAF-1G*21" || e.Count("orders") != 0 {
		t.Fatalf("cart lost (%q) or order placed", b.cartCookie())
	}
}

func TestOrderPageShowsLotsWithTraceLinksToItsTokenHolder(t *testing.T) {
	e := webtest.New(t)
	f := newPlatform(t, e)
	b := newBrowser(t, e)
	b.addToCart("SAF-1G", "2")
	csrf, nonce := b.checkoutForm()
	b.submitCheckout(csrf, nonce, customerForm())
	path, id, token := b.lastOrder()
	resp, page := b.get(path)
	if resp.StatusCode != 200 || !strings.Contains(page, "en attente de paiement") || !strings.Contains(page, `id="pay-now"`) ||
		!strings.Contains(page, f.packed.Code) || !strings.Contains(page, "24,00") {
		t.Fatalf("order page: %d %s", resp.StatusCode, page)
	}
	links := traceLinkRef.FindAllStringSubmatch(page, -1)
	if len(links) != 1 {
		t.Fatalf("%d trace links, want one per lot", len(links))
	}
	u := mustURL(t, html.UnescapeString(links[0][1]))
	ref, err := traceability.ParseTracePath(u.EscapedPath())
	if err != nil || ref.Lot != f.packed.Code || !e.Codes.Authentic(ref, u.Query().Get("s")) {
		t.Fatalf("trace link %s: %+v %v", u, ref, err)
	}
	if st, trace := getPage(t, e, u.RequestURI(), "fr"); st != 200 || !strings.Contains(trace, "Produit authentique") {
		t.Fatalf("trace page from the order: %d", st)
	}
	// Paid: the page says so and offers no payment link any more.
	if st := webhookEvent(t, e, "", "checkout.session.completed", id, "pi_page", time.Now(), webtest.WebhookSecret); st != 200 {
		t.Fatal(st)
	}
	if _, page := b.get(path + "&lang=en"); !strings.Contains(page, `id="order-status">paid<`) || strings.Contains(page, `id="pay-now"`) {
		t.Fatal("paid order page")
	}
	anon := newBrowser(t, e)
	if resp, _ := anon.get("/orders/" + id); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("without token: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := anon.get("/orders/" + id + "?token=" + token + "x"); resp.StatusCode != 404 {
		t.Fatalf("wrong token: %d", resp.StatusCode)
	}
	if resp, _ := anon.get("/orders/ord_nope?token=" + token); resp.StatusCode != 404 {
		t.Fatalf("another order with this token: %d", resp.StatusCode)
	}
}

// TestCheckoutCountriesAreThoseOrdersShipTo: every country of the checkout's
// select is one orders accepts, so a customer never picks a country that is
// then refused.
func TestCheckoutCountriesAreThoseOrdersShipTo(t *testing.T) {
	e := webtest.New(t)
	newPlatform(t, e)
	b := newBrowser(t, e)
	b.addToCart("SAF-1G", "1")
	_, page := b.get("/checkout")
	opts := regexp.MustCompile(`<option value="([A-Z]{2})"`).FindAllStringSubmatch(page, -1)
	if len(opts) < 20 {
		t.Fatalf("%d countries in the select", len(opts))
	}
	for _, o := range opts {
		// No lines: a customer orders accepts fails on the lines, not on the country.
		_, _, err := e.Orders.Create(context.Background(), orders.NewOrder{Channel: "EU-PLATFORM", Customer: orders.Customer{
			Email: "a@b.fr", Name: "A", Address: orders.Address{Line1: "1 rue", PostalCode: "12345", City: "X", Country: o[1]}}}, "")
		if err == nil || !strings.Contains(err.Error(), "lines") {
			t.Errorf("country %s: %v", o[1], err)
		}
	}
}

func adminActor() access.Actor { return access.Actor{UserID: "test-admin", Role: access.Admin} }

// paidOrder places an order through the storefront and pays it with a
// signed webhook; it returns the order's ID.
func paidOrder(t *testing.T, e *webtest.Env, units string, pi string) string {
	t.Helper()
	b := newBrowser(t, e)
	b.addToCart("SAF-1G", units)
	csrf, nonce := b.checkoutForm()
	b.submitCheckout(csrf, nonce, customerForm())
	_, id, _ := b.lastOrder()
	if pi != "" {
		if st := webhookEvent(t, e, "", "checkout.session.completed", id, pi, time.Now(), webtest.WebhookSecret); st != 200 {
			t.Fatalf("pay: %d", st)
		}
	}
	return id
}

func statusOfOrder(t *testing.T, e *webtest.Env, id string) orders.Order {
	t.Helper()
	o, err := e.Orders.Order(context.Background(), adminActor(), id, "")
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestFulfilmentPagesShipDeliverRefundAndCancel(t *testing.T) {
	e := webtest.New(t)
	f := newPlatform(t, e)
	e.User("other@shop.ma", "shop_manager", "AGADIR")
	id := paidOrder(t, e, "2", "pi_fulfil")
	pending := paidOrder(t, e, "3", "")

	m := newBrowser(t, e)
	if resp, _ := m.get("/platform/EU-PLATFORM"); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("fulfilment without login: %d", resp.StatusCode)
	}
	m.loginAs("eu@plateforme.fr")
	resp, page := m.get("/platform/EU-PLATFORM")
	if resp.StatusCode != 200 || !strings.Contains(page, id) || strings.Contains(page, pending) ||
		!regexp.MustCompile(`Liste de préparation[\s\S]*<td class="num">2</td><td><code>`+f.packed.Code).MatchString(page) {
		t.Fatalf("orders to pack: %d %s", resp.StatusCode, page)
	}
	if _, page := m.get("/platform/EU-PLATFORM?status=pending_payment"); !strings.Contains(page, pending) || strings.Contains(page, `id="o-`+id) {
		t.Fatal("status filter")
	}
	base := "/platform/EU-PLATFORM/orders/" + id
	_, page = m.get(base)
	csrf := csrfOf(t, page)
	if resp, _ := m.post(base+"/ship", url.Values{"tracking": {"6A1"}}); resp.StatusCode != 403 || statusOfOrder(t, e, id).Status != "paid" {
		t.Fatalf("ship without CSRF: %d", resp.StatusCode)
	}
	if resp, page := m.post(base+"/ship", url.Values{"csrf": {csrf}, "tracking": {" "}}); resp.StatusCode != 400 || !strings.Contains(page, `role="alert"`) {
		t.Fatalf("ship without tracking: %d", resp.StatusCode)
	}
	// Another shop's manager can neither see nor act.
	o := newBrowser(t, e)
	o.loginAs("other@shop.ma")
	if resp, _ := o.get("/platform/EU-PLATFORM"); resp.StatusCode != 403 {
		t.Fatalf("another shop's manager lists: %d", resp.StatusCode)
	}
	_, opage := o.get("/")
	if resp, _ := o.post(base+"/ship", url.Values{"csrf": {csrfOf(t, opage)}, "tracking": {"6A1"}}); resp.StatusCode != 403 {
		t.Fatalf("another shop's manager ships: %d", resp.StatusCode)
	}
	if resp, _ := o.get("/platform/EU-PLATFORM/outbox"); resp.StatusCode != 403 {
		t.Fatalf("another shop's manager reads the outbox: %d", resp.StatusCode)
	}
	// An order of this platform under another shop's URL is not found.
	if resp, _ := o.get("/platform/AGADIR/orders/" + id); resp.StatusCode != 404 {
		t.Fatalf("order under another shop: %d", resp.StatusCode)
	}
	if resp, _ := m.post(base+"/ship", url.Values{"csrf": {csrf}, "tracking": {"6A12345678901"}}); resp.StatusCode != 303 || statusOfOrder(t, e, id).Tracking != "6A12345678901" {
		t.Fatalf("ship: %d", resp.StatusCode)
	}
	if resp, _ := m.post(base+"/deliver", url.Values{"csrf": {csrf}}); resp.StatusCode != 303 || statusOfOrder(t, e, id).Status != "delivered" {
		t.Fatalf("deliver: %d", resp.StatusCode)
	}
	if resp, _ := m.post(base+"/refund", url.Values{"csrf": {csrf}, "restock": {"yes"}, "reason": {"jars came back"}}); resp.StatusCode != 303 || statusOfOrder(t, e, id).Status != "refunded" {
		t.Fatalf("refund: %d", resp.StatusCode)
	}
	if u, r := platformStock(t, e, f.eu); u != 20 || r != 3 {
		t.Fatalf("after refund with restock: %d units, %d reserved", u, r)
	}
	// Cancelling asks first.
	pbase := "/platform/EU-PLATFORM/orders/" + pending
	if resp, page := m.post(pbase+"/cancel", url.Values{"csrf": {csrf}}); resp.StatusCode != 200 || !strings.Contains(page, `id="confirm-cancel"`) || statusOfOrder(t, e, pending).Status != "pending_payment" {
		t.Fatalf("cancel without confirmation: %d", resp.StatusCode)
	}
	if resp, _ := m.post(pbase+"/cancel", url.Values{"csrf": {csrf}, "confirm": {"yes"}, "reason": {"customer asked"}}); resp.StatusCode != 303 || statusOfOrder(t, e, pending).Status != "cancelled" {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	if _, r := platformStock(t, e, f.eu); r != 0 {
		t.Fatalf("cancel left %d reserved", r)
	}
	// A refused transition shows on the page, nothing changes.
	if resp, page := m.post(pbase+"/deliver", url.Values{"csrf": {csrf}}); resp.StatusCode != 409 || !strings.Contains(page, "cancelled") {
		t.Fatalf("deliver a cancelled order: %d", resp.StatusCode)
	}
	// The outbox shows the confirmation and the shipment emails.
	resp, page = m.get("/platform/EU-PLATFORM/outbox")
	if resp.StatusCode != 200 || strings.Count(page, "claire@example.fr") != 2 || !strings.Contains(page, "6A12345678901") {
		t.Fatalf("outbox: %d %s", resp.StatusCode, page)
	}
	checkShopLedger(t, e)
}

// TestProductPageLeadsToTheCart: on the EU platform's catalogue a product in
// stock links to the cart, which offers that product first.
func TestProductPageLeadsToTheCart(t *testing.T) {
	e := webtest.New(t)
	newPlatform(t, e)
	st, page := getPage(t, e, "/shop/EU-PLATFORM/SAF-1G", "fr")
	if st != 200 || !strings.Contains(page, `href="/cart?add=SAF-1G#picker"`) {
		t.Fatalf("product page %d lacks the cart link", st)
	}
	if _, page := getPage(t, e, "/shop/TAROUDANNT/SAF-1G", "fr"); strings.Contains(page, "/cart?add=") {
		t.Fatal("a till shop's catalogue offers the online cart")
	}
	_, page = getPage(t, e, "/cart?add=SAF-1G", "fr")
	picker := page[strings.Index(page, `id="picker"`):]
	if !strings.HasPrefix(picker[strings.Index(picker, `name="sku" value="`)+len(`name="sku" value="`):], "SAF-1G") {
		t.Fatal("the cart does not offer the product first")
	}
}
