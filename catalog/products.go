package catalog

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
)

// Names are a product's names in the three languages of the network.
type Names struct {
	FR string `json:"fr" bson:"fr"`
	EN string `json:"en" bson:"en"`
	AR string `json:"ar" bson:"ar"`
}

// Has reports whether the product has a name of its own in a language (In
// falls back to French for the others).
func (n Names) Has(lang string) bool {
	switch lang {
	case "fr":
		return n.FR != ""
	case "en":
		return n.EN != ""
	case "ar":
		return n.AR != ""
	}
	return false
}

// In returns the name in a language, falling back to French.
func (n Names) In(lang string) string {
	switch {
	case lang == "en" && n.EN != "":
		return n.EN
	case lang == "ar" && n.AR != "":
		return n.AR
	}
	return n.FR
}

// Product is a catalogue item: what a packed unit is.
type Product struct {
	SKU          string            `json:"sku" bson:"_id"`
	Names        Names             `json:"names" bson:"names"`
	Kind         string            `json:"kind" bson:"kind"`
	Cooperative  string            `json:"cooperative" bson:"coop"`
	UnitSize     int64             `json:"-" bson:"unit_size"`
	UnitSizeUnit traceability.Unit `json:"-" bson:"unit_size_unit"`
	GTIN         string            `json:"gtin,omitempty" bson:"gtin,omitempty"`
	// Descriptions tell the product and its cooperative's story, per language.
	Descriptions Names `json:"descriptions" bson:"descriptions"`
	// Prices per sales channel (shop code), each in the channel's currency.
	Prices map[string]Money `json:"prices" bson:"prices"`
	// Shares are the producers' agreed shares per channel (settlement).
	Shares map[string]Share `json:"shares,omitempty" bson:"shares,omitempty"`
	// UnpaidLimit is how many units of the product one customer may hold in
	// unpaid online orders at once (0: the platform's default), so that no
	// one can hoard scarce stock by placing orders they do not pay.
	UnpaidLimit int64 `json:"unpaid_limit,omitempty" bson:"unpaid_limit,omitempty"`
	// Photo is the stored product photo's ID, if any.
	Photo     string    `json:"photo,omitempty" bson:"photo,omitempty"`
	CreatedAt time.Time `json:"created_at" bson:"created_at"`
}

// PriceIn returns the product's price in a channel.
func (p Product) PriceIn(channel string) (Money, bool) {
	m, ok := p.Prices[channel]
	return m, ok
}

// Packed returns what packing needs to know of the product.
func (p Product) Packed() traceability.PackedProduct {
	return traceability.PackedProduct{SKU: p.SKU, Kind: p.Kind, Cooperative: p.Cooperative,
		UnitSize: p.UnitSize, UnitSizeUnit: p.UnitSizeUnit, GTIN: p.GTIN}
}

// Sentinel errors.
var (
	ErrProductNotFound = problem.New(problem.NotFound, "product not found")
	ErrProductExists   = problem.New(problem.Conflict, "a product with this SKU exists already")
)

// NewProduct is what an admin sends to add a product.
type NewProduct struct {
	SKU          string
	Names        Names
	Kind         string
	Cooperative  string
	UnitSize     traceability.Quantity
	GTIN         string
	Descriptions Names
}

var skuPattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{1,39}$`)

// Service manages the catalogue. It is safe for concurrent use.
type Service struct {
	store *Store
	trace *traceability.Service
	now   func() time.Time

	mu       sync.RWMutex
	watchers []func(sku string)
}

// OnChange registers fn to be told the SKU of every product this process
// changes (created, priced, shared, photographed), right after the change
// is written: the web layer's catalogue cache follows the catalogue with it.
func (s *Service) OnChange(fn func(sku string)) {
	s.mu.Lock()
	s.watchers = append(s.watchers, fn)
	s.mu.Unlock()
}

// changed announces a written change of a product.
func (s *Service) changed(sku string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, fn := range s.watchers {
		fn(sku)
	}
}

// UnitPrice is a product's price in a channel, in minor units of the
// channel's currency (shops.Pricer: a till sale is priced here). ok is
// false when the product has no price there; an unknown product is
// ErrProductNotFound.
func (s *Service) UnitPrice(ctx context.Context, channel, sku string) (amount int64, currency string, ok bool, err error) {
	p, err := s.store.pricedProduct(ctx, strings.ToUpper(strings.TrimSpace(sku)))
	if err != nil {
		return 0, "", false, err
	}
	m, ok := p.PriceIn(id.NormalizeCode(channel))
	return m.Amount, m.Currency, ok, nil
}

// NewService returns the catalogue service.
func NewService(store *Store, trace *traceability.Service, now func() time.Time) *Service {
	return &Service{store: store, trace: trace, now: now}
}

// CreateProduct adds a product. Admins only.
func (s *Service) CreateProduct(ctx context.Context, actor access.Actor, np NewProduct) (Product, error) {
	if err := actor.RequireAdmin(); err != nil {
		return Product{}, err
	}
	p := Product{SKU: strings.ToUpper(strings.TrimSpace(np.SKU)), Kind: strings.TrimSpace(np.Kind),
		Cooperative: id.NormalizeCode(np.Cooperative),
		Names:       Names{FR: strings.TrimSpace(np.Names.FR), EN: strings.TrimSpace(np.Names.EN), AR: strings.TrimSpace(np.Names.AR)}}
	if !skuPattern.MatchString(p.SKU) {
		return Product{}, problem.Field("sku", "must be 2 to 40 letters, digits or dashes")
	}
	for _, n := range []struct{ field, v string }{{"names.fr", p.Names.FR}, {"names.en", p.Names.EN}, {"names.ar", p.Names.AR}} {
		if err := problem.RequireText(n.field, n.v, 200); err != nil {
			return Product{}, err
		}
	}
	want, ok := traceability.KindUnit(p.Kind)
	if !ok {
		return Product{}, problem.Field("kind", "must be one of %s", strings.Join(traceability.ProductKinds(), ", "))
	}
	amount, unit, err := np.UnitSize.Base()
	if err != nil {
		if pe, ok := problem.As(err); ok {
			return Product{}, pe.At("unit_size")
		}
		return Product{}, err
	}
	if unit != want {
		return Product{}, problem.Field("unit_size", "%s is sold by %s (%s), not %s", problem.Kind(p.Kind),
			problem.Dimension(traceability.Dimension(want)), want, problem.Dimension(traceability.Dimension(unit)))
	}
	p.UnitSize, p.UnitSizeUnit = amount, unit
	if g := strings.TrimSpace(np.GTIN); g != "" {
		if p.GTIN, err = traceability.NormalizeGTIN(g); err != nil {
			return Product{}, err
		}
	}
	if p.Cooperative == "" {
		return Product{}, problem.Field("cooperative", "is required")
	}
	if _, err := s.trace.CooperativeName(ctx, p.Cooperative); err != nil {
		return Product{}, problem.Field("cooperative", "no cooperative %s", p.Cooperative)
	}
	p.Descriptions = Names{FR: strings.TrimSpace(np.Descriptions.FR), EN: strings.TrimSpace(np.Descriptions.EN), AR: strings.TrimSpace(np.Descriptions.AR)}
	for _, d := range []struct{ field, v string }{{"descriptions.fr", p.Descriptions.FR}, {"descriptions.en", p.Descriptions.EN}, {"descriptions.ar", p.Descriptions.AR}} {
		if len([]rune(d.v)) > 4000 {
			return Product{}, problem.Field(d.field, "must be at most 4000 characters")
		}
	}
	p.Prices = map[string]Money{}
	p.CreatedAt = s.now().UTC()
	if err := s.store.insertProduct(ctx, p); err != nil {
		return Product{}, err
	}
	s.changed(p.SKU)
	return p, nil
}

// Product returns a product by SKU; the catalogue is public.
func (s *Service) Product(ctx context.Context, sku string) (Product, error) {
	return s.store.product(ctx, strings.ToUpper(strings.TrimSpace(sku)))
}

// Products lists products by SKU.
func (s *Service) Products(ctx context.Context, page mongodb.Page) ([]Product, error) {
	return s.store.products(ctx, page.Normalized())
}

// SetPrice sets a product's price in a sales channel. The admin or that
// channel's shop manager may; the currency must be the channel's
// (channelCurrency, which the caller reads from the channel's shop).
func (s *Service) SetPrice(ctx context.Context, actor access.Actor, sku, channel, channelCurrency string, m Money) (Product, error) {
	defer s.store.forget(strings.ToUpper(strings.TrimSpace(sku))) // the change may have rolled back (Store.priced)
	channel = id.NormalizeCode(channel)
	if err := actor.ManageShop(channel); err != nil {
		return Product{}, err
	}
	m.Currency = strings.ToUpper(strings.TrimSpace(m.Currency))
	if err := m.Validate("price"); err != nil {
		return Product{}, renameMoneyField(err)
	}
	if m.Currency != channelCurrency {
		return Product{}, problem.Field("currency", "channel %s sells in %s", channel, channelCurrency)
	}
	var p Product
	err := s.store.db.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if p, err = s.store.product(ctx, strings.ToUpper(strings.TrimSpace(sku))); err != nil {
			return err
		}
		if p.Prices == nil {
			p.Prices = map[string]Money{}
		}
		p.Prices[channel] = m
		return s.store.setPrice(ctx, p.SKU, channel, m)
	})
	if err == nil {
		s.changed(p.SKU)
	}
	return p, err
}

// renameMoneyField reports "price.amount" as "amount": the price endpoint's
// body is the Money itself.
func renameMoneyField(err error) error {
	if pe, ok := problem.As(err); ok {
		c := *pe
		c.Field = strings.TrimPrefix(c.Field, "price.")
		return &c
	}
	return err
}

// AllProducts returns the whole catalogue (for the catalogue cache; it is
// hundreds to a few thousand products).
func (s *Service) AllProducts(ctx context.Context) ([]Product, error) {
	return s.store.products(ctx, mongodb.Page{Limit: 1_000_000})
}

// Share is what the cooperative receives of each unit sold in a channel:
// a fixed producer price per unit, or a percentage of the sale price.
type Share struct {
	Kind    string `json:"kind" bson:"kind"`                           // fixed or percent
	Amount  int64  `json:"amount,omitempty" bson:"amount,omitempty"`   // fixed: minor units per unit
	Percent int64  `json:"percent,omitempty" bson:"percent,omitempty"` // percent: basis points (7000 = 70 %)
}

// DefaultShare applies until a product's agreement for a channel is
// recorded: 70 % of the sale price to the cooperative, the network's usual
// solidarity-shop agreement.
var DefaultShare = Share{Kind: "percent", Percent: 7000}

// ShareIn returns the product's share agreement in a channel.
func (p Product) ShareIn(channel string) Share {
	if sh, ok := p.Shares[channel]; ok {
		return sh
	}
	return DefaultShare
}

// ProducerShare is the cooperative's part of a line of units at a gross
// amount: fixed × units, or gross × percent rounded down to the minor unit
// (the cooperative never gets a fraction of a centime more than agreed).
func (sh Share) ProducerShare(units, gross int64) int64 {
	if sh.Kind == "fixed" {
		return sh.Amount * units
	}
	return gross * sh.Percent / 10_000
}

// SetShare records a product's share agreement in a channel. Admins only.
func (s *Service) SetShare(ctx context.Context, actor access.Actor, sku, channel string, sh Share) (Product, error) {
	defer s.store.forget(strings.ToUpper(strings.TrimSpace(sku))) // the change may have rolled back (Store.priced)
	if err := actor.RequireAdmin(); err != nil {
		return Product{}, err
	}
	channel = id.NormalizeCode(channel)
	switch sh.Kind {
	case "fixed":
		if sh.Amount <= 0 || sh.Amount > 100_000_000 || sh.Percent != 0 {
			return Product{}, problem.Field("amount", "a fixed share is a positive amount in minor units per unit, without percent")
		}
	case "percent":
		if sh.Percent <= 0 || sh.Percent > 10_000 || sh.Amount != 0 {
			return Product{}, problem.Field("percent", "a percent share is in basis points, 1 to 10000 (7000 = 70 %%), without amount")
		}
	default:
		return Product{}, problem.Field("kind", "must be fixed or percent")
	}
	var p Product
	err := s.store.db.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if p, err = s.store.product(ctx, strings.ToUpper(strings.TrimSpace(sku))); err != nil {
			return err
		}
		if p.Shares == nil {
			p.Shares = map[string]Share{}
		}
		p.Shares[channel] = sh
		return s.store.setShare(ctx, p.SKU, channel, sh)
	})
	if err == nil {
		s.changed(p.SKU)
	}
	return p, err
}

// MaxUnpaidLimit bounds a product's unpaid limit: beyond it the limit no
// longer protects anything.
const MaxUnpaidLimit = 10_000

// SetUnpaidLimit sets how many units of a product one customer may hold in
// unpaid online orders at once (0: the platform's default). The admin or
// the manager of platform may; platform is an online channel, which the
// caller has checked (the catalogue does not know the kinds of shops:
// orders.Service.SetUnpaidLimit does).
func (s *Service) SetUnpaidLimit(ctx context.Context, actor access.Actor, sku, platform string, limit int64) (Product, error) {
	defer s.store.forget(strings.ToUpper(strings.TrimSpace(sku))) // the change may have rolled back (Store.priced)
	if err := actor.ManageShop(id.NormalizeCode(platform)); err != nil {
		return Product{}, err
	}
	if limit < 0 || limit > MaxUnpaidLimit {
		return Product{}, problem.Field("unpaid_limit", "must be a whole number of units from 0 (the platform's default) to %d", MaxUnpaidLimit)
	}
	var p Product
	err := s.store.db.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if p, err = s.store.product(ctx, strings.ToUpper(strings.TrimSpace(sku))); err != nil {
			return err
		}
		p.UnpaidLimit = limit
		return s.store.setUnpaidLimit(ctx, p.SKU, limit)
	})
	if err == nil {
		s.changed(p.SKU)
	}
	return p, err
}
