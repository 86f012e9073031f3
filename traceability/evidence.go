package traceability

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/bundle"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
)

// The evidence file is what a control body asks a cooperative for, per
// season (or for one lot): the cooperative and its members by gender, its
// parcels with their area and outline, the harvests, the transformations
// with their yields and the flags with their justifications, the mass
// balance, the certificates with their status history and the laboratory
// results — as a PDF summary for people (web/documents renders it from
// EvidenceFile) and as machine-readable files: CSV, the parcels as GeoJSON,
// the EPCIS 2.0 document, the laboratory reports as uploaded. WriteEvidence
// puts them in one ZIP with a manifest of their sizes and SHA-256
// (internal/bundle). Large files are made in the background (EvidenceJobs).
//
// Access: the cooperative, its auditors and the admin (access.ReadCoop).
// The file names members, as the register the control body checks does;
// the public trace page never does.
//
// A season runs from 1 September to 31 August and is named by its first
// year (seasonOf): its harvests by their day, its lots by when they were
// made. A lot's file holds the lot and every lot it was made from, with
// their harvests, parcels, members, certificates and results, and the
// lot's own EPCIS document.

// EvidenceRequest names an evidence file: a cooperative's season, or one
// lot (then Season is ignored and Cooperative may be empty).
type EvidenceRequest struct {
	Cooperative string
	Season      int
	Lot         string
}

// EvidenceStep is one transformation: its inputs and what each output
// yielded.
type EvidenceStep struct {
	Process   string           `json:"process"`
	Date      string           `json:"date"`
	InputKind string           `json:"input_kind"`
	Inputs    []EventRef       `json:"inputs"`
	InTotal   int64            `json:"input_total"`
	InUnit    Unit             `json:"input_unit"`
	Outputs   []EvidenceOutput `json:"outputs"`
}

// EvidenceOutput is a lot a transformation made, with its yield.
type EvidenceOutput struct {
	Lot      string `json:"lot"`
	Kind     string `json:"product_kind"`
	Quantity int64  `json:"quantity"` // base units, corrected
	Unit     Unit   `json:"unit"`
	Yield    string `json:"yield"`   // 20 %, 7.5 l per kg
	Typical  string `json:"typical"` // the plausibility table's range, "" without a row
}

// EvidenceFlag is a plausibility or laboratory finding and its answer.
type EvidenceFlag struct {
	Lot string `json:"lot"`
	Flag
}

// EvidenceLabResult is a laboratory result and the lot it was recorded on.
type EvidenceLabResult struct {
	Lot        string `json:"lot"`
	ReportFile string `json:"report_file,omitempty"` // its name in the ZIP
	LabResult
}

// EvidenceAccount is what a lot's events say of its quantity.
type EvidenceAccount struct {
	Lot  string `json:"lot"`
	Kind string `json:"product_kind"`
	Unit Unit   `json:"unit"`
	LotAccount
}

// EvidenceFile is the data of an evidence file.
type EvidenceFile struct {
	Title       string
	Cooperative Cooperative
	Season      int    // 0 for a lot's file
	Lot         string // the lot of a lot's file
	GeneratedAt time.Time
	GeneratedBy string
	// Members of the cooperative (a lot's file: those behind the lot), and
	// the count by gender; Active* count those who harvested.
	Members                   []Member
	Women, Men                int
	ActiveWomen, ActiveMen    int
	Parcels                   []Parcel
	Harvests                  []Harvest
	Lots                      []Lot // oldest first
	Steps                     []EvidenceStep
	Flags                     []EvidenceFlag
	MassBalance               []BalanceRow // a season's; nil for a lot's file
	Accounts                  []EvidenceAccount
	Certificates              []Certification
	LabResults                []EvidenceLabResult
	Thresholds                []ISO3632Edition // the editions the results were graded against
	EPCIS                     EPCISDocument
	CertificateStatusAtExport map[string]string // certificate ID → status on GeneratedAt
}

