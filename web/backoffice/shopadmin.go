package backoffice

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/web/page"
)

// The shop's back-office: stock by product and by lot, low-stock alerts,
// receipts from cooperatives, transfers, adjustments, the movement history
// and the stock count. Its shop manager and the admin see it; what only the
// shop's own manager may do (send and receive transfers) is decided by the
// Stock service, and the page only hides the forms the visitor cannot use.

// expiringWithin is how soon a best-before date is flagged on the shelves.
const expiringWithin = 60 * 24 * time.Hour

// sentShown bounds the transfers sent that the back-office lists.
const sentShown = 20

type shelfRow struct {
	SKU, Name                        string
	Units, Reserved, Free, Threshold int64
	Low                              bool
	Which                            string // the threshold form's name
}

type stockLotRow struct {
	shops.StockLine
	Name              string
	Expired, Expiring bool
}

type shopTop struct {
	Shop       shops.Shop
	Sections   page.SubNav
	CanOperate bool // the shop's own manager: till and transfers
}

type transferRow struct {
	shops.Transfer
	Which string // the arrival form's name
}

type shopAdminView struct {
	page.Page
	shopTop
	Shelves  []shelfRow
	Alerts   []shelfRow
	Lots     []stockLotRow
	Incoming []transferRow
	Sent     []shops.Transfer
	Shops    []shops.Shop // where a transfer may go
}

// shopTopOf reads the shop for those who manage it (its manager or the
// admin) and the page's heading.
func (h *Handlers) shopTopOf(c *gin.Context, section string) (shopTop, error) {
	actor := page.Actor(c)
	sh, err := h.d.Shops.ManagedShop(c.Request.Context(), actor, c.Param("shop"))
	if err != nil {
		return shopTop{}, err
	}
	canOperate := actor.OperateShop(sh.Code) == nil
	return shopTop{Shop: sh, CanOperate: canOperate, Sections: shopNav(page.Locale(c), sh.Code, canOperate, section)}, nil
}

func shopAdminPath(shop string) string { return "/shop-admin/" + esc(shop) }

// nameIn names a product in the page's language from the shop's catalogue,
// or from the catalogue itself for a product the shop does not price.
func (h *Handlers) nameIn(c *gin.Context, shop string) (func(sku string) string, error) {
	ch, err := h.d.Catalogue.Channel(c.Request.Context(), shop)
	if err != nil {
		return nil, err
	}
	l := page.Locale(c)
	return func(sku string) string {
		if it, ok := ch.Item(sku); ok {
			return it.Names.In(l.Code())
		}
		if p, err := h.d.Products.Product(c.Request.Context(), sku); err == nil {
			return p.Names.In(l.Code())
		}
		return sku
	}, nil
}

// ShopAdminPage answers GET /shop-admin/{shop}.
func (h *Handlers) ShopAdminPage(c *gin.Context) { h.showShopAdmin(c, nil, "") }

