package api

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/web/page"
)

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

func viewOrder(o orders.Order, token string) orderView {
	v := orderView{ID: o.ID, Channel: o.Channel, Status: o.Status, Total: o.Total, Lines: o.Lines, CheckoutURL: o.CheckoutURL,
		OrderToken: token, ExpiresAt: o.ExpiresAt, PaidAt: o.PaidAt, Tracking: o.Tracking, History: o.History}
	if o.Status != orders.StatusPendingPayment {
		v.CheckoutURL = ""
	}
	c := o.Customer
	v.Customer = &c
	return v
}

// CreateOrder answers POST /api/v1/orders: priced on the server, reserved
// per lot, with a payment page; the same Idempotency-Key and body return
// the same order.
func (h *Handlers) CreateOrder(c *gin.Context) {
	var req orderRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	placed, replayed, err := h.d.Orders.Create(c.Request.Context(), orders.NewOrder{Channel: req.Channel, Lines: req.Lines, Customer: req.Customer},
		c.GetHeader("Idempotency-Key"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true") // as web's generic replays say it
	}
	c.JSON(http.StatusCreated, viewOrder(placed.Order, placed.Token))
}

// GetOrder answers GET /api/v1/orders/{id}[?token=].
func (h *Handlers) GetOrder(c *gin.Context) {
	o, err := h.d.Orders.Order(c.Request.Context(), page.Actor(c), c.Param("id"), c.Query("token"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewOrder(o, ""))
}

type refundRequest struct {
	Restock bool   `json:"restock"`
	Reason  string `json:"reason"`
}

// RefundOrder answers POST /api/v1/orders/{id}/refund.
func (h *Handlers) RefundOrder(c *gin.Context) {
	var req refundRequest
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			page.Fail(c, err)
			return
		}
	}
	h.answerOrder(c)(h.d.Orders.Refund(c.Request.Context(), page.Actor(c), c.Param("id"), req.Restock, req.Reason))
}

type shipRequest struct {
	Tracking string `json:"tracking"`
}

// ShipOrder answers POST /api/v1/orders/{id}/ship.
func (h *Handlers) ShipOrder(c *gin.Context) {
	var req shipRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	h.answerOrder(c)(h.d.Orders.Ship(c.Request.Context(), page.Actor(c), c.Param("id"), req.Tracking))
}

// DeliverOrder answers POST /api/v1/orders/{id}/deliver.
func (h *Handlers) DeliverOrder(c *gin.Context) {
	h.answerOrder(c)(h.d.Orders.Deliver(c.Request.Context(), page.Actor(c), c.Param("id")))
}

type cancelRequest struct {
	Reason string `json:"reason"`
}

// CancelOrder answers POST /api/v1/orders/{id}/cancel.
func (h *Handlers) CancelOrder(c *gin.Context) {
	var req cancelRequest
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			page.Fail(c, err)
			return
		}
	}
	h.answerOrder(c)(h.d.Orders.Cancel(c.Request.Context(), page.Actor(c), c.Param("id"), req.Reason))
}

// PackingList answers GET /api/v1/orders/{id}/packing-list.
func (h *Handlers) PackingList(c *gin.Context) {
	h.answerOrder(c)(h.d.Orders.PackingList(c.Request.Context(), page.Actor(c), c.Param("id")))
}

// answerOrder answers with an order, or its error.
func (h *Handlers) answerOrder(c *gin.Context) func(orders.Order, error) {
	return func(o orders.Order, err error) {
		if err != nil {
			page.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, viewOrder(o, ""))
	}
}

// ListOrders answers GET /api/v1/shops/{shop}/orders.
func (h *Handlers) ListOrders(c *gin.Context) {
	os, err := h.d.Orders.Orders(c.Request.Context(), page.Actor(c), c.Param("shop"), c.Query("status"), pageOf(c))
	if err != nil {
		page.Fail(c, err)
		return
	}
	out := make([]orderView, 0, len(os))
	for _, o := range os {
		out = append(out, viewOrder(o, ""))
	}
	c.JSON(http.StatusOK, out)
}

// Outbox answers GET /api/v1/shops/{shop}/outbox.
func (h *Handlers) Outbox(c *gin.Context) {
	es, err := h.d.Orders.Outbox(c.Request.Context(), page.Actor(c), c.Param("shop"), pageOf(c))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(es))
}

// StripeWebhook answers POST /api/v1/stripe/webhook: it verifies the raw
// body's signature, then applies the event once. A forged or stale
// signature → 400; a replay → 200 and no change; an event that came before
// the one it depends on → 409 (Stripe retries).
func (h *Handlers) StripeWebhook(c *gin.Context) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		page.Fail(c, err)
		return
	}
	ev, err := h.d.Payments.ParseWebhook(body, c.GetHeader("Stripe-Signature"))
	if err != nil {
		h.d.Orders.WebhookRefused(c.Request.Context(), ev, err) // an unknown API version alerts
		page.Fail(c, err)
		return
	}
	err = h.d.Orders.HandleEvent(c.Request.Context(), ev)
	switch {
	case errors.Is(err, orders.ErrDuplicateEvent):
		c.JSON(http.StatusOK, gin.H{"received": true, "duplicate": true})
	case err != nil:
		page.Fail(c, err)
	default:
		c.JSON(http.StatusOK, gin.H{"received": true})
	}
}
