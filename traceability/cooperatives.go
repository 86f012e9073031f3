package traceability

import (
	"context"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
)

// Kinds of cooperative, by their main chain.
var CooperativeKinds = []string{"saffron", "argan", "olive", "pamm", "honey", "almond", "crafts", "other"}

// Cooperative is a producers' cooperative of the network.
type Cooperative struct {
	Code     string `json:"code" bson:"_id"`
	Name     string `json:"name" bson:"name"`
	Kind     string `json:"kind" bson:"kind"`
	Commune  string `json:"commune" bson:"commune"`
	Province string `json:"province" bson:"province"`
	Group    string `json:"group,omitempty" bson:"group,omitempty"` // federation or GIE, e.g. FIMASAFRAN
	// GLN identifies the cooperative in EPCIS exports when it has one
	// (else a URI of this server does); TimeZone is its place's IANA zone
	// (default Africa/Casablanca, see Zone).
	GLN       string    `json:"gln,omitempty" bson:"gln,omitempty"`
	TimeZone  string    `json:"time_zone,omitempty" bson:"time_zone,omitempty"`
	CreatedAt time.Time `json:"created_at" bson:"created_at"`
}

// Genders recorded for members: the network reports women's participation.
var Genders = []string{"female", "male"}

// Member is a producer who belongs to a cooperative.
type Member struct {
	ID          string    `json:"id" bson:"_id"`
	Cooperative string    `json:"cooperative" bson:"coop"`
	Name        string    `json:"name" bson:"name"`
	Gender      string    `json:"gender" bson:"gender"`
	Village     string    `json:"village" bson:"village"`
	CreatedAt   time.Time `json:"created_at" bson:"created_at"`

	// Code is the cooperative's own number for the member (its register's
	// "N° adhérent"), optional, unique within the cooperative: imports
	// match rows to members by it.
	Code    string `json:"code,omitempty" bson:"code,omitempty"`
	Commune string `json:"commune,omitempty" bson:"commune,omitempty"`
}

func (c *Cooperative) normalize() {
	c.Code = id.NormalizeCode(c.Code)
	c.Name = strings.TrimSpace(c.Name)
	c.Kind = strings.TrimSpace(c.Kind)
	c.Commune = strings.TrimSpace(c.Commune)
	c.Province = strings.TrimSpace(c.Province)
	c.Group = strings.TrimSpace(c.Group)
	c.GLN = strings.TrimSpace(c.GLN)
	c.TimeZone = strings.TrimSpace(c.TimeZone)
}

// Validate checks a new cooperative's fields.
func (c Cooperative) Validate() error {
	if err := id.ValidateCode("code", c.Code); err != nil {
		return err
	}
	if err := problem.RequireText("name", c.Name, 200); err != nil {
		return err
	}
	if err := problem.OneOf("kind", c.Kind, CooperativeKinds); err != nil {
		return err
	}
	if err := problem.RequireText("commune", c.Commune, 100); err != nil {
		return err
	}
	if err := problem.RequireText("province", c.Province, 100); err != nil {
		return err
	}
	if c.Group != "" {
		if err := problem.RequireText("group", c.Group, 200); err != nil {
			return err
		}
	}
	if err := CheckGLN("gln", c.GLN); err != nil {
		return err
	}
	return CheckTimeZone("time_zone", c.TimeZone)
}

// Validate checks a new member's fields.
func (m Member) Validate() error {
	if err := problem.RequireText("name", m.Name, 200); err != nil {
		return err
	}
	if err := problem.OneOf("gender", m.Gender, Genders); err != nil {
		return err
	}
	if err := problem.RequireText("village", m.Village, 100); err != nil {
		return err
	}
	if m.Commune != "" {
		if err := problem.RequireText("commune", m.Commune, 100); err != nil {
			return err
		}
	}
	return validateRecordCode(m.Code)
}

// Sentinel errors of the package.
var (
	ErrCooperativeNotFound = problem.New(problem.NotFound, "cooperative not found")
	ErrCooperativeExists   = problem.New(problem.Conflict, "a cooperative with this code exists already")
	ErrMemberNotFound      = problem.New(problem.NotFound, "member not found")
)

