package web

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/traceability"
)

// Fulfilment pages of the platform's manager (and the admin): orders by
// status with the packing list of each paid order, the order's forms (ship
// with a tracking number, delivered, cancel after a confirmation step,
// refund with or without restocking), and the outbox of emails written.
// Access is decided by the orders service (ManageShop); an order of another
// channel is "not found" under this shop's URL.

func (s *Server) platformPages(pages *gin.RouterGroup) {
	pages.GET("/platform/:shop", s.platformOrdersPage)
	pages.GET("/platform/:shop/orders/:id", s.platformOrderPage)
	pages.POST("/platform/:shop/orders/:id/ship", s.platformShip)
	pages.POST("/platform/:shop/orders/:id/deliver", s.platformDeliver)
	pages.POST("/platform/:shop/orders/:id/cancel", s.platformCancel)
	pages.POST("/platform/:shop/orders/:id/refund", s.platformRefund)
	pages.GET("/platform/:shop/outbox", s.outboxPage)
}

// orderStatuses are the filters of the orders list, in the order of an
// order's life; "paid" (to pack) comes first because it is the daily work.
var orderStatuses = []string{orders.StatusPaid, orders.StatusPendingPayment, orders.StatusFulfilled, orders.StatusDelivered,
	orders.StatusCancelled, orders.StatusRefunded, orders.StatusExpired}

// platformView is what platform.html shows: the orders list, or one order
// (Order set) with its forms.
type platformView struct {
	Order    *platformOrderView
	Shop     string
	Status   string // the filter; "" for every order
	Statuses []statusFilter
	Orders   []platformOrder
	Pager    pager
}

type statusFilter struct {
	Code, Name, URL string
	Current         bool
}

// platformOrder is one order of the list, with its packing list.
type platformOrder struct {
	ID, Status, StatusName, Created, Total string
	Customer                               orders.Customer
	Lines                                  []orderLineView
	Tracking                               string
	ToPack                                 bool
}

func (s *Server) platformOrdersPage(c *gin.Context) {
	ctx, actor, lang := c.Request.Context(), actorOf(c), langOf(c)
	shop := traceability.NormalizeCode(c.Param("shop"))
	status := c.DefaultQuery("status", orders.StatusPaid)
	if status == "all" {
		status = ""
	}
	if status != "" && !slices.Contains(orderStatuses, status) {
		s.renderError(c, http.StatusBadRequest, "invalid")
		return
	}
	p, pg := pageWindow(c, "o")
	list, err := s.deps.Orders.Orders(ctx, actor, shop, status, p)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	v := &platformView{Shop: shop, Status: status, Pager: pg.finish(c, len(list))}
	base := "/platform/" + url.PathEscape(shop) + "?status="
	for _, st := range append(slices.Clone(orderStatuses), "all") {
		cur := st == status || st == "all" && status == ""
		v.Statuses = append(v.Statuses, statusFilter{Code: st, Name: orderStatusName(st, lang), URL: base + st, Current: cur})
	}
	for _, o := range trim(list) {
		po := platformOrder{ID: o.ID, Status: o.Status, StatusName: orderStatusName(o.Status, lang), Created: dateOf(o.CreatedAt),
			Total: formatMoney(o.Total, lang), Customer: o.Customer, Tracking: o.Tracking, ToPack: o.Status == orders.StatusPaid}
		for _, l := range o.Lines {
			lv := orderLineView{SKU: l.SKU, Name: o.Names[l.SKU], Units: l.Units}
			for _, lu := range l.Lots {
				lv.Lots = append(lv.Lots, orderLot{Lot: lu.Lot, Units: lu.Units})
			}
			po.Lines = append(po.Lines, lv)
		}
		v.Orders = append(v.Orders, po)
	}
	s.render(c, http.StatusOK, "platform", s.data(c, "st_fulfilment", v))
}

// platformOrderView is one order with its forms.
type platformOrderView struct {
	*orderPageView
	Shop          string
	ConfirmCancel bool
	CanShip       bool
	CanDeliver    bool
	CanCancel     bool
	CanRefund     bool
	PaidAt        string
}

func (s *Server) platformOrderPage(c *gin.Context) {
	s.showPlatformOrder(c, http.StatusOK, nil, "", false)
}

