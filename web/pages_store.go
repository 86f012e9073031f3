package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/traceability"
)

// The online storefront of the EU platform: a cart kept in a cookie (no
// account), the checkout form, and the order page a customer reads with the
// order's token. The fulfilment pages of the platform manager are in
// pages_store_platform.go.
//
// Decisions:
//   - The cart cookie holds only SKUs and units ("SKU*2|SKU*1"); names,
//     prices and availability come from the in-memory catalogue at every
//     request, so a customer can never set a price. A cookie that does not
//     parse is ignored (an empty cart), never an error page.
//   - The checkout form carries a random nonce; the order's Idempotency-Key
//     is derived from it, so a double click or a retry on a weak connection
//     places one order.
//   - After the order exists the cart is cleared and a "last order" cookie
//     keeps its link (ID and token), so a customer whose payment page did not
//     load finds the order again from the cart.
//   - Only the EU platform sells online (storeChannel); the pages live
//     outside /shop/… which belongs to the public catalogue.

// storeChannel is the channel the storefront sells on.
const storeChannel = "EU-PLATFORM"

const (
	cartCookie      = "terroir_cart"
	lastOrderCookie = "terroir_order"
	cartMaxLines    = 20
	cartMaxUnits    = 100 // per line; what orders accept
	cartCookieAge   = 30 * 24 * 3600
	checkoutOrigin  = "https://checkout.stripe.com"
)

// storePages registers the storefront and the platform's fulfilment pages.
// They all go through the session middleware: a manager may open an order
// without its token, and a session costs nothing to a visitor without one.
func (s *Server) storePages(_ *gin.Engine, pages *gin.RouterGroup) {
	pages.GET("/cart", s.cartPage)
	pages.POST("/cart/add", s.cartAdd)
	pages.POST("/cart/update", s.cartUpdate)
	pages.POST("/cart/remove", s.cartRemove)
	pages.GET("/checkout", s.checkoutPage)
	pages.POST("/checkout", s.checkoutSubmit)
	pages.GET("/orders/:id", s.orderPage)
	s.platformPages(pages)
}

// cartLine is what the cookie stores: a product and a number of units.
type cartLine struct {
	SKU   string
	Units int64
}

var cartSKU = regexp.MustCompile(`^[A-Z0-9-]{2,40}$`)

// parseCart reads the cart cookie's value. Anything malformed (too many
// lines, a strange SKU, units out of range, a duplicate) makes the whole
// cookie void: someone edited it, and a half-trusted cart is worse than an
// empty one.
func parseCart(v string) ([]cartLine, bool) {
	if v == "" {
		return nil, true
	}
	parts := strings.Split(v, "|")
	if len(parts) > cartMaxLines {
		return nil, false
	}
	seen := map[string]bool{}
	out := make([]cartLine, 0, len(parts))
	for _, p := range parts {
		sku, n, ok := strings.Cut(p, "*")
		if !ok || !cartSKU.MatchString(sku) || seen[sku] {
			return nil, false
		}
		units, err := strconv.ParseInt(n, 10, 64)
		if err != nil || units < 1 || units > cartMaxUnits {
			return nil, false
		}
		seen[sku] = true
		out = append(out, cartLine{SKU: sku, Units: units})
	}
	return out, true
}

func formatCart(lines []cartLine) string {
	parts := make([]string, 0, len(lines))
	for _, l := range lines {
		parts = append(parts, l.SKU+"*"+strconv.FormatInt(l.Units, 10))
	}
	return strings.Join(parts, "|")
}

// cartOf returns the visitor's cart; a tampered cookie is dropped.
func (s *Server) cartOf(c *gin.Context) []cartLine {
	v, err := c.Cookie(cartCookie)
	if err != nil {
		return nil
	}
	lines, ok := parseCart(v)
	if !ok {
		s.setCookie(c, cartCookie, "", -1)
		return nil
	}
	return lines
}

func (s *Server) saveCart(c *gin.Context, lines []cartLine) {
	if len(lines) == 0 {
		s.setCookie(c, cartCookie, "", -1)
		return
	}
	s.setCookie(c, cartCookie, formatCart(lines), cartCookieAge)
}

// cartRow is one line of the cart as the page shows it, priced from the
// catalogue.
type cartRow struct {
	SKU       string
	Name      string
	Units     int64
	UnitPrice string
	Amount    string
	Available int64
	Short     bool   // more units asked than are free now
	Problem   string // a refusal at checkout, shown by the line
}

