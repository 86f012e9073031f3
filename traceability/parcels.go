package traceability

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
)

// Parcel is a plot a member farms (or, for honey, the forage area of an apiary).
type Parcel struct {
	ID          string   `json:"id" bson:"_id"`
	Cooperative string   `json:"cooperative" bson:"coop"`
	Code        string   `json:"code,omitempty" bson:"code,omitempty"` // the cooperative's own, optional, unique in it
	Name        string   `json:"name" bson:"name"`
	Member      string   `json:"member" bson:"member"`
	Commune     string   `json:"commune" bson:"commune"`
	AreaM2      int64    `json:"area_m2" bson:"area_m2"`
	Crop        string   `json:"crop" bson:"crop"`
	Location    Geometry `json:"location" bson:"-"`
	LocationRaw string   `json:"-" bson:"location"` // the GeoJSON as sent, validated
	Lon         float64  `json:"lon" bson:"lon"`    // centroid, for maps
	Lat         float64  `json:"lat" bson:"lat"`
	// SeasonTotals is the mass harvested per season and crop ("2026_saffron"),
	// kept on the parcel so the plausibility check is one _id read, not a
	// scan of every harvest.
	SeasonTotals map[string]int64 `json:"season_totals,omitempty" bson:"season_totals,omitempty"`
	CreatedAt    time.Time        `json:"created_at" bson:"created_at"`
}

// Harvest is one picking on a parcel. It goes whole into exactly one origin lot.
type Harvest struct {
	ID          string `json:"id" bson:"_id"`
	Cooperative string `json:"cooperative" bson:"coop"`
	Parcel      string `json:"parcel" bson:"parcel"`
	Member      string `json:"member" bson:"member"`
	Date        string `json:"date" bson:"date"` // YYYY-MM-DD
	Crop        string `json:"crop" bson:"crop"`
	Quantity    int64  `json:"quantity" bson:"quantity"` // mg
	Unit        Unit   `json:"unit" bson:"unit"`
	Lot         string `json:"lot,omitempty" bson:"lot,omitempty"`   // the origin lot it went into
	Flag        string `json:"flag,omitempty" bson:"flag,omitempty"` // plausibility finding
	// Advance is money paid to the member when she delivered the harvest,
	// repaid first from her later earnings (orders, members' statements).
	Advance *HarvestAdvance `json:"advance,omitempty" bson:"advance,omitempty"`
	// Corrections is the history of corrections (corrections.go); Quantity
	// is the corrected quantity, the first entry's From the one recorded.
	Corrections []HarvestCorrection `json:"corrections,omitempty" bson:"corrections,omitempty"`
	CreatedBy   string              `json:"created_by" bson:"created_by"`
	CreatedAt   time.Time           `json:"created_at" bson:"created_at"`
}

// Sentinel errors.
var (
	ErrParcelNotFound  = problem.New(problem.NotFound, "parcel not found")
	ErrHarvestNotFound = problem.New(problem.NotFound, "harvest not found")
)

// NewParcel is what a cooperative sends to register a parcel.
type NewParcel struct {
	Code     string // optional
	Name     string
	Member   string
	Commune  string
	AreaM2   int64
	Crop     string
	Location Geometry
}

// AddParcel registers a parcel of one of the cooperative's members. The
// outline is validated (closed rings, coordinates in range) and, for a
// polygon, the declared area must agree with it.
func (s *Service) AddParcel(ctx context.Context, actor access.Actor, coop string, np NewParcel) (Parcel, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ManageCoop(coop); err != nil {
		return Parcel{}, err
	}
	if _, err := s.store.cooperative(ctx, coop); err != nil {
		return Parcel{}, err
	}
	p := Parcel{Cooperative: coop, Code: strings.TrimSpace(np.Code), Name: strings.TrimSpace(np.Name), Member: strings.TrimSpace(np.Member),
		Commune: strings.TrimSpace(np.Commune), AreaM2: np.AreaM2, Crop: strings.TrimSpace(np.Crop), Location: np.Location}
	if err := p.validate(); err != nil {
		return Parcel{}, err
	}
	if m, err := s.store.member(ctx, p.Member); err != nil || m.Cooperative != coop {
		return Parcel{}, notFoundField("member", "%q is not a member of cooperative %s", p.Member, coop)
	}
	raw, err := json.Marshal(p.Location)
	if err != nil {
		return Parcel{}, problem.Field("location", "is not valid GeoJSON")
	}
	p.LocationRaw = string(raw)
	p.Lon, p.Lat = p.Location.Centroid()
	p.ID = id.New("prc")
	p.CreatedAt = s.now().UTC()
	err = s.store.db.Atomically(ctx, func(ctx context.Context) error {
		if p.Code != "" {
			if err := s.parcelCodeFree(ctx, coop, p.Code); err != nil {
				return err
			}
		}
		return s.store.insertParcel(ctx, p)
	})
	if err != nil {
		return Parcel{}, err
	}
	return p, nil
}

