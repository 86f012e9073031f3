package storefront

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/web/catalogcache"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/page"
)

const (
	cartCookie      = "terroir_cart"
	lastOrderCookie = "terroir_order"
	cartMaxLines    = 20
	cartMaxUnits    = 100 // per line; what orders accept
	cartCookieAge   = 30 * 24 * 3600
)

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
func (h *Handlers) cartOf(c *gin.Context) []cartLine {
	v, err := c.Cookie(cartCookie)
	if err != nil {
		return nil
	}
	lines, ok := parseCart(v)
	if !ok {
		h.d.Pages.SetCookie(c, cartCookie, "", -1)
		return nil
	}
	return lines
}

func (h *Handlers) saveCart(c *gin.Context, lines []cartLine) {
	if len(lines) == 0 {
		h.d.Pages.SetCookie(c, cartCookie, "", -1)
		return
	}
	h.d.Pages.SetCookie(c, cartCookie, formatCart(lines), cartCookieAge)
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
	Short     string // more units asked than are free now: how many are
	Problem   string // a refusal at checkout, shown by the line
}

// pricedCart is a cart joined with the channel's catalogue.
type pricedCart struct {
	Rows    []cartRow
	Lines   []cartLine // the lines still sold, in order
	Total   string
	Dropped []string // SKUs no longer sold on the channel
}

func (h *Handlers) priceCart(ctx context.Context, l *i18n.Locale, lines []cartLine) (pricedCart, *catalogcache.Channel, error) {
	ch, err := h.d.Catalogue.Channel(ctx, Channel)
	if err != nil {
		return pricedCart{}, nil, err
	}
	var pc pricedCart
	var sold []shops.Line
	for _, line := range lines {
		if _, ok := ch.Item(line.SKU); !ok {
			pc.Dropped = append(pc.Dropped, line.SKU)
			continue
		}
		pc.Lines = append(pc.Lines, line)
		sold = append(sold, shops.Line{SKU: line.SKU, Units: line.Units})
	}
	// The amounts are the channel's quote: what the order will be priced at.
	q, err := h.d.Quotes.Quote(ctx, Channel, sold)
	if err != nil {
		return pricedCart{}, nil, err
	}
	for i, ql := range q.Lines {
		it, _ := ch.Item(ql.SKU)
		row := cartRow{SKU: ql.SKU, Name: it.Names.In(l.Code()), Units: ql.Units, UnitPrice: l.Money(ql.UnitPrice, q.Currency),
			Amount: l.Money(ql.Amount, q.Currency), Available: it.AvailableUnits}
		if pc.Lines[i].Units > it.AvailableUnits {
			row.Short = l.T("st_short", it.AvailableUnits)
		}
		pc.Rows = append(pc.Rows, row)
	}
	pc.Total = l.Money(q.Total, q.Currency)
	return pc, ch, nil
}

// cartView is the cart page.
type cartView struct {
	page.Page
	Cart      pricedCart
	Products  []pickItem
	LastOrder string // link to the order placed last from this browser
	Channel   string
	MaxUnits  int64
	// PaymentsOff: online payment is not configured; the page says so and
	// offers no checkout.
	PaymentsOff bool
}

type pickItem struct {
	SKU, Name, Price, Available string
}

// Cart answers GET /cart.
func (h *Handlers) Cart(c *gin.Context) { h.showCart(c, http.StatusOK, nil) }

