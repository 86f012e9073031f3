package traceability

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/problem"
)

// Laboratory results and the ISO 3632 category of saffron lots.
//
// A result is recorded on the lot the sample was taken from, as a "tested"
// event of its hash chain whose note is the result's canonical digest
// (labDigest: every figure, the dates, the laboratory, the edition graded
// against and the SHA-256 of the report file), so that changing a stored
// figure, or the report, breaks the chain or `terroir verify`
// (labResultsBound). The category is computed here, from the thresholds
// table (iso3632.go), never typed in: the laboratory's own category is kept
// beside it, and a difference flags the lot.
//
// Bad figures. What no saffron and no laboratory gives is refused (400
// naming the field), nothing stored: an absorbance that is zero, negative or
// beyond absorbanceLimits, a mass fraction outside 0–100 %, moisture, floral
// waste and foreign matter adding up to more than the whole sample, a sample
// taken after its report, a report dated after today (where the cooperative
// is), a sample older than the lot's last harvest (part of the lot was still
// in the field). What is possible but unusual flags the lot (a justification
// is then required, auditors see it): colouring strength above the best
// saffrons, a colour-to-bitterness ratio pure saffron does not have, a very
// dry sample, a laboratory category that is not what the figures give, a lot
// re-tested into a better category. A sample dated before the lot was
// recorded is not flagged: a lot's record date is when it was entered, often
// days after the drying, not when it was made.
//
// Which result a lot shows (Quality):
//   - its own latest result (by sample date), when it has one;
//   - else, when it was made by packing, or by sorting one input lot, the
//     quality of that input, followed upwards. Packing puts the same saffron
//     in jars; sorting one lot only removes floral waste and foreign matter,
//     so its result can only understate the sorted lot. The result is
//     followed at read time, so jars packed before the laboratory's report
//     arrived show it as soon as it is recorded on the bulk lot;
//   - a blend — blending, or sorting several lots together — has no
//     category until a sample of it is tested. By composition one could
//     argue for the lowest category of its inputs: every ISO 3632 criterion
//     is a mass fraction or an absorbance on dry matter, which mix linearly,
//     so a blend of lots that each meet category II meets it too. We do not
//     print that, because a category on a label is a claim the control body
//     and the AOP's specification tie to a laboratory report of that lot,
//     which a computed category does not have; because the inputs' figures
//     were measured at their own sampling dates, and picrocrocin and
//     safranal fall with storage; and because blending is how a poor lot is
//     hidden in a good one — a test of the blend is the only check of that.
//   - any other transformation (drying…) makes a new product: it never shows
//     a category measured on something else. A result is recorded on the lot
//     the laboratory's sample came from, and only on dried saffron: fresh
//     stigmas are not graded, so nothing measured before drying exists to
//     be carried over.
//
// Labels print "Catégorie I (ISO 3632)" only from Quality (CategoryMention),
// and a request to print a category the lot cannot back is refused
// (CheckCategoryClaim).

// EventTested is a laboratory result recorded on the lot (EPCIS:
// ObjectEvent OBSERVE, bizStep inspecting).
const EventTested = "tested"

// FlagKindLab is the kind of flags raised by laboratory results.
const FlagKindLab = "lab"

// Laboratory is who analysed a sample.
type Laboratory struct {
	Name          string `json:"name" bson:"name"`
	Accreditation string `json:"accreditation" bson:"accreditation"` // ISO/IEC 17025 accreditation number
}

// LabFigures are the measured figures of a sample, on dry matter: the
// specific absorbances E1%1cm at about 257, 330 and 440 nm, and mass
// fractions in percent.
type LabFigures struct {
	E257          Measure `json:"e257" bson:"e257"`
	E330          Measure `json:"e330" bson:"e330"`
	E440          Measure `json:"e440" bson:"e440"`
	Moisture      Measure `json:"moisture" bson:"moisture"` // moisture and volatile matter
	FloralWaste   Measure `json:"floral_waste" bson:"floral_waste"`
	ForeignMatter Measure `json:"foreign_matter" bson:"foreign_matter"`
}

