package documents

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/pdftest"
	"github.com/terroir-coop/terroir/traceability"
)

func square(lon, lat, side float64) traceability.Geometry {
	dLat := side / metresPerDegreeLat / 2
	dLon := side / (metresPerDegreeLon * math.Cos(lat*math.Pi/180)) / 2
	ring := [][]float64{{lon - dLon, lat - dLat}, {lon + dLon, lat - dLat}, {lon + dLon, lat + dLat}, {lon - dLon, lat + dLat}, {lon - dLon, lat - dLat}}
	b, _ := json.Marshal([][][]float64{ring})
	return traceability.Geometry{Type: "Polygon", Coordinates: b}
}

func sampleEvidence() traceability.EvidenceFile {
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	ed, _ := traceability.ISO3632EditionOf(traceability.DefaultISO3632Edition)
	return traceability.EvidenceFile{
		Title: "Dossier de preuves Coopérative Safran Siroua, campagne 2026-2027", Season: 2026, GeneratedAt: at, GeneratedBy: "auditeur@terroir.demo",
		Cooperative: traceability.Cooperative{Code: "SIROUA-SAFRAN", Name: "Coopérative Safran Siroua", Commune: "Taliouine", Province: "Taroudannt"},
		Members: []traceability.Member{{ID: "mbr_1", Name: "Fatima Aït Brahim", Gender: "female", Village: "Siroua"},
			{ID: "mbr_2", Name: "Lahcen Oubella", Gender: "male", Village: "Azaghar N'irs"}},
		Women: 1, Men: 1, ActiveWomen: 1,
		Parcels: []traceability.Parcel{
			{ID: "prc_1", Code: "P-01", Name: "Agouni", Member: "mbr_1", Commune: "Taliouine", AreaM2: 1200, Crop: "saffron",
				Location: square(-7.9262, 30.5318, 34.6), Lon: -7.9262, Lat: 30.5318},
			{ID: "prc_2", Code: "P-02", Name: "Tizi", Member: "mbr_2", Commune: "Taliouine", AreaM2: 900, Crop: "saffron",
				Location: square(-7.9240, 30.5330, 30), Lon: -7.9240, Lat: 30.5330},
			{ID: "prc_3", Name: "Asif", Member: "mbr_2", Commune: "Taliouine", AreaM2: 500, Crop: "saffron",
				Location: traceability.Geometry{Type: "Point", Coordinates: json.RawMessage(`[-7.9275,30.5300]`)}, Lon: -7.9275, Lat: 30.53},
		},
		Harvests: []traceability.Harvest{{ID: "hrv_1", Parcel: "prc_1", Member: "mbr_1", Date: "2026-10-29", Crop: "saffron", Quantity: 450_000, Lot: "SAF-1"}},
		Steps: []traceability.EvidenceStep{{Process: "drying", Date: "2026-11-02", InputKind: "saffron", InTotal: 450_000, InUnit: "mg",
			Inputs:  []traceability.EventRef{{Lot: "SAF-1", Quantity: 450_000, Unit: "mg"}},
			Outputs: []traceability.EvidenceOutput{{Lot: "SAF-2", Kind: "saffron_dried", Quantity: 90_000, Unit: "mg", Yield: "20 %", Typical: "15–22 %"}}}},
		Flags: []traceability.EvidenceFlag{{Lot: "SAF-2", Flag: traceability.Flag{ID: "flg_1", Kind: "yield", Reason: "drying yield above the typical maximum", RaisedAt: at}}},
		MassBalance: []traceability.BalanceRow{{ProductKind: "saffron", Unit: "mg", Lots: 1, Harvested: 450_000, Transformed: 450_000,
			InconsistentLots: []string{}, Inconsistencies: []traceability.BalanceIssue{}}},
		Certificates: []traceability.Certification{{ID: "crt_1", Scheme: "EU organic", Body: "Organisme bio (démo)", BodyCode: "MA-BIO-154", Number: "BIO-2026-0871",
			ValidFrom: "2025-06-01", ValidTo: "2027-05-31", Status: "valid",
			History: []traceability.StatusChange{{Status: "valid", Reason: "issued", By: "admin@terroir.demo", At: at}}}},
		CertificateStatusAtExport: map[string]string{"crt_1": "valid"},
		LabResults: []traceability.EvidenceLabResult{{Lot: "SAF-2", ReportFile: "reports/SAF-2-lab_1.pdf", LabResult: traceability.LabResult{
			ID: "lab_1", Laboratory: traceability.Laboratory{Name: "Laboratoire Souss Analyses", Accreditation: "MA-17025-0042"}, SampleDate: "2026-11-05",
			ReportDate: "2026-11-12", Method: "ISO 3632-2", Standard: ed.Standard, Form: "filaments", Category: "I",
			Figures: traceability.LabFigures{E257: traceability.M(92.4), E330: traceability.M(34.1), E440: traceability.M(246), Moisture: traceability.M(8.7),
				FloralWaste: traceability.M(0.2), ForeignMatter: traceability.M(0.05)},
			Report: &traceability.ReportFile{SHA256: strings.Repeat("ab", 32), Size: 1000, ContentType: "application/pdf"}}}},
		Thresholds: []traceability.ISO3632Edition{ed},
	}
}

