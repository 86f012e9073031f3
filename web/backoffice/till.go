package backoffice

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/catalogcache"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/labels"
	"github.com/terroir-coop/terroir/web/page"
)

// The till keeps its cart in the form itself (sku and units fields), not in
// a server session: every button posts the whole cart back, so the till
// works as plain forms without JavaScript, a refused checkout shows the cart
// again as it was, and a lost connection loses nothing but the last tap.
// till.js only saves round trips (live search, units and totals); the
// amounts shown are the shop's quote (shops.Stock.Quote) and the sale is
// priced by the stock service from the catalogue (shops.Stock.Sell), never
// from the form.

// tillSearchLimit bounds the products a search shows at the till.
const tillSearchLimit = 12

// tillLine is one line of the cart as the till shows it.
type tillLine struct {
	Index   int
	SKU     string
	Name    string
	Units   string // as typed, so a refused checkout shows it back
	Price   string
	Amount  string
	Minor   int64 // the unit price in minor units, for till.js
	Invalid bool
	Problem string
	Labels  *lineLabels
}

// lineLabels are the words of a cart line's buttons.
type lineLabels struct{ Less, More, Units, Remove string }

// tillResult is a product found by a search.
type tillResult struct {
	SKU, Name, GTIN, Price, Available string
	Minor                             int64
}

type tillView struct {
	page.Page
	Shop     shops.Shop
	Sections page.SubNav
	Lines    []tillLine
	Total    string
	Query    string
	Searched bool
	Results  []tillResult
	Payment  string
	Payments []option
	// ErrorOnLine: the refusal is shown on its cart line, not at the top.
	ErrorOnLine bool
	// Blank is the markup till.js copies for a line it adds.
	Blank  tillLine
	labels *lineLabels
	// How till.js writes money, as the server does.
	Decimal, Group, MoneyPattern string
}

// shopNav is a shop's back-office navigation, defined once for every page.
func shopNav(l *i18n.Locale, shop string, canOperate bool, current string) page.SubNav {
	base := "/shop-admin/" + esc(shop)
	nav := page.SubNav{Label: l.T("sh_my_shop")}
	if canOperate {
		nav.Links = append(nav.Links, page.NavLink{URL: "/till/" + esc(shop), Label: l.T("sh_till"), Current: current == "till"})
	}
	nav.Links = append(nav.Links,
		page.NavLink{URL: base, Label: l.T("sh_stock"), Current: current == "stock"},
		page.NavLink{URL: base + "/movements", Label: l.T("sh_shop_movements"), Current: current == "movements"},
		page.NavLink{URL: base + "/count", Label: l.T("sh_shop_count"), Current: current == "count"})
	return nav
}

func (h *Handlers) newTill(c *gin.Context, sh shops.Shop) *tillView {
	l := page.Locale(c)
	v := &tillView{Page: h.d.Pages.Page(c, l.T("sh_till")), Shop: sh, Sections: shopNav(l, sh.Code, true, "till"), Payment: "cash"}
	for _, p := range shops.Payments {
		v.Payments = append(v.Payments, option{p, l.Term("payment", p)})
	}
	v.Decimal, v.Group = l.Separators()
	v.MoneyPattern = l.MoneyPattern(sh.Currency)
	zero := l.Money(0, sh.Currency)
	v.Total = zero
	v.labels = &lineLabels{Less: l.T("sh_less"), More: l.T("sh_more"), Units: l.T("sh_units"), Remove: l.T("sh_remove")}
	v.Blank = tillLine{Units: "1", Price: zero, Amount: zero, Labels: v.labels}
	return v
}

