package traceability

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/problem"
)

// Certification statuses. A lot's claim shows the certificate's status today,
// so a withdrawal shows at once on every lot that claimed it.
const (
	StatusValid     = "valid"
	StatusSuspended = "suspended"
	StatusWithdrawn = "withdrawn"
	StatusExpired   = "expired" // derived: valid but past its validity
)

// KnownSchemes are the schemes of the network, offered in forms; others are
// accepted as written.
var KnownSchemes = []string{"AOP Safran de Taliouine", "IGP Argane", "EU organic", "Maroc bio", "Fair trade"}

// StatusChange is one entry of a certification's history.
type StatusChange struct {
	Status string    `json:"status" bson:"status"`
	Reason string    `json:"reason" bson:"reason"`
	By     string    `json:"by" bson:"by"`
	At     time.Time `json:"at" bson:"at"`
}

// Certification is a certificate held by a cooperative. Scope: the crops,
// product kinds and parcels it covers. A crop covers every kind made from it
// (saffron covers fresh and dried saffron, KindsFromCrop); a product kind
// covers only itself; a lot is in scope when its kind is covered by either
// list. With neither crops nor product kinds the certificate covers every
// kind; with no parcels, every parcel of its holder.
type Certification struct {
	ID           string         `json:"id" bson:"_id"`
	Holder       string         `json:"holder" bson:"holder"`
	Scheme       string         `json:"scheme" bson:"scheme"`
	Body         string         `json:"body" bson:"body"`           // control body
	BodyCode     string         `json:"body_code" bson:"body_code"` // its accreditation code
	Number       string         `json:"number" bson:"number"`
	ValidFrom    string         `json:"valid_from" bson:"valid_from"` // YYYY-MM-DD
	ValidTo      string         `json:"valid_to" bson:"valid_to"`
	Crops        []string       `json:"crops" bson:"crops"`
	ProductKinds []string       `json:"product_kinds" bson:"product_kinds"`
	Parcels      []string       `json:"parcels" bson:"parcels"`
	Status       string         `json:"status" bson:"status"`
	History      []StatusChange `json:"history" bson:"history"`
	CreatedAt    time.Time      `json:"created_at" bson:"created_at"`
}

// StatusOn is the certificate's status on a day: its recorded status, or
// expired when valid but the day is past its validity.
func (c Certification) StatusOn(day time.Time) string {
	if c.Status == StatusValid && day.Format(time.DateOnly) > c.ValidTo {
		return StatusExpired
	}
	return c.Status
}

// coversKind reports whether the certificate's scope covers a lot of this
// kind made from these crops: the kind is one of its product kinds, or every
// origin crop is one of its crops and the kind is made from it.
func (c Certification) coversKind(kind string, originCrops []string) bool {
	if len(c.ProductKinds) == 0 && len(c.Crops) == 0 {
		return true
	}
	if slices.Contains(c.ProductKinds, kind) {
		return true
	}
	if len(c.Crops) == 0 || len(originCrops) == 0 {
		return false
	}
	for _, crop := range originCrops {
		if !slices.Contains(c.Crops, crop) || !slices.Contains(KindsFromCrop(crop), kind) {
			return false
		}
	}
	return true
}

// coversParcel reports whether the certificate covered this parcel on this
// harvest day.
func (c Certification) coversParcel(parcel, day string) bool {
	return (len(c.Parcels) == 0 || slices.Contains(c.Parcels, parcel)) &&
		day >= c.ValidFrom && day <= c.ValidTo
}

// originCrops returns the distinct crops of a lot's origin, in order.
func originCrops(origin []OriginLine) []string {
	var out []string
	for _, o := range origin {
		if !slices.Contains(out, o.Crop) {
			out = append(out, o.Crop)
		}
	}
	return out
}

// Sentinel errors.
var ErrCertificationNotFound = problem.New(problem.NotFound, "certification not found")

// NewCertification is what an admin records.
type NewCertification struct {
	Holder, Scheme, Body, BodyCode, Number, ValidFrom, ValidTo string
	Crops, ProductKinds, Parcels                               []string
}