// ReportFile is a stored laboratory report.
type ReportFile struct {
	SHA256      string `json:"sha256" bson:"sha256"`
	Size        int64  `json:"size" bson:"size"`
	ContentType string `json:"content_type" bson:"content_type"`
	Name        string `json:"name" bson:"name"` // as uploaded, for the record only
}

// LabResult is a laboratory result recorded on a lot. It is never changed:
// a new report is a new result.
type LabResult struct {
	ID           string     `json:"id" bson:"id"`
	Laboratory   Laboratory `json:"laboratory" bson:"laboratory"`
	ReportNumber string     `json:"report_number,omitempty" bson:"report_number,omitempty"`
	SampleDate   string     `json:"sample_date" bson:"sample_date"` // YYYY-MM-DD
	ReportDate   string     `json:"report_date" bson:"report_date"`
	Method       string     `json:"method" bson:"method"`     // ISO 3632-2
	Standard     string     `json:"standard" bson:"standard"` // the edition graded against, ISO 3632-1:2011
	Form         string     `json:"form" bson:"form"`         // filaments or powder
	Figures      LabFigures `json:"figures" bson:"figures"`
	// Category is what the figures give against Standard: I, II, III, or
	// "" when they meet none; Misses says why not better.
	Category         string      `json:"category" bson:"category"`
	Misses           []string    `json:"misses" bson:"misses"`
	ReportedCategory string      `json:"reported_category,omitempty" bson:"reported_category,omitempty"` // as printed on the report
	Report           *ReportFile `json:"report,omitempty" bson:"report,omitempty"`
	Flags            []string    `json:"flags" bson:"flags"` // reasons it raised (the lot's flags carry their justifications)
	RecordedBy       string      `json:"recorded_by" bson:"recorded_by"`
	RecordedAt       time.Time   `json:"recorded_at" bson:"recorded_at"`
	Seq              int64       `json:"seq" bson:"seq"` // its tested event in the lot's chain
}

// NewLabResult is a laboratory report as a cooperative records it. The
// figures are sent as written (Figure); Method defaults to ISO 3632-2,
// Edition to DefaultISO3632Edition, Form to filaments. Report is optional
// (the JSON API records figures alone, a form sends the file).
type NewLabResult struct {
	Laboratory       Laboratory
	ReportNumber     string
	SampleDate       string
	ReportDate       string
	Method           string
	Edition          string
	Form             string
	E257             Figure
	E330             Figure
	E440             Figure
	Moisture         Figure
	FloralWaste      Figure
	ForeignMatter    Figure
	ReportedCategory string
	Report           *Upload
}

// Quality is the ISO 3632 category a lot shows: the public trace JSON and
// the lot's API answer carry it as "quality". Nil when no result applies.
type Quality struct {
	Standard   string `json:"standard"`   // ISO 3632-1:2011
	Category   string `json:"category"`   // I, II, III, or "" when tested outside the categories
	Laboratory string `json:"laboratory"` // its name
	ReportDate string `json:"report_date"`
	SampleDate string `json:"sample_date"`
	Result     string `json:"result"`     // the lab result's ID
	TestedLot  string `json:"tested_lot"` // the lot the sample came from: this one, or the one it was sorted or packed from
	Inherited  bool   `json:"inherited"`  // TestedLot is not this lot
}

// qualityKind is the kind ISO 3632 grades.
const qualityKind = "saffron_dried"

// maxLabText bounds the free-text fields of a result.
const maxLabText = 200

