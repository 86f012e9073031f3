package storefront

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/web/page"
)

// orderView is the order page a customer reads with the order's token.
type orderView struct {
	page.Page
	Order        orders.Order
	Status       string
	Created      string
	Lines        []orderLine
	Total        string
	PayURL       string
	JustPaid     bool // back from the payment page, webhook not here yet
	History      []historyRow
	Manager      bool
	PlatformLink string
}

type orderLine = page.OrderLine

type historyRow struct{ At, Status, Note string }

// Order answers GET /orders/{id}?token=: the order, the lots each jar came
// from with their signed trace links, and the way to pay while it waits.
func (h *Handlers) Order(c *gin.Context) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	o, err := h.d.Orders.Order(ctx, actor, c.Param("id"), c.Query("token"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := &orderView{Page: h.d.Pages.Page(c, l.T("st_order")), Order: o, Status: l.Term("order_status", o.Status),
		Created: o.CreatedAt.UTC().Format("2006-01-02 15:04") + " UTC", Total: l.Money(o.Total.Amount, o.Total.Currency)}
	v.Styles = []string{"store.css"}
	if o.Status == orders.StatusPendingPayment {
		v.PayURL = o.CheckoutURL
	}
	if v.Lines, err = page.OrderLines(ctx, l, o, h.d.Products, h.d.Lots, h.d.Codes); err != nil {
		page.Fail(c, err)
		return
	}
	for _, hs := range o.History {
		v.History = append(v.History, historyRow{At: hs.At.UTC().Format("2006-01-02 15:04"), Status: l.Term("order_status", hs.Status), Note: hs.Note})
	}
	v.JustPaid = c.Query("paid") == "1" && o.Status == orders.StatusPendingPayment
	// A manager opening the order without its token may manage it.
	v.Manager = c.Query("token") == "" && actor.ManageShop(o.Channel) == nil
	if v.Manager {
		v.PlatformLink = "/platform/" + url.PathEscape(o.Channel) + "/orders/" + url.PathEscape(o.ID)
	}
	h.d.Pages.Render(c, http.StatusOK, "storefront/order", v)
}
