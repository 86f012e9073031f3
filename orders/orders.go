package orders

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/shops"
)

// Order statuses (API.md).
const (
	StatusPendingPayment = "pending_payment"
	StatusPaid           = "paid"
	StatusFulfilled      = "fulfilled"
	StatusDelivered      = "delivered"
	StatusExpired        = "expired"
	StatusCancelled      = "cancelled"
	StatusRefunded       = "refunded"
)

// CheckoutTTL is how long a payment page stays open. Stripe refuses an
// expires_at less than 30 minutes after the session's creation, measured on
// its own clock when the request arrives, so the page lives 30 minutes plus
// a margin for clock skew and the request's time on the network.
const CheckoutTTL = 35 * time.Minute

// ReservationTTL is how long an unpaid order holds its units: at least as
// long as its payment page, plus a grace for the completion webhook of a
// payment made in the page's last seconds.
const ReservationTTL = CheckoutTTL + 2*time.Minute

// Defaults of Config.
const (
	DefaultUnpaidLimit   = 10
	DefaultContendedHold = 10 * time.Minute
)

// ErrPaymentsOff is an order placed while online payment is not
// configured: nothing is reserved, kept or sent to the provider.
var ErrPaymentsOff = problem.New(problem.PaymentsUnavailable, "online payment is not available right now; nothing was ordered or charged")

// Address is where the parcel goes.
type Address struct {
	Line1      string `json:"line1" bson:"line1"`
	Line2      string `json:"line2,omitempty" bson:"line2,omitempty"`
	PostalCode string `json:"postal_code" bson:"postal_code"`
	City       string `json:"city" bson:"city"`
	Country    string `json:"country" bson:"country"` // ISO 3166-1 alpha-2
}

// Customer is who buys; no account is needed.
type Customer struct {
	Email   string  `json:"email" bson:"email"`
	Name    string  `json:"name" bson:"name"`
	Address Address `json:"address" bson:"address"`
}

// StatusChange is one step of an order's history.
type StatusChange struct {
	Status string    `json:"status" bson:"status"`
	At     time.Time `json:"at" bson:"at"`
	Note   string    `json:"note,omitempty" bson:"note,omitempty"`
}

// Order is an online order on a channel.
type Order struct {
	ID        string                `json:"id" bson:"_id"`
	Channel   string                `json:"channel" bson:"channel"`
	Status    string                `json:"status" bson:"status"`
	Lines     []shops.AllocatedLine `json:"lines" bson:"lines"`
	Total     catalog.Money         `json:"total" bson:"total"`
	Customer  Customer              `json:"customer" bson:"customer"`
	TokenHash string                `json:"-" bson:"token_hash"`
	// Token is kept so the emails can carry the order's link: it grants
	// reading this order only, and whoever reads the database reads the
	// orders anyway.
	Token         string    `json:"-" bson:"token"`
	SessionID     string    `json:"-" bson:"session_id,omitempty"`
	CheckoutURL   string    `json:"checkout_url,omitempty" bson:"checkout_url,omitempty"`
	PaymentIntent string    `json:"-" bson:"payment_intent,omitempty"`
	ExpiresAt     time.Time `json:"expires_at" bson:"expires_at"`
	CreatedAt     time.Time `json:"created_at" bson:"created_at"`
	PaidAt        time.Time `json:"paid_at,omitzero" bson:"paid_at,omitempty"`
	Tracking      string    `json:"tracking,omitempty" bson:"tracking,omitempty"`
	RefundID      string    `json:"-" bson:"refund_id,omitempty"`
	RefundedAt    time.Time `json:"refunded_at,omitzero" bson:"refunded_at,omitempty"`
	RefundDue     bool      `json:"-" bson:"refund_due,omitempty"` // paid after it expired: give the money back
	// AwaitingFunds: the checkout completed with a delayed payment method
	// (SEPA debit); the units stay reserved until the money arrives or fails.
	AwaitingFunds bool `json:"awaiting_funds,omitempty" bson:"awaiting_funds,omitempty"`
	// ShortHold: a product of the order was nearly sold out, so the units
	// are held for Config.ContendedHold only and the payment page is closed
	// when the hold ends (Stripe's own minimum is 30 minutes).
	ShortHold bool              `json:"-" bson:"short_hold,omitempty"`
	Restocked bool              `json:"restocked,omitempty" bson:"restocked,omitempty"`
	History   []StatusChange    `json:"history" bson:"history"`
	Names     map[string]string `json:"-" bson:"names"` // product names (fr) at order time, for emails and Stripe
}

