package shops

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/currency"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
)

// Kinds of shop.
const (
	KindBoutique = "boutique" // a solidarity shop with a till
	KindPlatform = "platform" // the online EU distribution platform
)

// Shop is a sales point and its channel.
type Shop struct {
	Code     string `json:"code" bson:"_id"`
	Name     string `json:"name" bson:"name"`
	City     string `json:"city" bson:"city"`
	Currency string `json:"currency" bson:"currency"`
	Kind     string `json:"kind" bson:"kind"`
	// GLN identifies the shop in EPCIS exports when it has one; TimeZone is
	// its IANA zone, by default that of its currency's country (Zone).
	GLN       string    `json:"gln,omitempty" bson:"gln,omitempty"`
	TimeZone  string    `json:"time_zone,omitempty" bson:"time_zone,omitempty"`
	CreatedAt time.Time `json:"created_at" bson:"created_at"`
}

// Zone is the shop's time zone: the one it records, else Europe/Paris for
// a channel selling in euros (the EU platform in France) and
// Africa/Casablanca for the Moroccan shops.
func (s Shop) Zone() string {
	switch {
	case s.TimeZone != "":
		return s.TimeZone
	case s.Currency == "EUR":
		return "Europe/Paris"
	}
	return "Africa/Casablanca"
}

// Party describes a shop for the EPCIS export (traceability.PartyDirectory).
func (s *Service) Party(ctx context.Context, code string) (traceability.Party, bool, error) {
	sh, err := s.Shop(ctx, code)
	if errors.Is(err, ErrShopNotFound) {
		return traceability.Party{}, false, nil
	}
	if err != nil {
		return traceability.Party{}, false, err
	}
	return traceability.Party{Code: sh.Code, GLN: sh.GLN, TimeZone: sh.Zone(), Shop: true}, true, nil
}

// Sentinel errors of the package.
var (
	ErrShopNotFound = problem.New(problem.NotFound, "shop not found")
	ErrShopExists   = problem.New(problem.Conflict, "a shop with this code exists already")
)

// Validate checks a new shop's fields.
func (s Shop) Validate() error {
	if err := id.ValidateCode("code", s.Code); err != nil {
		return err
	}
	if err := problem.RequireText("name", s.Name, 200); err != nil {
		return err
	}
	if err := problem.RequireText("city", s.City, 100); err != nil {
		return err
	}
	if err := currency.Check("currency", s.Currency); err != nil {
		return err
	}
	if err := traceability.CheckGLN("gln", s.GLN); err != nil {
		return err
	}
	if err := traceability.CheckTimeZone("time_zone", s.TimeZone); err != nil {
		return err
	}
	return problem.OneOf("kind", s.Kind, []string{KindBoutique, KindPlatform})
}

// Service manages shops. It is safe for concurrent use.
type Service struct {
	store *Store
	now   func() time.Time
}

// NewService returns a service over store with the given clock.
func NewService(store *Store, now func() time.Time) *Service {
	return &Service{store: store, now: now}
}

// CreateShop registers a shop. Admins only; a duplicate code → ErrShopExists.
func (s *Service) CreateShop(ctx context.Context, actor access.Actor, sh Shop) (Shop, error) {
	if err := actor.RequireAdmin(); err != nil {
		return Shop{}, err
	}
	sh.Code = id.NormalizeCode(sh.Code)
	sh.Currency = strings.ToUpper(strings.TrimSpace(sh.Currency))
	sh.Name, sh.City, sh.Kind = strings.TrimSpace(sh.Name), strings.TrimSpace(sh.City), strings.TrimSpace(sh.Kind)
	if err := sh.Validate(); err != nil {
		return Shop{}, err
	}
	sh.CreatedAt = s.now().UTC()
	if err := s.store.insertShop(ctx, sh); err != nil {
		return Shop{}, err
	}
	return sh, nil
}

// Shop returns a shop by code; shops are public (they name sales channels).
func (s *Service) Shop(ctx context.Context, code string) (Shop, error) {
	return s.store.shop(ctx, id.NormalizeCode(code))
}

// ManagedShop returns a shop to those who manage it: its manager and the
// admin (the back-office pages).
func (s *Service) ManagedShop(ctx context.Context, actor access.Actor, code string) (Shop, error) {
	code = id.NormalizeCode(code)
	if err := actor.ManageShop(code); err != nil {
		return Shop{}, err
	}
	return s.store.shop(ctx, code)
}

// OperatedShop returns a shop to the one who operates it: its own manager,
// who sells at its till and sends its transfers (not the admin).
func (s *Service) OperatedShop(ctx context.Context, actor access.Actor, code string) (Shop, error) {
	code = id.NormalizeCode(code)
	if err := actor.OperateShop(code); err != nil {
		return Shop{}, err
	}
	return s.store.shop(ctx, code)
}

// Shops lists the shops by code.
func (s *Service) Shops(ctx context.Context, page mongodb.Page) ([]Shop, error) {
	return s.store.shops(ctx, page)
}