// validate checks a new parcel's own fields (not its member, which needs
// the store): the outline is valid and agrees with the declared area.
func (p Parcel) validate() error {
	if err := problem.RequireText("name", p.Name, 200); err != nil {
		return err
	}
	if err := problem.RequireText("member", p.Member, 64); err != nil {
		return err
	}
	if err := problem.RequireText("commune", p.Commune, 100); err != nil {
		return err
	}
	if p.AreaM2 <= 0 || p.AreaM2 > 100_000_000 {
		return problem.Field("area_m2", "must be a whole number of square metres between 1 and 100 000 000")
	}
	if err := problem.OneOf("crop", p.Crop, Crops); err != nil {
		return err
	}
	if err := p.Location.Validate(); err != nil {
		return err
	}
	if err := CheckDeclaredArea(p.AreaM2, p.Location); err != nil {
		return err
	}
	return validateRecordCode(p.Code)
}

// Parcel returns one parcel of a cooperative.
func (s *Service) Parcel(ctx context.Context, actor access.Actor, coop, parcelID string) (Parcel, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ReadCoop(coop); err != nil {
		return Parcel{}, err
	}
	p, err := s.store.parcel(ctx, parcelID)
	if err != nil || p.Cooperative != coop {
		return Parcel{}, ErrParcelNotFound
	}
	return p, nil
}

// Parcels lists a cooperative's parcels.
func (s *Service) Parcels(ctx context.Context, actor access.Actor, coop string, page mongodb.Page) ([]Parcel, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ReadCoop(coop); err != nil {
		return nil, err
	}
	return s.store.parcels(ctx, coop, page.Normalized())
}

// NewHarvest is what a cooperative sends to record a harvest.
type NewHarvest struct {
	Parcel   string
	Member   string
	Date     string
	Crop     string
	Quantity Quantity
	// Advance, when not nil, is paid to the member at delivery (the JSON
	// body's "advance": {amount, currency, method}).
	Advance *HarvestAdvance
}

// HarvestAdvance is an advance paid to a member at delivery, in minor units
// of the cooperative's currency, in cash or by transfer.
type HarvestAdvance struct {
	Amount   int64  `json:"amount" bson:"amount"`
	Currency string `json:"currency" bson:"currency"`
	Method   string `json:"method" bson:"method"`
}

// AdvanceMethods are how an advance is paid.
var AdvanceMethods = []string{"cash", "transfer"}

// validate checks an advance: a positive amount of at most a million units
// of the cooperative's currency, paid in cash or by transfer.
func (a *HarvestAdvance) validate(currency string) error {
	a.Currency, a.Method = strings.ToUpper(strings.TrimSpace(a.Currency)), strings.TrimSpace(a.Method)
	if a.Amount <= 0 || a.Amount > 100_000_000 {
		return problem.Field("advance.amount", "must be a whole number of minor units (centimes) from 1 to 100 000 000")
	}
	if a.Currency != currency {
		return problem.Field("advance.currency", "must be %s, the currency the cooperative pays its members in", currency)
	}
	return problem.OneOf("advance.method", a.Method, AdvanceMethods)
}

// Currency is the currency a cooperative keeps its accounts and pays its
// members in. Every cooperative of the network is Moroccan: MAD.
func (c Cooperative) Currency() string { return "MAD" }

// seasonOf returns the agricultural season a harvest day belongs to: the
// campaign from 1 September to 31 August, named by its first year, so an
// olive campaign from November to January is one season. Saffron (late
// October – November) and the spring PAMM cuts fall in one season each too.
func seasonOf(day time.Time) int {
	if day.Month() >= time.September {
		return day.Year()
	}
	return day.Year() - 1
}

// validateHarvest checks a harvest against the cooperative's own parcels and
// members. It returns the harvest ready to store (without ID) and the parcel.
func (s *Service) validateHarvest(ctx context.Context, actor access.Actor, coop string, nh NewHarvest) (Harvest, Parcel, error) {
	h, err := s.harvestFields(actor, coop, nh)
	if err != nil {
		return Harvest{}, Parcel{}, err
	}
	p, err := s.store.parcel(ctx, h.Parcel)
	if err != nil || p.Cooperative != coop {
		return Harvest{}, Parcel{}, notFoundField("parcel", "%q is not a parcel of cooperative %s", h.Parcel, coop)
	}
	if err := harvestOn(h, p); err != nil {
		return Harvest{}, Parcel{}, err
	}
	if m, err := s.store.member(ctx, h.Member); err != nil || m.Cooperative != coop {
		return Harvest{}, Parcel{}, notFoundField("member", "%q is not a member of cooperative %s", h.Member, coop)
	}
	return h, p, nil
}