// Number is the order's number as its customer and the platform read it
// (id.Number): "TSTQ-RJ1B-HVGF-RB57".
func (o Order) Number() string { return id.Number(o.ID) }

// Sentinel errors.
var (
	ErrOrderNotFound = problem.New(problem.NotFound, "order not found")
	errWrongStatus   = func(o Order, want string) error {
		return problem.New(problem.Conflict, "order %s is %s; this needs it %s", o.ID,
			problem.Term{Vocabulary: "order_status", Code: o.Status}, problem.Term{Vocabulary: "order_status", Code: want})
	}
)

// Config are the orders' settings.
type Config struct {
	PublicURL string // for the payment page's return links
	// Letters writes the customer e-mails; web/i18n's Letters writes them
	// from the message catalogues. Without it, a plain English text.
	Letters Letters
	// UnpaidLimit is how many units of one product a customer (by e-mail,
	// and by delivery address) may hold in unpaid orders, unless the
	// product sets its own (catalog.Product.UnpaidLimit); DefaultUnpaidLimit
	// when zero.
	UnpaidLimit int64
	// ContendedHold is how long an order holds units of a product that is
	// nearly sold out (ReservationTTL otherwise): its payment page is closed
	// when the hold ends. DefaultContendedHold when zero.
	ContendedHold time.Duration
	// OnAlert is told of what an operator must look at (a payment whose
	// amount does not match its order); nil ignores alerts.
	OnAlert func(ctx context.Context, a Alert)
}

// Service takes and follows orders. It is safe for concurrent use.
type Service struct {
	store    *Store
	db       *mongodb.Store
	catalog  *catalog.Service
	shops    *shops.Service
	stock    *shops.Stock
	payments Payments
	cfg      Config
	now      func() time.Time
}

// NewService returns the orders service.
func NewService(store *Store, cat *catalog.Service, sh *shops.Service, stock *shops.Stock, payments Payments, cfg Config, now func() time.Time) *Service {
	if cfg.UnpaidLimit <= 0 {
		cfg.UnpaidLimit = DefaultUnpaidLimit
	}
	if cfg.ContendedHold <= 0 {
		cfg.ContendedHold = DefaultContendedHold
	}
	return &Service{store: store, db: store.db, catalog: cat, shops: sh, stock: stock, payments: payments, cfg: cfg, now: now}
}

// NewOrder is what a customer sends.
type NewOrder struct {
	Channel  string
	Lines    []OrderLine
	Customer Customer
}

// OrderLine asks for units of a product.
type OrderLine struct {
	SKU   string `json:"sku"`
	Units int64  `json:"units"`
}

// Placed is a created order with the token the customer reads it with.
type Placed struct {
	Order Order
	Token string
}