func (h *Handlers) showShopAdmin(c *gin.Context, formErr error, which string) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	top, err := h.shopTopOf(c, "stock")
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := &shopAdminView{Page: h.d.Pages.Page(c, l.T("sh_shop_admin")), shopTop: top}
	nameOf, err := h.nameIn(c, top.Shop.Code)
	if err != nil {
		page.Fail(c, err)
		return
	}
	shelves, err := h.d.Stock.ShopShelves(ctx, actor, top.Shop.Code)
	if err != nil {
		page.Fail(c, err)
		return
	}
	for _, sh := range shelves {
		r := shelfRow{SKU: sh.SKU, Name: nameOf(sh.SKU), Units: sh.Units, Reserved: sh.Reserved, Free: sh.Units - sh.Reserved, Threshold: sh.Threshold,
			Which: "threshold:" + sh.SKU}
		r.Low = sh.Threshold > 0 && r.Free < sh.Threshold
		v.Shelves = append(v.Shelves, r)
		if r.Low {
			v.Alerts = append(v.Alerts, r)
		}
	}
	lines, err := h.d.Stock.StockOf(ctx, actor, top.Shop.Code)
	if err != nil {
		page.Fail(c, err)
		return
	}
	today := h.d.Now().UTC()
	soon := today.Add(expiringWithin).Format(time.DateOnly)
	for _, ln := range lines {
		r := stockLotRow{StockLine: ln, Name: nameOf(ln.SKU)}
		if ln.BestBefore != "" {
			r.Expired = ln.BestBefore < today.Format(time.DateOnly)
			r.Expiring = !r.Expired && ln.BestBefore < soon
		}
		v.Lots = append(v.Lots, r)
	}
	transfers, err := h.d.Stock.Transfers(ctx, actor, top.Shop.Code, "")
	if err != nil {
		page.Fail(c, err)
		return
	}
	for _, t := range transfers {
		switch {
		case t.To == top.Shop.Code && t.Status == shops.TransferInTransit:
			v.Incoming = append(v.Incoming, transferRow{Transfer: t, Which: "arrival:" + t.ID})
		case t.From == top.Shop.Code && len(v.Sent) < sentShown:
			v.Sent = append(v.Sent, t)
		}
	}
	all, err := collect(selectLimit, func(p mongodb.Page) ([]shops.Shop, error) { return h.d.Shops.Shops(ctx, p) })
	if err != nil {
		page.Fail(c, err)
		return
	}
	for _, sh := range all {
		if sh.Code != top.Shop.Code {
			v.Shops = append(v.Shops, sh)
		}
	}
	h.render(c, &v.Page, formErr, which, "backoffice/shop", v)
}

// fieldOfLine reports a service's "lines[0].lot" as the form's "lot": the
// back-office forms send one line at a time.
func fieldOfLine(err error) error {
	if pe, ok := problem.As(err); ok && strings.HasPrefix(pe.Field, "lines[0].") {
		return pe.At(strings.TrimPrefix(pe.Field, "lines[0]."))
	}
	return err
}

// Receive answers POST /shop-admin/{shop}/receipts: units of a packed lot
// from its cooperative.
func (h *Handlers) Receive(c *gin.Context) {
	shop := id.NormalizeCode(c.Param("shop"))
	units, err := page.WholeNumber("units", c.PostForm("units"))
	if err == nil {
		_, err = h.d.Stock.Receive(c.Request.Context(), page.Actor(c), shop, shops.ReceiptRequest{Lot: c.PostForm("lot"), Units: units,
			Consignment: c.PostForm("consignment")}) // the export consignment they came in, if any (issue 18)
	}
	h.done(c, err, "receive", shopAdminPath(shop), "sh_shop_received", h.showShopAdmin)
}

// SetThreshold answers POST /shop-admin/{shop}/thresholds.
func (h *Handlers) SetThreshold(c *gin.Context) {
	shop := id.NormalizeCode(c.Param("shop"))
	sku := strings.ToUpper(strings.TrimSpace(c.PostForm("sku")))
	n, err := page.WholeNumber("threshold", c.PostForm("threshold"))
	if err == nil {
		err = h.d.Stock.SetThreshold(c.Request.Context(), page.Actor(c), shop, sku, n)
	}
	h.done(c, err, "threshold:"+sku, shopAdminPath(shop), "saved", h.showShopAdmin)
}

// Send answers POST /shop-admin/{shop}/transfers: a transfer to another
// shop, by the shop's own manager (the service decides).
func (h *Handlers) Send(c *gin.Context) {
	shop := id.NormalizeCode(c.Param("shop"))
	units, _ := strconv.ParseInt(page.DigitsASCII(c.PostForm("units")), 10, 64) // 0 when unreadable: the service refuses it, after the access check
	_, err := h.d.Stock.Send(c.Request.Context(), page.Actor(c), shop, c.PostForm("to"), []shops.LotUnits{{Lot: c.PostForm("lot"), Units: units}})
	h.done(c, fieldOfLine(err), "send", shopAdminPath(shop), "sh_shop_sent", h.showShopAdmin)
}