// Service is the traceability domain's entry point. It is safe for
// concurrent use.
type Service struct {
	store *Store
	now   func() time.Time
	memo  *readMemo // what trace records share (tracerecord.go)
}

// NewService returns a service over store; now is the clock (time.Now in
// production, fixed in tests).
func NewService(store *Store, now func() time.Time) *Service {
	return &Service{store: store, now: now, memo: newReadMemo(store, now)}
}

// CreateCooperative registers a cooperative. Admins only. A duplicate code
// returns ErrCooperativeExists.
func (s *Service) CreateCooperative(ctx context.Context, actor access.Actor, c Cooperative) (Cooperative, error) {
	if err := actor.RequireAdmin(); err != nil {
		return Cooperative{}, err
	}
	c.normalize()
	if err := c.Validate(); err != nil {
		return Cooperative{}, err
	}
	c.CreatedAt = s.now().UTC()
	if err := s.store.insertCooperative(ctx, c); err != nil {
		return Cooperative{}, err
	}
	return c, nil
}

// Cooperative returns one cooperative to those who may read it.
func (s *Service) Cooperative(ctx context.Context, actor access.Actor, code string) (Cooperative, error) {
	code = id.NormalizeCode(code)
	if err := actor.ReadCoop(code); err != nil {
		return Cooperative{}, err
	}
	return s.store.cooperative(ctx, code)
}

// CooperativeName returns a cooperative's public name (public trace pages
// and catalogue show it to anyone).
func (s *Service) CooperativeName(ctx context.Context, code string) (Cooperative, error) {
	return s.store.cooperative(ctx, id.NormalizeCode(code))
}

// Cooperatives lists the cooperatives the actor may read, by code.
func (s *Service) Cooperatives(ctx context.Context, actor access.Actor, page mongodb.Page) ([]Cooperative, error) {
	if actor.Anonymous() {
		return nil, access.ErrUnauthorized
	}
	var only []string
	switch actor.Role {
	case access.Admin:
	case access.Auditor:
		only = actor.Scope
	case access.CoopManager:
		only = []string{actor.Org}
	default:
		return nil, access.ErrForbidden
	}
	return s.store.cooperatives(ctx, only, page.Normalized())
}

// AddMember registers a member of a cooperative.
func (s *Service) AddMember(ctx context.Context, actor access.Actor, coop string, m Member) (Member, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ManageCoop(coop); err != nil {
		return Member{}, err
	}
	if _, err := s.store.cooperative(ctx, coop); err != nil {
		return Member{}, err
	}
	m.Name, m.Village, m.Gender = strings.TrimSpace(m.Name), strings.TrimSpace(m.Village), strings.TrimSpace(m.Gender)
	m.Code, m.Commune = strings.TrimSpace(m.Code), strings.TrimSpace(m.Commune)
	if err := m.Validate(); err != nil {
		return Member{}, err
	}
	m.ID = id.New("mbr")
	m.Cooperative = coop
	m.CreatedAt = s.now().UTC()
	// A code is unique within the cooperative: checked and inserted under
	// one lock, as no index can say it (most members have no code).
	err := s.store.db.Atomically(ctx, func(ctx context.Context) error {
		if m.Code != "" {
			if err := s.memberCodeFree(ctx, coop, m.Code); err != nil {
				return err
			}
		}
		return s.store.insertMember(ctx, m)
	})
	if err != nil {
		return Member{}, err
	}
	return m, nil
}

// Members lists a cooperative's members.
func (s *Service) Members(ctx context.Context, actor access.Actor, coop string, page mongodb.Page) ([]Member, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ReadCoop(coop); err != nil {
		return nil, err
	}
	return s.store.members(ctx, coop, page.Normalized())
}

// Member returns one member of a cooperative.
func (s *Service) Member(ctx context.Context, actor access.Actor, coop, memberID string) (Member, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ReadCoop(coop); err != nil {
		return Member{}, err
	}
	m, err := s.store.member(ctx, memberID)
	if err != nil || m.Cooperative != coop {
		return Member{}, ErrMemberNotFound
	}
	return m, nil
}