// AddLabResult records a laboratory result on a lot of dried saffron: it
// checks the figures, grades them against the thresholds table, stores the
// report (if any) under its SHA-256 and appends a "tested" event, with the
// flags the result raises, in one guarded update. Errors: ErrLotNotFound for
// a lot the actor may not read; access.ErrForbidden for one it may read but
// not manage; 422 for a lot that is not dried saffron; 400 naming the field
// for a bad figure or date; 413 or 415 on "report" for a file too large or
// of another type. Nothing is stored when an error is returned.
func (s *Service) AddLabResult(ctx context.Context, actor access.Actor, code string, req NewLabResult) (Lot, error) {
	l, err := s.Lot(ctx, actor, code)
	if err != nil {
		return Lot{}, err
	}
	if err := actor.ManageCoop(l.Cooperative); err != nil {
		return Lot{}, err
	}
	if l.ProductKind != qualityKind {
		return Lot{}, problem.New(problem.Unprocessable, "ISO 3632 grades dried saffron; lot %s is %s", l.Code, l.ProductKind)
	}
	coop, err := s.store.cooperative(ctx, l.Cooperative)
	if err != nil {
		return Lot{}, err
	}
	r, err := s.checkLabResult(l, coop.Zone(), req)
	if err != nil {
		return Lot{}, err
	}
	var contentType string
	if req.Report != nil {
		if contentType, err = SniffReport("report", req.Report.Data); err != nil {
			return Lot{}, err
		}
		name := strings.TrimSpace(req.Report.Name)
		if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxLabText {
			name = "report" + extensionOf(contentType)
		}
		r.Report = &ReportFile{SHA256: sha256Hex(req.Report.Data), Size: int64(len(req.Report.Data)), ContentType: contentType, Name: name}
	}
	now := s.now().UTC()
	r.ID, r.RecordedBy, r.RecordedAt = id.New("lab"), actor.Email, now.Truncate(time.Millisecond)
	// The report is written before the lot, outside the write lock (it
	// may be megabytes): every check that can refuse the request is done,
	// so a failure after this point is the store's, and leaves at most an
	// unreferenced blob.
	if req.Report != nil {
		if _, err := s.store.storeReport(ctx, req.Report.Data, contentType, now); err != nil {
			return Lot{}, err
		}
	}
	var lot Lot
	err = s.store.db.Atomically(ctx, func(ctx context.Context) error {
		cur, err := s.store.lot(ctx, l.Code)
		if err != nil {
			return err
		}
		r.Flags = labFlags(cur, r)
		flags := slices.Clone(cur.Flags)
		for _, reason := range r.Flags {
			flags = append(flags, Flag{ID: id.New("flg"), Kind: FlagKindLab, Reason: "laboratory result " + r.ID + ": " + reason, RaisedAt: now})
		}
		before := cur
		r.Seq = cur.Seq + 1
		e := cur.appendEvent(Event{Type: EventTested, At: now, Actor: actor.Email, Place: cur.Cooperative, Note: labDigest(r)})
		if err := s.store.recordLabResult(ctx, before, e, r, flags); err != nil {
			return err
		}
		cur.LabResults = append(cur.LabResults, r)
		cur.Flags = flags
		lot = cur
		return nil
	})
	if err != nil {
		return Lot{}, err
	}
	// Lots that show this result without holding it (jars packed from it)
	// have cached pages too.
	s.notifyInheritors(ctx, lot)
	lot.Quality, err = s.qualityOf(ctx, lot)
	return lot, err
}