// FileName is the ZIP's name: evidence-{coop}-{season}.zip or
// evidence-{lot}.zip.
func (f EvidenceFile) FileName() string {
	if f.Lot != "" {
		return "evidence-" + f.Lot + ".zip"
	}
	return fmt.Sprintf("evidence-%s-%d.zip", f.Cooperative.Code, f.Season)
}

// EvidenceProgress is how far the making of a file is: a stage and, within
// it, Done of Total items. Stages: records, lots, epcis, summary, archive.
type EvidenceProgress struct {
	Stage string `json:"stage" bson:"stage"`
	Done  int    `json:"done" bson:"done"`
	Total int    `json:"total" bson:"total"`
}

// Stages of EvidenceProgress.
const (
	StageRecords = "records"
	StageLots    = "lots"
	StageEPCIS   = "epcis"
	StageSummary = "summary"
	StageArchive = "archive"
)

// SummaryRenderer writes the PDF summary of an evidence file
// (documents.EvidencePDF in web/documents).
type SummaryRenderer func(w io.Writer, f EvidenceFile) error

// checkEvidenceRequest validates a request and the actor's access, and
// returns the cooperative the file is about.
func (s *Service) checkEvidenceRequest(ctx context.Context, actor access.Actor, req *EvidenceRequest) error {
	req.Cooperative, req.Lot = id.NormalizeCode(req.Cooperative), NormalizeLotCode(req.Lot)
	if req.Lot != "" {
		l, err := s.Lot(ctx, actor, req.Lot)
		if err != nil {
			return err
		}
		if req.Cooperative != "" && req.Cooperative != l.Cooperative {
			return ErrLotNotFound
		}
		req.Cooperative, req.Season = l.Cooperative, 0
		return nil
	}
	if err := actor.ReadCoop(req.Cooperative); err != nil {
		return err
	}
	if req.Season < 2000 || req.Season > 2100 {
		return problem.Field("season", "must be a year such as 2026 (the season from 1 September)")
	}
	_, err := s.store.cooperative(ctx, req.Cooperative)
	return err
}

// Evidence gathers the data of an evidence file. progress, when not nil,
// is told how far it is.
func (s *Service) Evidence(ctx context.Context, actor access.Actor, req EvidenceRequest, codes Codes, progress func(EvidenceProgress)) (EvidenceFile, error) {
	if progress == nil {
		progress = func(EvidenceProgress) {}
	}
	if err := s.checkEvidenceRequest(ctx, actor, &req); err != nil {
		return EvidenceFile{}, err
	}
	progress(EvidenceProgress{Stage: StageRecords})
	coop, err := s.store.cooperative(ctx, req.Cooperative)
	if err != nil {
		return EvidenceFile{}, err
	}
	f := EvidenceFile{Cooperative: coop, Season: req.Season, Lot: req.Lot, GeneratedAt: s.now().UTC(), GeneratedBy: actor.Email,
		CertificateStatusAtExport: map[string]string{}}
	all := mongodb.Page{Limit: 1_000_000}
	if req.Lot != "" {
		f.Title = "Dossier de preuves du lot " + req.Lot
		err = s.lotEvidence(ctx, actor, &f, codes)
	} else {
		f.Title = fmt.Sprintf("Dossier de preuves %s, campagne %d-%d", coop.Name, req.Season, req.Season+1)
		err = s.seasonEvidence(ctx, &f, codes, all, progress)
	}
	if err != nil {
		return EvidenceFile{}, err
	}
	active := map[string]bool{}
	for _, h := range f.Harvests {
		active[h.Member] = true
	}
	for _, m := range f.Members {
		female := m.Gender == "female"
		switch {
		case female:
			f.Women++
		default:
			f.Men++
		}
		if active[m.ID] && female {
			f.ActiveWomen++
		} else if active[m.ID] {
			f.ActiveMen++
		}
	}
	known := make(map[string]Lot, len(f.Lots))
	for _, l := range f.Lots {
		known[l.Code] = l
	}
	for i := range f.Lots {
		if f.Lots[i].Quality, err = s.qualityWith(ctx, f.Lots[i], known); err != nil {
			return EvidenceFile{}, err
		}
		f.lotRecords(f.Lots[i])
		progress(EvidenceProgress{Stage: StageLots, Done: i + 1, Total: len(f.Lots)})
	}
	f.Steps = evidenceSteps(f.Lots)
	for _, c := range f.Certificates {
		f.CertificateStatusAtExport[c.ID] = c.StatusOn(f.GeneratedAt)
	}
	return f, nil
}