// validate checks the customer; countries are those the platform ships to
// (the EU and a few neighbours) — ISO codes, upper-case.
func (c *Customer) validate() error {
	c.Email = strings.ToLower(strings.TrimSpace(c.Email))
	if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email || len(c.Email) > 254 {
		return problem.Field("customer.email", "is not a valid email address")
	}
	c.Name = strings.TrimSpace(c.Name)
	if err := problem.RequireText("customer.name", c.Name, 200); err != nil {
		return err
	}
	a := &c.Address
	a.Line1, a.Line2, a.City = strings.TrimSpace(a.Line1), strings.TrimSpace(a.Line2), strings.TrimSpace(a.City)
	a.PostalCode, a.Country = strings.TrimSpace(a.PostalCode), strings.ToUpper(strings.TrimSpace(a.Country))
	if err := problem.RequireText("customer.address.line1", a.Line1, 200); err != nil {
		return err
	}
	if len([]rune(a.Line2)) > 200 {
		return problem.Field("customer.address.line2", "must be at most 200 characters")
	}
	if err := problem.RequireText("customer.address.city", a.City, 100); err != nil {
		return err
	}
	if len(a.PostalCode) < 3 || len(a.PostalCode) > 10 {
		return problem.Field("customer.address.postal_code", "must be 3 to 10 characters")
	}
	if !slices.Contains(shipsTo, a.Country) {
		return problem.Field("customer.address.country", "we do not ship to %q (use an ISO code such as FR, BE, DE)", a.Country)
	}
	return nil
}