// checkLabResult validates a result's fields and grades its figures. zone is
// the cooperative's time zone, for "today".
func (s *Service) checkLabResult(l Lot, zone string, req NewLabResult) (LabResult, error) {
	r := LabResult{
		Laboratory:   Laboratory{Name: strings.TrimSpace(req.Laboratory.Name), Accreditation: strings.TrimSpace(req.Laboratory.Accreditation)},
		ReportNumber: strings.TrimSpace(req.ReportNumber), SampleDate: strings.TrimSpace(req.SampleDate),
		ReportDate: strings.TrimSpace(req.ReportDate), Method: strings.TrimSpace(req.Method), Standard: strings.TrimSpace(req.Edition),
		Form: strings.TrimSpace(req.Form), ReportedCategory: strings.TrimSpace(req.ReportedCategory), Flags: []string{},
	}
	if err := problem.RequireText("laboratory.name", r.Laboratory.Name, maxLabText); err != nil {
		return r, err
	}
	if err := problem.RequireText("laboratory.accreditation", r.Laboratory.Accreditation, maxLabText); err != nil {
		return r, problem.Field("laboratory.accreditation", "is required: the laboratory's ISO/IEC 17025 accreditation number")
	}
	if r.ReportNumber != "" {
		if err := problem.RequireText("report_number", r.ReportNumber, maxLabText); err != nil {
			return r, err
		}
	}
	if r.Method == "" {
		r.Method = ISO3632Method
	}
	if r.Method != ISO3632Method && r.Method != ISO3632Method+":2010" {
		return r, problem.Field("method", "must be %s: the categories are defined by its spectrophotometric methods", ISO3632Method)
	}
	r.Method = ISO3632Method
	if r.Standard == "" {
		r.Standard = DefaultISO3632Edition
	}
	ed, ok := ISO3632EditionOf(r.Standard)
	if !ok {
		var known []string
		for _, e := range iso3632Editions {
			known = append(known, e.Standard)
		}
		return r, problem.Field("edition", "must be one of %s (the thresholds of other editions are not in the table)", strings.Join(known, ", "))
	}
	if r.Form == "" {
		r.Form = FormFilaments
	}
	if err := problem.OneOf("form", r.Form, []string{FormFilaments, FormPowder}); err != nil {
		return r, err
	}
	if r.ReportedCategory != "" {
		if err := problem.OneOf("reported_category", r.ReportedCategory, []string{"I", "II", "III"}); err != nil {
			return r, err
		}
	}
	// Dates: sampled on or after the first harvest, reported on or after
	// sampling, and not after today where the cooperative is.
	sample, err := time.Parse(time.DateOnly, r.SampleDate)
	if err != nil {
		return r, problem.Field("sample_date", "must be a calendar date as YYYY-MM-DD")
	}
	report, err := time.Parse(time.DateOnly, r.ReportDate)
	if err != nil {
		return r, problem.Field("report_date", "must be a calendar date as YYYY-MM-DD")
	}
	today := localDay(s.now(), zone)
	if r.ReportDate > today {
		return r, problem.Field("report_date", "is after today (%s)", today)
	}
	if sample.After(report) {
		return r, problem.Field("sample_date", "is after the report date %s: a sample is analysed after it is taken", r.ReportDate)
	}
	if last := lastHarvest(l); last != "" && r.SampleDate < last {
		return r, problem.Field("sample_date", "is before the lot's last harvest (%s): the lot did not exist yet", last)
	}
	var f LabFigures
	figures := []struct {
		field string
		in    Figure
		out   *Measure
	}{{"e257", req.E257, &f.E257}, {"e330", req.E330, &f.E330}, {"e440", req.E440, &f.E440},
		{"moisture", req.Moisture, &f.Moisture}, {"floral_waste", req.FloralWaste, &f.FloralWaste}, {"foreign_matter", req.ForeignMatter, &f.ForeignMatter}}
	for _, x := range figures {
		if x.field == "floral_waste" && r.Form == FormPowder && strings.TrimSpace(string(x.in)) == "" {
			continue // floral waste cannot be told apart in powder
		}
		v, err := ParseFigure(x.field, x.in)
		if err != nil {
			return r, err
		}
		*x.out = v
	}
	for _, a := range []struct {
		field string
		v     Measure
	}{{"e257", f.E257}, {"e330", f.E330}, {"e440", f.E440}} {
		if a.v <= 0 {
			return r, problem.Field(a.field, "must be a positive absorbance (E1%%1cm), got %s", a.v)
		}
		if limit := absorbanceLimits[a.field]; a.v > limit {
			return r, problem.Field(a.field, "is %s; no saffron gives more than about half of %s: check the dilution and the decimal point", a.v, limit)
		}
	}
	for _, p := range []struct {
		field string
		v     Measure
	}{{"moisture", f.Moisture}, {"floral_waste", f.FloralWaste}, {"foreign_matter", f.ForeignMatter}} {
		if p.v < 0 || p.v > M(100) {
			return r, problem.Field(p.field, "must be a percentage of the sample's mass, from 0 to 100, got %s", p.v)
		}
	}
	if total := f.Moisture + f.FloralWaste + f.ForeignMatter; total > M(100) {
		return r, problem.Field("foreign_matter", "moisture, floral waste and foreign matter add up to %s %%, more than the whole sample", total)
	}
	r.Figures = f
	g := GradeFigures(ed, r.Form, f)
	r.Category, r.Misses = g.Category, g.Misses
	return r, nil
}

