package traceability

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/problem"
)

// consignmentFixture: an EU organic certificate of the cooperative covering
// two of its parcels, saffron from one of them dried, graded and packed in
// two lots of jars, essential oil, and saffron from a parcel the
// certificate does not name.
type consignmentFixture struct {
	*fixture
	cert                 Certification
	jars, jars2, outside Lot
	oil                  Lot
}

func newConsignmentFixture(t *testing.T) *consignmentFixture {
	f := newFixture(t)
	saffronParcel, pammParcel := f.parcel("saffron", 100_000), f.parcel("pamm", 100_000)
	cert, err := f.s.CreateCertification(f.ctx, f.admin, NewCertification{Holder: f.coop, Scheme: "EU organic", Body: "Ecocert Maroc",
		BodyCode: "MA-BIO-154", Number: "BIO-2025-7", ValidFrom: "2025-01-01", ValidTo: "2025-12-20", Parcels: []string{saffronParcel, pammParcel}})
	if err != nil {
		t.Fatal(err)
	}
	cf := &consignmentFixture{fixture: f, cert: cert}
	dried := f.driedSaffron()
	if _, err := f.s.AddLabResult(f.ctx, f.manager, dried.Code, categoryI()); err != nil {
		t.Fatal(err)
	}
	cf.jars = f.pack(f.lot(dried.Code), 50, 1000)
	cf.jars2 = f.pack(f.lot(dried.Code), 20, 1000)
	oil := f.mustTransform("distillation", in(f.originLot("pamm", kg(100)), kg(100)), out("essential_oil", ml(900)))[0]
	cf.oil = f.pack(oil, 90, 10)
	// Saffron of a parcel outside the certificate.
	other, err := f.s.AddParcel(f.ctx, f.admin, f.coop, NewParcel{Name: "Hors bio", Member: f.member, Commune: "Taliouine", AreaM2: 100_000,
		Crop: "saffron", Location: Geometry{Type: "Point", Coordinates: []byte(`[-7.93,30.52]`)}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := f.s.AddHarvest(f.ctx, f.manager, f.coop, NewHarvest{Parcel: other.ID, Member: f.member, Date: "2025-10-28", Crop: "saffron", Quantity: g(500)})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := f.s.CreateOriginLot(f.ctx, f.manager, f.coop, NewOriginLot{ProductKind: "saffron", Harvests: []string{h.ID}})
	if err != nil {
		t.Fatal(err)
	}
	cf.outside = f.pack(f.mustTransform("drying", in(fresh, g(500)), out("saffron_dried", g(100)))[0], 40, 1000)
	for _, l := range []Lot{cf.jars, cf.jars2, cf.oil} {
		if len(l.Claims) != 1 {
			t.Fatalf("lot %s claims %+v", l.Code, l.Claims)
		}
	}
	return cf
}

func (cf *consignmentFixture) request() NewConsignment {
	return NewConsignment{Cooperative: cf.coop,
		Consignee:   Operator{Name: "Plateforme européenne de distribution", Address: "12 rue des Terroirs, 69007 Lyon", Country: "FR", Code: "FR-BIO-01-0042"},
		Destination: "EU-PLATFORM", ShippingDate: "2025-12-01", BorderPost: "Port of Marseille (FRMRS)",
		Transport:   Transport{Mode: "road", Identification: "12345-A-6 / TIR", Container: "MSKU1234565"},
		Certificate: cf.cert.ID,
		Lines: []NewConsignmentLine{
			{Lot: cf.jars.Code, Units: 50, Packages: 2, GrossMass: g(2100)},
			{Lot: cf.jars2.Code, Units: 20, Packages: 1, NetMass: g(20), GrossMass: kg(1)},
		}}
}

func (cf *consignmentFixture) consignments() int64 {
	cf.t.Helper()
	n, err := cf.s.store.db.Collection("consignments").CountDocuments(cf.ctx, bson.M{})
	if err != nil {
		cf.t.Fatal(err)
	}
	return n
}

// TestConsignmentOfTwoLots declares two lots of jars to the EU platform:
// the CN code comes from the table, the net mass from the jars, the control
// body from the certificate; the sheet's CSV carries it, and the COI number
// is recorded once.
func TestConsignmentOfTwoLots(t *testing.T) {
	cf := newConsignmentFixture(t)
	c, err := cf.s.CreateConsignment(cf.ctx, cf.manager, cf.request())
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != ConsignmentDeclared || len(c.Lines) != 2 || c.Exporter.Name != "Siroua" || c.Exporter.Country != "MA" ||
		c.FirstConsignee.Name != c.Consignee.Name || c.CountryDestination != "FR" || c.Certificate.BodyCode != "MA-BIO-154" {
		t.Fatalf("consignment %+v", c)
	}
	l := c.Lines[0]
	if l.CNCode != "0910 20 10" || l.Content != 50_000 || l.Unit != Milligram || l.NetMass != 50_000 || l.GrossMass != 2_100_000 || l.Category != "I" || l.PackageKind != "cartons" {
		t.Errorf("line %+v", l)
	}
	if c.NetMass != 70_000 || c.GrossMass != 3_100_000 || c.Packages != 3 {
		t.Errorf("totals net %d gross %d packages %d", c.NetMass, c.GrossMass, c.Packages)
	}
	// Declaring moves no stock.
	if got := cf.lot(cf.jars.Code); got.Available != 50 {
		t.Errorf("jars available %d", got.Available)
	}
	var buf bytes.Buffer
	if err := ConsignmentCSV(&buf, c); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("csv: %v %v", err, rows)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if r := rows[1]; r[col["lot"]] != cf.jars.Code || r[col["cn_code"]] != "0910 20 10" || r[col["net_mass_kg"]] != "0.050" ||
		r[col["control_body_code"]] != "MA-BIO-154" || r[col["first_consignee_country"]] != "FR" {
		t.Errorf("csv row %v", r)
	}
	// The certificate of inspection's number, once.
	wantProblem(t, func() error { _, err := cf.s.SetCOINumber(cf.ctx, cf.manager, c.ID, "COI <script>"); return err }(), problem.Invalid, "coi_number")
	got, err := cf.s.SetCOINumber(cf.ctx, cf.manager, c.ID, "coi.ma.2025.0012345")
	if err != nil || got.COINumber != "COI.MA.2025.0012345" || got.Status != ConsignmentCOIIssued {
		t.Fatalf("coi: %v %+v", err, got)
	}
	if _, err := cf.s.SetCOINumber(cf.ctx, cf.manager, c.ID, "COI.MA.2025.0012345"); err != nil {
		t.Errorf("the same number again: %v", err)
	}
	if _, err := cf.s.SetCOINumber(cf.ctx, cf.manager, c.ID, "COI.MA.2025.0099999"); problem.CodeOf(err) != problem.Conflict {
		t.Errorf("another number: %v", err)
	}
	// Who reads it: the cooperative, its auditor, the platform it is bound
	// for; not another shop or cooperative.
	for _, who := range []access.Actor{cf.manager, cf.admin, {UserID: "a", Email: "a@x", Role: access.Auditor, Scope: []string{cf.coop}},
		{UserID: "p", Email: "p@x", Role: access.ShopManager, Org: "EU-PLATFORM"}} {
		if _, err := cf.s.Consignment(cf.ctx, who, c.ID); err != nil {
			t.Errorf("%s %s: %v", who.Role, who.Org, err)
		}
	}
	for _, who := range []access.Actor{{UserID: "t", Email: "t@x", Role: access.ShopManager, Org: "TAROUDANNT"},
		{UserID: "o", Email: "o@x", Role: access.CoopManager, Org: "OTHER"}} {
		if _, err := cf.s.Consignment(cf.ctx, who, c.ID); !errorsIs(err, ErrConsignmentNotFound) {
			t.Errorf("%s %s: %v", who.Role, who.Org, err)
		}
	}
	platform := access.Actor{UserID: "p", Email: "p@x", Role: access.ShopManager, Org: "EU-PLATFORM"}
	if _, err := cf.s.SetCOINumber(cf.ctx, platform, c.ID, "COI.MA.2025.0012345"); !access.IsForbidden(err) {
		t.Errorf("the platform records the COI: %v", err)
	}
	list, err := cf.s.Consignments(cf.ctx, cf.manager, cf.coop)
	if err != nil || len(list) != 1 {
		t.Errorf("list %v %d", err, len(list))
	}
}

// TestConsignmentRefusals: each bad consignment is refused naming its field,
// and nothing is stored.
func TestConsignmentRefusals(t *testing.T) {
	cf := newConsignmentFixture(t)
	other := "TIWIZWINE"
	if _, err := cf.s.CreateCooperative(cf.ctx, cf.admin, Cooperative{Code: other, Name: "Tiwizwine", Kind: "argan", Commune: "Arbâa Sahel", Province: "Tiznit"}); err != nil {
		t.Fatal(err)
	}
	suspended, err := cf.s.CreateCertification(cf.ctx, cf.admin, NewCertification{Holder: cf.coop, Scheme: "EU organic", Body: "Ecocert Maroc",
		BodyCode: "MA-BIO-154", Number: "BIO-2025-8", ValidFrom: "2025-01-01", ValidTo: "2026-12-31"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cf.s.SetCertificationStatus(cf.ctx, cf.admin, suspended.ID, StatusSuspended, "audit found mixing"); err != nil {
		t.Fatal(err)
	}
	aop, err := cf.s.CreateCertification(cf.ctx, cf.admin, NewCertification{Holder: cf.coop, Scheme: "AOP Safran de Taliouine", Body: "ODC",
		BodyCode: "MA-AOP-1", Number: "AOP-1", ValidFrom: "2025-01-01", ValidTo: "2026-12-31"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		edit  func(*NewConsignment)
		code  problem.Code
		field string
	}{
		{"a lot outside the certificate's scope", func(r *NewConsignment) { r.Lines[1].Lot = cf.outside.Code }, problem.Conflict, "lines[1].lot"},
		{"shipped after the certificate expires", func(r *NewConsignment) { r.ShippingDate = "2025-12-28" }, problem.Conflict, "certificate"},
		{"a suspended certificate", func(r *NewConsignment) { r.Certificate = suspended.ID }, problem.Conflict, "certificate"},
		{"not an organic certificate", func(r *NewConsignment) { r.Certificate = aop.ID }, problem.Invalid, "certificate"},
		{"an unknown certificate", func(r *NewConsignment) { r.Certificate = "crt_nope" }, problem.Invalid, "certificate"},
		{"an unknown lot", func(r *NewConsignment) { r.Lines[0].Lot = "SAF-NOPE" }, problem.Invalid, "lines[0].lot"},
		{"a lot listed twice", func(r *NewConsignment) { r.Lines[1].Lot = cf.jars.Code }, problem.Invalid, "lines[1].lot"},
		{"more units than the lot has", func(r *NewConsignment) { r.Lines[0].Units = 51 }, problem.InsufficientStock, "lines[0].units"},
		{"no units", func(r *NewConsignment) { r.Lines[0].Units = 0 }, problem.Invalid, "lines[0].units"},
		{"a net mass that is not the jars'", func(r *NewConsignment) { r.Lines[1].NetMass = g(25) }, problem.Invalid, "lines[1].net_mass"},
		{"gross lighter than net", func(r *NewConsignment) { r.Lines[0].GrossMass = g(40) }, problem.Invalid, "lines[0].gross_mass"},
		{"gross as a volume", func(r *NewConsignment) { r.Lines[0].GrossMass = ml(4000) }, problem.Invalid, "lines[0].gross_mass"},
		{"no packages", func(r *NewConsignment) { r.Lines[0].Packages = 0 }, problem.Invalid, "lines[0].packages"},
		{"a bad CN code", func(r *NewConsignment) { r.Lines[0].CNCode = "0910-2" }, problem.Invalid, "lines[0].cn_code"},
		{"oil without its mass", func(r *NewConsignment) {
			r.Lines[1] = NewConsignmentLine{Lot: cf.oil.Code, Units: 90, Packages: 1, GrossMass: kg(3)}
		}, problem.Invalid, "lines[1].net_mass"},
		{"oil heavier than oil", func(r *NewConsignment) {
			r.Lines[1] = NewConsignmentLine{Lot: cf.oil.Code, Units: 90, Packages: 1, NetMass: g(1200), GrossMass: kg(3)}
		}, problem.Invalid, "lines[1].net_mass"},
		{"a consignee outside the EU", func(r *NewConsignment) { r.Consignee.Country = "MA" }, problem.Invalid, "consignee.country"},
		{"no consignee", func(r *NewConsignment) { r.Consignee.Name = "" }, problem.Invalid, "consignee.name"},
		{"no means of transport", func(r *NewConsignment) { r.Transport.Mode = "camel" }, problem.Invalid, "transport.mode"},
		{"a bad shipping date", func(r *NewConsignment) { r.ShippingDate = "1/12/2025" }, problem.Invalid, "shipping_date"},
		{"a shipping date a year away", func(r *NewConsignment) { r.ShippingDate = "2026-11-15" }, problem.Invalid, "shipping_date"},
		{"no lines", func(r *NewConsignment) { r.Lines = nil }, problem.Invalid, "lines"},
		{"no destination", func(r *NewConsignment) { r.Destination = "" }, problem.Invalid, "destination"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := cf.request()
			tt.edit(&req)
			_, err := cf.s.CreateConsignment(cf.ctx, cf.manager, req)
			wantProblem(t, err, tt.code, tt.field)
			if n := cf.consignments(); n != 0 {
				t.Errorf("%d consignments stored", n)
			}
		})
	}
	// A lot of another cooperative reads as an unknown lot.
	otherLot := Lot{Code: "SAF-OTHER0001", Cooperative: other, ProductKind: "saffron_dried", Source: SourcePacking, Unit: Piece, Claims: []Claim{{Certification: cf.cert.ID}}}
	if _, err := cf.s.store.db.Collection("lots").InsertOne(cf.ctx, otherLot); err != nil {
		t.Fatal(err)
	}
	req := cf.request()
	req.Lines[0].Lot = otherLot.Code
	_, err = cf.s.CreateConsignment(cf.ctx, cf.manager, req)
	if p := wantProblem(t, err, problem.Invalid, "lines[0].lot"); !strings.Contains(p.Message, "is not a lot of cooperative "+cf.coop) {
		t.Errorf("message %q", p.Message)
	}
	// Only the cooperative declares its consignments.
	req = cf.request()
	if _, err := cf.s.CreateConsignment(cf.ctx, access.Actor{UserID: "o", Email: "o@x", Role: access.CoopManager, Org: other}, req); !access.IsForbidden(err) {
		t.Errorf("another cooperative: %v", err)
	}
	if n := cf.consignments(); n != 0 {
		t.Errorf("%d consignments stored", n)
	}
}

// TestConsignmentReceipts: units received against a consignment are
// counted in it, only at its destination and up to what was declared.
func TestConsignmentReceipts(t *testing.T) {
	cf := newConsignmentFixture(t)
	c, err := cf.s.CreateConsignment(cf.ctx, cf.manager, cf.request())
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, cf.s.CheckConsignmentReceipt(cf.ctx, c.ID, "TAROUDANNT", cf.jars.Code, 10), problem.Invalid, "consignment")
	wantProblem(t, cf.s.CheckConsignmentReceipt(cf.ctx, c.ID, "EU-PLATFORM", cf.oil.Code, 10), problem.Invalid, "lot")
	wantProblem(t, cf.s.CheckConsignmentReceipt(cf.ctx, c.ID, "EU-PLATFORM", cf.jars.Code, 51), problem.Conflict, "units")
	wantProblem(t, cf.s.CheckConsignmentReceipt(cf.ctx, "csg_nope", "EU-PLATFORM", cf.jars.Code, 1), problem.Invalid, "consignment")
	for _, r := range []struct {
		lot   string
		units int64
	}{{cf.jars.Code, 30}, {cf.jars.Code, 20}, {cf.jars2.Code, 20}} {
		if err := cf.s.CheckConsignmentReceipt(cf.ctx, c.ID, "EU-PLATFORM", r.lot, r.units); err != nil {
			t.Fatal(err)
		}
		if err := cf.s.RecordConsignmentReceipt(cf.ctx, c.ID, "EU-PLATFORM", r.lot, r.units, "plateforme@x"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := cf.s.Consignment(cf.ctx, cf.admin, c.ID)
	if err != nil || got.Status != ConsignmentReceived || got.Lines[0].ReceivedUnits != 50 || len(got.Receipts) != 3 {
		t.Fatalf("%v %+v", err, got)
	}
	wantProblem(t, cf.s.CheckConsignmentReceipt(cf.ctx, c.ID, "EU-PLATFORM", cf.jars.Code, 1), problem.Conflict, "units")
}

// TestCNCodes: every kind that is exported has a code, and codes are
// written as the nomenclature writes them.
func TestCNCodes(t *testing.T) {
	for _, kind := range []string{"saffron_dried", "argan_oil", "essential_oil", "olive_oil", "honey"} {
		if c, ok := CNCodeOf(kind); !ok || c.Source == "" {
			t.Errorf("%s: %+v", kind, c)
		}
	}
	for in, want := range map[string]string{"09102010": "0910 20 10", "0910.20.90": "0910 20 90", "1515 90": "1515 90", "3301": "3301"} {
		if got, err := NormalizeCNCode("cn", in); err != nil || got != want {
			t.Errorf("%s: %q %v", in, got, err)
		}
	}
	for _, bad := range []string{"0910 2", "091020101", "abcd", ""} {
		if _, err := NormalizeCNCode("cn", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, c := range CNCodes() {
		if got, err := NormalizeCNCode("cn", c.Code); err != nil || got != c.Code {
			t.Errorf("table code %q is not written as the nomenclature writes it (%q)", c.Code, got)
		}
	}
}