// pricedCart is a cart joined with the channel's catalogue.
type pricedCart struct {
	Rows    []cartRow
	Lines   []cartLine // the lines still sold, in order
	Total   string
	Dropped []string // SKUs no longer sold on the channel
}

func (s *Server) priceCart(ctx context.Context, lang string, lines []cartLine) (pricedCart, []catalogItem, error) {
	cc, err := s.catalogOf(ctx, storeChannel)
	if err != nil {
		return pricedCart{}, nil, err
	}
	items := cc.items(storeChannel)
	bySKU := make(map[string]catalogItem, len(items))
	for _, it := range items {
		bySKU[it.SKU] = it
	}
	var pc pricedCart
	total := catalog.Money{Currency: "EUR"}
	for _, l := range lines {
		it, ok := bySKU[l.SKU]
		if !ok {
			pc.Dropped = append(pc.Dropped, l.SKU)
			continue
		}
		amount := catalog.Money{Amount: it.Price.Amount * l.Units, Currency: it.Price.Currency}
		total.Currency = it.Price.Currency
		total.Amount += amount.Amount
		pc.Lines = append(pc.Lines, l)
		pc.Rows = append(pc.Rows, cartRow{SKU: l.SKU, Name: it.Names.In(lang), Units: l.Units, UnitPrice: formatMoney(it.Price, lang),
			Amount: formatMoney(amount, lang), Available: it.AvailableUnits, Short: l.Units > it.AvailableUnits})
	}
	pc.Total = formatMoney(total, lang)
	return pc, items, nil
}

// cartView is what cart.html shows.
type cartView struct {
	Cart      pricedCart
	Products  []pickItem
	LastOrder string // link to the order placed last from this browser
	Channel   string
	MaxUnits  int64
}

type pickItem struct {
	SKU, Name, Price string
	Available        int64
}

func (s *Server) cartPage(c *gin.Context) { s.showCart(c, http.StatusOK, nil) }

// showCart renders the cart; refused lines (out of stock at checkout)
// carry their message.
func (s *Server) showCart(c *gin.Context, status int, refused map[string]string) {
	lang := langOf(c)
	lines := s.cartOf(c)
	pc, items, err := s.priceCart(c.Request.Context(), lang, lines)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	if len(pc.Dropped) > 0 {
		s.saveCart(c, pc.Lines)
	}
	for i := range pc.Rows {
		pc.Rows[i].Problem = refused[pc.Rows[i].SKU]
	}
	v := &cartView{Cart: pc, Channel: storeChannel, MaxUnits: cartMaxUnits, LastOrder: s.lastOrderLink(c)}
	for _, it := range items {
		if it.AvailableUnits > 0 {
			v.Products = append(v.Products, pickItem{SKU: it.SKU, Name: it.Names.In(lang), Price: formatMoney(it.Price, lang), Available: it.AvailableUnits})
		}
	}
	// Coming from a product page (/cart?add=SKU): that product first.
	if add := strings.ToUpper(c.Query("add")); add != "" {
		slices.SortStableFunc(v.Products, func(a, b pickItem) int {
			switch {
			case a.SKU == add && b.SKU != add:
				return -1
			case b.SKU == add && a.SKU != add:
				return 1
			}
			return 0
		})
	}
	d := s.data(c, "st_cart", v)
	if len(refused) > 0 {
		d.Flash = ""
	}
	s.render(c, status, "cart", d)
}

// cartAdd adds units of a product: the form of the cart's own product
// picker, and of the public catalogue's product page.
func (s *Server) cartAdd(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	if ch := c.PostForm("channel"); ch != "" && traceability.NormalizeCode(ch) != storeChannel {
		s.renderError(c, http.StatusBadRequest, "invalid")
		return
	}
	sku := strings.ToUpper(strings.TrimSpace(c.PostForm("sku")))
	units, err := strconv.ParseInt(digitsASCII(c.DefaultPostForm("units", "1")), 10, 64)
	if err != nil || units < 1 || !cartSKU.MatchString(sku) {
		s.renderError(c, http.StatusBadRequest, "invalid")
		return
	}
	cc, err := s.catalogOf(c.Request.Context(), storeChannel)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	sold := false
	for _, it := range cc.items(storeChannel) {
		sold = sold || it.SKU == sku
	}
	if !sold {
		s.renderError(c, http.StatusNotFound, "not_found")
		return
	}
	lines := s.cartOf(c)
	found := false
	for i := range lines {
		if lines[i].SKU == sku {
			lines[i].Units = min(lines[i].Units+units, cartMaxUnits)
			found = true
		}
	}
	if !found {
		if len(lines) >= cartMaxLines {
			s.redirectCart(c, "st_cart_full")
			return
		}
		lines = append(lines, cartLine{SKU: sku, Units: min(units, cartMaxUnits)})
	}
	s.saveCart(c, lines)
	s.redirectCart(c, "st_added")
}