func (s *Service) seasonEvidence(ctx context.Context, f *EvidenceFile, codes Codes, all mongodb.Page, progress func(EvidenceProgress)) error {
	coop := f.Cooperative.Code
	var err error
	if f.Members, err = s.store.members(ctx, coop, all); err != nil {
		return err
	}
	if f.Parcels, err = s.store.parcels(ctx, coop, all); err != nil {
		return err
	}
	harvests, err := s.store.harvests(ctx, coop, all)
	if err != nil {
		return err
	}
	for _, h := range harvests {
		if d, err := time.Parse(time.DateOnly, h.Date); err == nil && seasonOf(d) == f.Season {
			f.Harvests = append(f.Harvests, h)
		}
	}
	lots, err := s.store.lots(ctx, coop, false, all)
	if err != nil {
		return err
	}
	for _, l := range lots {
		if seasonOf(l.CreatedAt) == f.Season {
			f.Lots = append(f.Lots, l)
		}
	}
	if f.Certificates, err = s.store.certificationsOf(ctx, coop); err != nil {
		return err
	}
	f.MassBalance = massBalance(lots, f.Season)
	progress(EvidenceProgress{Stage: StageEPCIS})
	f.EPCIS, err = s.seasonEPCIS(ctx, codes, lots, f.Season)
	sortEvidence(f)
	return err
}

func (s *Service) lotEvidence(ctx context.Context, actor access.Actor, f *EvidenceFile, codes Codes) error {
	l, err := s.store.lot(ctx, f.Lot)
	if err != nil {
		return err
	}
	f.Lots = []Lot{l}
	seen := map[string]bool{l.Code: true}
	for i := 0; i < len(f.Lots) && len(f.Lots) <= maxAncestors; i++ {
		for _, in := range f.Lots[i].Inputs {
			if seen[in.Lot] {
				continue
			}
			seen[in.Lot] = true
			parent, err := s.store.lot(ctx, in.Lot)
			if err != nil {
				return err
			}
			f.Lots = append(f.Lots, parent)
		}
	}
	members, parcels, harvests, certs := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, x := range f.Lots {
		for _, o := range x.Origin {
			if !harvests[o.Harvest] {
				harvests[o.Harvest] = true
				h, err := s.store.harvest(ctx, o.Harvest)
				if err != nil {
					return err
				}
				f.Harvests = append(f.Harvests, h)
			}
			if !parcels[o.Parcel] {
				parcels[o.Parcel] = true
				p, err := s.store.parcel(ctx, o.Parcel)
				if err != nil {
					return err
				}
				f.Parcels = append(f.Parcels, p)
			}
			if !members[o.Member] {
				members[o.Member] = true
				m, err := s.store.member(ctx, o.Member)
				if err != nil {
					return err
				}
				f.Members = append(f.Members, m)
			}
		}
		for _, cl := range x.Claims {
			if !certs[cl.Certification] {
				certs[cl.Certification] = true
				c, err := s.store.certification(ctx, cl.Certification)
				if err != nil {
					return err
				}
				f.Certificates = append(f.Certificates, c)
			}
		}
	}
	if f.EPCIS, err = s.EPCIS(ctx, actor, l.Code, codes); err != nil {
		return err
	}
	sortEvidence(f)
	return nil
}

