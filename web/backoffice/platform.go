package backoffice

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/page"
)

// Fulfilment pages of the platform's manager (and the admin): orders by
// status with the packing list of each paid order, the order's forms (ship
// with a tracking number, delivered, cancel after a confirmation step,
// refund with or without restocking), and the outbox of emails written.
// Access is decided by the orders service (ManageShop); an order of another
// channel is "not found" under this shop's URL.

// orderStatuses are the filters of the orders list, in the order of an
// order's life; "paid" (to pack) comes first because it is the daily work.
var orderStatuses = []string{orders.StatusPaid, orders.StatusPendingPayment, orders.StatusFulfilled, orders.StatusDelivered,
	orders.StatusCancelled, orders.StatusRefunded, orders.StatusExpired}

// platformNav is the orders' navigation: by status, and the outbox.
func platformNav(l *i18n.Locale, shop, status string, outbox bool) page.SubNav {
	base := "/platform/" + esc(shop)
	nav := page.SubNav{Label: l.T("st_status")}
	for _, st := range orderStatuses {
		nav.Links = append(nav.Links, page.NavLink{URL: base + "?status=" + st, Label: l.Term("order_status", st), Current: !outbox && st == status})
	}
	nav.Links = append(nav.Links,
		page.NavLink{URL: base + "?status=all", Label: l.T("order_status_all"), Current: !outbox && status == ""},
		page.NavLink{URL: base + "/outbox", Label: l.T("st_outbox"), Current: outbox})
	return nav
}

// orderLine is a line of an order with the lots it came from.
type (
	orderLine = page.OrderLine
	orderLot  = page.OrderLot
)

// platformOrder is one order of the list, with its packing list.
type platformOrder struct {
	ID, Number, Status, StatusName, Created, Total string
	Customer                                       orders.Customer
	Lines                                          []orderLine
	Tracking                                       string
	ToPack                                         bool
}

type platformView struct {
	page.Page
	Shop     string
	Sections page.SubNav
	Orders   []platformOrder
	Pager    page.Pager
}

// PlatformPage answers GET /platform/{shop}: the channel's orders by status.
func (h *Handlers) PlatformPage(c *gin.Context) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	shop := id.NormalizeCode(c.Param("shop"))
	status := c.DefaultQuery("status", orders.StatusPaid)
	if status == "all" {
		status = ""
	}
	if status != "" && !slices.Contains(orderStatuses, status) {
		page.Fail(c, problem.Field("status", "must be one of %s", "paid, pending_payment, fulfilled, delivered, cancelled, refunded, expired, all"))
		return
	}
	p, pg := page.Window(c, "o")
	list, err := h.d.Orders.Orders(ctx, actor, shop, status, p)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := &platformView{Page: h.d.Pages.Page(c, l.T("st_fulfilment")), Shop: shop, Sections: platformNav(l, shop, status, false), Pager: pg.Finish(c, len(list))}
	v.Styles = []string{"store.css"}
	for _, o := range page.Trim(list) {
		po := platformOrder{ID: o.ID, Number: o.Number(), Status: o.Status, StatusName: l.Term("order_status", o.Status), Created: dateOf(o.CreatedAt),
			Total: l.Money(o.Total.Amount, o.Total.Currency), Customer: o.Customer, Tracking: o.Tracking, ToPack: o.Status == orders.StatusPaid}
		for _, ln := range o.Lines {
			lv := orderLine{SKU: ln.SKU, Name: o.Names[ln.SKU], Units: ln.Units}
			for _, lu := range ln.Lots {
				lv.Lots = append(lv.Lots, orderLot{Lot: lu.Lot, Units: lu.Units})
			}
			po.Lines = append(po.Lines, lv)
		}
		v.Orders = append(v.Orders, po)
	}
	h.d.Pages.Render(c, http.StatusOK, "backoffice/platform", v)
}

type historyRow struct{ At, Status, Note string }

// platformOrderView is one order with its forms.
type platformOrderView struct {
	page.Page
	Shop          string
	Order         orders.Order
	Status        string
	Created       string
	PaidAt        string
	Country       string
	Lines         []orderLine
	Total         string
	History       []historyRow
	ConfirmCancel bool
	CanShip       bool
	CanDeliver    bool
	CanCancel     bool
	CanRefund     bool
}

// PlatformOrderPage answers GET /platform/{shop}/orders/{id}.
func (h *Handlers) PlatformOrderPage(c *gin.Context) { h.showPlatformOrder(c, nil, "") }

// showPlatformOrder renders the order's page; a refused form shows its
// error by the form (which) with the typed values kept.
func (h *Handlers) showPlatformOrder(c *gin.Context, formErr error, which string) {
	h.platformOrder(c, formErr, which, false)
}

