package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
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
}

type stockLotRow struct {
	shops.StockLine
	Name              string
	Expired, Expiring bool
}

type shopTop struct {
	Shop       shops.Shop
	Section    string // stock, movements or count
	CanOperate bool   // the shop's own manager: till and transfers
}

type shopAdminView struct {
	shopTop
	Shelves  []shelfRow
	Alerts   []shelfRow
	Lots     []stockLotRow
	Incoming []shops.Transfer
	Sent     []shops.Transfer
	Shops    []shops.Shop // where a transfer may go
}

// shopTopOf checks that the visitor manages the shop (its manager or the
// admin) and returns the page's heading.
func (s *Server) shopTopOf(c *gin.Context, section string) (shopTop, error) {
	actor := actorOf(c)
	code := traceability.NormalizeCode(c.Param("shop"))
	if err := actor.ManageShop(code); err != nil {
		return shopTop{}, err
	}
	sh, err := s.deps.Shops.Shop(c.Request.Context(), code)
	if err != nil {
		return shopTop{}, err
	}
	return shopTop{Shop: sh, Section: section, CanOperate: actor.OperateShop(code) == nil}, nil
}

func shopAdminPath(shop string) string { return "/shop-admin/" + url.PathEscape(shop) }

func (s *Server) shopAdminPage(c *gin.Context) { s.showShopAdmin(c, nil, "") }

func (s *Server) showShopAdmin(c *gin.Context, formErr error, which string) {
	ctx, actor := c.Request.Context(), actorOf(c)
	top, err := s.shopTopOf(c, "stock")
	if err != nil {
		s.pageFail(c, err)
		return
	}
	v := &shopAdminView{shopTop: top}
	_, bySKU, err := s.tillItems(c, top.Shop.Code)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	lang := langOf(c)
	nameOf := func(sku string) string {
		if n := bySKU[sku].Names.In(lang); n != "" {
			return n
		}
		if p, err := s.deps.Catalog.Product(ctx, sku); err == nil { // not priced in this shop
			return p.Names.In(lang)
		}
		return sku
	}
	shelves, err := s.deps.Stock.Shelves(ctx, top.Shop.Code)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	for _, sh := range shelves {
		r := shelfRow{SKU: sh.SKU, Name: nameOf(sh.SKU), Units: sh.Units, Reserved: sh.Reserved, Free: sh.Units - sh.Reserved, Threshold: sh.Threshold}
		r.Low = sh.Threshold > 0 && r.Free < sh.Threshold
		v.Shelves = append(v.Shelves, r)
		if r.Low {
			v.Alerts = append(v.Alerts, r)
		}
	}
	lines, err := s.deps.Stock.StockOf(ctx, actor, top.Shop.Code)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	today := s.now().UTC()
	soon := today.Add(expiringWithin).Format(time.DateOnly)
	for _, l := range lines {
		r := stockLotRow{StockLine: l, Name: nameOf(l.SKU)}
		if l.BestBefore != "" {
			r.Expired = l.BestBefore < today.Format(time.DateOnly)
			r.Expiring = !r.Expired && l.BestBefore < soon
		}
		v.Lots = append(v.Lots, r)
	}
	transfers, err := s.deps.Stock.Transfers(ctx, actor, top.Shop.Code, "")
	if err != nil {
		s.pageFail(c, err)
		return
	}
	for _, t := range transfers {
		switch {
		case t.To == top.Shop.Code && t.Status == shops.TransferInTransit:
			v.Incoming = append(v.Incoming, t)
		case t.From == top.Shop.Code && len(v.Sent) < sentShown:
			v.Sent = append(v.Sent, t)
		}
	}
	all, err := collect(selectLimit, func(p traceability.Page) ([]shops.Shop, error) { return s.deps.Shops.Shops(ctx, p) })
	if err != nil {
		s.pageFail(c, err)
		return
	}
	for _, sh := range all {
		if sh.Code != top.Shop.Code {
			v.Shops = append(v.Shops, sh)
		}
	}
	d := s.data(c, "sh_shop_admin", v)
	status, ok := s.keepForm(c, d, formErr, which)
	if !ok {
		return
	}
	s.render(c, status, "shop", d)
}

// fieldOfLine reports a service's "lines[0].lot" as the form's "lot": the
// back-office forms send one line at a time.
func fieldOfLine(err error) error {
	if pe, ok := problem.As(err); ok && strings.HasPrefix(pe.Field, "lines[0].") {
		c := *pe
		c.Field = strings.TrimPrefix(pe.Field, "lines[0].")
		return &c
	}
	return err
}