// labFlags are the unusual findings of a result on a lot (see the package
// comment of this file); each flags the lot.
func labFlags(l Lot, r LabResult) []string {
	f := r.Figures
	out := []string{}
	if f.E440 > crocinSuspect {
		out = append(out, fmt.Sprintf("colouring strength E440 %s is above the best saffrons (%s): check the dilution, or a colourant", f.E440, crocinSuspect))
	}
	if ratio := float64(f.E440) / float64(f.E257); ratio < crocinPerPicrocrocinMin || ratio > crocinPerPicrocrocinMax {
		out = append(out, fmt.Sprintf("E440 / E257 is %.2f; in saffron colour and bitterness come together from the stigma (%.1f to %.1f)",
			ratio, crocinPerPicrocrocinMin, crocinPerPicrocrocinMax))
	}
	if f.Moisture < moistureSuspect {
		out = append(out, fmt.Sprintf("moisture %s %% is unusually low for saffron (below %s %%): check the figure", f.Moisture, moistureSuspect))
	}
	if r.ReportedCategory != "" && r.ReportedCategory != r.Category {
		got := r.Category
		if got == "" {
			got = "none"
		}
		out = append(out, fmt.Sprintf("the report says category %s but its figures give %s against %s", r.ReportedCategory, got, r.Standard))
	}
	for _, prev := range l.LabResults {
		if categoryRank(r.Category) < categoryRank(prev.Category) {
			out = append(out, fmt.Sprintf("re-tested into a better category than result %s of %s", prev.ID, prev.ReportDate))
			break
		}
	}
	return out
}

// localDay is t's calendar day in zone.
func localDay(t time.Time, zone string) string {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format(time.DateOnly)
}

// lastHarvest is the latest harvest day of a lot's origin: no sample of the
// lot can be older, since part of it was still in the field.
func lastHarvest(l Lot) string {
	last := ""
	for _, o := range l.Origin {
		if o.Date > last {
			last = o.Date
		}
	}
	return last
}

// labDigest is the canonical form of a result written as its tested event's
// note (version 1): "lab_result " and a JSON object of every field but Seq
// and Misses (derived from the figures), written by hand like
// CanonicalEvent so that the encoding never drifts.
func labDigest(r LabResult) string {
	b := []byte(`lab_result {"v":1`)
	str := func(k, v string) {
		b = append(b, ',')
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, v)
	}
	str("id", r.ID)
	str("laboratory", r.Laboratory.Name)
	str("accreditation", r.Laboratory.Accreditation)
	str("report_number", r.ReportNumber)
	str("sample_date", r.SampleDate)
	str("report_date", r.ReportDate)
	str("method", r.Method)
	str("standard", r.Standard)
	str("form", r.Form)
	f := r.Figures
	for _, x := range []struct {
		k string
		v Measure
	}{{"e257", f.E257}, {"e330", f.E330}, {"e440", f.E440}, {"moisture", f.Moisture}, {"floral_waste", f.FloralWaste}, {"foreign_matter", f.ForeignMatter}} {
		b = append(b, `,"`+x.k+`":`...)
		b = strconv.AppendInt(b, int64(x.v), 10)
	}
	str("category", r.Category)
	str("reported_category", r.ReportedCategory)
	if r.Report != nil {
		str("report_sha256", r.Report.SHA256)
		str("report_type", r.Report.ContentType)
		b = append(b, `,"report_size":`...)
		b = strconv.AppendInt(b, r.Report.Size, 10)
	}
	b = append(b, `,"flags":[`...)
	for i, fl := range r.Flags {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, fl)
	}
	b = append(b, ']')
	str("recorded_by", r.RecordedBy)
	str("recorded_at", r.RecordedAt.UTC().Format(canonicalTimeLayout))
	return string(append(b, '}'))
}