// sortEvidence puts the records in the order people read them: lots
// oldest first, each after the lots it was made from, harvests by day,
// members and parcels by name.
func sortEvidence(f *EvidenceFile) {
	slices.SortStableFunc(f.Lots, func(a, b Lot) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Code, b.Code)
	})
	f.Lots = inputsFirst(f.Lots)
	slices.SortStableFunc(f.Harvests, func(a, b Harvest) int { return strings.Compare(a.Date+a.ID, b.Date+b.ID) })
	slices.SortStableFunc(f.Members, func(a, b Member) int { return strings.Compare(a.Name+a.ID, b.Name+b.ID) })
	slices.SortStableFunc(f.Parcels, func(a, b Parcel) int { return strings.Compare(a.Name+a.ID, b.Name+b.ID) })
	slices.SortStableFunc(f.Certificates, func(a, b Certification) int { return strings.Compare(a.Scheme+a.Number, b.Scheme+b.Number) })
}

// inputsFirst orders lots so that each comes after the lots of the list it
// was made from (lots made in the same instant, as a script or an import
// records them, keep their making order), otherwise keeping their order.
func inputsFirst(lots []Lot) []Lot {
	in := make(map[string]bool, len(lots))
	for _, l := range lots {
		in[l.Code] = true
	}
	placed := make(map[string]bool, len(lots))
	out := make([]Lot, 0, len(lots))
	for len(out) < len(lots) {
		progressed := false
		for _, l := range lots {
			if placed[l.Code] {
				continue
			}
			ready := true
			for _, x := range l.Inputs {
				if in[x.Lot] && !placed[x.Lot] {
					ready = false
					break
				}
			}
			if ready {
				placed[l.Code] = true
				out = append(out, l)
				progressed = true
			}
		}
		if !progressed { // a cycle cannot be recorded; keep what is left as is
			for _, l := range lots {
				if !placed[l.Code] {
					out = append(out, l)
				}
			}
			break
		}
	}
	return out
}

// lotRecords adds a lot's flags, account and results to the file.
func (f *EvidenceFile) lotRecords(l Lot) {
	for _, fl := range l.Flags {
		f.Flags = append(f.Flags, EvidenceFlag{Lot: l.Code, Flag: fl})
	}
	f.Accounts = append(f.Accounts, EvidenceAccount{Lot: l.Code, Kind: l.ProductKind, Unit: l.Unit, LotAccount: AccountOf(l.Events)})
	for _, r := range l.LabResults {
		er := EvidenceLabResult{Lot: l.Code, LabResult: r}
		if r.Report != nil {
			er.ReportFile = "reports/" + l.Code + "-" + r.ID + extensionOf(r.Report.ContentType)
		}
		f.LabResults = append(f.LabResults, er)
		if !slices.ContainsFunc(f.Thresholds, func(e ISO3632Edition) bool { return e.Standard == r.Standard }) {
			if ed, ok := ISO3632EditionOf(r.Standard); ok {
				f.Thresholds = append(f.Thresholds, ed)
			}
		}
	}
}

// evidenceSteps groups the transformation outputs of the lots by the step
// that made them (the outputs sharing one consumption of their first
// input), oldest first.
func evidenceSteps(lots []Lot) []EvidenceStep {
	byCode := make(map[string]Lot, len(lots))
	for _, l := range lots {
		byCode[l.Code] = l
	}
	index := map[string]int{}
	var steps []EvidenceStep
	for _, l := range lots {
		if l.Source != SourceTransformation || len(l.Inputs) == 0 {
			continue
		}
		key := l.Inputs[0].Lot + "|" + l.CreatedAt.String()
		if first, ok := byCode[l.Inputs[0].Lot]; ok {
			key = stepKey(first, l.Code)
		}
		i, ok := index[key]
		if !ok {
			st := EvidenceStep{Process: l.Process, Date: l.CreatedAt.Format(time.DateOnly), Inputs: l.Inputs, InUnit: l.Inputs[0].Unit}
			if first, ok := byCode[l.Inputs[0].Lot]; ok {
				st.InputKind = first.ProductKind
			}
			for _, in := range l.Inputs {
				st.InTotal += in.Quantity
			}
			steps = append(steps, st)
			i = len(steps) - 1
			index[key] = i
		}
		st := &steps[i]
		out := EvidenceOutput{Lot: l.Code, Kind: l.ProductKind, Quantity: l.CurrentQuantity(), Unit: l.Unit}
		if st.InTotal > 0 {
			out.Yield = formatYield(float64(out.Quantity)/float64(st.InTotal), st.InUnit, l.Unit)
		}
		if r, ok := yieldRange(l.Process, st.InputKind, l.ProductKind); ok {
			out.Typical = r.Typical
		}
		st.Outputs = append(st.Outputs, out)
	}
	return steps
}