func (s *Server) shopAdminReceive(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	shop := traceability.NormalizeCode(c.Param("shop"))
	units, err := wholeNumber("units", c.PostForm("units"))
	if err == nil {
		var b shops.Balance
		b, err = s.deps.Stock.Receive(c.Request.Context(), actorOf(c), shop, shops.ReceiptRequest{Lot: c.PostForm("lot"), Units: units})
		if err == nil {
			s.traces.invalidate(b.Lot)
		}
	}
	s.afterRecordForm(c, err, "receive", shopAdminPath(shop), messages[langOf(c)]["sh_shop_received"], s.showShopAdmin)
}

func (s *Server) shopAdminThreshold(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	shop := traceability.NormalizeCode(c.Param("shop"))
	sku := strings.ToUpper(strings.TrimSpace(c.PostForm("sku")))
	n, err := wholeNumber("threshold", c.PostForm("threshold"))
	if err == nil {
		err = s.deps.Stock.SetThreshold(c.Request.Context(), actorOf(c), shop, sku, n)
	}
	s.afterRecordForm(c, err, "threshold:"+sku, shopAdminPath(shop), "", s.showShopAdmin)
}

func (s *Server) shopAdminSend(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	shop := traceability.NormalizeCode(c.Param("shop"))
	if err := actorOf(c).OperateShop(shop); err != nil {
		s.pageFail(c, err)
		return
	}
	units, err := wholeNumber("units", c.PostForm("units"))
	if err == nil {
		_, err = s.deps.Stock.Send(c.Request.Context(), actorOf(c), shop, c.PostForm("to"), []shops.LotUnits{{Lot: c.PostForm("lot"), Units: units}})
		err = fieldOfLine(err)
	}
	s.afterRecordForm(c, err, "send", shopAdminPath(shop), messages[langOf(c)]["sh_shop_sent"], s.showShopAdmin)
}

// shopAdminArrival confirms a transfer: each line says how many units
// arrived (what is missing is recorded on the transfer).
func (s *Server) shopAdminArrival(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	shop, id := traceability.NormalizeCode(c.Param("shop")), c.Param("id")
	lots, got := c.PostFormArray("lot"), c.PostFormArray("received")
	var arrived []shops.LotUnits
	var err error
	for i, lot := range lots {
		if i >= len(got) {
			break
		}
		var n int64
		if n, err = wholeNumber(fmt.Sprintf("lines[%d].units", i), got[i]); err != nil {
			break
		}
		arrived = append(arrived, shops.LotUnits{Lot: lot, Units: n})
	}
	if err == nil {
		var t shops.Transfer
		t, err = s.deps.Stock.ReceiveTransfer(c.Request.Context(), actorOf(c), shop, id, arrived)
		if err == nil {
			for _, l := range t.Lines {
				s.traces.invalidate(l.Lot)
			}
		}
	}
	s.afterRecordForm(c, err, "arrival:"+id, shopAdminPath(shop), messages[langOf(c)]["sh_shop_transfer_received"], s.showShopAdmin)
}

func (s *Server) shopAdminAdjust(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	shop := traceability.NormalizeCode(c.Param("shop"))
	units, err := wholeNumber("units", c.PostForm("units"))
	if err == nil {
		_, err = s.deps.Stock.Adjust(c.Request.Context(), actorOf(c), shop, shops.AdjustmentRequest{
			Lot: c.PostForm("lot"), Units: units, Kind: c.PostForm("kind"), Reason: c.PostForm("reason")})
	}
	s.afterRecordForm(c, err, "adjust", shopAdminPath(shop), "", s.showShopAdmin)
}

// ---- Movement history ----------------------------------------------------

// movementKinds are the kinds the history can be filtered by.
var movementKinds = []string{shops.MoveReceipt, shops.MoveTransferOut, shops.MoveTransferIn, shops.MoveSale,
	shops.MoveReturn, shops.MoveAdjustment, shops.MoveLoss}

type movementsView struct {
	shopTop
	Movements []shops.Movement
	Pager     pager
	Kinds     []string
	Kind      string
	Lot       string
	SKU       string
}

func (s *Server) shopMovementsPage(c *gin.Context) {
	top, err := s.shopTopOf(c, "movements")
	if err != nil {
		s.pageFail(c, err)
		return
	}
	v := &movementsView{shopTop: top, Kinds: movementKinds, Kind: c.Query("kind"),
		Lot: strings.TrimSpace(c.Query("lot")), SKU: strings.ToUpper(strings.TrimSpace(c.Query("sku")))}
	p, pg := pageWindow(c, "mo")
	ms, err := s.deps.Stock.Movements(c.Request.Context(), actorOf(c), top.Shop.Code, shops.MovementFilter{Lot: v.Lot, SKU: v.SKU, Kind: v.Kind}, p)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	v.Movements, v.Pager = trim(ms), pg.finish(c, len(ms))
	s.render(c, http.StatusOK, "shopmoves", s.data(c, "sh_shop_movements", v))
}