// cartUpdate sets the units of every line (sku and units fields repeated
// in the cart's order); 0 removes a line.
func (s *Server) cartUpdate(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	skus, units := c.PostFormArray("sku"), c.PostFormArray("units")
	want := map[string]int64{}
	for i, sku := range skus {
		if i >= len(units) {
			break
		}
		n, err := strconv.ParseInt(digitsASCII(units[i]), 10, 64)
		if err != nil || n < 0 {
			continue // a field left unreadable keeps its line as it was
		}
		want[strings.ToUpper(sku)] = min(n, cartMaxUnits)
	}
	var kept []cartLine
	for _, l := range s.cartOf(c) {
		if n, ok := want[l.SKU]; ok {
			l.Units = n
		}
		if l.Units > 0 {
			kept = append(kept, l)
		}
	}
	s.saveCart(c, kept)
	s.redirectCart(c, "st_updated")
}

func (s *Server) cartRemove(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	sku := strings.ToUpper(c.PostForm("sku"))
	var kept []cartLine
	for _, l := range s.cartOf(c) {
		if l.SKU != sku {
			kept = append(kept, l)
		}
	}
	s.saveCart(c, kept)
	s.redirectCart(c, "st_removed")
}

func (s *Server) redirectCart(c *gin.Context, flash string) {
	c.Redirect(http.StatusSeeOther, "/cart?flash="+url.QueryEscape(messages[langOf(c)][flash]))
}

// lastOrder is the order placed last from this browser, read from its cookie.
type lastOrder struct{ ID, Token, Nonce string }

func (s *Server) lastOrderOf(c *gin.Context) (lastOrder, bool) {
	v, err := c.Cookie(lastOrderCookie)
	if err != nil {
		return lastOrder{}, false
	}
	p := strings.Split(v, ".")
	if len(p) != 3 || p[0] == "" || p[1] == "" {
		return lastOrder{}, false
	}
	return lastOrder{p[0], p[1], p[2]}, true
}

func (s *Server) lastOrderLink(c *gin.Context) string {
	lo, ok := s.lastOrderOf(c)
	if !ok {
		return ""
	}
	return orderLink(lo.ID, lo.Token)
}

func orderLink(id, token string) string {
	return "/orders/" + url.PathEscape(id) + "?token=" + url.QueryEscape(token)
}

// checkoutView is what checkout.html shows.
type checkoutView struct {
	Cart      pricedCart
	Nonce     string
	Countries []countryOption
	Invalid   map[string]string // field → message
}

type countryOption struct{ Code, Name string }

func (s *Server) checkoutPage(c *gin.Context) {
	lines := s.cartOf(c)
	if len(lines) == 0 {
		c.Redirect(http.StatusSeeOther, "/cart")
		return
	}
	s.showCheckout(c, http.StatusOK, lines, newNonce(), nil)
}

func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var nonceShape = regexp.MustCompile(`^[0-9a-f]{32}$`)

func (s *Server) showCheckout(c *gin.Context, status int, lines []cartLine, nonce string, invalid map[string]string) {
	lang := langOf(c)
	pc, _, err := s.priceCart(c.Request.Context(), lang, lines)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	v := &checkoutView{Cart: pc, Nonce: nonce, Countries: shippingCountries(lang), Invalid: invalid}
	d := s.data(c, "st_checkout", v)
	if c.Request.Method == http.MethodPost {
		for _, k := range checkoutFields {
			d.Form[k] = c.PostForm(k)
		}
	} else {
		d.Form["country"] = "FR"
	}
	allowCheckoutRedirect(c)
	s.render(c, status, "checkout", d)
}

