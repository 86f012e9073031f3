package traceability

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/problem"
)

// testPDF is a small, well-formed one-page PDF made here: what a
// laboratory's report looks like to the upload check.
func testPDF(text string) []byte {
	var b bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	b.WriteString("%PDF-1.4\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>")
	stream := "BT /F1 12 Tf 72 770 Td (" + text + ") Tj ET"
	obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

// testPNG is a small PNG image (a scanned report, in miniature).
func testPNG(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for x := range 40 {
		img.Set(x, 10, color.RGBA{200, 30, 30, 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// categoryI is a report of a category I sample of the fixture's season.
func categoryI() NewLabResult {
	return NewLabResult{Laboratory: Laboratory{Name: "Laboratoire Souss Analyses", Accreditation: "MA-17025-0042"},
		ReportNumber: "R-2025-311", SampleDate: "2025-11-05", ReportDate: "2025-11-12",
		E257: "92.4", E330: "34,1", E440: "246", Moisture: "8.7", FloralWaste: "0.2", ForeignMatter: "0.05"}
}

// driedSaffron makes 100 g of dried saffron from a harvest of 500 g.
func (f *fixture) driedSaffron() Lot {
	f.t.Helper()
	fresh := f.originLot("saffron", g(500))
	return f.mustTransform("drying", in(fresh, g(500)), out("saffron_dried", g(100)))[0]
}

func (f *fixture) blobCount() int64 {
	f.t.Helper()
	n, err := f.s.store.db.Collection("blobs").CountDocuments(f.ctx, bson.M{})
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

// TestLabResultGradesAndSealsTheReport records a category I result with its
// PDF report on dried saffron: the category comes from the table, the
// result is a tested event of the chain, the report is stored under its
// SHA-256 and read back byte for byte, and verify holds.
func TestLabResultGradesAndSealsTheReport(t *testing.T) {
	f := newFixture(t)
	dried := f.driedSaffron()
	req := categoryI()
	pdf := testPDF("Rapport d'analyse ISO 3632")
	req.Report = &Upload{Name: "rapport.pdf", Data: pdf}
	l, err := f.s.AddLabResult(f.ctx, f.manager, dried.Code, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.LabResults) != 1 {
		t.Fatalf("results %+v", l.LabResults)
	}
	r := l.LabResults[0]
	if r.Category != "I" || r.Standard != DefaultISO3632Edition || r.Figures.E330 != M(34.1) || r.Method != ISO3632Method || len(r.Flags) != 0 {
		t.Errorf("result %+v", r)
	}
	last := l.Events[len(l.Events)-1]
	if last.Type != EventTested || last.Seq != r.Seq || !strings.Contains(last.Note, r.Report.SHA256) || last.Quantity != 0 {
		t.Errorf("tested event %+v", last)
	}
	if q := l.Quality; q == nil || q.Category != "I" || q.Laboratory != "Laboratoire Souss Analyses" || q.ReportDate != "2025-11-12" || q.Inherited {
		t.Errorf("quality %+v", l.Quality)
	}
	if got := f.lot(dried.Code); got.Available != dried.Available || got.Quality == nil {
		t.Errorf("stored lot: available %d (was %d), quality %+v", got.Available, dried.Available, got.Quality)
	}
	rep, err := f.s.LabReport(f.ctx, f.manager, dried.Code, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(rep.Body)
	if err != nil || !bytes.Equal(body, pdf) || rep.ContentType != TypePDF || rep.FileName != "report-"+dried.Code+"-"+r.ID+".pdf" {
		t.Errorf("report %q %s %v (%d bytes)", rep.FileName, rep.ContentType, err, len(body))
	}
	if h := rep.Headers(); !strings.HasPrefix(h["Content-Disposition"], "attachment;") || h["X-Content-Type-Options"] != "nosniff" || h["Content-Type"] != TypePDF {
		t.Errorf("headers %v", h)
	}
	if found, _, err := f.s.Verify(f.ctx, nil); err != nil || len(found) != 0 {
		t.Errorf("verify: %v %+v", err, found)
	}
	// The same file for another result is stored once.
	req.SampleDate, req.Report = "2025-11-06", &Upload{Name: "copie.pdf", Data: pdf}
	if _, err := f.s.AddLabResult(f.ctx, f.manager, dried.Code, req); err != nil {
		t.Fatal(err)
	}
	if n := f.blobCount(); n != 1 {
		t.Errorf("%d blobs for one file", n)
	}
	// An auditor outside the cooperative's scope learns nothing.
	other := access.Actor{UserID: "aud", Email: "aud@x", Role: access.Auditor, Scope: []string{"OTHER"}}
	if _, err := f.s.LabReport(f.ctx, other, dried.Code, r.ID); !errorsIs(err, ErrLotNotFound) {
		t.Errorf("auditor out of scope: %v", err)
	}
}

func errorsIs(err, target error) bool {
	p, ok := problem.As(err)
	t, _ := problem.As(target)
	return ok && t != nil && p.Code == t.Code && p.Message == t.Message
}

// TestVerifyFindsAChangedLabResult changes a stored figure behind the
// service's back: verify names the lot.
func TestVerifyFindsAChangedLabResult(t *testing.T) {
	f := newFixture(t)
	dried := f.driedSaffron()
	if _, err := f.s.AddLabResult(f.ctx, f.manager, dried.Code, categoryI()); err != nil {
		t.Fatal(err)
	}
	f.tamper(dried.Code, func(l *Lot) { l.LabResults[0].Figures.E440 = M(260) })
	found, _, err := f.s.Verify(f.ctx, nil)
	if err != nil || len(found) != 1 || found[0].Lot != dried.Code || !strings.Contains(found[0].Reason, "not what its tested event") {
		t.Errorf("verify: %v %+v", err, found)
	}
}

// TestLabResultGrading grades figures at and around each threshold.
func TestLabResultGrading(t *testing.T) {
	ed, _ := ISO3632EditionOf(DefaultISO3632Edition)
	base := LabFigures{E257: M(92), E330: M(34), E440: M(246), Moisture: M(8.7), FloralWaste: M(0.2), ForeignMatter: M(0.05)}
	tests := []struct {
		name string
		form string
		edit func(*LabFigures)
		want string
	}{
		{"category I", FormFilaments, func(*LabFigures) {}, "I"},
		{"crocin exactly 200", FormFilaments, func(f *LabFigures) { f.E440 = M(200) }, "I"},
		{"crocin 199.999", FormFilaments, func(f *LabFigures) { f.E440 = M(199.999) }, "II"},
		{"crocin 170", FormFilaments, func(f *LabFigures) { f.E440 = M(170) }, "II"},
		{"crocin 150", FormFilaments, func(f *LabFigures) { f.E440 = M(150) }, "III"},
		{"crocin 119", FormFilaments, func(f *LabFigures) { f.E440 = M(119) }, ""},
		{"picrocrocin 60", FormFilaments, func(f *LabFigures) { f.E257 = M(60) }, "II"},
		{"picrocrocin 39", FormFilaments, func(f *LabFigures) { f.E257 = M(39) }, ""},
		{"safranal 50", FormFilaments, func(f *LabFigures) { f.E330 = M(50) }, "I"},
		{"safranal 51 fails every category", FormFilaments, func(f *LabFigures) { f.E330 = M(51) }, ""},
		{"safranal 19", FormFilaments, func(f *LabFigures) { f.E330 = M(19) }, ""},
		{"floral waste 1 %", FormFilaments, func(f *LabFigures) { f.FloralWaste = M(1) }, "II"},
		{"floral waste 4 %", FormFilaments, func(f *LabFigures) { f.FloralWaste = M(4) }, "III"},
		{"floral waste does not apply to powder", FormPowder, func(f *LabFigures) { f.FloralWaste = M(4) }, "I"},
		{"foreign matter 0.3 %", FormFilaments, func(f *LabFigures) { f.ForeignMatter = M(0.3) }, "II"},
		{"foreign matter 1.1 %", FormFilaments, func(f *LabFigures) { f.ForeignMatter = M(1.1) }, ""},
		{"moisture 12 % filaments", FormFilaments, func(f *LabFigures) { f.Moisture = M(12) }, "I"},
		{"moisture 12 % powder", FormPowder, func(f *LabFigures) { f.Moisture = M(12) }, ""},
		{"the worst criterion decides", FormFilaments, func(f *LabFigures) { f.E440 = M(180); f.E257 = M(45) }, "III"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fig := base
			tt.edit(&fig)
			g := GradeFigures(ed, tt.form, fig)
			if g.Category != tt.want {
				t.Errorf("category %q, want %q (misses %v)", g.Category, tt.want, g.Misses)
			}
			if tt.want != "I" && len(g.Misses) == 0 {
				t.Errorf("no reason given for missing category I")
			}
		})
	}
}

// TestISO3632Table checks every edition of the table is ordered: category I
// the strictest on every criterion, and says where it comes from.
func TestISO3632Table(t *testing.T) {
	if _, ok := ISO3632EditionOf(DefaultISO3632Edition); !ok {
		t.Fatalf("the default edition %s is not in the table", DefaultISO3632Edition)
	}
	for _, ed := range ISO3632Editions() {
		if ed.Source == "" || len(ed.Categories) != 3 || ed.MaxMoisturePowder > ed.MaxMoistureFilaments {
			t.Errorf("%s: %+v", ed.Standard, ed)
		}
		for i := 1; i < len(ed.Categories); i++ {
			a, b := ed.Categories[i-1], ed.Categories[i]
			if a.MinCrocin <= b.MinCrocin || a.MinPicrocrocin <= b.MinPicrocrocin || a.MaxFloralWaste >= b.MaxFloralWaste || a.MaxForeign >= b.MaxForeign {
				t.Errorf("%s: category %s is not stricter than %s", ed.Standard, a.Name, b.Name)
			}
		}
	}
}

// TestLabResultRefusals sends impossible results: each is refused naming
// its field, and nothing is stored — no event, no flag, no file.
func TestLabResultRefusals(t *testing.T) {
	f := newFixture(t)
	dried := f.driedSaffron()
	html := []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")
	big := append([]byte("%PDF-1.4\n"), make([]byte, MaxReportBytes)...)
	tests := []struct {
		name  string
		edit  func(*NewLabResult)
		code  problem.Code
		field string
	}{
		{"negative absorbance", func(r *NewLabResult) { r.E440 = "-12" }, problem.Invalid, "e440"},
		{"zero absorbance", func(r *NewLabResult) { r.E257 = "0" }, problem.Invalid, "e257"},
		{"absurd absorbance", func(r *NewLabResult) { r.E440 = "2460" }, problem.Invalid, "e440"},
		{"unreadable figure", func(r *NewLabResult) { r.E330 = "34.1.2" }, problem.Invalid, "e330"},
		{"four decimals", func(r *NewLabResult) { r.Moisture = "8.7001" }, problem.Invalid, "moisture"},
		{"missing figure", func(r *NewLabResult) { r.ForeignMatter = "" }, problem.Invalid, "foreign_matter"},
		{"moisture over 100 %", func(r *NewLabResult) { r.Moisture = "108" }, problem.Invalid, "moisture"},
		{"negative floral waste", func(r *NewLabResult) { r.FloralWaste = "-0.1" }, problem.Invalid, "floral_waste"},
		{"more than the whole sample", func(r *NewLabResult) { r.Moisture, r.FloralWaste, r.ForeignMatter = "60", "30", "20" }, problem.Invalid, "foreign_matter"},
		{"sample after report", func(r *NewLabResult) { r.SampleDate = "2025-11-13" }, problem.Invalid, "sample_date"},
		{"report in the future", func(r *NewLabResult) { r.ReportDate = "2025-11-16" }, problem.Invalid, "report_date"},
		{"sample before the harvest", func(r *NewLabResult) { r.SampleDate = "2025-10-01" }, problem.Invalid, "sample_date"},
		{"sample the day before the last harvest", func(r *NewLabResult) { r.SampleDate = "2025-10-27" }, problem.Invalid, "sample_date"},
		{"bad date", func(r *NewLabResult) { r.SampleDate = "05/11/2025" }, problem.Invalid, "sample_date"},
		{"no laboratory", func(r *NewLabResult) { r.Laboratory.Name = " " }, problem.Invalid, "laboratory.name"},
		{"no accreditation", func(r *NewLabResult) { r.Laboratory.Accreditation = "" }, problem.Invalid, "laboratory.accreditation"},
		{"another method", func(r *NewLabResult) { r.Method = "HPLC" }, problem.Invalid, "method"},
		{"an edition not in the table", func(r *NewLabResult) { r.Edition = "ISO 3632-1:2025" }, problem.Invalid, "edition"},
		{"bad reported category", func(r *NewLabResult) { r.ReportedCategory = "Extra" }, problem.Invalid, "reported_category"},
		{"report too big", func(r *NewLabResult) { r.Report = &Upload{Name: "big.pdf", Data: append(big, "%%EOF"...)} }, problem.TooLarge, "report"},
		{"report of the wrong type", func(r *NewLabResult) { r.Report = &Upload{Name: "rapport.pdf", Data: html} }, problem.UnsupportedType, "report"},
		{"truncated PDF", func(r *NewLabResult) { r.Report = &Upload{Name: "r.pdf", Data: testPDF("x")[:200]} }, problem.Invalid, "report"},
		{"a PNG that is not one", func(r *NewLabResult) { r.Report = &Upload{Name: "r.png", Data: testPNG(t)[:30]} }, problem.Invalid, "report"},
		{"empty report", func(r *NewLabResult) { r.Report = &Upload{Name: "r.pdf"} }, problem.Invalid, "report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := categoryI()
			tt.edit(&req)
			_, err := f.s.AddLabResult(f.ctx, f.manager, dried.Code, req)
			wantProblem(t, err, tt.code, tt.field)
			if got := f.lot(dried.Code); got.Seq != dried.Seq || len(got.LabResults) != 0 || len(got.Flags) != len(dried.Flags) {
				t.Errorf("stored: seq %d (was %d), %d results, %d flags", got.Seq, dried.Seq, len(got.LabResults), len(got.Flags))
			}
			if n := f.blobCount(); n != 0 {
				t.Errorf("%d files stored", n)
			}
		})
	}
	// ISO 3632 grades dried saffron only.
	fresh := f.originLot("saffron", g(300))
	_, err := f.s.AddLabResult(f.ctx, f.manager, fresh.Code, categoryI())
	wantProblem(t, err, problem.Unprocessable, "")
	// Only the cooperative records its results.
	other := access.Actor{UserID: "x", Email: "x@y", Role: access.CoopManager, Org: "OTHER"}
	if _, err := f.s.AddLabResult(f.ctx, other, dried.Code, categoryI()); !errorsIs(err, ErrLotNotFound) {
		t.Errorf("another cooperative: %v", err)
	}
	auditor := access.Actor{UserID: "a", Email: "a@y", Role: access.Auditor, Scope: []string{f.coop}}
	if _, err := f.s.AddLabResult(f.ctx, auditor, dried.Code, categoryI()); !access.IsForbidden(err) {
		t.Errorf("auditor: %v", err)
	}
}

// TestLabResultFlags records results that are possible but unusual: each
// flags the lot with its reason, and the result is kept.
func TestLabResultFlags(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		edit func(*NewLabResult)
		want string
	}{
		{"colourant suspected", func(r *NewLabResult) { r.E440, r.E257 = "345", "100" }, "above the best saffrons"},
		{"colour without bitterness", func(r *NewLabResult) { r.E440, r.E257 = "250", "45" }, "E440 / E257"},
		{"very dry", func(r *NewLabResult) { r.Moisture = "3.1" }, "unusually low"},
		{"laboratory category differs", func(r *NewLabResult) { r.ReportedCategory = "I"; r.E440 = "180" }, "the report says category I but its figures give II"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dried := f.driedSaffron()
			req := categoryI()
			tt.edit(&req)
			l, err := f.s.AddLabResult(f.ctx, f.manager, dried.Code, req)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Flags) != 1 || l.Flags[0].Kind != FlagKindLab || !strings.Contains(l.Flags[0].Reason, tt.want) || len(l.LabResults[0].Flags) != 1 {
				t.Errorf("flags %+v", l.Flags)
			}
		})
	}
	// A better category than the lot's earlier result is flagged too.
	dried := f.driedSaffron()
	second := categoryI()
	first := categoryI()
	first.E440 = "150"
	if _, err := f.s.AddLabResult(f.ctx, f.manager, dried.Code, first); err != nil {
		t.Fatal(err)
	}
	second.SampleDate = "2025-11-08"
	l, err := f.s.AddLabResult(f.ctx, f.manager, dried.Code, second)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Flags) != 1 || !strings.Contains(l.Flags[0].Reason, "re-tested into a better category") || l.Quality.Category != "I" {
		t.Errorf("flags %+v, quality %+v", l.Flags, l.Quality)
	}
	if found, _, err := f.s.Verify(f.ctx, nil); err != nil || len(found) != 0 {
		t.Errorf("verify: %v %+v", err, found)
	}
}

// TestQualityFollowsTheLot: packing and sorting one lot keep the result
// (even one recorded after the jars were packed), a blend has none until
// tested, a transformation never shows its input's, and a lot without a
// result cannot print a category.
func TestQualityFollowsTheLot(t *testing.T) {
	f := newFixture(t)
	dried := f.driedSaffron()
	early := f.pack(dried, 10, 1000) // packed before the report arrived
	if q := f.lot(early.Code).Quality; q != nil {
		t.Fatalf("jars show %+v before any result", q)
	}
	if _, ok := CategoryMention(nil); ok {
		t.Error("a mention without a result")
	}
	wantProblem(t, CheckCategoryClaim(early.Code, nil, "I"), problem.Conflict, "category")

	var changed []string
	f.s.OnLotChange(func(code string) { changed = append(changed, code) })
	if _, err := f.s.AddLabResult(f.ctx, f.manager, dried.Code, categoryI()); err != nil {
		t.Fatal(err)
	}
	jars := f.lot(early.Code)
	if q := jars.Quality; q == nil || q.Category != "I" || !q.Inherited || q.TestedLot != dried.Code {
		t.Errorf("jars packed before the result: %+v", q)
	}
	if !contains(changed, early.Code) {
		t.Errorf("the jars' cached pages were not told (%v)", changed)
	}
	if m, ok := CategoryMention(jars.Quality); !ok || m != "Catégorie I (ISO 3632)" {
		t.Errorf("mention %q %v", m, ok)
	}
	if err := CheckCategoryClaim(jars.Code, jars.Quality, "I"); err != nil {
		t.Error(err)
	}
	wantProblem(t, CheckCategoryClaim(jars.Code, jars.Quality, "II"), problem.Conflict, "category")

	sorted := f.mustTransform("sorting", in(dried, g(40)), out("saffron_dried", g(38)))[0]
	later := f.pack(f.lot(sorted.Code), 5, 1000)
	if q := f.lot(later.Code).Quality; q == nil || q.Category != "I" || q.TestedLot != dried.Code {
		t.Errorf("packed after sorting: %+v", q)
	}
	// The trace record carries it, with the laboratory and the date.
	rec, err := f.s.Trace(f.ctx, later.Code)
	if err != nil || rec.Quality == nil || rec.Quality.Laboratory != "Laboratoire Souss Analyses" || rec.Quality.ReportDate != "2025-11-12" || rec.Lot.Quality == nil {
		t.Errorf("trace: %v %+v", err, rec.Quality)
	}

	// A blend of two category I lots is not category I until tested.
	other := f.driedSaffron()
	if _, err := f.s.AddLabResult(f.ctx, f.manager, other.Code, categoryI()); err != nil {
		t.Fatal(err)
	}
	blend := f.mustTransform("blending", []LotInput{{Lot: dried.Code, Quantity: g(10)}, {Lot: other.Code, Quantity: g(10)}}, out("saffron_dried", g(20)))[0]
	if q := f.lot(blend.Code).Quality; q != nil {
		t.Errorf("blend shows %+v", q)
	}
	wantProblem(t, CheckCategoryClaim(blend.Code, f.lot(blend.Code).Quality, "I"), problem.Conflict, "category")
	// Sorting two lots together is a blend too.
	sortedTogether := f.mustTransform("sorting", []LotInput{{Lot: dried.Code, Quantity: g(5)}, {Lot: other.Code, Quantity: g(5)}}, out("saffron_dried", g(9)))[0]
	if q := f.lot(sortedTogether.Code).Quality; q != nil {
		t.Errorf("two lots sorted together show %+v", q)
	}
	// Tested, the blend shows its own result; a poor result is shown as
	// tested without a category, and prints nothing.
	poor := categoryI()
	poor.E440 = "110"
	tested, err := f.s.AddLabResult(f.ctx, f.manager, blend.Code, poor)
	if err != nil {
		t.Fatal(err)
	}
	if q := tested.Quality; q == nil || q.Category != "" || q.Inherited {
		t.Errorf("tested blend %+v", q)
	}
	if _, ok := CategoryMention(tested.Quality); ok {
		t.Error("a category printed for a result that meets none")
	}
	wantProblem(t, CheckCategoryClaim(blend.Code, tested.Quality, "III"), problem.Conflict, "category")
	// A transformation makes a new product: the fresh lot's result could
	// not be recorded, and drying never inherits anything.
	if q := f.lot(f.driedSaffron().Code).Quality; q != nil {
		t.Errorf("new dried lot shows %+v", q)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestLabReportImage stores a PNG report and refuses to serve a report of a
// result that has none.
func TestLabReportImage(t *testing.T) {
	f := newFixture(t)
	dried := f.driedSaffron()
	req := categoryI()
	req.Report = &Upload{Name: "scan.png", Data: testPNG(t)}
	l, err := f.s.AddLabResult(f.ctx, f.manager, dried.Code, req)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := f.s.LabReport(f.ctx, f.admin, dried.Code, l.LabResults[0].ID)
	if err != nil || rep.ContentType != TypePNG || !strings.HasSuffix(rep.FileName, ".png") {
		t.Fatalf("%v %+v", err, rep)
	}
	bare, err := f.s.AddLabResult(f.ctx, f.manager, dried.Code, categoryI())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.LabReport(f.ctx, f.admin, dried.Code, bare.LabResults[1].ID); !errorsIs(err, ErrLabResultNotFound) {
		t.Errorf("a result without a file: %v", err)
	}
	// A chunk changed in the store is an error, never served.
	if _, err := f.s.store.db.Collection("blob_chunks").UpdateOne(context.Background(), bson.M{"_id": reportBlobID(rep.SHA256) + "#0"},
		bson.M{"$set": bson.M{"data": []byte("changed")}}); err != nil {
		t.Fatal(err)
	}
	rep, err = f.s.LabReport(f.ctx, f.admin, dried.Code, l.LabResults[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(rep.Body); err == nil {
		t.Error("a changed report was served")
	}
}