// labResultsBound checks that a lot's stored results are those its tested
// events sealed, one for one and in order; it returns why not, or "".
func labResultsBound(l Lot) string {
	var tested []Event
	for _, e := range l.Events {
		if e.Type == EventTested {
			tested = append(tested, e)
		}
	}
	if len(tested) != len(l.LabResults) {
		return fmt.Sprintf("holds %d laboratory results but its chain has %d tested events", len(l.LabResults), len(tested))
	}
	for i, r := range l.LabResults {
		if tested[i].Seq != r.Seq || tested[i].Note != labDigest(r) {
			return fmt.Sprintf("laboratory result %s is not what its tested event %d sealed", r.ID, tested[i].Seq)
		}
	}
	return ""
}

// latestResult is the lot's own result a page shows: the latest sample,
// then the latest report, then the latest recorded.
func latestResult(l Lot) *LabResult {
	var best *LabResult
	for i := range l.LabResults {
		r := &l.LabResults[i]
		if best == nil || r.SampleDate > best.SampleDate || (r.SampleDate == best.SampleDate && r.ReportDate >= best.ReportDate) {
			best = r
		}
	}
	return best
}

// inheritsQuality says whether a lot shows the quality of its one input:
// packing, or sorting a single lot.
func inheritsQuality(l Lot) bool {
	if len(l.Inputs) != 1 {
		return false
	}
	return l.Source == SourcePacking || (l.Source == SourceTransformation && l.Process == "sorting")
}

// QualityOf returns the ISO 3632 quality a lot shows (see the rules at the
// top of this file), or nil. It reads the lots a result is inherited from,
// each by _id.
func (s *Service) QualityOf(ctx context.Context, l Lot) (*Quality, error) { return s.qualityOf(ctx, l) }

func (s *Service) qualityOf(ctx context.Context, l Lot) (*Quality, error) {
	return s.qualityWith(ctx, l, nil)
}

// qualityWith is qualityOf reading ancestors from known first (the lots of
// an evidence file, already in memory), then from the store.
func (s *Service) qualityWith(ctx context.Context, l Lot, known map[string]Lot) (*Quality, error) {
	if l.ProductKind != qualityKind {
		return nil, nil
	}
	cur := l
	for range maxAncestors {
		if r := latestResult(cur); r != nil {
			return &Quality{Standard: r.Standard, Category: r.Category, Laboratory: r.Laboratory.Name, ReportDate: r.ReportDate,
				SampleDate: r.SampleDate, Result: r.ID, TestedLot: cur.Code, Inherited: cur.Code != l.Code}, nil
		}
		if !inheritsQuality(cur) {
			return nil, nil
		}
		parent, ok := known[cur.Inputs[0].Lot]
		if !ok {
			var err error
			if parent, err = s.store.lot(ctx, cur.Inputs[0].Lot); err != nil {
				return nil, err
			}
		}
		if parent.ProductKind != qualityKind {
			return nil, nil
		}
		cur = parent
	}
	return nil, nil
}

