package traceability

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/problem"
)

// Export consignments. Organic products shipped from Morocco to the
// European platform travel under an electronic certificate of inspection
// (COI) that the exporter's control body issues in TRACES (Delegated
// Regulation (EU) 2021/2306, its model in the Annex; Implementing Regulation
// (EU) 2021/2307 for the importer's and first consignee's declarations). A
// consignment there is "a quantity of products under one or more Combined
// Nomenclature codes, covered by a single certificate of inspection,
// conveyed by the same means of transport and imported from the same third
// country" (2021/2306, Art. 2(1)). A Consignment records what the COI asks:
// the exporter and its control body with its code, the consignee (the
// importer, 2021/2307 Art. 2(1)) and the first consignee, the countries, the
// means of transport, the border control post or point of release, and per
// line the CN code, the trade description, the lot number, the packages and
// the net and gross mass; then the COI's number once the control body has
// issued it (SetCOINumber). The sheet (PDF in web/documents, CSV here) is
// what the cooperative sends its control body to request the COI.
//
// Rules, checked before anything is stored:
//   - every lot is the cooperative's (another cooperative's lot, or none:
//     400 naming lines[i].lot, with the same words for both);
//   - the certificate is the cooperative's EU organic certificate, valid on
//     the shipping date by its validity and its status history, and not
//     suspended or withdrawn today (409 naming certificate): the control
//     body issues no COI under a suspended certificate;
//   - every lot carries that certificate's claim (409 naming lines[i].lot):
//     the claim is what says the lot's kind is in scope, every origin
//     parcel was covered on its harvest day and no input outside it was
//     mixed in (certifications.go);
//   - units (packed lots) or quantities (bulk lots) are at most what the lot
//     has available at the cooperative (409 insufficient_stock);
//   - the net mass is the lots' content (mass kinds, within 0.5 % or 1 g), or
//     plausible for it (oils: a density of 0.8 to 1.1 g/ml); the gross mass
//     is at least the net mass.
//
// A consignment does not move stock: the units leave the cooperative when
// the platform receives them (shops.Stock.Receive), and that receipt refers
// to the consignment, which counts what arrived (RecordConsignmentReceipt).
//
// Who: the cooperative's manager and the admin declare a consignment and
// record its COI number; the cooperative, its auditors, the admin and the
// manager of the destination (the platform receiving it) read it. The
// Taliouine valorisation centre exporting for a cooperative is named as the
// exporter; the lots and the certificate stay the cooperative's.

// Consignment statuses.
const (
	ConsignmentDeclared  = "declared"   // sent to the control body
	ConsignmentCOIIssued = "coi_issued" // the certificate of inspection's number is recorded
	ConsignmentReceived  = "received"   // every declared unit arrived
)

// Means of transport.
var TransportModes = []string{"road", "sea", "air", "rail"}

// EUOrganicSchemes are the schemes a consignment to the EU may travel
// under.
var EUOrganicSchemes = []string{"EU organic"}

