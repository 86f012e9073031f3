package storefront

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/page"
)

// checkoutOrigin is the hosted payment page the checkout form goes on to.
const checkoutOrigin = "https://checkout.stripe.com"

// checkoutView is the checkout page.
type checkoutView struct {
	page.Page
	Cart      pricedCart
	Nonce     string
	Countries []countryOption
	Invalid   checkoutErrors
	// The form's inputs, by group: contact, street, postal code and city.
	Contact, Street, Town []inputField
}

// inputField is one input of the checkout form.
type inputField struct {
	Name, Label, Value, Error, Type, Auto string
	LTR                                   bool // e-mails and postal codes read left to right
}

// checkoutErrors are the refusals by field of the checkout form.
type checkoutErrors struct {
	Form, Email, Name, Line1, Line2, PostalCode, City, Country string
}

func (e *checkoutErrors) set(field, msg string) {
	switch field {
	case "email":
		e.Email = msg
	case "name":
		e.Name = msg
	case "line1":
		e.Line1 = msg
	case "line2":
		e.Line2 = msg
	case "postal_code":
		e.PostalCode = msg
	case "city":
		e.City = msg
	case "country":
		e.Country = msg
	default:
		e.Form = msg
	}
}

func (e checkoutErrors) any() bool { return e != checkoutErrors{} }

type countryOption struct{ Code, Name string }

// Checkout answers GET /checkout.
func (h *Handlers) Checkout(c *gin.Context) {
	lines := h.cartOf(c)
	if len(lines) == 0 || !h.paymentsOn() {
		c.Redirect(http.StatusSeeOther, "/cart")
		return
	}
	h.showCheckout(c, http.StatusOK, lines, newNonce(), checkoutErrors{})
}

func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var nonceShape = regexp.MustCompile(`^[0-9a-f]{32}$`)

var checkoutFields = []string{"email", "name", "line1", "line2", "postal_code", "city", "country"}

func (h *Handlers) showCheckout(c *gin.Context, status int, lines []cartLine, nonce string, invalid checkoutErrors) {
	l := page.Locale(c)
	pc, _, err := h.priceCart(c.Request.Context(), l, lines)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := &checkoutView{Page: h.d.Pages.Page(c, l.T("st_checkout")), Cart: pc, Nonce: nonce, Countries: shippingCountries(l), Invalid: invalid}
	v.Styles = []string{"store.css"}
	if c.Request.Method == http.MethodPost {
		for _, k := range checkoutFields {
			v.Form.Set(k, c.PostForm(k))
		}
	} else {
		v.Form.Set("country", "FR")
	}
	in := func(name, label, errText, typ, auto string) inputField {
		return inputField{Name: name, Label: label, Value: v.Form.Get(name), Error: errText, Type: typ, Auto: auto,
			LTR: name == "email" || name == "postal_code"}
	}
	v.Contact = []inputField{in("email", l.T("st_email"), invalid.Email, "email", "email"), in("name", l.T("st_name"), invalid.Name, "text", "name")}
	v.Street = []inputField{in("line1", l.T("st_line1"), invalid.Line1, "text", "address-line1"), in("line2", l.T("st_line2"), invalid.Line2, "text", "address-line2")}
	v.Town = []inputField{in("postal_code", l.T("st_postal_code"), invalid.PostalCode, "text", "postal-code"), in("city", l.T("st_city"), invalid.City, "text", "address-level2")}
	allowCheckoutRedirect(c)
	h.d.Pages.Render(c, status, "storefront/checkout", v)
}

// allowCheckoutRedirect lets this page's form be redirected to the hosted
// payment page: browsers apply the form-action policy to the redirect that
// follows a form submission too.
func allowCheckoutRedirect(c *gin.Context) {
	hd := c.Writer.Header()
	hd.Set("Content-Security-Policy", strings.Replace(hd.Get("Content-Security-Policy"), "form-action 'self'", "form-action 'self' "+checkoutOrigin, 1))
}