// notifyInheritors tells the lot watchers (trace page caches) about every
// lot that shows l's result without holding one: the lots packed from it or
// sorted from it alone, and theirs.
func (s *Service) notifyInheritors(ctx context.Context, l Lot) {
	queue := []Lot{l}
	seen := map[string]bool{l.Code: true}
	for len(queue) > 0 && len(seen) <= maxAncestors {
		cur := queue[0]
		queue = queue[1:]
		for _, e := range cur.Events {
			if e.Type != EventConsumed {
				continue
			}
			for _, o := range e.Outputs {
				if seen[o.Lot] {
					continue
				}
				seen[o.Lot] = true
				child, err := s.store.lot(ctx, o.Lot)
				if err != nil || !inheritsQuality(child) || len(child.LabResults) > 0 {
					continue
				}
				s.store.lotChanged(child.Code)
				queue = append(queue, child)
			}
		}
	}
}

// CategoryMention is what a label prints of a lot's quality: "Catégorie I
// (ISO 3632)", and true, only when the lot shows a category (its own
// result, or the result of the lot it was packed or sorted from).
func CategoryMention(q *Quality) (string, bool) {
	if q == nil || q.Category == "" {
		return "", false
	}
	return "Catégorie " + q.Category + " (ISO 3632)", true
}

// CheckCategoryClaim refuses to print category on lot code unless the lot's
// quality backs it: 409 on field "category" for a lot without a result, one
// whose result meets no category, or one of another category.
func CheckCategoryClaim(code string, q *Quality, category string) error {
	category = strings.TrimSpace(category)
	switch {
	case category == "":
		return nil
	case q == nil:
		return refusal(problem.Conflict, "category", "lot %s has no laboratory result: no ISO 3632 category can be printed", code)
	case q.Category == "":
		return refusal(problem.Conflict, "category", "lot %s was tested (report of %s) but meets no ISO 3632 category", code, q.ReportDate)
	case q.Category != category:
		return refusal(problem.Conflict, "category", "lot %s is category %s (report of %s), not %s", code, q.Category, q.ReportDate, category)
	}
	return nil
}

// Report is a stored laboratory report, ready to serve.
type Report struct {
	ContentType string // found by content: application/pdf, image/png or image/jpeg
	FileName    string // ours ("report-{lot}-{result}.pdf"), never the uploader's
	Size        int64
	SHA256      string
	Body        io.Reader // checks the SHA-256 when read to the end
}

// Headers are the response headers a report is served with: its own type,
// as an attachment, never sniffed, and sandboxed, so that nothing an
// uploader put in a file runs in the site's origin.
func (r Report) Headers() map[string]string {
	return map[string]string{
		"Content-Type":            r.ContentType,
		"Content-Disposition":     `attachment; filename="` + r.FileName + `"`,
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "sandbox; default-src 'none'",
		"Cache-Control":           "private, no-store",
	}
}

// ErrLabResultNotFound is returned for an unknown result or a result
// without a report file.
var ErrLabResultNotFound = problem.New(problem.NotFound, "laboratory report not found")

// LabReport returns the report file of one of a lot's results to those who
// may read the lot.
func (s *Service) LabReport(ctx context.Context, actor access.Actor, code, resultID string) (Report, error) {
	l, err := s.Lot(ctx, actor, code)
	if err != nil {
		return Report{}, err
	}
	i := slices.IndexFunc(l.LabResults, func(r LabResult) bool { return r.ID == resultID })
	if i < 0 || l.LabResults[i].Report == nil {
		return Report{}, ErrLabResultNotFound
	}
	rf := l.LabResults[i].Report
	body, err := s.store.openBlob(ctx, reportBlobID(rf.SHA256))
	if err != nil {
		return Report{}, err
	}
	return Report{ContentType: rf.ContentType, FileName: "report-" + l.Code + "-" + resultID + extensionOf(rf.ContentType),
		Size: rf.Size, SHA256: rf.SHA256, Body: body}, nil
}