// TillPage answers GET /till/{shop}: the till of the shop's own manager.
func (h *Handlers) TillPage(c *gin.Context) {
	sh, err := h.d.Shops.OperatedShop(c.Request.Context(), page.Actor(c), c.Param("shop"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	h.d.Pages.Render(c, http.StatusOK, "backoffice/till", h.newTill(c, sh))
}

// tillCart reads the cart the form posted back: lines of the same product
// are merged, so a line's index is the index the sale's errors name.
func tillCart(c *gin.Context) ([]string, []string) {
	skus, units := c.PostFormArray("sku"), c.PostFormArray("units")
	var outSKU, outUnits []string
	for i, sku := range skus {
		sku = strings.ToUpper(strings.TrimSpace(sku))
		if sku == "" {
			continue
		}
		u := "1"
		if i < len(units) {
			u = page.DigitsASCII(units[i])
		}
		if j := slices.Index(outSKU, sku); j >= 0 {
			a, errA := strconv.ParseInt(outUnits[j], 10, 64)
			b, errB := strconv.ParseInt(u, 10, 64)
			if errA == nil && errB == nil {
				outUnits[j] = strconv.FormatInt(a+b, 10)
			}
			continue
		}
		outSKU, outUnits = append(outSKU, sku), append(outUnits, u)
	}
	return outSKU, outUnits
}

// TillSubmit answers POST /till/{shop}: every button of the till — add a
// product (from a search or a scan), change or remove a line, search, and
// check out.
func (h *Handlers) TillSubmit(c *gin.Context) {
	ctx, l := c.Request.Context(), page.Locale(c)
	sh, err := h.d.Shops.OperatedShop(ctx, page.Actor(c), c.Param("shop"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	ch, err := h.d.Catalogue.Channel(ctx, sh.Code)
	if err != nil {
		page.Fail(c, err)
		return
	}
	skus, units := tillCart(c)
	v := h.newTill(c, sh)
	v.Payment, v.Query = c.PostForm("payment"), strings.TrimSpace(c.PostForm("q"))
	if !slices.Contains(shops.Payments, v.Payment) {
		v.Payment = "cash"
	}
	var formErr error
	add := func(sku string) {
		if i := slices.Index(skus, sku); i >= 0 {
			if n, err := strconv.ParseInt(units[i], 10, 64); err == nil {
				units[i] = strconv.FormatInt(n+1, 10)
			}
			return
		}
		skus, units = append(skus, sku), append(units, "1")
	}
	step := func(param string, by int64) bool {
		i, err := strconv.Atoi(c.PostForm(param))
		if c.PostForm(param) == "" || err != nil || i < 0 || i >= len(skus) {
			return false
		}
		if n, err := strconv.ParseInt(units[i], 10, 64); err == nil {
			units[i] = strconv.FormatInt(max(n+by, 1), 10)
		}
		return true
	}
	action := c.PostForm("do")
	if action == "enter" { // Enter pressed in a field: do what that field is for
		switch {
		case strings.TrimSpace(c.PostForm("scan")) != "":
			action = "scan"
		case v.Query != "":
			action = "search"
		default:
			action = "update"
		}
	}
	switch {
	case c.PostForm("add") != "":
		sku := strings.ToUpper(strings.TrimSpace(c.PostForm("add")))
		if _, ok := ch.Item(sku); ok {
			add(sku)
		} else {
			formErr = problem.Field("q", "this product is not sold in this shop")
		}
	case c.PostForm("remove") != "":
		if i, err := strconv.Atoi(c.PostForm("remove")); err == nil && i >= 0 && i < len(skus) {
			skus, units = slices.Delete(skus, i, i+1), slices.Delete(units, i, i+1)
		}
	case step("inc", 1), step("dec", -1):
	case action == "scan":
		sku, err := h.scannedSKU(c, c.PostForm("scan"), ch)
		if err != nil {
			formErr = err
		} else {
			add(sku)
		}
	case action == "search":
		v.Searched = true
		for _, it := range ch.Items() {
			if len(v.Results) == tillSearchLimit {
				break
			}
			if v.Query == "" || it.Matches("", "", "", v.Query) {
				v.Results = append(v.Results, tillResult{SKU: it.SKU, Name: it.Names.In(l.Code()), GTIN: it.GTIN,
					Price: l.Money(it.Price.Amount, it.Price.Currency), Minor: it.Price.Amount, Available: l.T("in_stock_count", it.AvailableUnits)})
			}
		}
	case action == "checkout":
		sale, err := h.tillCheckout(c, sh, skus, units)
		if err == nil {
			h.d.Pages.Redirect(c, "/till/"+esc(sh.Code)+"/receipts/"+url.PathEscape(sale.ID), "sh_till_paid")
			return
		}
		formErr = err
	}
	if err := h.fillTill(c, v, ch, skus, units); err != nil {
		page.Fail(c, err)
		return
	}
	status := http.StatusOK
	if formErr != nil {
		st, ok := page.Keep(c, &v.Page, formErr, "till")
		if !ok {
			return
		}
		status = st
		v.Form.Set("scan", "") // a refused scan is shown in the message; the field is ready for the next
		if v.Form.Invalid == "scan" {
			v.Form.Set("scan", c.PostForm("scan"))
		}
		markTillLine(v, page.Problem(formErr), l)
	}
	if v.Searched {
		v.Form.Set("q", v.Query) // other buttons leave the search field empty for the next product
	} else {
		v.Form.Set("q", "")
	}
	h.d.Pages.Render(c, status, "backoffice/till", v)
}

// tillCheckout records the sale: the stock service prices it from the
// catalogue and picks its lots.
func (h *Handlers) tillCheckout(c *gin.Context, sh shops.Shop, skus, units []string) (shops.Sale, error) {
	lines := make([]shops.Line, len(skus))
	for i := range skus {
		n, err := page.WholeNumber(fmt.Sprintf("lines[%d].units", i), units[i])
		if err != nil {
			return shops.Sale{}, err
		}
		lines[i] = shops.Line{SKU: skus[i], Units: n}
	}
	return h.d.Stock.Sell(c.Request.Context(), page.Actor(c), sh.Code, shops.SaleRequest{Lines: lines, Payment: c.PostForm("payment")})
}

// fillTill turns the cart into lines with names and the shop's quote.
func (h *Handlers) fillTill(c *gin.Context, v *tillView, ch *catalogcache.Channel, skus, units []string) error {
	l := page.Locale(c)
	lines := make([]shops.Line, len(skus))
	for i, sku := range skus {
		n, _ := strconv.ParseInt(units[i], 10, 64)
		lines[i] = shops.Line{SKU: sku, Units: n}
	}
	q, err := h.d.Stock.Quote(c.Request.Context(), v.Shop.Code, lines)
	if err != nil {
		return err
	}
	v.Total = l.Money(q.Total, q.Currency)
	for i, ql := range q.Lines {
		it, _ := ch.Item(ql.SKU)
		v.Lines = append(v.Lines, tillLine{Index: i, SKU: ql.SKU, Name: cmpOr(it.Names.In(l.Code()), ql.SKU), Units: units[i],
			Price: l.Money(ql.UnitPrice, q.Currency), Amount: l.Money(ql.Amount, q.Currency), Minor: ql.UnitPrice, Labels: v.labels})
	}
	return nil
}

// markTillLine puts a refusal that names a line ("lines[1].units") on that
// line, in the visitor's language, so the cashier sees which product.
func markTillLine(v *tillView, pe *problem.Error, l *i18n.Locale) {
	defer func() { v.ErrorOnLine = slices.ContainsFunc(v.Lines, func(ln tillLine) bool { return ln.Invalid }) }()
	if pe == nil {
		return
	}
	var i int
	var field string
	if n, _ := fmt.Sscanf(strings.Replace(pe.Field, "].", "] ", 1), "lines[%d] %s", &i, &field); n != 2 || i < 0 || i >= len(v.Lines) {
		return
	}
	ln := &v.Lines[i]
	ln.Invalid = true
	switch {
	case pe.Code == problem.InsufficientStock:
		ln.Problem = l.T("sh_till_short", ln.Name)
	case field == "units":
		ln.Problem = l.T("sh_till_bad_units")
	default:
		ln.Problem = l.T("sh_till_not_priced", ln.Name)
	}
}

// scannedSKU finds the product a scan names: a GTIN-8/12/13/14 from the
// product's barcode, a trace URL from a jar's QR code (its lot's product),
// a SKU, or a lot code typed by hand. Only products the shop sells count.
func (h *Handlers) scannedSKU(c *gin.Context, raw string, ch *catalogcache.Channel) (string, error) {
	raw = strings.TrimSpace(raw)
	notFound := problem.Field("scan", "no product sold here matches %q", raw)
	sold := func(sku string) (string, error) {
		if _, ok := ch.Item(sku); ok {
			return sku, nil
		}
		return "", problem.Field("scan", "this product is not sold in this shop")
	}
	byLot := func(code string) (string, error) {
		lot, err := h.d.Records.PublicLot(c.Request.Context(), code)
		if err != nil || lot.SKU == "" {
			return "", notFound
		}
		return sold(lot.SKU)
	}
	if raw == "" {
		return "", problem.Field("scan", "scan or type a code")
	}
	if digits := page.DigitsASCII(raw); traceability.ValidGTIN(digits) {
		gtin, _ := traceability.NormalizeGTIN(digits)
		for _, it := range ch.Items() {
			if it.GTIN == gtin {
				return it.SKU, nil
			}
		}
		return "", notFound
	}
	if strings.Contains(raw, "/") {
		u, err := url.Parse(raw)
		if err != nil {
			return "", notFound
		}
		ref, err := traceability.ParseTracePath(u.EscapedPath())
		if err != nil {
			return "", notFound
		}
		return byLot(ref.Lot)
	}
	if _, ok := ch.Item(strings.ToUpper(raw)); ok {
		return strings.ToUpper(raw), nil
	}
	if traceability.ValidLotCode(raw) {
		return byLot(raw)
	}
	return "", notFound
}

// ---- Receipt -------------------------------------------------------------

type receiptLot struct {
	Code       string
	Units      string
	BestBefore string
	URL        string
	QR         template.HTML
}

type receiptLine struct {
	SKU, Name         string
	Units             int64
	UnitPrice, Amount string
	Lots              []receiptLot
}

type receiptView struct {
	page.Page
	Shop    shops.Shop
	Sale    shops.Sale
	Date    string
	Lines   []receiptLine
	Total   string
	PaidBy  string
	CanSell bool
}

// ReceiptPage answers GET /till/{shop}/receipts/{id}: a sale's printable
// receipt, the lots each unit came from, and a QR code of each lot's signed
// trace page.
func (h *Handlers) ReceiptPage(c *gin.Context) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	sale, err := h.d.Stock.Sale(ctx, actor, c.Param("shop"), c.Param("id"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	sh, err := h.d.Shops.Shop(ctx, sale.Shop)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := &receiptView{Page: h.d.Pages.Page(c, l.T("sh_receipt")), Shop: sh, Sale: sale, Date: sale.At.Format("2006-01-02 15:04") + " UTC",
		Total: l.Money(sale.Total, sale.Currency), PaidBy: l.Term("payment", sale.Payment), CanSell: actor.OperateShop(sh.Code) == nil}
	for _, ln := range sale.Lines {
		rl := receiptLine{SKU: ln.SKU, Name: ln.SKU, Units: ln.Units,
			UnitPrice: l.Money(ln.UnitPrice, sale.Currency), Amount: l.Money(ln.Amount, sale.Currency)}
		if p, err := h.d.Products.Product(ctx, ln.SKU); err == nil {
			rl.Name = p.Names.In(l.Code())
		}
		for _, lu := range ln.Lots {
			rlot := receiptLot{Code: lu.Lot, Units: l.T("units_count", lu.Units)}
			if lot, err := h.d.Records.PublicLot(ctx, lu.Lot); err == nil {
				rlot.BestBefore = lot.BestBefore
				rlot.URL = h.d.Codes.URL(traceability.RefOf(lot, ""))
				svg, err := labels.SVG(rlot.URL)
				if err != nil {
					page.Fail(c, err)
					return
				}
				rlot.QR = template.HTML(svg) // built from the QR bitmap alone (labels.SVG)
			}
			rl.Lots = append(rl.Lots, rlot)
		}
		v.Lines = append(v.Lines, rl)
	}
	h.d.Pages.Render(c, http.StatusOK, "backoffice/receipt", v)
}