// harvestOn checks that a harvest's crop is its parcel's.
func harvestOn(h Harvest, p Parcel) error {
	if p.Crop != h.Crop {
		return problem.Field("crop", "parcel %s grows %s, not %s", p.ID, problem.Kind(p.Crop), problem.Kind(h.Crop))
	}
	return nil
}

// harvestFields checks a harvest's own fields (not its parcel and member,
// which need the store) and returns it without ID.
func (s *Service) harvestFields(actor access.Actor, coop string, nh NewHarvest) (Harvest, error) {
	h := Harvest{Cooperative: coop, Parcel: strings.TrimSpace(nh.Parcel), Member: strings.TrimSpace(nh.Member),
		Date: strings.TrimSpace(nh.Date), Crop: strings.TrimSpace(nh.Crop), CreatedBy: actor.Email}
	if h.Parcel == "" {
		return Harvest{}, problem.Field("parcel", "is required")
	}
	if h.Member == "" {
		return Harvest{}, problem.Field("member", "is required")
	}
	day, err := time.Parse(time.DateOnly, h.Date)
	if err != nil {
		return Harvest{}, problem.Field("date", "must be a calendar date as YYYY-MM-DD")
	}
	if day.After(s.now().UTC().Add(24 * time.Hour)) {
		return Harvest{}, problem.Field("date", "is in the future")
	}
	if err := problem.OneOf("crop", h.Crop, Crops); err != nil {
		return Harvest{}, err
	}
	amount, unit, err := baseOfKind("quantity", nh.Quantity, h.Crop)
	if err != nil {
		return Harvest{}, err
	}
	h.Quantity, h.Unit = amount, unit
	if nh.Advance != nil {
		a := *nh.Advance
		if err := a.validate(Cooperative{Code: coop}.Currency()); err != nil {
			return Harvest{}, err
		}
		h.Advance = &a
	}
	return h, nil
}

// AddHarvest records a harvest. When the season's total on the parcel is
// outside the typical range for its crop and area, the harvest carries a
// flag, which passes to the lot made from it; beyond the crop's hard limit
// (HarvestLimit) it is refused with problem.Unprocessable on "quantity".
func (s *Service) AddHarvest(ctx context.Context, actor access.Actor, coop string, nh NewHarvest) (Harvest, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ManageCoop(coop); err != nil {
		return Harvest{}, err
	}
	h, _, err := s.validateHarvest(ctx, actor, coop, nh)
	if err != nil {
		return Harvest{}, err
	}
	h.ID = id.New("hrv")
	h.CreatedAt = s.now().UTC()
	err = s.store.db.Atomically(ctx, func(ctx context.Context) error {
		return s.recordHarvest(ctx, &h)
	})
	return h, err
}

// recordHarvest adds h to its parcel's season total, refuses it (422) when
// the total is beyond what any field gives, flags it when the total is
// outside the plausible range, and stores it. The total is read then
// written, so callers run it inside Atomically: two pickings recorded at
// once are both counted.
func (s *Service) recordHarvest(ctx context.Context, h *Harvest) error {
	p, err := s.store.parcel(ctx, h.Parcel)
	if err != nil {
		return err
	}
	day, _ := time.Parse(time.DateOnly, h.Date)
	key := seasonKey(seasonOf(day), h.Crop)
	total, ok := addQuantities(p.SeasonTotals[key], h.Quantity)
	if !ok {
		return errTotalTooLarge("quantity")
	}
	if err := HarvestLimit("quantity", h.Crop, total, p.AreaM2); err != nil {
		return err
	}
	if reason, ok := CheckHarvest(h.Crop, total, p.AreaM2); !ok {
		h.Flag = reason
	}
	if err := s.store.insertHarvest(ctx, *h); err != nil {
		return err
	}
	return s.store.addSeasonTotal(ctx, p.ID, key, h.Quantity)
}

func seasonKey(season int, crop string) string { return strconv.Itoa(season) + "_" + crop }

// Harvests lists a cooperative's harvests.
func (s *Service) Harvests(ctx context.Context, actor access.Actor, coop string, page mongodb.Page) ([]Harvest, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ReadCoop(coop); err != nil {
		return nil, err
	}
	return s.store.harvests(ctx, coop, page.Normalized())
}
