package storefront

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/i18n"
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

type orderLine struct {
	SKU, Name        string
	Units            int64
	UnitPrice, Total string
	Lots             []orderLot
}

type orderLot struct {
	Lot        string
	Units      int64
	BestBefore string
	TraceURL   string
}

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
	if v.Lines, err = h.orderLines(ctx, l, o); err != nil {
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

// orderLines joins an order with the catalogue's names in the page's
// language and each lot's signed trace link. A lot that cannot be read is
// shown without its link rather than failing the page.
func (h *Handlers) orderLines(ctx context.Context, l *i18n.Locale, o orders.Order) ([]orderLine, error) {
	var out []orderLine
	for _, ln := range o.Lines {
		name := o.Names[ln.SKU]
		if p, err := h.d.Products.Product(ctx, ln.SKU); err == nil {
			name = p.Names.In(l.Code())
		}
		lv := orderLine{SKU: ln.SKU, Name: name, Units: ln.Units,
			UnitPrice: l.Money(ln.UnitPrice, o.Total.Currency), Total: l.Money(ln.Amount, o.Total.Currency)}
		for _, lu := range ln.Lots {
			ol := orderLot{Lot: lu.Lot, Units: lu.Units}
			lot, err := h.d.Lots.PublicLot(ctx, lu.Lot)
			switch {
			case err == nil:
				ol.TraceURL = h.d.Codes.URL(traceability.RefOf(lot, ""))
				ol.BestBefore = lot.BestBefore
			case !errors.Is(err, traceability.ErrLotNotFound) && problem.CodeOf(err) != problem.NotFound:
				return nil, err
			}
			lv.Lots = append(lv.Lots, ol)
		}
		out = append(out, lv)
	}
	return out, nil
}