// showPlatformOrder renders the order's page; a refused form shows its
// error by the form (which) with the typed values kept.
func (s *Server) showPlatformOrder(c *gin.Context, status int, formErr error, which string, confirmCancel bool) {
	ctx, actor, lang := c.Request.Context(), actorOf(c), langOf(c)
	shop := traceability.NormalizeCode(c.Param("shop"))
	o, err := s.deps.Orders.Order(ctx, actor, c.Param("id"), "")
	if err == nil && o.Channel != shop {
		err = orders.ErrOrderNotFound
	}
	if err == nil {
		err = actor.ManageShop(shop)
	}
	if err != nil {
		s.pageFail(c, err)
		return
	}
	pv, err := s.orderPageView(ctx, o, lang)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	pv.PayURL = "" // the manager does not pay for the customer
	v := &platformOrderView{orderPageView: pv, Shop: shop, ConfirmCancel: confirmCancel, PaidAt: dateOf(o.PaidAt),
		CanShip:    o.Status == orders.StatusPaid,
		CanDeliver: o.Status == orders.StatusFulfilled,
		CanCancel:  o.Status == orders.StatusPendingPayment || o.Status == orders.StatusPaid,
		CanRefund:  o.Status == orders.StatusPaid || o.Status == orders.StatusFulfilled || o.Status == orders.StatusDelivered}
	d := s.data(c, "st_order", &platformView{Shop: shop, Order: v})
	if formErr != nil {
		st, ok := s.keepForm(c, d, formErr, which)
		if !ok {
			return
		}
		status = st
	}
	if confirmCancel {
		d.Form["reason"] = c.PostForm("reason")
	}
	s.render(c, status, "platform", d)
}

// afterPlatformForm ends a fulfilment form: back to the order with a flash
// message, the form again with its error, or an error page.
func (s *Server) afterPlatformForm(c *gin.Context, err error, which string) {
	switch code := problem.CodeOf(err); {
	case err == nil:
		next := "/platform/" + url.PathEscape(traceability.NormalizeCode(c.Param("shop"))) + "/orders/" + url.PathEscape(c.Param("id"))
		c.Redirect(http.StatusSeeOther, next+"?flash="+url.QueryEscape(messages[langOf(c)]["saved"]))
	case code == problem.Unauthorized || code == problem.Forbidden || code == problem.NotFound || code == "":
		s.pageFail(c, err)
	default:
		s.showPlatformOrder(c, 0, err, which, false)
	}
}

// sameShop refuses an order of another channel posted under this shop's URL.
func (s *Server) sameShop(c *gin.Context) bool {
	ctx, actor := c.Request.Context(), actorOf(c)
	shop := traceability.NormalizeCode(c.Param("shop"))
	if err := actor.ManageShop(shop); err != nil {
		s.pageFail(c, err)
		return false
	}
	o, err := s.deps.Orders.Order(ctx, actor, c.Param("id"), "")
	if err == nil && o.Channel != shop {
		err = orders.ErrOrderNotFound
	}
	if err != nil {
		s.pageFail(c, err)
		return false
	}
	return true
}

func (s *Server) platformShip(c *gin.Context) {
	if !s.checkCSRF(c) || !s.sameShop(c) {
		return
	}
	_, err := s.deps.Orders.Ship(c.Request.Context(), actorOf(c), c.Param("id"), c.PostForm("tracking"))
	s.afterPlatformForm(c, err, "ship")
}

func (s *Server) platformDeliver(c *gin.Context) {
	if !s.checkCSRF(c) || !s.sameShop(c) {
		return
	}
	_, err := s.deps.Orders.Deliver(c.Request.Context(), actorOf(c), c.Param("id"))
	s.afterPlatformForm(c, err, "deliver")
}

// platformCancel asks first: without confirm=yes it shows the confirmation
// step (what cancelling does to the stock and the money).
func (s *Server) platformCancel(c *gin.Context) {
	if !s.checkCSRF(c) || !s.sameShop(c) {
		return
	}
	if c.PostForm("confirm") != "yes" {
		s.showPlatformOrder(c, http.StatusOK, nil, "", true)
		return
	}
	_, err := s.deps.Orders.Cancel(c.Request.Context(), actorOf(c), c.Param("id"), c.PostForm("reason"))
	s.afterPlatformForm(c, err, "cancel")
}

func (s *Server) platformRefund(c *gin.Context) {
	if !s.checkCSRF(c) || !s.sameShop(c) {
		return
	}
	_, err := s.deps.Orders.Refund(c.Request.Context(), actorOf(c), c.Param("id"), c.PostForm("restock") == "yes", c.PostForm("reason"))
	s.afterPlatformForm(c, err, "refund")
}

type outboxView struct {
	Shop   string
	Emails []emailRow
	Pager  pager
}

type emailRow struct {
	orders.Email
	Date string
}

func (s *Server) outboxPage(c *gin.Context) {
	shop := traceability.NormalizeCode(c.Param("shop"))
	p, pg := pageWindow(c, "o")
	list, err := s.deps.Orders.Outbox(c.Request.Context(), actorOf(c), shop, p)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	v := &outboxView{Shop: shop, Pager: pg.finish(c, len(list))}
	for _, e := range trim(list) {
		v.Emails = append(v.Emails, emailRow{Email: e, Date: dateOf(e.CreatedAt)})
	}
	s.render(c, http.StatusOK, "outbox", s.data(c, "st_outbox", v))
}
