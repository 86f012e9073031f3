package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/labels"
)

// shopPages registers the shop-side pages: the till and its receipts (this
// file), the shop's back-office (pages_shop_admin.go) and the cooperative's
// view of where its lots are (pages_shop_coop.go).
//
// The till keeps its cart in the form itself (sku and units fields), not
// in a server session: every button posts the whole cart back, so the till
// works as plain forms without JavaScript, a refused checkout re-shows the
// cart as it was, and a lost connection loses nothing but the last tap.
// till.js only saves round trips (live search, units and totals); prices
// shown in the browser are for display and the server prices the sale from
// the catalogue again (pricedLines), as the JSON API does.
func (s *Server) shopPages(pages *gin.RouterGroup) {
	pages.GET("/till/:shop", s.tillPage)
	pages.POST("/till/:shop", s.tillSubmit)
	pages.GET("/till/:shop/receipts/:id", s.receiptPage)
	pages.GET("/shop-admin/:shop", s.shopAdminPage)
	pages.POST("/shop-admin/:shop/receipts", s.shopAdminReceive)
	pages.POST("/shop-admin/:shop/thresholds", s.shopAdminThreshold)
	pages.POST("/shop-admin/:shop/transfers", s.shopAdminSend)
	pages.POST("/shop-admin/:shop/transfers/:id/receive", s.shopAdminArrival)
	pages.POST("/shop-admin/:shop/adjustments", s.shopAdminAdjust)
	pages.GET("/shop-admin/:shop/movements", s.shopMovementsPage)
	pages.GET("/shop-admin/:shop/count", s.shopCountPage)
	pages.POST("/shop-admin/:shop/count", s.shopCountSubmit)
	pages.GET("/coop/:coop/holdings", s.holdingsPage)
}

// tillSearchLimit bounds the products a search shows at the till.
const tillSearchLimit = 12

// tillLine is one line of the cart as the till shows it.
type tillLine struct {
	Index   int
	SKU     string
	Name    string
	Units   string // as typed, so a refused checkout shows it back
	Price   catalog.Money
	Amount  catalog.Money
	Invalid bool
	Problem string
}

// tillResult is a product found by a search.
type tillResult struct {
	SKU, Name, GTIN string
	Price           catalog.Money
	Available       int64
}

type tillView struct {
	Shop     shops.Shop
	Lines    []tillLine
	Total    catalog.Money
	Query    string
	Searched bool
	Results  []tillResult
	Payment  string
	Payments []string
	// ErrorOnLine: the refusal is shown on its cart line, not at the top.
	ErrorOnLine bool
	// Blank is the markup till.js copies for a line it adds.
	Blank tillLine
}

// tillShop checks that the visitor runs this shop's till: its own shop
// manager only (an admin reads a shop's stock but does not sell at it).
func (s *Server) tillShop(c *gin.Context) (shops.Shop, error) {
	code := traceability.NormalizeCode(c.Param("shop"))
	if err := actorOf(c).OperateShop(code); err != nil {
		return shops.Shop{}, err
	}
	return s.deps.Shops.Shop(c.Request.Context(), code)
}

func (s *Server) tillPage(c *gin.Context) {
	sh, err := s.tillShop(c)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	v := &tillView{Shop: sh, Payment: "cash", Payments: shops.Payments, Total: catalog.Money{Currency: sh.Currency}}
	v.Blank = tillLine{Units: "1", Price: v.Total, Amount: v.Total}
	s.render(c, http.StatusOK, "till", s.data(c, "sh_till", v))
}

// tillItems is the shop's priced catalogue, by SKU, from memory.
func (s *Server) tillItems(c *gin.Context, shop string) ([]catalogItem, map[string]catalogItem, error) {
	cc, err := s.catalogOf(c.Request.Context(), shop)
	if err != nil {
		return nil, nil, err
	}
	items := cc.items(shop)
	bySKU := make(map[string]catalogItem, len(items))
	for _, it := range items {
		bySKU[it.SKU] = it
	}
	return items, bySKU, nil
}