// CreateCertification records a certificate. Admins only.
func (s *Service) CreateCertification(ctx context.Context, actor access.Actor, nc NewCertification) (Certification, error) {
	if err := actor.RequireAdmin(); err != nil {
		return Certification{}, err
	}
	c, err := s.checkCertification(ctx, nc)
	if err != nil {
		return Certification{}, err
	}
	now := s.now().UTC()
	c.ID = id.New("crt")
	c.CreatedAt = now
	c.History = []StatusChange{{Status: StatusValid, Reason: "issued", By: actor.Email, At: now}}
	if err := s.store.insertCertification(ctx, c); err != nil {
		return Certification{}, err
	}
	return c, nil
}

// checkCertification validates a new certificate and returns it, valid,
// without ID or history (CreateCertification and imports add them).
func (s *Service) checkCertification(ctx context.Context, nc NewCertification) (Certification, error) {
	c := Certification{Holder: id.NormalizeCode(nc.Holder), Scheme: strings.TrimSpace(nc.Scheme), Body: strings.TrimSpace(nc.Body),
		BodyCode: strings.TrimSpace(nc.BodyCode), Number: strings.TrimSpace(nc.Number),
		ValidFrom: strings.TrimSpace(nc.ValidFrom), ValidTo: strings.TrimSpace(nc.ValidTo),
		Crops: nonNil(nc.Crops), ProductKinds: nonNil(nc.ProductKinds), Parcels: nonNil(nc.Parcels), Status: StatusValid}
	if c.Holder == "" {
		return Certification{}, problem.Field("holder", "is required")
	}
	for _, f := range []struct{ name, v string }{{"scheme", c.Scheme}, {"body", c.Body}, {"number", c.Number}} {
		if err := problem.RequireText(f.name, f.v, 200); err != nil {
			return Certification{}, err
		}
	}
	from, err := time.Parse(time.DateOnly, c.ValidFrom)
	if err != nil {
		return Certification{}, problem.Field("valid_from", "must be a calendar date as YYYY-MM-DD")
	}
	to, err := time.Parse(time.DateOnly, c.ValidTo)
	if err != nil {
		return Certification{}, problem.Field("valid_to", "must be a calendar date as YYYY-MM-DD")
	}
	if to.Before(from) {
		return Certification{}, problem.Field("valid_to", "is before valid_from")
	}
	for i, crop := range c.Crops {
		if err := problem.OneOf(fmt.Sprintf("crops[%d]", i), crop, Crops); err != nil {
			return Certification{}, err
		}
	}
	for i, k := range c.ProductKinds {
		if _, err := checkKind(fmt.Sprintf("product_kinds[%d]", i), k); err != nil {
			return Certification{}, err
		}
	}
	if _, err := s.store.cooperative(ctx, c.Holder); err != nil {
		return Certification{}, problem.Field("holder", "no cooperative %s", c.Holder)
	}
	for i, id := range c.Parcels {
		if p, err := s.store.parcel(ctx, id); err != nil || p.Cooperative != c.Holder {
			return Certification{}, problem.Field(fmt.Sprintf("parcels[%d]", i), "%q is not a parcel of %s", id, c.Holder)
		}
	}
	return c, nil
}

func nonNil(v []string) []string {
	out := []string{}
	for _, x := range v {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// SetCertificationStatus suspends, withdraws or reinstates a certificate.
// Admins only; suspending or withdrawing needs a reason.
func (s *Service) SetCertificationStatus(ctx context.Context, actor access.Actor, id, status, reason string) (Certification, error) {
	if err := actor.RequireAdmin(); err != nil {
		return Certification{}, err
	}
	if err := problem.OneOf("status", status, []string{StatusValid, StatusSuspended, StatusWithdrawn}); err != nil {
		return Certification{}, err
	}
	reason = strings.TrimSpace(reason)
	if status != StatusValid && reason == "" {
		return Certification{}, problem.Field("reason", "say why the certificate is %s", problem.Term{Vocabulary: "status", Code: status})
	}
	if len([]rune(reason)) > 1000 {
		return Certification{}, problem.Field("reason", "must be at most 1000 characters")
	}
	var c Certification
	err := s.store.db.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if c, err = s.store.certification(ctx, id); err != nil {
			return err
		}
		if c.Status == StatusWithdrawn && status != StatusWithdrawn {
			return problem.New(problem.Conflict, "a withdrawn certificate cannot be reinstated; record a new one")
		}
		ch := StatusChange{Status: status, Reason: reason, By: actor.Email, At: s.now().UTC()}
		c.Status = status
		c.History = append(c.History, ch)
		return s.store.setCertificationStatus(ctx, id, ch)
	})
	if err == nil {
		s.store.certificationChanged(c.ID)
	}
	return c, err
}