// allowCheckoutRedirect lets this page's form be redirected to the hosted
// payment page: browsers apply the form-action policy to the redirect that
// follows a form submission too.
func allowCheckoutRedirect(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", strings.Replace(h.Get("Content-Security-Policy"), "form-action 'self'", "form-action 'self' "+checkoutOrigin, 1))
}

var checkoutFields = []string{"email", "name", "line1", "line2", "postal_code", "city", "country"}

// checkoutSubmit places the order and sends the customer to pay.
func (s *Server) checkoutSubmit(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	nonce := c.PostForm("nonce")
	if !nonceShape.MatchString(nonce) {
		nonce = newNonce() // a mangled form: a fresh nonce, the input kept
	}
	lines := s.cartOf(c)
	if len(lines) == 0 {
		// A second submit after the order was placed (the cart is cleared by
		// then): go to that order rather than to an empty cart.
		if lo, ok := s.lastOrderOf(c); ok && lo.Nonce == nonce {
			c.Redirect(http.StatusSeeOther, orderLink(lo.ID, lo.Token))
			return
		}
		c.Redirect(http.StatusSeeOther, "/cart")
		return
	}
	t := messages[langOf(c)]
	f := func(k string) string { return strings.TrimSpace(c.PostForm(k)) }
	invalid := map[string]string{}
	for _, k := range []string{"email", "name", "line1", "postal_code", "city", "country"} {
		if f(k) == "" {
			invalid[k] = t["st_required"]
		}
	}
	if f("country") != "" && !slices.Contains(countryCodes, strings.ToUpper(f("country"))) {
		invalid["country"] = t["st_bad_country"]
	}
	if len(invalid) > 0 {
		s.showCheckout(c, http.StatusBadRequest, lines, nonce, invalid)
		return
	}
	req := orders.NewOrder{Channel: storeChannel, Customer: orders.Customer{Email: f("email"), Name: f("name"),
		Address: orders.Address{Line1: f("line1"), Line2: f("line2"), PostalCode: f("postal_code"), City: f("city"), Country: f("country")}}}
	for _, l := range lines {
		req.Lines = append(req.Lines, orders.OrderLine{SKU: l.SKU, Units: l.Units})
	}
	placed, _, err := s.deps.Orders.Create(c.Request.Context(), req, "storefront:"+nonce)
	if err != nil {
		s.checkoutRefused(c, err, lines, nonce)
		return
	}
	o := placed.Order
	s.setCookie(c, cartCookie, "", -1)
	s.setCookie(c, lastOrderCookie, o.ID+"."+placed.Token+"."+nonce, 7*24*3600)
	if o.Status == orders.StatusPendingPayment && strings.HasPrefix(o.CheckoutURL, "https://") {
		c.Redirect(http.StatusSeeOther, o.CheckoutURL)
		return
	}
	c.Redirect(http.StatusSeeOther, orderLink(o.ID, placed.Token))
}

// checkoutRefused shows why the order was not placed: a customer field by
// its input, missing stock by its cart line (409, cart kept).
func (s *Server) checkoutRefused(c *gin.Context, err error, lines []cartLine, nonce string) {
	pe, ok := problem.As(err)
	if !ok || pe.Code == problem.Unavailable || pe.Code == problem.PaymentsUnavailable {
		s.pageFail(c, err)
		return
	}
	t := messages[langOf(c)]
	if pe.Code == problem.InsufficientStock || strings.HasPrefix(pe.Field, "lines[") {
		refused := map[string]string{}
		var i int
		if _, scanErr := fmt.Sscanf(pe.Field, "lines[%d]", &i); scanErr == nil && i >= 0 && i < len(lines) {
			refused[lines[i].SKU] = t["st_out_of_stock"]
		} else {
			for _, l := range lines {
				refused[l.SKU] = t["st_out_of_stock"]
			}
		}
		if pe.Code != problem.InsufficientStock {
			for k := range refused {
				refused[k] = t["st_not_sold"]
			}
		}
		status, _ := classify(c, err)
		s.showCart(c, status, refused)
		return
	}
	field := strings.TrimPrefix(strings.TrimPrefix(pe.Field, "customer."), "address.")
	msg := t["st_bad_"+field]
	if msg == "" {
		msg = t["err_invalid"]
	}
	if pe.Code == problem.Unprocessable {
		field, msg = "form", t["st_resubmitted"]
		nonce = newNonce() // the customer changed the form after sending it: let the next try through
	}
	status, _ := classify(c, err)
	s.showCheckout(c, status, lines, nonce, map[string]string{field: msg})
}