// EvidenceParts are the machine-readable files of an evidence file: CSV
// files, the parcels as GeoJSON and the EPCIS 2.0 document, by name.
func EvidenceParts(f EvidenceFile) ([]bundle.File, error) {
	type table struct {
		name string
		rows [][]string
	}
	memberName := map[string]string{}
	for _, m := range f.Members {
		memberName[m.ID] = m.Name
	}
	i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	day := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	members := [][]string{{"id", "code", "name", "gender", "village", "commune"}}
	for _, m := range f.Members {
		members = append(members, []string{m.ID, csvText(m.Code), csvText(m.Name), m.Gender, csvText(m.Village), csvText(m.Commune)})
	}
	parcels := [][]string{{"id", "code", "name", "member", "member_name", "commune", "area_m2", "crop", "lon", "lat", "outline"}}
	for _, p := range f.Parcels {
		parcels = append(parcels, []string{p.ID, csvText(p.Code), csvText(p.Name), p.Member, csvText(memberName[p.Member]), csvText(p.Commune),
			i64(p.AreaM2), p.Crop, strconv.FormatFloat(p.Lon, 'f', 6, 64), strconv.FormatFloat(p.Lat, 'f', 6, 64), p.Location.Type})
	}
	harvests := [][]string{{"id", "date", "parcel", "member", "crop", "quantity_mg", "recorded_quantity_mg", "corrections", "lot", "flag"}}
	for _, h := range f.Harvests {
		recorded := h.Quantity
		if len(h.Corrections) > 0 {
			recorded = h.Corrections[0].From
		}
		harvests = append(harvests, []string{h.ID, h.Date, h.Parcel, h.Member, h.Crop, i64(h.Quantity), i64(recorded),
			strconv.Itoa(len(h.Corrections)), h.Lot, csvText(h.Flag)})
	}
	lots := [][]string{{"code", "product_kind", "source", "process", "sku", "gtin", "best_before", "unit", "quantity", "corrections",
		"available", "consumed", "packed", "shipped", "created_at", "inputs", "claims", "iso3632_category", "iso3632_tested_lot", "open_flags"}}
	for _, l := range f.Lots {
		a := AccountOf(l.Events)
		var ins, claims []string
		for _, in := range l.Inputs {
			ins = append(ins, in.Lot+":"+i64(in.Quantity)+" "+string(in.Unit))
		}
		for _, c := range l.Claims {
			claims = append(claims, c.Scheme)
		}
		category, tested := "", ""
		if q := l.Quality; q != nil {
			category, tested = q.Category, q.TestedLot
			if category == "" {
				category = "none"
			}
		}
		lots = append(lots, []string{l.Code, l.ProductKind, l.Source, l.Process, csvText(l.SKU), l.GTIN, l.BestBefore, string(l.Unit),
			i64(l.Quantity), i64(l.Corrections), i64(l.Available), i64(a.Consumed), i64(a.Packed), i64(a.Shipped), day(l.CreatedAt),
			strings.Join(ins, "; "), csvText(strings.Join(claims, "; ")), category, tested, strconv.Itoa(l.OpenFlags())})
	}
	steps := [][]string{{"date", "process", "input_kind", "inputs", "input_total", "input_unit", "output_lot", "output_kind", "output_quantity", "output_unit", "yield", "typical"}}
	for _, st := range f.Steps {
		var ins []string
		for _, in := range st.Inputs {
			ins = append(ins, in.Lot+":"+i64(in.Quantity))
		}
		for _, o := range st.Outputs {
			steps = append(steps, []string{st.Date, st.Process, st.InputKind, strings.Join(ins, "; "), i64(st.InTotal), string(st.InUnit),
				o.Lot, o.Kind, i64(o.Quantity), string(o.Unit), o.Yield, o.Typical})
		}
	}
	flags := [][]string{{"lot", "flag", "kind", "reason", "raised_at", "justification", "justified_by", "justified_at"}}
	for _, fl := range f.Flags {
		flags = append(flags, []string{fl.Lot, fl.ID, fl.Kind, csvText(fl.Reason), day(fl.RaisedAt), csvText(fl.Justification), csvText(fl.JustifiedBy), day(fl.JustifiedAt)})
	}
	balance := [][]string{{"product_kind", "unit", "lots", "harvested", "produced", "corrections", "transformed", "packed", "on_hand", "losses",
		"packed_units", "unit_corrections", "shipped_units", "shipped", "sold_units", "sold", "on_hand_units", "transformation_loss", "yield_percent", "unexplained", "reconciles", "inconsistent_lots"}}
	for _, r := range f.MassBalance {
		balance = append(balance, []string{r.ProductKind, string(r.Unit), strconv.Itoa(r.Lots), i64(r.Harvested), i64(r.Produced), i64(r.Corrections),
			i64(r.Transformed), i64(r.Packed), i64(r.OnHand), i64(r.Losses), i64(r.PackedUnits), i64(r.UnitCorrections), i64(r.ShippedUnits),
			i64(r.Shipped), i64(r.SoldUnits), i64(r.Sold), i64(r.OnHandUnits), i64(r.TransformationLoss), r.YieldPercent, i64(r.Unexplained),
			strconv.FormatBool(r.Reconciles()), strings.Join(r.InconsistentLots, "; ")})
	}
	certs := [][]string{{"id", "scheme", "number", "body", "body_code", "valid_from", "valid_to", "status", "status_at_export", "crops", "product_kinds", "parcels"}}
	history := [][]string{{"certificate", "number", "status", "reason", "by", "at"}}
	for _, c := range f.Certificates {
		certs = append(certs, []string{c.ID, csvText(c.Scheme), csvText(c.Number), csvText(c.Body), csvText(c.BodyCode), c.ValidFrom, c.ValidTo, c.Status,
			f.CertificateStatusAtExport[c.ID], strings.Join(c.Crops, "; "), strings.Join(c.ProductKinds, "; "), strings.Join(c.Parcels, "; ")})
		for _, h := range c.History {
			history = append(history, []string{c.ID, csvText(c.Number), h.Status, csvText(h.Reason), csvText(h.By), day(h.At)})
		}
	}
	results := [][]string{{"lot", "result", "laboratory", "accreditation", "report_number", "sample_date", "report_date", "method", "standard", "form",
		"e257", "e330", "e440", "moisture", "floral_waste", "foreign_matter", "category", "reported_category", "report_file", "report_sha256", "flags"}}
	for _, r := range f.LabResults {
		sum := ""
		if r.Report != nil {
			sum = r.Report.SHA256
		}
		fg := r.Figures
		results = append(results, []string{r.Lot, r.ID, csvText(r.Laboratory.Name), csvText(r.Laboratory.Accreditation), csvText(r.ReportNumber),
			r.SampleDate, r.ReportDate, r.Method, r.Standard, r.Form, fg.E257.String(), fg.E330.String(), fg.E440.String(), fg.Moisture.String(),
			fg.FloralWaste.String(), fg.ForeignMatter.String(), r.Category, r.ReportedCategory, r.ReportFile, sum, csvText(strings.Join(r.Flags, "; "))})
	}
	tables := []table{{"members.csv", members}, {"parcels.csv", parcels}, {"harvests.csv", harvests}, {"lots.csv", lots},
		{"transformations.csv", steps}, {"flags.csv", flags}, {"certificates.csv", certs}, {"certificate_history.csv", history},
		{"lab_results.csv", results}}
	if f.Lot == "" {
		tables = append(tables, table{"mass_balance.csv", balance})
	}
	var out []bundle.File
	for _, t := range tables {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		if err := w.WriteAll(t.rows); err != nil {
			return nil, err
		}
		out = append(out, bundle.File{Name: t.name, Data: b.Bytes()})
	}
	geo, err := ParcelsGeoJSON(f.Parcels, memberName)
	if err != nil {
		return nil, err
	}
	epcis, err := json.MarshalIndent(f.EPCIS, "", " ")
	if err != nil {
		return nil, err
	}
	return append(out, bundle.File{Name: "parcels.geojson", Data: geo}, bundle.File{Name: "epcis.json", Data: epcis}), nil
}