// showCart renders the cart; refused lines (out of stock at checkout)
// carry their message.
func (h *Handlers) showCart(c *gin.Context, status int, refused map[string]string) {
	l := page.Locale(c)
	lines := h.cartOf(c)
	pc, ch, err := h.priceCart(c.Request.Context(), l, lines)
	if err != nil {
		page.Fail(c, err)
		return
	}
	if len(pc.Dropped) > 0 {
		h.saveCart(c, pc.Lines)
	}
	for i := range pc.Rows {
		pc.Rows[i].Problem = refused[pc.Rows[i].SKU]
	}
	v := &cartView{Page: h.d.Pages.Page(c, l.T("st_cart")), Cart: pc, Channel: Channel, MaxUnits: cartMaxUnits, LastOrder: h.lastOrderLink(c),
		PaymentsOff: !h.paymentsOn()}
	v.Styles = []string{"store.css"}
	for _, it := range ch.Items() {
		if it.AvailableUnits > 0 {
			v.Products = append(v.Products, pickItem{SKU: it.SKU, Name: it.Names.In(l.Code()), Price: l.Money(it.Price.Amount, it.Price.Currency),
				Available: l.T("in_stock_count", it.AvailableUnits)})
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
	if len(refused) > 0 {
		v.Flash = ""
	}
	h.d.Pages.Render(c, status, "storefront/cart", v)
}

var errNotOnSale = problem.Field("sku", "this product is not on sale here")

// CartAdd answers POST /cart/add: units of a product, from the cart's own
// picker or the public catalogue's product page.
func (h *Handlers) CartAdd(c *gin.Context) {
	if ch := c.PostForm("channel"); ch != "" && id.NormalizeCode(ch) != Channel {
		page.Fail(c, problem.Field("channel", "online orders go to %s", Channel))
		return
	}
	sku := strings.ToUpper(strings.TrimSpace(c.PostForm("sku")))
	units, err := strconv.ParseInt(page.DigitsASCII(c.DefaultPostForm("units", "1")), 10, 64)
	if err != nil || units < 1 {
		page.Fail(c, problem.Field("units", "must be a positive whole number"))
		return
	}
	if !cartSKU.MatchString(sku) {
		page.Fail(c, errNotOnSale)
		return
	}
	ch, err := h.d.Catalogue.Channel(c.Request.Context(), Channel)
	if err != nil {
		page.Fail(c, err)
		return
	}
	if _, sold := ch.Item(sku); !sold {
		page.Fail(c, problem.New(problem.NotFound, "this product is not offered in this shop"))
		return
	}
	lines := h.cartOf(c)
	found := false
	for i := range lines {
		if lines[i].SKU == sku {
			if lines[i].Units+units > cartMaxUnits {
				// Never silently fewer than asked: say so, change nothing.
				h.showCart(c, http.StatusBadRequest, map[string]string{sku: page.Locale(c).Message(
					problem.Field("units", "at most %d of one product per order: the cart already holds %d", cartMaxUnits, lines[i].Units))})
				return
			}
			lines[i].Units += units
			found = true
		}
	}
	if !found {
		if len(lines) >= cartMaxLines {
			h.d.Pages.Redirect(c, "/cart", "st_cart_full")
			return
		}
		lines = append(lines, cartLine{SKU: sku, Units: units})
	}
	h.saveCart(c, lines)
	h.d.Pages.Redirect(c, "/cart", "st_added")
}

// CartUpdate answers POST /cart/update: the units of every line (sku and
// units fields repeated in the cart's order); 0 removes a line. A quantity
// that is not a whole number from 0 to cartMaxUnits refuses the whole
// update, naming the line, and changes nothing: never silently ignored or
// lowered.
func (h *Handlers) CartUpdate(c *gin.Context) {
	skus, units := c.PostFormArray("sku"), c.PostFormArray("units")
	want := map[string]int64{}
	refused := map[string]string{}
	for i, sku := range skus {
		if i >= len(units) {
			break
		}
		sku = strings.ToUpper(sku)
		typed := strings.TrimSpace(units[i])
		n, err := strconv.ParseInt(page.DigitsASCII(typed), 10, 64)
		if err != nil || n < 0 || n > cartMaxUnits {
			refused[sku] = page.Locale(c).Message(problem.Field("units", "%q is not a number of units from 0 to %d", typed, cartMaxUnits))
			continue
		}
		want[sku] = n
	}
	if len(refused) > 0 {
		h.showCart(c, http.StatusBadRequest, refused)
		return
	}
	var kept []cartLine
	for _, l := range h.cartOf(c) {
		if n, ok := want[l.SKU]; ok {
			l.Units = n
		}
		if l.Units > 0 {
			kept = append(kept, l)
		}
	}
	h.saveCart(c, kept)
	h.d.Pages.Redirect(c, "/cart", "st_updated")
}

// CartRemove answers POST /cart/remove.
func (h *Handlers) CartRemove(c *gin.Context) {
	sku := strings.ToUpper(c.PostForm("sku"))
	var kept []cartLine
	for _, l := range h.cartOf(c) {
		if l.SKU != sku {
			kept = append(kept, l)
		}
	}
	h.saveCart(c, kept)
	h.d.Pages.Redirect(c, "/cart", "st_removed")
}

// lastOrder is the order placed last from this browser, read from its cookie.
type lastOrder struct{ ID, Token, Nonce string }

func lastOrderOf(c *gin.Context) (lastOrder, bool) {
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

func (h *Handlers) lastOrderLink(c *gin.Context) string {
	lo, ok := lastOrderOf(c)
	if !ok {
		return ""
	}
	return orderLink(lo.ID, lo.Token)
}

func orderLink(id, token string) string {
	return "/orders/" + url.PathEscape(id) + "?token=" + url.QueryEscape(token)
}
