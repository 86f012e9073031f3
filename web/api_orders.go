package web

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
)

func (s *Server) orderRoutes(api *gin.RouterGroup) {
	api.POST("/orders", s.createOrder)
	api.GET("/orders/:id", s.getOrder)
	api.POST("/orders/:id/refund", s.refundOrder)
	api.POST("/orders/:id/ship", s.shipOrder)
	api.POST("/orders/:id/deliver", s.deliverOrder)
	api.POST("/orders/:id/cancel", s.cancelOrder)
	api.GET("/orders/:id/packing-list", s.packingList)
	api.GET("/shops/:shop/orders", s.listOrders)
	api.GET("/shops/:shop/outbox", s.outbox)
	api.POST("/stripe/webhook", s.stripeWebhook)
}

type orderRequest struct {
	Channel  string             `json:"channel"`
	Lines    []orders.OrderLine `json:"lines"`
	Customer orders.Customer    `json:"customer"`
}

// orderView is an order as API.md shows it.
type orderView struct {
	ID          string                `json:"id"`
	Channel     string                `json:"channel"`
	Status      string                `json:"status"`
	Total       catalog.Money         `json:"total"`
	Lines       []shops.AllocatedLine `json:"lines"`
	CheckoutURL string                `json:"checkout_url,omitempty"`
	OrderToken  string                `json:"order_token,omitempty"`
	ExpiresAt   time.Time             `json:"expires_at"`
	PaidAt      time.Time             `json:"paid_at,omitzero"`
	Tracking    string                `json:"tracking,omitempty"`
	Customer    *orders.Customer      `json:"customer,omitempty"`
	History     []orders.StatusChange `json:"history"`
}

func viewOrder(o orders.Order, token string, withCustomer bool) orderView {
	v := orderView{ID: o.ID, Channel: o.Channel, Status: o.Status, Total: o.Total, Lines: o.Lines, CheckoutURL: o.CheckoutURL,
		OrderToken: token, ExpiresAt: o.ExpiresAt, PaidAt: o.PaidAt, Tracking: o.Tracking, History: o.History}
	if o.Status != orders.StatusPendingPayment {
		v.CheckoutURL = ""
	}
	if withCustomer {
		c := o.Customer
		v.Customer = &c
	}
	return v
}

func (s *Server) createOrder(c *gin.Context) {
	var req orderRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	placed, _, err := s.deps.Orders.Create(c.Request.Context(), orders.NewOrder{Channel: req.Channel, Lines: req.Lines, Customer: req.Customer},
		c.GetHeader("Idempotency-Key"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, viewOrder(placed.Order, placed.Token, true))
}

func (s *Server) getOrder(c *gin.Context) {
	o, err := s.deps.Orders.Order(c.Request.Context(), actorOf(c), c.Param("id"), c.Query("token"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewOrder(o, "", true))
}

type refundRequest struct {
	Restock bool   `json:"restock"`
	Reason  string `json:"reason"`
}

func (s *Server) refundOrder(c *gin.Context) {
	var req refundRequest
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			fail(c, err)
			return
		}
	}
	o, err := s.deps.Orders.Refund(c.Request.Context(), actorOf(c), c.Param("id"), req.Restock, req.Reason)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewOrder(o, "", true))
}

type shipRequest struct {
	Tracking string `json:"tracking"`
}

func (s *Server) shipOrder(c *gin.Context) {
	var req shipRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	o, err := s.deps.Orders.Ship(c.Request.Context(), actorOf(c), c.Param("id"), req.Tracking)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewOrder(o, "", true))
}

func (s *Server) deliverOrder(c *gin.Context) {
	o, err := s.deps.Orders.Deliver(c.Request.Context(), actorOf(c), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewOrder(o, "", true))
}

type cancelRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) cancelOrder(c *gin.Context) {
	var req cancelRequest
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			fail(c, err)
			return
		}
	}
	o, err := s.deps.Orders.Cancel(c.Request.Context(), actorOf(c), c.Param("id"), req.Reason)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewOrder(o, "", true))
}

func (s *Server) packingList(c *gin.Context) {
	o, err := s.deps.Orders.PackingList(c.Request.Context(), actorOf(c), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewOrder(o, "", true))
}

func (s *Server) listOrders(c *gin.Context) {
	os, err := s.deps.Orders.Orders(c.Request.Context(), actorOf(c), c.Param("shop"), c.Query("status"), pageOf(c))
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]orderView, 0, len(os))
	for _, o := range os {
		out = append(out, viewOrder(o, "", true))
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) outbox(c *gin.Context) {
	es, err := s.deps.Orders.Outbox(c.Request.Context(), actorOf(c), c.Param("shop"), pageOf(c))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(es))
}

// stripeWebhook verifies the raw body's signature, then applies the event
// once. A forged or stale signature → 400; a replay → 200 and no change;
// an event that came before the one it depends on → 409 (Stripe retries).
func (s *Server) stripeWebhook(c *gin.Context) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		fail(c, err)
		return
	}
	ev, err := s.deps.Payments.ParseWebhook(body, c.GetHeader("Stripe-Signature"))
	if err != nil {
		fail(c, err)
		return
	}
	err = s.deps.Orders.HandleEvent(c.Request.Context(), ev)
	switch {
	case errors.Is(err, orders.ErrDuplicateEvent):
		c.JSON(http.StatusOK, gin.H{"received": true, "duplicate": true})
	case err != nil:
		fail(c, err)
	default:
		c.JSON(http.StatusOK, gin.H{"received": true})
	}
}