// csvText guards a free-text cell against spreadsheet formula injection: a
// cell a spreadsheet would read as a formula (=, +, -, @, a tab or a
// carriage return first) is written with a leading apostrophe.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// ParcelsGeoJSON is the parcels as a GeoJSON FeatureCollection (RFC 7946),
// each with its outline or point as recorded and its register fields.
func ParcelsGeoJSON(parcels []Parcel, memberName map[string]string) ([]byte, error) {
	type feature struct {
		Type       string         `json:"type"`
		ID         string         `json:"id"`
		Geometry   any            `json:"geometry"`
		Properties map[string]any `json:"properties"`
	}
	fc := struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
	}{Type: "FeatureCollection", Features: []feature{}}
	for _, p := range parcels {
		var geom any
		if p.Location.Type != "" {
			geom = p.Location
		}
		fc.Features = append(fc.Features, feature{Type: "Feature", ID: p.ID, Geometry: geom, Properties: map[string]any{
			"code": p.Code, "name": p.Name, "member": p.Member, "member_name": memberName[p.Member], "commune": p.Commune,
			"area_m2": p.AreaM2, "crop": p.Crop}})
	}
	return json.MarshalIndent(fc, "", " ")
}

// WriteEvidence writes a whole evidence file to w as a ZIP: the PDF summary
// (render), the machine-readable parts, the laboratory reports as uploaded
// (reports/{lot}-{result}.pdf…), then the manifest. Errors are those of
// Evidence; progress as there, then the summary and the archive stages.
func (s *Service) WriteEvidence(ctx context.Context, actor access.Actor, req EvidenceRequest, codes Codes, render SummaryRenderer,
	w io.Writer, progress func(EvidenceProgress)) (EvidenceFile, bundle.Manifest, error) {
	if progress == nil {
		progress = func(EvidenceProgress) {}
	}
	f, err := s.Evidence(ctx, actor, req, codes, progress)
	if err != nil {
		return EvidenceFile{}, bundle.Manifest{}, err
	}
	progress(EvidenceProgress{Stage: StageSummary})
	var pdf bytes.Buffer
	if err := render(&pdf, f); err != nil {
		return EvidenceFile{}, bundle.Manifest{}, fmt.Errorf("evidence summary: %w", err)
	}
	parts, err := EvidenceParts(f)
	if err != nil {
		return EvidenceFile{}, bundle.Manifest{}, err
	}
	files := append([]bundle.File{{Name: "summary.pdf", Data: pdf.Bytes()}}, parts...)
	for _, r := range f.LabResults {
		if r.Report == nil {
			continue
		}
		id := reportBlobID(r.Report.SHA256)
		files = append(files, bundle.File{Name: r.ReportFile, Load: func() ([]byte, error) {
			_, b, err := s.store.readBlob(ctx, id)
			return b, err
		}})
	}
	m, err := bundle.Write(w, f.Title, f.GeneratedAt, files, func(done int) {
		progress(EvidenceProgress{Stage: StageArchive, Done: done, Total: len(files)})
	})
	return f, m, err
}