// ReceiveTransfer answers POST /shop-admin/{shop}/transfers/{id}/receive:
// each line says how many units arrived (what is missing is recorded on
// the transfer).
func (h *Handlers) ReceiveTransfer(c *gin.Context) {
	shop, id := id.NormalizeCode(c.Param("shop")), c.Param("id")
	lots, got := c.PostFormArray("lot"), c.PostFormArray("received")
	var arrived []shops.LotUnits
	for i, lot := range lots {
		if i >= len(got) {
			break
		}
		n, err := strconv.ParseInt(page.DigitsASCII(got[i]), 10, 64)
		if err != nil {
			n = -1 // unreadable: the service refuses it on its line, after the access check
		}
		arrived = append(arrived, shops.LotUnits{Lot: lot, Units: n})
	}
	_, err := h.d.Stock.ReceiveTransfer(c.Request.Context(), page.Actor(c), shop, id, arrived)
	h.done(c, err, "arrival:"+id, shopAdminPath(shop), "sh_shop_transfer_received", h.showShopAdmin)
}

// Adjust answers POST /shop-admin/{shop}/adjustments: a loss or a signed
// correction.
func (h *Handlers) Adjust(c *gin.Context) {
	shop := id.NormalizeCode(c.Param("shop"))
	units, err := page.WholeNumber("units", c.PostForm("units"))
	if err == nil {
		_, err = h.d.Stock.Adjust(c.Request.Context(), page.Actor(c), shop, shops.AdjustmentRequest{
			Lot: c.PostForm("lot"), Units: units, Kind: c.PostForm("kind"), Reason: c.PostForm("reason")})
	}
	h.done(c, err, "adjust", shopAdminPath(shop), "saved", h.showShopAdmin)
}

// ---- Movement history ----------------------------------------------------

// movementKinds are the kinds the history can be filtered by.
var movementKinds = []string{shops.MoveReceipt, shops.MoveTransferOut, shops.MoveTransferIn, shops.MoveSale,
	shops.MoveReturn, shops.MoveAdjustment, shops.MoveLoss}

type movementRow struct {
	shops.Movement
	KindName string
}

type movementsView struct {
	page.Page
	shopTop
	Movements []movementRow
	Pager     page.Pager
	Kinds     []option
	Kind      string
	Lot       string
	SKU       string
}

// MovementsPage answers GET /shop-admin/{shop}/movements.
func (h *Handlers) MovementsPage(c *gin.Context) {
	l := page.Locale(c)
	top, err := h.shopTopOf(c, "movements")
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := &movementsView{Page: h.d.Pages.Page(c, l.T("sh_shop_movements")), shopTop: top, Kind: c.Query("kind"),
		Lot: strings.TrimSpace(c.Query("lot")), SKU: strings.ToUpper(strings.TrimSpace(c.Query("sku")))}
	for _, k := range movementKinds {
		v.Kinds = append(v.Kinds, option{k, l.Term("movement", k)})
	}
	p, pg := page.Window(c, "mo")
	ms, err := h.d.Stock.Movements(c.Request.Context(), page.Actor(c), top.Shop.Code, shops.MovementFilter{Lot: v.Lot, SKU: v.SKU, Kind: v.Kind}, p)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v.Pager = pg.Finish(c, len(ms))
	for _, m := range page.Trim(ms) {
		v.Movements = append(v.Movements, movementRow{Movement: m, KindName: l.Term("movement", m.Kind)})
	}
	h.d.Pages.Render(c, http.StatusOK, "backoffice/movements", v)
}

// ---- Stock count ---------------------------------------------------------

type countRow struct {
	shops.StockLine
	Name     string
	Counted  string // as typed; empty = not counted
	Expected int64  // the units the review showed, checked again on apply
	Diff     int64
	Invalid  bool
}

type countView struct {
	page.Page
	shopTop
	Rows    []countRow
	Review  bool
	Changes string
	Reason  string
}

