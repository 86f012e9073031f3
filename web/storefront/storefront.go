// Package storefront is what a customer sees: the public catalogue of each
// channel (/shop/{channel}, /shop/{channel}/{sku}, product photos), and the
// EU platform's online shop — the cart kept in a cookie, the checkout, and
// the order page a customer reads with the order's token.
//
// Decisions:
//   - The catalogue pages are public and light (the public layout, no
//     session): everything a listing needs is in the channel's catalogue
//     cache (web/catalogcache); what the pages derive from it (ordered
//     items, filter options, cooperatives, rendered pages) is kept with the
//     cache's entry, so it is rebuilt exactly when the entry is.
//   - The cart cookie holds only SKUs and units ("SKU*2|SKU*1"); names,
//     prices and availability come from the catalogue cache at every
//     request, so a customer can never set a price. A cookie that does not
//     parse is ignored (an empty cart), never an error page.
//   - The checkout form carries a random nonce; the order's Idempotency-Key
//     is derived from it, so a double click or a retry on a weak connection
//     places one order.
//   - After the order exists the cart is cleared and a "last order" cookie
//     keeps its link (ID and token), so a customer whose payment page did
//     not load finds the order again from the cart.
//   - Without online payment (no Stripe key) the cart says so in the
//     page's language and offers no checkout; /checkout leads back to the
//     cart, and a checkout form sent anyway is answered by the cart (503)
//     before the orders service is asked, so nothing is kept.
//   - Only the EU platform sells online (Channel); the cart pages live
//     outside /shop/…, which belongs to the public catalogue.
package storefront

import (
	"context"
	"embed"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/catalogcache"
	"github.com/terroir-coop/terroir/web/page"
)

// Templates are the storefront's pages.
//
//go:embed templates
var Templates embed.FS

// Catalogue is the channels' catalogue in memory (web/catalogcache).
type Catalogue interface {
	Channel(ctx context.Context, channel string) (*catalogcache.Channel, error)
}

// Products reads the catalogue's products and their photos.
type Products interface {
	Product(ctx context.Context, sku string) (catalog.Product, error)
	Photo(ctx context.Context, id string) (catalog.Photo, error)
}

// Lots reads what the public may know of lots and cooperatives.
type Lots interface {
	PublicLot(ctx context.Context, code string) (traceability.Lot, error)
	CooperativeName(ctx context.Context, code string) (traceability.Cooperative, error)
	ClaimStatuses(ctx context.Context, l traceability.Lot) ([]traceability.ClaimStatus, error)
}

// Orders places and reads online orders.
type Orders interface {
	Create(ctx context.Context, req orders.NewOrder, idemKey string) (orders.Placed, bool, error)
	Order(ctx context.Context, actor access.Actor, id, token string) (orders.Order, error)
}

// Quotes price a cart as a sale in the channel would (shops.Stock.Quote):
// the cart shows the domain's amounts, never its own arithmetic.
type Quotes interface {
	Quote(ctx context.Context, shop string, lines []shops.Line) (shops.Quote, error)
}

// Payments says whether online payment is configured (orders.Payments):
// without it the cart says so and offers no checkout that would fail.
type Payments interface {
	Available() bool
}

// Deps are what the storefront needs.
type Deps struct {
	Catalogue Catalogue
	Products  Products
	Lots      Lots
	Orders    Orders
	Quotes    Quotes
	Payments  Payments           // nil: no online payment
	Codes     traceability.Codes // signs the trace links of the lots shown
	Pages     *page.Renderer
}

// Handlers answer the storefront's routes.
type Handlers struct{ d Deps }

// New returns the storefront's handlers.
func New(d Deps) *Handlers { return &Handlers{d: d} }

// paymentsOn reports whether a checkout can take the customer to pay.
func (h *Handlers) paymentsOn() bool { return h.d.Payments != nil && h.d.Payments.Available() }

// Channel is the channel the online shop sells on.
const Channel = "EU-PLATFORM"

// The storefront's own refusals (the catalogue's 404 pages).
var (
	errUnknownChannel = problem.New(problem.NotFound, "this shop does not exist")
	errUnknownProduct = problem.New(problem.NotFound, "this product is not offered in this shop")
)

// channel reads a channel's catalogue; an unknown one is errUnknownChannel.
func (h *Handlers) channel(ctx context.Context, code string) (*catalogcache.Channel, error) {
	ch, err := h.d.Catalogue.Channel(ctx, code)
	if problem.CodeOf(err) == problem.NotFound {
		return nil, errUnknownChannel
	}
	return ch, err
}