// orderView is an order as its page shows it.
type orderPageView struct {
	Order        orders.Order
	Status       string
	Created      string
	Lines        []orderLineView
	Total        string
	PayURL       string
	JustPaid     bool // back from the payment page, webhook not here yet
	History      []historyRow
	Manager      bool
	PlatformLink string
}

type orderLineView struct {
	SKU, Name        string
	Units            int64
	UnitPrice, Total string
	Lots             []orderLot
}

type orderLot struct {
	Lot        string
	Units      int64
	BestBefore string
	TraceURL   string
}

type historyRow struct{ At, Status, Note string }

func (s *Server) orderPage(c *gin.Context) {
	ctx, actor := c.Request.Context(), actorOf(c)
	o, err := s.deps.Orders.Order(ctx, actor, c.Param("id"), c.Query("token"))
	if err != nil {
		s.pageFail(c, err)
		return
	}
	lang := langOf(c)
	v, err := s.orderPageView(ctx, o, lang)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	v.JustPaid = c.Query("paid") == "1" && o.Status == orders.StatusPendingPayment
	v.Manager = c.Query("token") == "" && actor.ManageShop(o.Channel) == nil
	if v.Manager {
		v.PlatformLink = "/platform/" + url.PathEscape(o.Channel) + "/orders/" + url.PathEscape(o.ID)
	}
	s.render(c, http.StatusOK, "order", s.data(c, "st_order", v))
}

// orderPageView joins an order with the catalogue's names in the page's
// language and each lot's signed trace link. A lot that cannot be read is
// shown without its link rather than failing the page.
func (s *Server) orderPageView(ctx context.Context, o orders.Order, lang string) (*orderPageView, error) {
	v := &orderPageView{Order: o, Status: orderStatusName(o.Status, lang), Created: o.CreatedAt.UTC().Format("2006-01-02 15:04") + " UTC",
		Total: formatMoney(o.Total, lang)}
	// The view of the JSON API decides when a payment link may be shown.
	v.PayURL = viewOrder(o, "", false).CheckoutURL
	for _, l := range o.Lines {
		name := o.Names[l.SKU]
		if p, err := s.deps.Catalog.Product(ctx, l.SKU); err == nil {
			name = p.Names.In(lang)
		}
		lv := orderLineView{SKU: l.SKU, Name: name, Units: l.Units,
			UnitPrice: formatMoney(catalog.Money{Amount: l.UnitPrice, Currency: o.Total.Currency}, lang),
			Total:     formatMoney(catalog.Money{Amount: l.Amount, Currency: o.Total.Currency}, lang)}
		for _, lu := range l.Lots {
			ll := orderLot{Lot: lu.Lot, Units: lu.Units}
			lot, err := s.deps.Traceability.PublicLot(ctx, lu.Lot)
			switch {
			case err == nil:
				ll.TraceURL = s.deps.Codes.URL(traceability.RefOf(lot, ""))
				ll.BestBefore = lot.BestBefore
			case !errors.Is(err, traceability.ErrLotNotFound) && problem.CodeOf(err) != problem.NotFound:
				return nil, err
			}
			lv.Lots = append(lv.Lots, ll)
		}
		v.Lines = append(v.Lines, lv)
	}
	for _, h := range o.History {
		v.History = append(v.History, historyRow{At: h.At.UTC().Format("2006-01-02 15:04"), Status: orderStatusName(h.Status, lang), Note: h.Note})
	}
	return v, nil
}

func orderStatusName(status, lang string) string {
	if n := messages[lang]["st_status_"+status]; n != "" {
		return n
	}
	return status
}

// shippingCountries lists the countries orders ship to, named in lang and
// sorted by code (names sort differently per script; codes are stable).
func shippingCountries(lang string) []countryOption {
	out := make([]countryOption, 0, len(countryCodes))
	for _, code := range countryCodes {
		out = append(out, countryOption{Code: code, Name: messages[lang]["st_country_"+code]})
	}
	return out
}

// dateOf formats a time for the back-office pages.
func dateOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04")
}