// CheckoutSubmit answers POST /checkout: it places the order and sends the
// customer to pay.
func (h *Handlers) CheckoutSubmit(c *gin.Context) {
	nonce := c.PostForm("nonce")
	if !nonceShape.MatchString(nonce) {
		nonce = newNonce() // a mangled form: a fresh nonce, the input kept
	}
	lines := h.cartOf(c)
	if len(lines) == 0 {
		// A second submit after the order was placed (the cart is cleared by
		// then): go to that order rather than to an empty cart.
		if lo, ok := lastOrderOf(c); ok && lo.Nonce == nonce {
			c.Redirect(http.StatusSeeOther, orderLink(lo.ID, lo.Token))
			return
		}
		c.Redirect(http.StatusSeeOther, "/cart")
		return
	}
	if !h.paymentsOn() {
		// Nothing is sent on: the cart says why (and keeps its lines).
		h.showCart(c, page.Status(orders.ErrPaymentsOff), nil)
		return
	}
	l := page.Locale(c)
	f := func(k string) string { return strings.TrimSpace(c.PostForm(k)) }
	var invalid checkoutErrors
	for _, k := range []string{"email", "name", "line1", "postal_code", "city", "country"} {
		if f(k) == "" {
			invalid.set(k, l.T("st_required"))
		}
	}
	if f("country") != "" && !slices.Contains(orders.ShipsTo(), strings.ToUpper(f("country"))) {
		invalid.set("country", l.T("st_bad_country"))
	}
	if invalid.any() {
		h.showCheckout(c, http.StatusBadRequest, lines, nonce, invalid)
		return
	}
	req := orders.NewOrder{Channel: Channel, Customer: orders.Customer{Email: f("email"), Name: f("name"),
		Address: orders.Address{Line1: f("line1"), Line2: f("line2"), PostalCode: f("postal_code"), City: f("city"), Country: f("country")}}}
	for _, ln := range lines {
		req.Lines = append(req.Lines, orders.OrderLine{SKU: ln.SKU, Units: ln.Units})
	}
	placed, _, err := h.d.Orders.Create(c.Request.Context(), req, "storefront:"+nonce)
	if err != nil {
		h.checkoutRefused(c, err, lines, nonce)
		return
	}
	o := placed.Order
	h.d.Pages.SetCookie(c, cartCookie, "", -1)
	h.d.Pages.SetCookie(c, lastOrderCookie, o.ID+"."+placed.Token+"."+nonce, 7*24*3600)
	if o.Status == orders.StatusPendingPayment && strings.HasPrefix(o.CheckoutURL, "https://") {
		c.Redirect(http.StatusSeeOther, o.CheckoutURL)
		return
	}
	c.Redirect(http.StatusSeeOther, orderLink(o.ID, placed.Token))
}

// checkoutRefused shows why the order was not placed: a customer field by
// its input, missing stock by its cart line (409, cart kept).
func (h *Handlers) checkoutRefused(c *gin.Context, err error, lines []cartLine, nonce string) {
	pe, ok := problem.As(err)
	if ok && pe.Code == problem.PaymentsUnavailable {
		h.showCart(c, page.Status(err), nil) // payment went off since the form was shown
		return
	}
	if !ok || pe.Code == problem.Unavailable {
		page.Fail(c, err)
		return
	}
	l := page.Locale(c)
	if pe.Code == problem.InsufficientStock || strings.HasPrefix(pe.Field, "lines[") {
		refused := map[string]string{}
		msg := l.T("st_out_of_stock")
		if pe.Code != problem.InsufficientStock {
			msg = l.T("st_not_sold")
		}
		var i int
		if _, scanErr := fmt.Sscanf(pe.Field, "lines[%d]", &i); scanErr == nil && i >= 0 && i < len(lines) {
			refused[lines[i].SKU] = msg
		} else {
			for _, ln := range lines {
				refused[ln.SKU] = msg
			}
		}
		h.showCart(c, page.Status(err), refused)
		return
	}
	var invalid checkoutErrors
	field := i18n.FieldName(pe.Field)
	switch {
	case pe.Code == problem.Unprocessable:
		invalid.Form = l.T("st_resubmitted")
		nonce = newNonce() // the customer changed the form after sending it: let the next try through
	case l.Has("st_bad_" + field):
		invalid.set(field, l.T("st_bad_"+field))
	default:
		invalid.set(field, l.Message(pe))
	}
	h.showCheckout(c, page.Status(err), lines, nonce, invalid)
}

// shippingCountries lists the countries orders ship to, named in the
// language and sorted by code (names sort differently per script; codes
// are stable).
func shippingCountries(l *i18n.Locale) []countryOption {
	codes := orders.ShipsTo()
	out := make([]countryOption, 0, len(codes))
	for _, code := range codes {
		out = append(out, countryOption{Code: code, Name: l.Term("country", code)})
	}
	return out
}