// TestEvidencePDF renders a summary with poppler: the text a control body
// reads is there (in French, accents intact), an unjustified flag says so,
// and the map's outlines are drawn — the parcels' fill colour is on a page.
func TestEvidencePDF(t *testing.T) {
	f := sampleEvidence()
	var buf bytes.Buffer
	if err := EvidencePDF(&buf, f); err != nil {
		t.Fatal(err)
	}
	text := pdftest.Text(t, buf.Bytes())
	for _, want := range []string{"Coopérative Safran Siroua", "2 : 1 femme, 1 homme", "Fatima Aït Brahim", "Agouni", "séchage", "20 %",
		"JUSTIFICATION ATTENDUE", "Bilan matière", "BIO-2026-0871", "MA-BIO-154", "Laboratoire Souss", "MA-17025-0042", "92.4 / 34.1 / 246", "Seuils ISO 3632-1:2011",
		"min. 200", "Page 1/"} {
		if !strings.Contains(text, want) {
			t.Errorf("the summary does not say %q", want)
		}
	}
	pages := pdftest.Pages(t, buf.Bytes(), 60)
	if len(pages) < 2 {
		t.Fatalf("%d pages", len(pages))
	}
	filled := 0
	for _, p := range pages {
		filled += pdftest.PixelsNear(p, parcelFill, 12)
	}
	if filled < 50 {
		t.Errorf("the parcels' outlines are not drawn (%d pixels of their colour)", filled)
	}
	// The same records give the same document.
	var again bytes.Buffer
	if err := EvidencePDF(&again, f); err != nil || !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Errorf("a second rendering differs (%v)", err)
	}
	// Without outlines the map says so instead of drawing nothing.
	f.Parcels = nil
	buf.Reset()
	if err := EvidencePDF(&buf, f); err != nil {
		t.Fatal(err)
	}
	if text := pdftest.Text(t, buf.Bytes()); !strings.Contains(text, "Aucune parcelle géolocalisée") {
		t.Error("an empty map is not explained")
	}
}

// TestConsignmentPDF renders a consignment's sheet: the data the
// certificate of inspection asks for is there.
func TestConsignmentPDF(t *testing.T) {
	c := traceability.Consignment{ID: "csg_0123", Cooperative: "SIROUA-SAFRAN", Status: traceability.ConsignmentDeclared,
		Exporter:       traceability.Operator{Name: "Coopérative Safran Siroua", Address: "Taliouine, Taroudannt", Country: "MA"},
		Consignee:      traceability.Operator{Name: "Plateforme européenne", Address: "Lyon", Country: "FR", Code: "FR-BIO-01-42"},
		FirstConsignee: traceability.Operator{Name: "Plateforme européenne", Address: "Lyon", Country: "FR"},
		Destination:    "EU-PLATFORM", CountryOfDispatch: "MA", CountryDestination: "FR", ShippingDate: "2026-12-10",
		Transport: traceability.Transport{Mode: "road", Identification: "12345-A-6", Container: "MSKU1234565"}, BorderPost: "Port de Marseille",
		Certificate: traceability.ConsignmentCertificate{Scheme: "EU organic", Number: "BIO-2026-0871", Body: "Organisme bio (démo)", BodyCode: "MA-BIO-154",
			ValidFrom: "2025-06-01", ValidTo: "2027-05-31"},
		Lines: []traceability.ConsignmentLine{
			{Lot: "SAF-A91QJ0N1V", ProductKind: "saffron_dried", SKU: "SAF-TAL-1G", CNCode: "0910 20 10", Description: "Saffron, neither crushed nor ground",
				Units: 80, Content: 80_000, Unit: "mg", Packages: 2, PackageKind: "cartons", NetMass: 80_000, GrossMass: 3_200_000, Category: "I"},
			{Lot: "ARG-7HQ2M4KX", ProductKind: "argan_oil", CNCode: "1515 90", Description: "Argan oil", Units: 8, Content: 2000, Unit: "ml",
				Packages: 1, PackageKind: "cartons", NetMass: 1_830_000, GrossMass: 4_000_000}},
		Packages: 3, NetMass: 1_910_000, GrossMass: 7_200_000, CreatedAt: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	var buf bytes.Buffer
	if err := ConsignmentPDF(&buf, c); err != nil {
		t.Fatal(err)
	}
	text := pdftest.Text(t, buf.Bytes())
	for _, want := range []string{"csg_0123", "à délivrer par l'organisme de contrôle", "MA-BIO-154", "BIO-2026-0871", "FR-BIO-01-42",
		"SAF-A91QJ0N1V", "0910 20 10", "1515 90", "Catégorie I (ISO 3632)", "0.080", "1.910", "7.200", "MSKU1234565", "Port de Marseille", "route"} {
		if !strings.Contains(text, want) {
			t.Errorf("the sheet does not say %q", want)
		}
	}
	if pages := pdftest.Pages(t, buf.Bytes(), 40); len(pages) != 1 {
		t.Errorf("%d pages", len(pages))
	}
	c.COINumber, c.Status = "COI.MA.2026.0012345", traceability.ConsignmentCOIIssued
	buf.Reset()
	if err := ConsignmentPDF(&buf, c); err != nil {
		t.Fatal(err)
	}
	if text := pdftest.Text(t, buf.Bytes()); !strings.Contains(text, "COI.MA.2026.0012345") || strings.Contains(text, "à délivrer") {
		t.Error("the COI number is not on the sheet")
	}
}