// cartOf reads the cart the form posted back: lines of the same product
// are merged, so a line's index is the index the sale's errors name.
func cartOf(c *gin.Context) ([]string, []string) {
	skus, units := c.PostFormArray("sku"), c.PostFormArray("units")
	var outSKU, outUnits []string
	for i, sku := range skus {
		sku = strings.ToUpper(strings.TrimSpace(sku))
		if sku == "" {
			continue
		}
		u := "1"
		if i < len(units) {
			u = digitsASCII(units[i])
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

// tillSubmit handles every button of the till: add a product (from a
// search or a scan), change or remove a line, search, and check out.
func (s *Server) tillSubmit(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	sh, err := s.tillShop(c)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	items, bySKU, err := s.tillItems(c, sh.Code)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	t := messages[langOf(c)]
	skus, units := cartOf(c)
	v := &tillView{Shop: sh, Payment: c.PostForm("payment"), Payments: shops.Payments, Query: strings.TrimSpace(c.PostForm("q"))}
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
		if _, ok := bySKU[sku]; ok {
			add(sku)
		} else {
			formErr = problem.Field("q", "%s", t["sh_till_not_sold_here"])
		}
	case c.PostForm("remove") != "":
		if i, err := strconv.Atoi(c.PostForm("remove")); err == nil && i >= 0 && i < len(skus) {
			skus, units = slices.Delete(skus, i, i+1), slices.Delete(units, i, i+1)
		}
	case step("inc", 1), step("dec", -1):
	case action == "scan":
		sku, err := s.scannedSKU(c, c.PostForm("scan"), items)
		if err != nil {
			formErr = err
		} else {
			add(sku)
		}
	case action == "search":
		v.Searched = true
		for _, it := range items {
			if len(v.Results) == tillSearchLimit {
				break
			}
			if v.Query == "" || it.matches("", "", "", v.Query) {
				v.Results = append(v.Results, tillResult{SKU: it.SKU, Name: it.Names.In(langOf(c)), GTIN: it.GTIN, Price: it.Price, Available: it.AvailableUnits})
			}
		}
	case action == "checkout":
		sale, err := s.tillCheckout(c, sh, skus, units)
		if err == nil {
			c.Redirect(http.StatusSeeOther, "/till/"+url.PathEscape(sh.Code)+"/receipts/"+url.PathEscape(sale.ID)+"?flash="+url.QueryEscape(t["sh_till_paid"]))
			return
		}
		formErr = err
	}
	s.fillTill(c, v, skus, units, bySKU)
	v.Blank = tillLine{Units: "1", Price: catalog.Money{Currency: sh.Currency}, Amount: catalog.Money{Currency: sh.Currency}}
	d := s.data(c, "sh_till", v)
	status := http.StatusOK
	if formErr != nil {
		st, ok := s.keepForm(c, d, formErr, "till")
		if !ok {
			return
		}
		status = st
		d.Form["scan"] = "" // a refused scan is shown in the message; the field is ready for the next
		if d.Error.Field == "scan" {
			d.Form["scan"] = c.PostForm("scan")
		}
		s.markTillLine(v, d.Error, t)
	}
	if v.Searched {
		d.Form["q"] = v.Query // other buttons leave the search field empty for the next product
	}
	s.render(c, status, "till", d)
}

// tillCheckout prices the cart from the catalogue and records the sale.
func (s *Server) tillCheckout(c *gin.Context, sh shops.Shop, skus, units []string) (shops.Sale, error) {
	req := make([]saleLineRequest, len(skus))
	for i := range skus {
		n, err := wholeNumber(fmt.Sprintf("lines[%d].units", i), units[i])
		if err != nil {
			return shops.Sale{}, err
		}
		req[i] = saleLineRequest{SKU: skus[i], Units: n}
	}
	ctx, actor := c.Request.Context(), actorOf(c)
	lines, currency, err := s.pricedLines(ctx, sh.Code, req)
	if err != nil {
		return shops.Sale{}, err
	}
	sale, err := s.deps.Stock.Sell(ctx, actor, sh.Code, shops.SaleRequest{Lines: lines, Currency: currency, Payment: c.PostForm("payment")})
	if err != nil {
		return shops.Sale{}, err
	}
	for _, l := range sale.Lines {
		for _, lu := range l.Lots {
			s.traces.invalidate(lu.Lot)
		}
	}
	return sale, nil
}

// fillTill turns the cart into lines with names and prices for display.
func (s *Server) fillTill(c *gin.Context, v *tillView, skus, units []string, bySKU map[string]catalogItem) {
	v.Total = catalog.Money{Currency: v.Shop.Currency}
	for i, sku := range skus {
		it := bySKU[sku]
		l := tillLine{Index: i, SKU: sku, Name: it.Names.In(langOf(c)), Units: units[i], Price: it.Price}
		if l.Name == "" {
			l.Name = sku
		}
		if n, err := strconv.ParseInt(units[i], 10, 64); err == nil && n > 0 {
			l.Amount = catalog.Money{Amount: n * it.Price.Amount, Currency: v.Shop.Currency}
			v.Total.Amount += l.Amount.Amount
		} else {
			l.Amount.Currency = v.Shop.Currency
		}
		v.Lines = append(v.Lines, l)
	}
}

// markTillLine puts a refusal that names a line ("lines[1].units") on that
// line, in the visitor's language, so the cashier sees which product.
func (s *Server) markTillLine(v *tillView, pe *problem.Error, t map[string]string) {
	defer func() { v.ErrorOnLine = slices.ContainsFunc(v.Lines, func(l tillLine) bool { return l.Invalid }) }()
	var i int
	var field string
	if n, _ := fmt.Sscanf(strings.Replace(pe.Field, "].", "] ", 1), "lines[%d] %s", &i, &field); n != 2 || i < 0 || i >= len(v.Lines) {
		return
	}
	l := &v.Lines[i]
	l.Invalid = true
	switch {
	case pe.Code == problem.InsufficientStock:
		l.Problem = fmt.Sprintf(t["sh_till_short"], l.Name)
	case field == "units":
		l.Problem = t["sh_till_bad_units"]
	default:
		l.Problem = fmt.Sprintf(t["sh_till_not_priced"], l.Name)
	}
}

// scannedSKU finds the product a scan names: a GTIN-8/12/13/14 from the
// product's barcode, a trace URL from a jar's QR code (its lot's product),
// a SKU, or a lot code typed by hand. Only products the shop sells count.
func (s *Server) scannedSKU(c *gin.Context, raw string, items []catalogItem) (string, error) {
	t := messages[langOf(c)]
	raw = strings.TrimSpace(raw)
	notFound := problem.Field("scan", "%s", fmt.Sprintf(t["sh_till_scan_unknown"], raw))
	sold := func(sku string) (string, error) {
		for _, it := range items {
			if it.SKU == sku {
				return sku, nil
			}
		}
		return "", problem.Field("scan", "%s", t["sh_till_not_sold_here"])
	}
	byLot := func(code string) (string, error) {
		l, err := s.deps.Traceability.PublicLot(c.Request.Context(), code)
		if err != nil || l.SKU == "" {
			return "", notFound
		}
		return sold(l.SKU)
	}
	if raw == "" {
		return "", problem.Field("scan", "%s", t["sh_till_scan_empty"])
	}
	if digits := digitsASCII(raw); traceability.ValidGTIN(digits) {
		gtin, _ := traceability.NormalizeGTIN(digits)
		for _, it := range items {
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
	if sku := strings.ToUpper(raw); slices.ContainsFunc(items, func(it catalogItem) bool { return it.SKU == sku }) {
		return sku, nil
	}
	if traceability.ValidLotCode(raw) {
		return byLot(raw)
	}
	return "", notFound
}

// ---- Receipt -------------------------------------------------------------

type receiptLot struct {
	Code       string
	Units      int64
	BestBefore string
	URL        string
	QR         template.HTML
}

type receiptLine struct {
	SKU, Name string
	Units     int64
	UnitPrice catalog.Money
	Amount    catalog.Money
	Lots      []receiptLot
}

type receiptView struct {
	Shop    shops.Shop
	Sale    shops.Sale
	Date    string
	Lines   []receiptLine
	Total   catalog.Money
	CanSell bool
}

// receiptPage is a sale's printable receipt: the lots each unit came from,
// and a QR code of each lot's signed trace page.
func (s *Server) receiptPage(c *gin.Context) {
	ctx, actor := c.Request.Context(), actorOf(c)
	sale, err := s.deps.Stock.Sale(ctx, actor, c.Param("shop"), c.Param("id"))
	if err != nil {
		s.pageFail(c, err)
		return
	}
	sh, err := s.deps.Shops.Shop(ctx, sale.Shop)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	lang := langOf(c)
	v := &receiptView{Shop: sh, Sale: sale, Date: sale.At.Format("2006-01-02 15:04") + " UTC",
		Total: catalog.Money{Amount: sale.Total, Currency: sale.Currency}, CanSell: actor.OperateShop(sh.Code) == nil}
	for _, l := range sale.Lines {
		rl := receiptLine{SKU: l.SKU, Name: l.SKU, Units: l.Units,
			UnitPrice: catalog.Money{Amount: l.UnitPrice, Currency: sale.Currency}, Amount: catalog.Money{Amount: l.Amount, Currency: sale.Currency}}
		if p, err := s.deps.Catalog.Product(ctx, l.SKU); err == nil {
			rl.Name = p.Names.In(lang)
		}
		for _, lu := range l.Lots {
			rlot := receiptLot{Code: lu.Lot, Units: lu.Units}
			if lot, err := s.deps.Traceability.PublicLot(ctx, lu.Lot); err == nil {
				rlot.BestBefore = lot.BestBefore
				rlot.URL = s.deps.Codes.URL(traceability.RefOf(lot, ""))
				if rlot.QR, err = receiptQRSVG(rlot.URL); err != nil {
					s.pageFail(c, err)
					return
				}
			}
			rl.Lots = append(rl.Lots, rlot)
		}
		v.Lines = append(v.Lines, rl)
	}
	s.render(c, http.StatusOK, "receipt", s.data(c, "sh_receipt", v))
}

// receiptQRSVG is a lot's QR code as inline SVG (labels.SVG builds it from
// the bitmap alone, so it is safe to mark as HTML).
func receiptQRSVG(text string) (template.HTML, error) {
	svg, err := labels.SVG(text)
	return template.HTML(svg), err
}