// shipsTo are the countries the platform delivers to (ISO 3166 codes).
var shipsTo = []string{"AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GR", "HR", "HU", "IE",
	"IT", "LT", "LU", "LV", "MA", "MC", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"}

// ShipsTo lists the countries orders may be delivered to, sorted by code:
// the checkout's choice of country.
func ShipsTo() []string { return slices.Clone(shipsTo) }

// Create places an order: prices from the catalogue, units reserved per lot
// (FEFO) in one atomic step, then a payment page. With an idempotency key,
// the same key and body return the same order; another body → conflict.
func (s *Service) Create(ctx context.Context, req NewOrder, idemKey string) (Placed, bool, error) {
	if s.payments == nil || !s.payments.Available() {
		return Placed{}, false, ErrPaymentsOff
	}
	req.Channel = id.NormalizeCode(req.Channel)
	ch, err := s.shops.Shop(ctx, req.Channel)
	if err != nil {
		return Placed{}, false, problem.Field("channel", "no channel %q", req.Channel)
	}
	if ch.Kind != shops.KindPlatform {
		return Placed{}, false, problem.Field("channel", "%s is a shop with a till; online orders go to the platform", ch.Code)
	}
	if err := req.Customer.validate(); err != nil {
		return Placed{}, false, err
	}
	if len(req.Lines) == 0 || len(req.Lines) > 50 {
		return Placed{}, false, problem.Field("lines", "order between 1 and 50 products")
	}
	lines := make([]shops.Line, len(req.Lines))
	names := map[string]string{}
	limits := map[string]int64{}
	for i, l := range req.Lines {
		p, err := s.catalog.Product(ctx, l.SKU)
		if err != nil {
			return Placed{}, false, problem.Field(fmt.Sprintf("lines[%d].sku", i), "no product %q", l.SKU)
		}
		if _, ok := p.PriceIn(ch.Code); !ok {
			return Placed{}, false, problem.Field(fmt.Sprintf("lines[%d].sku", i), "%s is not sold on %s", p.SKU, ch.Code)
		}
		if l.Units <= 0 || l.Units > 100 {
			return Placed{}, false, problem.Field(fmt.Sprintf("lines[%d].units", i), "must be between 1 and 100")
		}
		lines[i] = shops.Line{SKU: p.SKU, Units: l.Units} // priced by the stock, from the catalogue
		names[p.SKU] = p.Names.FR
		limits[p.SKU] = s.cfg.UnpaidLimit
		if p.UnpaidLimit > 0 {
			limits[p.SKU] = p.UnpaidLimit
		}
	}
	bodyHash := hashOf(req)
	if len(idemKey) > 200 {
		return Placed{}, false, problem.Field("Idempotency-Key", "must be at most 200 characters")
	}
	var placed Placed
	replay := false
	// The shelves and balances the reservation will read, read before the
	// write lock (shops.Stock.ReadAhead).
	err = s.db.Atomically(s.stock.ReadAhead(ctx, ch.Code, lines), func(ctx context.Context) error {
		if idemKey != "" {
			rec, err := s.store.idempotency(ctx, idemKey)
			if err == nil {
				if rec.BodyHash != bodyHash {
					return problem.New(problem.Unprocessable, "this Idempotency-Key was used with another request body")
				}
				o, err := s.store.order(ctx, rec.OrderID)
				if err != nil {
					return err
				}
				placed, replay = Placed{Order: o, Token: rec.Token}, true
				return nil
			} else if err != errNoRecord {
				return err
			}
		}
		holds, err := s.checkUnpaidLimits(ctx, ch.Code, req.Customer, req.Lines, limits)
		if err != nil {
			return err
		}
		alloc, err := s.stock.Reserve(ctx, ch.Code, lines)
		if err != nil {
			return err
		}
		contended, err := s.contended(ctx, ch.Code, lines, limits)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		token := id.New("tok") + id.New("")
		o := Order{ID: id.New("ord"), Channel: ch.Code, Status: StatusPendingPayment, Lines: alloc,
			Customer: req.Customer, TokenHash: hashToken(token), Token: token, ExpiresAt: now.Add(ReservationTTL), CreatedAt: now,
			History: []StatusChange{{Status: StatusPendingPayment, At: now}}, Names: names}
		o.Total = catalog.Money{Currency: ch.Currency}
		for _, l := range alloc {
			o.Total.Amount += l.Amount
		}
		if contended {
			o.ShortHold, o.ExpiresAt = true, now.Add(s.cfg.ContendedHold)
		}
		if err := s.store.insertOrder(ctx, o); err != nil {
			return err
		}
		if err := s.store.saveHolds(ctx, holds, o.ID); err != nil {
			return err
		}
		if idemKey != "" {
			if err := s.store.insertIdempotency(ctx, idemRecord{Key: idemKey, BodyHash: bodyHash, OrderID: o.ID, Token: token, CreatedAt: now}); err != nil {
				return err
			}
		}
		placed = Placed{Order: o, Token: token}
		return nil
	})
	if err != nil {
		return Placed{}, false, err
	}
	if !replay {
		for _, l := range placed.Order.Lines {
			s.stock.Changed(placed.Order.Channel, l.SKU)
		}
	}
	if placed.Order.CheckoutURL == "" && placed.Order.Status == StatusPendingPayment {
		if err := s.openCheckout(ctx, &placed.Order, placed.Token, idemKey); err != nil {
			return Placed{}, false, err
		}
	}
	return placed, replay, nil
}

// openCheckout creates the payment page (outside Atomically: a network call
// must not hold the write lock) and records it on the order, whose
// reservation is extended, if need be, to outlive the page. If the provider
// cannot open it, the order is withdrawn entirely — reservation released,
// order and idempotency record deleted, no customer data kept — so the
// customer's retry (same Idempotency-Key or form nonce) places it afresh.
func (s *Service) openCheckout(ctx context.Context, o *Order, token, idemKey string) error {
	now := s.now().UTC()
	req := CheckoutRequest{OrderID: o.ID, Email: o.Customer.Email, Currency: o.Total.Currency, ExpiresAt: now.Add(CheckoutTTL),
		SuccessURL: s.cfg.PublicURL + "/orders/" + o.ID + "?token=" + token + "&paid=1",
		CancelURL:  s.cfg.PublicURL + "/orders/" + o.ID + "?token=" + token}
	for _, l := range o.Lines {
		req.Lines = append(req.Lines, CheckoutLine{Name: o.Names[l.SKU] + " (" + l.SKU + ")", UnitPrice: l.UnitPrice, Units: l.Units})
	}
	co, err := s.payments.CreateCheckout(ctx, req)
	if err != nil {
		if werr := s.withdraw(context.WithoutCancel(ctx), o.ID, idemKey); werr != nil {
			return errors.Join(err, werr)
		}
		return err
	}
	o.SessionID, o.CheckoutURL = co.SessionID, co.URL
	if hold := req.ExpiresAt.Add(ReservationTTL - CheckoutTTL); hold.After(o.ExpiresAt) && !o.ShortHold {
		o.ExpiresAt = hold
	}
	return s.store.setCheckout(ctx, o.ID, co, o.ExpiresAt)
}

// withdraw undoes an order whose payment page could not be opened.
func (s *Service) withdraw(ctx context.Context, id, idemKey string) error {
	var channel string
	var skus []string
	err := s.db.Atomically(ctx, func(ctx context.Context) error {
		o, err := s.store.order(ctx, id)
		if err != nil {
			return err
		}
		if o.Status != StatusPendingPayment || o.SessionID != "" {
			return nil // paid or opened meanwhile: not ours to withdraw
		}
		if err := s.stock.Release(ctx, o.Channel, o.Lines); err != nil {
			return err
		}
		channel = o.Channel
		for _, l := range o.Lines {
			skus = append(skus, l.SKU)
		}
		return s.store.deleteOrder(ctx, o.ID, idemKey)
	})
	for _, sku := range skus {
		s.stock.Changed(channel, sku)
	}
	return err
}

func (o *Order) setStatus(status string, at time.Time, note string) {
	if status == StatusRefunded && o.RefundedAt.IsZero() {
		o.RefundedAt = at.UTC()
	}
	o.Status = status
	o.History = append(o.History, StatusChange{Status: status, At: at.UTC(), Note: note})
}

// refundedAt is when the order was refunded (orders refunded before
// RefundedAt was recorded: from their history).
func (o Order) refundedAt() time.Time {
	if !o.RefundedAt.IsZero() {
		return o.RefundedAt
	}
	for _, h := range o.History {
		if h.Status == StatusRefunded {
			return h.At
		}
	}
	return time.Time{}
}

// transition re-reads an order and applies fn to it in one atomic step,
// saving it when fn succeeds.
func (s *Service) transition(ctx context.Context, id string, fn func(ctx context.Context, o *Order) error) error {
	var skus []string
	var channel string
	err := s.db.Atomically(ctx, func(ctx context.Context) error {
		o, err := s.store.order(ctx, id)
		if err != nil {
			return err
		}
		before := o.Status
		if err := fn(ctx, &o); err != nil {
			return err
		}
		channel = o.Channel
		for _, l := range o.Lines {
			skus = append(skus, l.SKU)
		}
		return s.store.saveOrder(ctx, o, before)
	})
	if err == nil {
		for _, sku := range skus {
			s.stock.Changed(channel, sku)
		}
	}
	return err
}

// Order returns an order to its channel's manager or the admin, or to
// whoever holds its token.
func (s *Service) Order(ctx context.Context, actor access.Actor, id, token string) (Order, error) {
	o, err := s.store.order(ctx, id)
	if err != nil {
		return Order{}, ErrOrderNotFound
	}
	if token != "" && hashToken(token) == o.TokenHash {
		return o, nil
	}
	if token == "" && !actor.Anonymous() {
		if err := actor.ManageShop(o.Channel); err == nil {
			return o, nil
		}
	}
	if actor.Anonymous() && token == "" {
		return Order{}, access.ErrUnauthorized
	}
	return Order{}, ErrOrderNotFound // a wrong token reveals nothing
}

// Orders lists a channel's orders, newest first, optionally of one status.
func (s *Service) Orders(ctx context.Context, actor access.Actor, channel, status string, page mongodb.Page) ([]Order, error) {
	channel = id.NormalizeCode(channel)
	if err := actor.ManageShop(channel); err != nil {
		return nil, err
	}
	return s.store.orders(ctx, channel, status, page.Normalized())
}

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

func hashOf(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