// euCountries are the member states (ISO 3166-1 alpha-2; Greece is GR):
// the consignee and first consignee are established in the Union.
var euCountries = []string{"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
	"LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}

// Operator is a party to a consignment.
type Operator struct {
	Name    string `json:"name" bson:"name"`
	Address string `json:"address" bson:"address"`
	Country string `json:"country" bson:"country"`               // ISO 3166-1 alpha-2
	Code    string `json:"code,omitempty" bson:"code,omitempty"` // its EORI or organic operator number, if any
}

// Transport is the means of transport of a consignment.
type Transport struct {
	Mode           string `json:"mode" bson:"mode"`                     // road, sea, air, rail
	Identification string `json:"identification" bson:"identification"` // plate, vessel and voyage, flight
	Container      string `json:"container,omitempty" bson:"container,omitempty"`
}

// NewConsignmentLine is one lot of a consignment: Units of a packed lot or
// a Quantity of a bulk one.
type NewConsignmentLine struct {
	Lot         string
	Units       int64
	Quantity    Quantity
	Packages    int64
	PackageKind string // cartons, bags… (default cartons)
	NetMass     Quantity
	GrossMass   Quantity
	CNCode      string // default: the table's for the lot's kind
	Description string // trade description; default: the CN description
}

// NewConsignment declares a consignment.
type NewConsignment struct {
	Cooperative    string
	Exporter       Operator // empty name: the cooperative itself
	Consignee      Operator
	FirstConsignee Operator // empty name: the consignee
	Destination    string   // the shop code of the platform that will receive it
	ShippingDate   string
	Transport      Transport
	BorderPost     string // border control post or point of release for free circulation
	Certificate    string // the certificate's ID
	Lines          []NewConsignmentLine
}

// ConsignmentCertificate is the certificate a consignment travels under,
// as it stood when declared.
type ConsignmentCertificate struct {
	ID        string `json:"id" bson:"id"`
	Scheme    string `json:"scheme" bson:"scheme"`
	Number    string `json:"number" bson:"number"`
	Body      string `json:"body" bson:"body"`
	BodyCode  string `json:"body_code" bson:"body_code"`
	ValidFrom string `json:"valid_from" bson:"valid_from"`
	ValidTo   string `json:"valid_to" bson:"valid_to"`
}

// ConsignmentLine is a lot of a consignment.
type ConsignmentLine struct {
	Lot           string `json:"lot" bson:"lot"`
	ProductKind   string `json:"product_kind" bson:"kind"`
	SKU           string `json:"sku,omitempty" bson:"sku,omitempty"`
	GTIN          string `json:"gtin,omitempty" bson:"gtin,omitempty"`
	CNCode        string `json:"cn_code" bson:"cn_code"`
	Description   string `json:"description" bson:"description"`
	Units         int64  `json:"units" bson:"units"`     // packed units, 0 for a bulk line
	Content       int64  `json:"content" bson:"content"` // net content in Unit
	Unit          Unit   `json:"unit" bson:"unit"`
	Packages      int64  `json:"packages" bson:"packages"`
	PackageKind   string `json:"package_kind" bson:"package_kind"`
	NetMass       int64  `json:"net_mass_mg" bson:"net_mass"`
	GrossMass     int64  `json:"gross_mass_mg" bson:"gross_mass"`
	Category      string `json:"iso3632_category,omitempty" bson:"category,omitempty"` // shown on the sheet when the lot has one
	ReceivedUnits int64  `json:"received_units" bson:"received_units"`
}

// ConsignmentReceipt is units of a consignment received at its destination.
type ConsignmentReceipt struct {
	Lot   string    `json:"lot" bson:"lot"`
	Units int64     `json:"units" bson:"units"`
	Shop  string    `json:"shop" bson:"shop"`
	By    string    `json:"by" bson:"by"`
	At    time.Time `json:"at" bson:"at"`
}

// Consignment is a declared export consignment.
type Consignment struct {
	ID                 string                 `json:"id" bson:"_id"`
	Cooperative        string                 `json:"cooperative" bson:"coop"`
	Status             string                 `json:"status" bson:"status"`
	Exporter           Operator               `json:"exporter" bson:"exporter"`
	Consignee          Operator               `json:"consignee" bson:"consignee"`
	FirstConsignee     Operator               `json:"first_consignee" bson:"first_consignee"`
	Destination        string                 `json:"destination" bson:"destination"`
	CountryOfDispatch  string                 `json:"country_of_dispatch" bson:"country_of_dispatch"`
	CountryDestination string                 `json:"country_of_destination" bson:"country_of_destination"`
	ShippingDate       string                 `json:"shipping_date" bson:"shipping_date"`
	Transport          Transport              `json:"transport" bson:"transport"`
	BorderPost         string                 `json:"border_post,omitempty" bson:"border_post,omitempty"`
	Certificate        ConsignmentCertificate `json:"certificate" bson:"certificate"`
	Lines              []ConsignmentLine      `json:"lines" bson:"lines"`
	Packages           int64                  `json:"packages" bson:"packages"`
	NetMass            int64                  `json:"net_mass_mg" bson:"net_mass"`
	GrossMass          int64                  `json:"gross_mass_mg" bson:"gross_mass"`
	COINumber          string                 `json:"coi_number,omitempty" bson:"coi_number,omitempty"`
	COIRecordedBy      string                 `json:"coi_recorded_by,omitempty" bson:"coi_recorded_by,omitempty"`
	COIRecordedAt      time.Time              `json:"coi_recorded_at,omitzero" bson:"coi_recorded_at,omitempty"`
	Receipts           []ConsignmentReceipt   `json:"receipts" bson:"receipts"`
	CreatedBy          string                 `json:"created_by" bson:"created_by"`
	CreatedAt          time.Time              `json:"created_at" bson:"created_at"`
}

// Sentinel errors.
var ErrConsignmentNotFound = problem.New(problem.NotFound, "consignment not found")

var coiPattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9./-]{3,39}$`)

func checkOperator(field string, o *Operator, euOnly bool) error {
	o.Name, o.Address = strings.TrimSpace(o.Name), strings.TrimSpace(o.Address)
	o.Country, o.Code = strings.ToUpper(strings.TrimSpace(o.Country)), strings.TrimSpace(o.Code)
	if err := problem.RequireText(field+".name", o.Name, 200); err != nil {
		return err
	}
	if err := problem.RequireText(field+".address", o.Address, 500); err != nil {
		return err
	}
	if euOnly && !slices.Contains(euCountries, o.Country) {
		return problem.Field(field+".country", "must be the ISO code of an EU member state (FR, ES, DE…): the consignee and the first consignee are established in the Union")
	}
	if len(o.Country) != 2 {
		return problem.Field(field+".country", "must be a two-letter ISO 3166 country code")
	}
	if o.Code != "" {
		return problem.RequireText(field+".code", o.Code, 64)
	}
	return nil
}

// statusOnDay is a certificate's status on a calendar day: expired or not
// yet valid outside its validity, else the status its history gave it that
// day (the recorded status for a day to come).
func (c Certification) statusOnDay(day string) string {
	if day > c.ValidTo {
		return StatusExpired
	}
	if day < c.ValidFrom {
		return "not_yet_valid"
	}
	status := StatusValid
	for _, h := range c.History {
		if h.At.UTC().Format(time.DateOnly) <= day {
			status = h.Status
		}
	}
	return status
}

// CreateConsignment checks and records a consignment (see the rules at the
// top of this file). Errors: access errors; 400 naming the field; 409 on
// certificate or lines[i].lot for a certificate that does not cover a lot
// on the shipping date; insufficient_stock on lines[i].units or
// lines[i].quantity.
func (s *Service) CreateConsignment(ctx context.Context, actor access.Actor, req NewConsignment) (Consignment, error) {
	coop := id.NormalizeCode(req.Cooperative)
	if err := actor.ManageCoop(coop); err != nil {
		return Consignment{}, err
	}
	cooperative, err := s.store.cooperative(ctx, coop)
	if err != nil {
		return Consignment{}, err
	}
	c := Consignment{ID: id.New("csg"), Cooperative: coop, Status: ConsignmentDeclared, Exporter: req.Exporter, Consignee: req.Consignee,
		FirstConsignee: req.FirstConsignee, Destination: id.NormalizeCode(req.Destination), ShippingDate: strings.TrimSpace(req.ShippingDate),
		Transport: req.Transport, BorderPost: strings.TrimSpace(req.BorderPost), Receipts: []ConsignmentReceipt{}, CreatedBy: actor.Email,
		CreatedAt: s.now().UTC()}
	if strings.TrimSpace(c.Exporter.Name) == "" {
		c.Exporter = Operator{Name: cooperative.Name, Address: cooperative.Commune + ", " + cooperative.Province, Country: "MA", Code: c.Exporter.Code}
	}
	if err := checkOperator("exporter", &c.Exporter, false); err != nil {
		return Consignment{}, err
	}
	if err := checkOperator("consignee", &c.Consignee, true); err != nil {
		return Consignment{}, err
	}
	if strings.TrimSpace(c.FirstConsignee.Name) == "" {
		c.FirstConsignee = c.Consignee
	}
	if err := checkOperator("first_consignee", &c.FirstConsignee, true); err != nil {
		return Consignment{}, err
	}
	c.CountryOfDispatch, c.CountryDestination = c.Exporter.Country, c.FirstConsignee.Country
	if err := id.ValidateCode("destination", c.Destination); err != nil {
		return Consignment{}, err
	}
	day, err := time.Parse(time.DateOnly, c.ShippingDate)
	if err != nil {
		return Consignment{}, problem.Field("shipping_date", "must be a calendar date as YYYY-MM-DD")
	}
	today, _ := time.Parse(time.DateOnly, localDay(s.now(), cooperative.Zone()))
	if day.Before(today.AddDate(0, 0, -60)) || day.After(today.AddDate(0, 0, 180)) {
		return Consignment{}, problem.Field("shipping_date", "must be within 60 days before and 180 days after today (%s)", today.Format(time.DateOnly))
	}
	c.Transport.Mode = strings.TrimSpace(c.Transport.Mode)
	c.Transport.Identification, c.Transport.Container = strings.TrimSpace(c.Transport.Identification), strings.TrimSpace(c.Transport.Container)
	if err := problem.OneOf("transport.mode", c.Transport.Mode, TransportModes); err != nil {
		return Consignment{}, err
	}
	if err := problem.RequireText("transport.identification", c.Transport.Identification, 100); err != nil {
		return Consignment{}, err
	}
	if c.Transport.Container != "" {
		if err := problem.RequireText("transport.container", c.Transport.Container, 100); err != nil {
			return Consignment{}, err
		}
	}
	if c.BorderPost != "" {
		if err := problem.RequireText("border_post", c.BorderPost, 200); err != nil {
			return Consignment{}, err
		}
	}
	if len(req.Lines) == 0 || len(req.Lines) > 200 {
		return Consignment{}, problem.Field("lines", "name between 1 and 200 lots")
	}
	cert, err := s.store.certification(ctx, strings.TrimSpace(req.Certificate))
	if err != nil || cert.Holder != coop {
		return Consignment{}, problem.Field("certificate", "%q is not a certificate of cooperative %s", req.Certificate, coop)
	}
	if !slices.Contains(EUOrganicSchemes, cert.Scheme) {
		return Consignment{}, problem.Field("certificate", "certificate %s is %s; a consignment to the EU travels under an EU organic certificate", cert.Number, cert.Scheme)
	}
	if st := cert.statusOnDay(c.ShippingDate); st != StatusValid {
		return Consignment{}, refusal(problem.Conflict, "certificate", "certificate %s is %s on the shipping date %s (valid %s to %s)",
			cert.Number, st, c.ShippingDate, cert.ValidFrom, cert.ValidTo)
	}
	if cert.Status != StatusValid {
		return Consignment{}, refusal(problem.Conflict, "certificate",
			"certificate %s is %s today: its control body issues no certificate of inspection under it", cert.Number, cert.Status)
	}
	c.Certificate = ConsignmentCertificate{ID: cert.ID, Scheme: cert.Scheme, Number: cert.Number, Body: cert.Body, BodyCode: cert.BodyCode,
		ValidFrom: cert.ValidFrom, ValidTo: cert.ValidTo}
	seen := map[string]bool{}
	for i, nl := range req.Lines {
		line, err := s.consignmentLine(ctx, fmt.Sprintf("lines[%d]", i), coop, cooperative.Zone(), cert, c.ShippingDate, nl)
		if err != nil {
			return Consignment{}, err
		}
		if seen[line.Lot] {
			return Consignment{}, problem.Field(fmt.Sprintf("lines[%d].lot", i), "lot %s is listed twice", line.Lot)
		}
		seen[line.Lot] = true
		c.Lines = append(c.Lines, line)
		c.Packages += line.Packages
		c.NetMass += line.NetMass
		c.GrossMass += line.GrossMass
	}
	if err := s.store.insertConsignment(ctx, c); err != nil {
		return Consignment{}, err
	}
	return c, nil
}

// consignmentLine checks one line against its lot and the certificate.
func (s *Service) consignmentLine(ctx context.Context, field, coop, zone string, cert Certification, shipping string, nl NewConsignmentLine) (ConsignmentLine, error) {
	code := NormalizeLotCode(nl.Lot)
	l, err := s.store.lot(ctx, code)
	if err != nil || l.Cooperative != coop {
		return ConsignmentLine{}, problem.Field(field+".lot", "%q is not a lot of cooperative %s", nl.Lot, coop)
	}
	if made := localDay(l.CreatedAt, zone); made > shipping {
		return ConsignmentLine{}, problem.Field(field+".lot", "lot %s was made on %s, after the shipping date", l.Code, made)
	}
	claimed := slices.ContainsFunc(l.Claims, func(cl Claim) bool { return cl.Certification == cert.ID })
	if !claimed || !cert.coversKind(l.ProductKind, originCrops(l.Origin)) {
		return ConsignmentLine{}, refusal(problem.Conflict, field+".lot",
			"lot %s is not covered by certificate %s: its kind, its origin parcels or their harvest days are outside the certificate's scope, or it was mixed with a lot outside it",
			l.Code, cert.Number)
	}
	line := ConsignmentLine{Lot: l.Code, ProductKind: l.ProductKind, SKU: l.SKU, GTIN: l.GTIN, Unit: l.Unit, Packages: nl.Packages,
		PackageKind: strings.TrimSpace(nl.PackageKind)}
	if l.Source == SourcePacking {
		if nl.Units <= 0 {
			return ConsignmentLine{}, problem.Field(field+".units", "must be a positive whole number of units of lot %s", l.Code)
		}
		if nl.Units > l.Available {
			return ConsignmentLine{}, refusal(problem.InsufficientStock, field+".units",
				"lot %s has %d units available at the cooperative, %d declared", l.Code, l.Available, nl.Units)
		}
		line.Units, line.Unit = nl.Units, l.UnitSizeOf
		line.Content = nl.Units * l.UnitSize
	} else {
		amount, unit, err := nl.Quantity.Base()
		if err != nil {
			return ConsignmentLine{}, renamed(err, field+".quantity")
		}
		if unit != l.Unit {
			return ConsignmentLine{}, problem.Field(field+".quantity", "lot %s is counted in %s, not %s", l.Code, Dimension(l.Unit), Dimension(unit))
		}
		if amount > l.Available {
			return ConsignmentLine{}, refusal(problem.InsufficientStock, field+".quantity",
				"lot %s has %s available, %s declared", l.Code, Amount{l.Available, l.Unit}, Amount{amount, unit})
		}
		line.Content = amount
	}
	if line.Packages <= 0 || line.Packages > 100_000 {
		return ConsignmentLine{}, problem.Field(field+".packages", "must be a whole number of packages from 1 to 100 000")
	}
	if line.PackageKind == "" {
		line.PackageKind = "cartons"
	}
	if err := problem.RequireText(field+".package_kind", line.PackageKind, 50); err != nil {
		return ConsignmentLine{}, err
	}
	if nl.CNCode != "" {
		if line.CNCode, err = NormalizeCNCode(field+".cn_code", nl.CNCode); err != nil {
			return ConsignmentLine{}, err
		}
		line.Description = "goods of CN " + line.CNCode
	} else if cn, ok := CNCodeOf(l.ProductKind); ok {
		line.CNCode, line.Description = cn.Code, cn.Description
	} else {
		return ConsignmentLine{}, problem.Field(field+".cn_code", "is required for %s (the table has no code for it)", l.ProductKind)
	}
	if d := strings.TrimSpace(nl.Description); d != "" {
		if err := problem.RequireText(field+".description", d, 200); err != nil {
			return ConsignmentLine{}, err
		}
		line.Description = d
	}
	if line.NetMass, err = s.netMass(field, l, line, nl.NetMass); err != nil {
		return ConsignmentLine{}, err
	}
	gross, unit, err := nl.GrossMass.Base()
	if err != nil || unit != Milligram {
		return ConsignmentLine{}, problem.Field(field+".gross_mass", "must be a mass, such as {\"amount\": 12, \"unit\": \"kg\"}")
	}
	if gross < line.NetMass {
		return ConsignmentLine{}, problem.Field(field+".gross_mass", "%s is less than the net mass %s", Amount{gross, Milligram}, Amount{line.NetMass, Milligram})
	}
	line.GrossMass = gross
	if q, err := s.qualityOf(ctx, l); err == nil && q != nil {
		line.Category = q.Category
	}
	return line, nil
}

// netMass checks or computes a line's net mass in mg: the content itself
// for kinds counted by mass, a declared mass plausible for the volume of
// oils and waters (0.8 to 1.1 g/ml), a declared mass for pieces.
func (s *Service) netMass(field string, l Lot, line ConsignmentLine, declared Quantity) (int64, error) {
	given := declared.Amount != 0 || declared.Unit != ""
	var net int64
	if given {
		amount, unit, err := declared.Base()
		if err != nil || unit != Milligram || amount <= 0 {
			return 0, problem.Field(field+".net_mass", "must be a positive mass, such as {\"amount\": 10, \"unit\": \"kg\"}")
		}
		net = amount
	}
	switch line.Unit {
	case Milligram:
		if !given {
			return line.Content, nil
		}
		tolerance := max(1000, line.Content/200)
		if abs64(net-line.Content) > tolerance {
			return 0, problem.Field(field+".net_mass", "is %s but the line holds %s of lot %s", Amount{net, Milligram}, Amount{line.Content, Milligram}, l.Code)
		}
		return net, nil
	case Millilitre:
		if !given {
			return 0, problem.Field(field+".net_mass", "is required: %s of %s is a volume", Amount{line.Content, Millilitre}, l.ProductKind)
		}
		if lo, hi := line.Content*800, line.Content*1100; net < lo || net > hi {
			return 0, problem.Field(field+".net_mass", "%s does not fit %s of %s (a density of 0.8 to 1.1 g/ml)", Amount{net, Milligram}, Amount{line.Content, Millilitre}, l.ProductKind)
		}
		return net, nil
	}
	if !given {
		return 0, problem.Field(field+".net_mass", "is required for %s", l.ProductKind)
	}
	return net, nil
}

// mayReadConsignment: the cooperative, its auditors, the admin, and the
// manager of the shop it is bound for.
func mayReadConsignment(actor access.Actor, c Consignment) bool {
	return actor.ReadCoop(c.Cooperative) == nil || (actor.Role == access.ShopManager && actor.Org == c.Destination)
}

// Consignment returns a consignment to those who may read it (see above);
// others get ErrConsignmentNotFound.
func (s *Service) Consignment(ctx context.Context, actor access.Actor, id string) (Consignment, error) {
	if actor.Anonymous() {
		return Consignment{}, access.ErrUnauthorized
	}
	c, err := s.store.consignment(ctx, strings.TrimSpace(id))
	if err != nil {
		return Consignment{}, err
	}
	if !mayReadConsignment(actor, c) {
		return Consignment{}, ErrConsignmentNotFound
	}
	return c, nil
}

// Consignments lists a cooperative's consignments, newest first.
func (s *Service) Consignments(ctx context.Context, actor access.Actor, coop string) ([]Consignment, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ReadCoop(coop); err != nil {
		return nil, err
	}
	out, err := s.store.consignmentsOf(ctx, coop)
	slices.SortFunc(out, func(a, b Consignment) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, err
}

// SetCOINumber records the number of the certificate of inspection the
// control body issued for a consignment. Recording the same number again
// changes nothing; another number is refused (409): a COI is replaced in
// TRACES, not here.
func (s *Service) SetCOINumber(ctx context.Context, actor access.Actor, id, number string) (Consignment, error) {
	number = strings.ToUpper(strings.TrimSpace(number))
	var c Consignment
	err := s.store.db.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if c, err = s.Consignment(ctx, actor, id); err != nil {
			return err
		}
		if err := actor.ManageCoop(c.Cooperative); err != nil {
			return err
		}
		if !coiPattern.MatchString(number) {
			return problem.Field("coi_number", "must be the certificate of inspection's number as TRACES shows it (letters, digits, dots, dashes)")
		}
		switch c.COINumber {
		case number:
			return nil
		case "":
		default:
			return problem.New(problem.Conflict, "consignment %s already has certificate of inspection %s", c.ID, c.COINumber)
		}
		c.COINumber, c.COIRecordedBy, c.COIRecordedAt = number, actor.Email, s.now().UTC()
		if c.Status == ConsignmentDeclared {
			c.Status = ConsignmentCOIIssued
		}
		return s.store.setConsignmentCOI(ctx, c)
	})
	return c, err
}

// CheckConsignmentReceipt checks that units of a lot received at shop may
// be booked against a consignment: it is bound for that shop, the lot is
// one of its packed lines and no more arrives than was declared. It writes
// nothing; the receipt calls RecordConsignmentReceipt once its own changes
// are made, inside the same Atomically.
func (s *Service) CheckConsignmentReceipt(ctx context.Context, id, shop, lot string, units int64) error {
	_, _, err := s.consignmentReceiptLine(ctx, id, shop, lot, units)
	return err
}

func (s *Service) consignmentReceiptLine(ctx context.Context, consignment, shop, lot string, units int64) (Consignment, int, error) {
	c, err := s.store.consignment(ctx, strings.TrimSpace(consignment))
	if err != nil {
		return Consignment{}, 0, problem.Field("consignment", "no consignment %q", consignment)
	}
	if c.Destination != id.NormalizeCode(shop) {
		return Consignment{}, 0, problem.Field("consignment", "consignment %s is bound for %s, not %s", c.ID, c.Destination, id.NormalizeCode(shop))
	}
	code := NormalizeLotCode(lot)
	i := slices.IndexFunc(c.Lines, func(l ConsignmentLine) bool { return l.Lot == code })
	if i < 0 || c.Lines[i].Units == 0 {
		return Consignment{}, 0, problem.Field("lot", "lot %s is not a packed line of consignment %s", code, c.ID)
	}
	if left := c.Lines[i].Units - c.Lines[i].ReceivedUnits; units > left {
		return Consignment{}, 0, refusal(problem.Conflict, "units",
			"consignment %s declared %d units of lot %s and %d are still expected, %d received", c.ID, c.Lines[i].Units, code, left, units)
	}
	return c, i, nil
}

// RecordConsignmentReceipt counts units received against a consignment.
// Callers hold Atomically and have checked (CheckConsignmentReceipt).
func (s *Service) RecordConsignmentReceipt(ctx context.Context, id, shop, lot string, units int64, actor string) error {
	c, i, err := s.consignmentReceiptLine(ctx, id, shop, lot, units)
	if err != nil {
		return err
	}
	c.Lines[i].ReceivedUnits += units
	c.Receipts = append(c.Receipts, ConsignmentReceipt{Lot: c.Lines[i].Lot, Units: units, Shop: c.Destination, By: actor, At: s.now().UTC()})
	all := true
	for _, l := range c.Lines {
		if l.ReceivedUnits < l.Units {
			all = false
		}
	}
	if all {
		c.Status = ConsignmentReceived
	}
	return s.store.setConsignmentReceipts(ctx, c)
}

// FormatMassKg writes a mass in mg as kilograms with three decimals, as a
// certificate of inspection states net and gross weights.
func FormatMassKg(mg int64) string {
	return strconv.FormatFloat(float64(mg)/1_000_000, 'f', 3, 64)
}

// ConsignmentCSV writes a consignment's sheet as CSV, one row per line with
// the consignment's fields repeated, for the control body's and the
// importer's spreadsheets.
func ConsignmentCSV(w io.Writer, c Consignment) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"consignment", "coi_number", "status", "shipping_date", "exporter", "exporter_address", "exporter_country",
		"control_body", "control_body_code", "certificate", "consignee", "consignee_address", "consignee_country", "first_consignee",
		"first_consignee_country", "country_of_dispatch", "country_of_destination", "border_post", "transport_mode", "transport_identification",
		"container", "lot", "product_kind", "sku", "gtin", "cn_code", "description", "iso3632_category", "units", "net_content", "packages",
		"package_kind", "net_mass_kg", "gross_mass_kg", "received_units"})
	for _, l := range c.Lines {
		_ = cw.Write([]string{c.ID, c.COINumber, c.Status, c.ShippingDate, csvText(c.Exporter.Name), csvText(c.Exporter.Address), c.Exporter.Country,
			csvText(c.Certificate.Body), csvText(c.Certificate.BodyCode), csvText(c.Certificate.Number), csvText(c.Consignee.Name),
			csvText(c.Consignee.Address), c.Consignee.Country, csvText(c.FirstConsignee.Name), c.FirstConsignee.Country, c.CountryOfDispatch,
			c.CountryDestination, csvText(c.BorderPost), c.Transport.Mode, csvText(c.Transport.Identification), csvText(c.Transport.Container),
			l.Lot, l.ProductKind, csvText(l.SKU), l.GTIN, l.CNCode, csvText(l.Description), l.Category, strconv.FormatInt(l.Units, 10),
			FormatQuantity(l.Content, l.Unit), strconv.FormatInt(l.Packages, 10), csvText(l.PackageKind), FormatMassKg(l.NetMass),
			FormatMassKg(l.GrossMass), strconv.FormatInt(l.ReceivedUnits, 10)})
	}
	cw.Flush()
	return cw.Error()
}