func (h *Handlers) platformOrder(c *gin.Context, formErr error, which string, confirmCancel bool) {
	ctx, l := c.Request.Context(), page.Locale(c)
	shop := id.NormalizeCode(c.Param("shop"))
	o, err := h.channelOrder(c)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := &platformOrderView{Page: h.d.Pages.Page(c, l.T("st_order")), Shop: shop, Order: o, Status: l.Term("order_status", o.Status),
		Created: o.CreatedAt.UTC().Format("2006-01-02 15:04") + " UTC", PaidAt: dateOf(o.PaidAt), Total: l.Money(o.Total.Amount, o.Total.Currency),
		Country: l.Term("country", o.Customer.Address.Country), ConfirmCancel: confirmCancel,
		CanShip:    o.Status == orders.StatusPaid,
		CanDeliver: o.Status == orders.StatusFulfilled,
		CanCancel:  o.Status == orders.StatusPendingPayment || o.Status == orders.StatusPaid,
		CanRefund:  o.Status == orders.StatusPaid || o.Status == orders.StatusFulfilled || o.Status == orders.StatusDelivered}
	v.Styles = []string{"store.css"}
	if v.Lines, err = page.OrderLines(ctx, l, o, h.d.Products, h.d.Records, h.d.Codes); err != nil {
		page.Fail(c, err)
		return
	}
	for _, hs := range o.History {
		v.History = append(v.History, historyRow{At: hs.At.UTC().Format("2006-01-02 15:04"), Status: l.Term("order_status", hs.Status), Note: hs.Note})
	}
	if confirmCancel {
		v.Form.Set("reason", c.PostForm("reason"))
	}
	h.render(c, &v.Page, formErr, which, "backoffice/platform_order", v)
}

// channelOrder reads the order of the URL for the channel's manager; an
// order of another channel is not found under this shop's URL.
func (h *Handlers) channelOrder(c *gin.Context) (orders.Order, error) {
	shop := id.NormalizeCode(c.Param("shop"))
	actor := page.Actor(c)
	if _, err := h.d.Shops.ManagedShop(c.Request.Context(), actor, shop); err != nil {
		return orders.Order{}, err
	}
	o, err := h.d.Orders.Order(c.Request.Context(), actor, c.Param("id"), "")
	if err == nil && o.Channel != shop {
		err = orders.ErrOrderNotFound
	}
	return o, err
}

// afterOrderForm ends a fulfilment form: back to the order with a flash
// message, the form again with its error, or an error page.
func (h *Handlers) afterOrderForm(c *gin.Context, err error, which string) {
	next := "/platform/" + esc(id.NormalizeCode(c.Param("shop"))) + "/orders/" + esc(c.Param("id"))
	h.done(c, err, which, next, "saved", h.showPlatformOrder)
}

// Ship answers POST /platform/{shop}/orders/{id}/ship.
func (h *Handlers) Ship(c *gin.Context) {
	if _, err := h.channelOrder(c); err != nil {
		page.Fail(c, err)
		return
	}
	_, err := h.d.Orders.Ship(c.Request.Context(), page.Actor(c), c.Param("id"), c.PostForm("tracking"))
	h.afterOrderForm(c, err, "ship")
}

// Deliver answers POST /platform/{shop}/orders/{id}/deliver.
func (h *Handlers) Deliver(c *gin.Context) {
	if _, err := h.channelOrder(c); err != nil {
		page.Fail(c, err)
		return
	}
	_, err := h.d.Orders.Deliver(c.Request.Context(), page.Actor(c), c.Param("id"))
	h.afterOrderForm(c, err, "deliver")
}

// Cancel answers POST /platform/{shop}/orders/{id}/cancel. It asks first:
// without confirm=yes it shows the confirmation step (what cancelling does
// to the stock and the money).
func (h *Handlers) Cancel(c *gin.Context) {
	if _, err := h.channelOrder(c); err != nil {
		page.Fail(c, err)
		return
	}
	if c.PostForm("confirm") != "yes" {
		h.platformOrder(c, nil, "", true)
		return
	}
	_, err := h.d.Orders.Cancel(c.Request.Context(), page.Actor(c), c.Param("id"), c.PostForm("reason"))
	h.afterOrderForm(c, err, "cancel")
}

// Refund answers POST /platform/{shop}/orders/{id}/refund.
func (h *Handlers) Refund(c *gin.Context) {
	if _, err := h.channelOrder(c); err != nil {
		page.Fail(c, err)
		return
	}
	_, err := h.d.Orders.Refund(c.Request.Context(), page.Actor(c), c.Param("id"), c.PostForm("restock") == "yes", c.PostForm("reason"))
	h.afterOrderForm(c, err, "refund")
}

type emailRow struct {
	orders.Email
	Date string
}

type outboxView struct {
	page.Page
	Shop     string
	Sections page.SubNav
	Emails   []emailRow
	Pager    page.Pager
}

// OutboxPage answers GET /platform/{shop}/outbox: the e-mails written to
// the channel's customers.
func (h *Handlers) OutboxPage(c *gin.Context) {
	l := page.Locale(c)
	shop := id.NormalizeCode(c.Param("shop"))
	p, pg := page.Window(c, "o")
	list, err := h.d.Orders.Outbox(c.Request.Context(), page.Actor(c), shop, p)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := &outboxView{Page: h.d.Pages.Page(c, l.T("st_outbox")), Shop: shop, Sections: platformNav(l, shop, "", true), Pager: pg.Finish(c, len(list))}
	v.Styles = []string{"store.css"}
	for _, e := range page.Trim(list) {
		v.Emails = append(v.Emails, emailRow{Email: e, Date: dateOf(e.CreatedAt)})
	}
	h.d.Pages.Render(c, http.StatusOK, "backoffice/outbox", v)
}