// OnCertificationChange registers fn to be told the ID of every
// certificate whose status this process changes, right after the change is
// committed: every lot claiming it shows its new status, so the web layer
// drops its cached trace pages and catalogues.
func (s *Service) OnCertificationChange(fn func(id string)) { s.store.watchCertifications(fn) }

// Certification returns one certificate to those who may read its holder.
func (s *Service) Certification(ctx context.Context, actor access.Actor, id string) (Certification, error) {
	c, err := s.store.certification(ctx, id)
	if err != nil {
		return Certification{}, err
	}
	if err := actor.ReadCoop(c.Holder); err != nil {
		return Certification{}, err
	}
	return c, nil
}

// Certifications lists a cooperative's certificates.
func (s *Service) Certifications(ctx context.Context, actor access.Actor, holder string) ([]Certification, error) {
	holder = id.NormalizeCode(holder)
	if err := actor.ReadCoop(holder); err != nil {
		return nil, err
	}
	return s.store.certificationsOf(ctx, holder)
}

// originClaims are the certificates of the cooperative, valid now, whose
// scope covers the kind and that covered every origin harvest (parcel, day).
func (s *Service) originClaims(ctx context.Context, coop, kind string, origin []OriginLine) ([]Claim, error) {
	certs, err := s.store.certificationsOf(ctx, coop)
	if err != nil {
		return nil, err
	}
	claims := []Claim{}
	for _, c := range certs {
		if c.StatusOn(s.now()) != StatusValid {
			continue
		}
		all := c.coversKind(kind, originCrops(origin))
		for _, o := range origin {
			if !all || !c.coversParcel(o.Parcel, o.Date) {
				all = false
				break
			}
		}
		if all {
			claims = append(claims, Claim{Certification: c.ID, Scheme: c.Scheme})
		}
	}
	// A stable order (by scheme) so pages and labels show the marks the
	// same way every time.
	slices.SortFunc(claims, func(a, b Claim) int { return strings.Compare(a.Scheme+a.Certification, b.Scheme+b.Certification) })
	return claims, nil
}

// scopedClaims keeps the claims whose certificate's scope covers a lot of
// kind made from origin: a change of kind outside a certificate's scope
// drops its claim (a certificate of fresh saffron only does not cover the
// dried saffron made from it; one of the crop saffron does). The
// certificates are read by _id (a lot has a handful of claims).
func (s *Service) scopedClaims(ctx context.Context, claims []Claim, kind string, origin []OriginLine) ([]Claim, error) {
	crops := originCrops(origin)
	out := []Claim{}
	for _, cl := range claims {
		c, err := s.store.certification(ctx, cl.Certification)
		if err != nil {
			return nil, err
		}
		if c.coversKind(kind, crops) {
			out = append(out, cl)
		}
	}
	return out, nil
}

// ClaimStatus is a claim with its certificate's status today.
type ClaimStatus struct {
	Certification string `json:"certification"`
	Scheme        string `json:"scheme"`
	Body          string `json:"body"`
	BodyCode      string `json:"body_code"`
	Number        string `json:"number"`
	ValidTo       string `json:"valid_to"`
	Status        string `json:"status"`
}

// ClaimStatuses returns the lot's claims with their live status. It reads
// each certificate by _id (a lot has a handful).
func (s *Service) ClaimStatuses(ctx context.Context, l Lot) ([]ClaimStatus, error) {
	out := make([]ClaimStatus, 0, len(l.Claims))
	for _, cl := range l.Claims {
		c, err := s.store.certification(ctx, cl.Certification)
		if err != nil {
			return nil, err
		}
		out = append(out, claimStatusOf(c, s.now()))
	}
	return out, nil
}

func claimStatusOf(c Certification, now time.Time) ClaimStatus {
	return ClaimStatus{Certification: c.ID, Scheme: c.Scheme, Body: c.Body, BodyCode: c.BodyCode,
		Number: c.Number, ValidTo: c.ValidTo, Status: c.StatusOn(now)}
}

// CertificationValidity says, for every certificate, whether it is valid
// today (the catalogue shows only valid claims).
func (s *Service) CertificationValidity(ctx context.Context) (map[string]bool, error) {
	all, err := s.store.allCertifications(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(all))
	for _, c := range all {
		out[c.ID] = c.StatusOn(s.now()) == StatusValid
	}
	return out, nil
}