// ---- Stock count -----------------------------------------------------------

type countRow struct {
	shops.StockLine
	Name     string
	Counted  string // as typed; empty = not counted
	Expected int64  // the units the review showed, checked again on apply
	Diff     int64
	Invalid  bool
}

type countView struct {
	shopTop
	Rows    []countRow
	Review  bool
	Changes int
	Reason  string
}

func (s *Server) shopCountPage(c *gin.Context) {
	top, err := s.shopTopOf(c, "count")
	if err != nil {
		s.pageFail(c, err)
		return
	}
	v := &countView{shopTop: top}
	if v.Rows, err = s.countRows(c, top.Shop.Code, nil); err != nil {
		s.pageFail(c, err)
		return
	}
	s.render(c, http.StatusOK, "shopcount", s.data(c, "sh_shop_count", v))
}

// countRows lists every lot the shop holds, with what was typed for it.
func (s *Server) countRows(c *gin.Context, shop string, typed map[string]string) ([]countRow, error) {
	lines, err := s.deps.Stock.StockOf(c.Request.Context(), actorOf(c), shop)
	if err != nil {
		return nil, err
	}
	_, bySKU, err := s.tillItems(c, shop)
	if err != nil {
		return nil, err
	}
	rows := make([]countRow, len(lines))
	for i, l := range lines {
		rows[i] = countRow{StockLine: l, Name: bySKU[l.SKU].Names.In(langOf(c)), Counted: typed[l.Lot], Expected: l.Units}
		if rows[i].Name == "" {
			rows[i].Name = l.SKU
		}
	}
	return rows, nil
}

// shopCountSubmit is the count's three steps: review (show the differences),
// back (edit the counts again), apply (after confirmation, as adjustments).
func (s *Server) shopCountSubmit(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	top, err := s.shopTopOf(c, "count")
	if err != nil {
		s.pageFail(c, err)
		return
	}
	t := messages[langOf(c)]
	typed, expected := map[string]string{}, map[string]string{}
	lots, counted, exp := c.PostFormArray("lot"), c.PostFormArray("counted"), c.PostFormArray("expected")
	for i, lot := range lots {
		if i < len(counted) && strings.TrimSpace(counted[i]) != "" {
			typed[lot] = digitsASCII(counted[i])
			if i < len(exp) {
				expected[lot] = exp[i]
			}
		}
	}
	v := &countView{shopTop: top, Reason: strings.TrimSpace(c.PostForm("reason"))}
	if v.Rows, err = s.countRows(c, top.Shop.Code, typed); err != nil {
		s.pageFail(c, err)
		return
	}
	action := c.PostForm("do")
	var formErr error
	var lines []shops.CountLine
	if action != "back" {
		for i := range v.Rows {
			r := &v.Rows[i]
			if r.Counted == "" {
				continue
			}
			n, err := strconv.ParseInt(r.Counted, 10, 64)
			if err != nil || n < 0 {
				r.Invalid = true
				formErr = problem.Field("counted", "%s", fmt.Sprintf(t["sh_count_bad"], r.Lot))
				continue
			}
			r.Diff = n - r.Units
			if r.Diff != 0 {
				v.Changes++
			}
			if e, ok := expected[r.Lot]; action == "apply" && ok && e != strconv.FormatInt(r.Units, 10) {
				r.Invalid = true
				formErr = problem.New(problem.Conflict, "%s", fmt.Sprintf(t["sh_count_moved"], r.Lot))
			}
			lines = append(lines, shops.CountLine{Lot: r.Lot, Counted: n})
		}
		if formErr == nil && len(lines) == 0 {
			formErr = problem.Field("counted", "%s", t["sh_count_none"])
		}
		v.Review = formErr == nil || action == "apply"
	}
	if action == "apply" && formErr == nil {
		if c.PostForm("confirm") != "yes" {
			formErr = problem.Field("confirm", "%s", t["sh_count_confirm_needed"])
		} else {
			ms, err := s.deps.Stock.ApplyCount(c.Request.Context(), actorOf(c), top.Shop.Code, lines, v.Reason)
			if err == nil {
				c.Redirect(http.StatusSeeOther, shopAdminPath(top.Shop.Code)+"?flash="+url.QueryEscape(fmt.Sprintf(t["sh_count_applied"], len(ms))))
				return
			}
			formErr = err
		}
	}
	d := s.data(c, "sh_shop_count", v)
	status, ok := s.keepForm(c, d, formErr, "count")
	if !ok {
		return
	}
	s.render(c, status, "shopcount", d)
}