// CountPage answers GET /shop-admin/{shop}/count.
func (h *Handlers) CountPage(c *gin.Context) {
	top, err := h.shopTopOf(c, "count")
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := &countView{Page: h.d.Pages.Page(c, page.Locale(c).T("sh_shop_count")), shopTop: top}
	if v.Rows, err = h.countRows(c, top.Shop.Code, nil); err != nil {
		page.Fail(c, err)
		return
	}
	h.d.Pages.Render(c, http.StatusOK, "backoffice/count", v)
}

// countRows lists every lot the shop holds, with what was typed for it.
func (h *Handlers) countRows(c *gin.Context, shop string, typed map[string]string) ([]countRow, error) {
	lines, err := h.d.Stock.StockOf(c.Request.Context(), page.Actor(c), shop)
	if err != nil {
		return nil, err
	}
	nameOf, err := h.nameIn(c, shop)
	if err != nil {
		return nil, err
	}
	rows := make([]countRow, len(lines))
	for i, ln := range lines {
		rows[i] = countRow{StockLine: ln, Name: nameOf(ln.SKU), Counted: typed[ln.Lot], Expected: ln.Units}
	}
	return rows, nil
}

// CountSubmit answers POST /shop-admin/{shop}/count, the count's three
// steps: review (show the differences), back (edit the counts again),
// apply (after confirmation, as adjustments).
func (h *Handlers) CountSubmit(c *gin.Context) {
	l := page.Locale(c)
	top, err := h.shopTopOf(c, "count")
	if err != nil {
		page.Fail(c, err)
		return
	}
	typed, expected := map[string]string{}, map[string]string{}
	lots, counted, exp := c.PostFormArray("lot"), c.PostFormArray("counted"), c.PostFormArray("expected")
	for i, lot := range lots {
		if i < len(counted) && strings.TrimSpace(counted[i]) != "" {
			typed[lot] = page.DigitsASCII(counted[i])
			if i < len(exp) {
				expected[lot] = exp[i]
			}
		}
	}
	v := &countView{Page: h.d.Pages.Page(c, l.T("sh_shop_count")), shopTop: top, Reason: strings.TrimSpace(c.PostForm("reason"))}
	if v.Rows, err = h.countRows(c, top.Shop.Code, typed); err != nil {
		page.Fail(c, err)
		return
	}
	action := c.PostForm("do")
	var formErr error
	var lines []shops.CountLine
	changes := 0
	if action != "back" {
		for i := range v.Rows {
			r := &v.Rows[i]
			if r.Counted == "" {
				continue
			}
			n, err := strconv.ParseInt(r.Counted, 10, 64)
			if err != nil || n < 0 {
				r.Invalid = true
				formErr = problem.Field("counted", "the count of lot %s must be a whole number, zero or more", r.Lot)
				continue
			}
			r.Diff = n - r.Units
			if r.Diff != 0 {
				changes++
			}
			if e, ok := expected[r.Lot]; action == "apply" && ok && e != strconv.FormatInt(r.Units, 10) {
				r.Invalid = true
				formErr = problem.New(problem.Conflict, "the stock of lot %s changed since the review: review again", r.Lot)
			}
			lines = append(lines, shops.CountLine{Lot: r.Lot, Counted: n})
		}
		if formErr == nil && len(lines) == 0 {
			formErr = problem.Field("counted", "count at least one lot")
		}
		v.Review = formErr == nil || action == "apply"
	}
	v.Changes = l.T("sh_changes", changes)
	if action == "apply" && formErr == nil {
		if c.PostForm("confirm") != "yes" {
			formErr = problem.Field("confirm", "tick the confirmation to apply the count")
		} else {
			ms, err := h.d.Stock.ApplyCount(c.Request.Context(), page.Actor(c), top.Shop.Code, lines, v.Reason)
			if err == nil {
				h.d.Pages.Redirect(c, shopAdminPath(top.Shop.Code), "sh_count_applied", int64(len(ms)))
				return
			}
			formErr = err
		}
	}
	h.render(c, &v.Page, formErr, "count", "backoffice/count", v)
}
