package traceability

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
)

// Register imports bring a cooperative's registers in from the files they
// are kept in — spreadsheets (CSV, XLSX) and, for parcels, map files
// (GeoJSON, KML, GPX) — in two steps:
//
//   - Preview reads and checks the file without writing anything, and
//     answers how each column was understood and, row by row, what would
//     be created, what is already recorded, and every problem.
//   - Apply checks the file again against the records as they are then,
//     inside Atomically, and writes every row or none.
//
// Rows are matched to records by the cooperative's own codes (a member's
// "N° adhérent", a parcel's code) or, without a code, by name (a parcel's
// name within its member's parcels; a certificate by scheme and number;
// a harvest by all its values). A row equal to its record is "unchanged",
// so importing the same file twice changes nothing. A row that only adds
// what the record lacks (a code; a commune; the walked outline of a
// parcel recorded as a point) "completes" it. A row that contradicts its
// record is refused, naming the field: a register file is as likely to
// hold an old or mis-sorted row as a correction, and members, parcels and
// certificates are referenced by harvests, lots and claims, so they are
// not changed from a file without someone looking at the record.

// Row actions in an ImportPreview.
const (
	ImportCreate    = "create"
	ImportComplete  = "complete"
	ImportUnchanged = "unchanged"
	ImportRefused   = "refused"
)

// ImportPreview is what an import file holds and what importing it does.
// Apply returns it too, with IDs of the records created.
type ImportPreview struct {
	Kind        ImportKind `json:"kind"`
	Cooperative string     `json:"cooperative"`
	Filename    string     `json:"filename"`
	Format      string     `json:"format"`              // csv, xlsx, geojson, kml, gpx
	Delimiter   string     `json:"delimiter,omitempty"` // CSV
	Sheet       string     `json:"sheet,omitempty"`     // XLSX: the sheet read
	Sheets      []string   `json:"sheets,omitempty"`    // XLSX: all sheets, to choose another
	// RowLabel says what Row numbers count: "row" (of the spreadsheet, as
	// it shows them: the header is usually row 1), or "feature",
	// "placemark", "track", "waypoint" (1-based, in the file's order).
	RowLabel  string         `json:"row_label"`
	HeaderRow int            `json:"header_row,omitempty"`
	Columns   []ImportColumn `json:"columns"`
	// Missing lists the fields a new record needs that no column fills.
	Missing []string    `json:"missing,omitempty"`
	Rows    []ImportRow `json:"rows"`
	// Problems is every problem of the file, in row order: those of the
	// header (Row = HeaderRow) first, then each row's (also in Rows).
	Problems []RowError `json:"problems"`
	// NewPlaces are villages and communes no one knew, recorded because
	// the import was told to accept them (AcceptNewPlaces).
	NewPlaces []string     `json:"new_places,omitempty"`
	Counts    ImportCounts `json:"counts"`
	Applied   bool         `json:"applied"` // Apply wrote the rows
}

// ImportCounts sums the rows by action.
type ImportCounts struct {
	Rows      int `json:"rows"`
	Create    int `json:"create"`
	Complete  int `json:"complete"`
	Unchanged int `json:"unchanged"`
	Refused   int `json:"refused"`
}

// ImportRow is one row of the file and what importing it does.
type ImportRow struct {
	Row    int    `json:"row"`
	Action string `json:"action"`       // create, complete, unchanged or refused
	ID     string `json:"id,omitempty"` // the record matched, or created by Apply
	// Values are the row's values as they would be stored, by field
	// (area_m2 in square metres, dates as YYYY-MM-DD, member as its ID
	// and member_name…), for the preview to show what was understood.
	Values map[string]string `json:"values"`
	// Completes names the fields a "complete" row fills in.
	Completes []string   `json:"completes,omitempty"`
	Problems  []RowError `json:"problems,omitempty"`
}

// OK reports whether Apply would write the file: it has rows and no
// problem.
func (p ImportPreview) OK() bool { return len(p.Problems) == 0 && len(p.Rows) > 0 }

// issue is a row problem without its row yet: key is an English format
// string that is also the message's translation key, args its arguments.
func issue(field, key string, args ...string) RowError {
	a := make([]any, len(args))
	for i, s := range args {
		a[i] = s
	}
	return RowError{Field: field, Key: key, Args: args, Message: fmt.Sprintf(key, a...)}
}

// issueOf turns a validator's error into a row problem. Validators shared
// with the forms give their message already formatted, which is then also
// the key (problem.Error has no arguments to give).
func issueOf(err error) RowError {
	if p, ok := problem.As(err); ok {
		return RowError{Field: p.Field, Key: p.Message, Message: p.Message, Problem: p}
	}
	return RowError{Key: "could not be checked", Message: "could not be checked"}
}

// importWrite stores one row; it returns the ID of the record it wrote.
type importWrite func(ctx context.Context) (string, error)

// importRun is one import being checked: the file, what the preview says
// so far, and the writes that Apply will make.
type importRun struct {
	s       *Service
	actor   access.Actor
	coop    Cooperative
	table   importTable
	opts    importOptions
	preview ImportPreview
	fields  map[string]int // field → column index
	writes  []importWrite
	writeOf []int // the row (index in preview.Rows) of each write
	places  *placeIndex
	newSeen map[string]bool
}

// importRowRun is one row being checked.
type importRowRun struct {
	run *importRun
	row *ImportRow
	raw tableRow
}

func (rr *importRowRun) cell(field string) string {
	i, ok := rr.run.fields[field]
	if !ok {
		return ""
	}
	return rr.raw.value(i, field)
}

// value is the cell of column i read for field.
func (r tableRow) value(i int, field string) string {
	cells := r.cells
	if r.values != nil && storedValueField(field) {
		cells = r.values
	}
	if i >= len(cells) {
		return ""
	}
	return strings.TrimSpace(cells[i])
}

// storedValueField reports the fields read from a workbook's stored values
// rather than its displayed text: numbers without the display's rounding
// and separators, dates as day numbers.
func storedValueField(field string) bool {
	switch field {
	case "area_m2", "amount", "latitude", "longitude", "date", "valid_from", "valid_to":
		return true
	}
	return false
}

func (rr *importRowRun) has(field string) bool { return rr.cell(field) != "" }

// fail records a problem of the row.
func (rr *importRowRun) fail(e RowError) {
	e.Row = rr.row.Row
	if i, ok := rr.run.fields[e.Field]; ok && e.Column == "" {
		e.Column = columnLetter(i)
	}
	rr.row.Problems = append(rr.row.Problems, e)
}

func (rr *importRowRun) failed() bool { return len(rr.row.Problems) > 0 }

func (rr *importRowRun) set(field, v string) {
	if v != "" {
		rr.row.Values[field] = v
	}
}

// fileProblem records a problem of the header or of a whole column.
func (r *importRun) fileProblem(e RowError) {
	e.Row = r.table.headerRow
	if i, ok := r.fields[e.Field]; ok && e.Column == "" {
		e.Column = columnLetter(i)
	}
	r.preview.Problems = append(r.preview.Problems, e)
}

// Preview reads an import file and checks every row against the
// cooperative's records without writing anything. kind is one of
// ImportKinds; filename is only reported (the content decides the format).
//
// Errors: access errors; ErrCooperativeNotFound; a *problem.Error on "kind"
// for an unknown kind; on "file" for a file that cannot be read as a
// register (wrong type, empty, not UTF-8, no recognisable header, too many
// rows; too large is problem.TooLarge) and on "sheet" for a missing sheet.
// Problems of rows and columns are not errors: they are in the preview.
func (s *Service) Preview(ctx context.Context, actor access.Actor, coop string, kind ImportKind, filename string, r io.Reader, opts ...ImportOption) (ImportPreview, error) {
	o := newImportOptions(opts)
	run, err := s.startImport(ctx, actor, coop, kind, filename, r, o)
	if err != nil {
		return ImportPreview{}, err
	}
	if err := run.plan(ctx); err != nil {
		return ImportPreview{}, err
	}
	return run.preview, nil
}

// Apply imports a file: every row or none. The file is checked again, as
// Preview does, against the records as they are inside Atomically; when
// any row or column has a problem nothing is written and the error is a
// problem.Unprocessable on "file" whose Details are the problems (the
// first 100), returned with the full preview. Rows that are unchanged are
// not written again, so applying the same file twice writes it once.
//
// Errors: those of Preview, and the refusal above.
func (s *Service) Apply(ctx context.Context, actor access.Actor, coop string, kind ImportKind, filename string, r io.Reader, opts ...ImportOption) (ImportPreview, error) {
	o := newImportOptions(opts)
	var preview ImportPreview
	// The file is read once, outside: a transaction may run the check
	// again, and it starts from the table each time (reset).
	run, err := s.startImport(ctx, actor, coop, kind, filename, r, o)
	if err != nil {
		return ImportPreview{}, err
	}
	err = s.store.db.Atomically(ctx, func(ctx context.Context) error {
		run.reset()
		if err := run.plan(ctx); err != nil {
			return err
		}
		preview = run.preview
		if !run.preview.OK() {
			return errImportRefused(run.preview)
		}
		if err := s.store.lockRegister(ctx, run.coop.Code); err != nil {
			return err
		}
		for i, w := range run.writes {
			id, err := w(ctx)
			if err != nil {
				return err
			}
			row := &run.preview.Rows[run.writeOf[i]]
			if id != "" {
				row.ID = id
			}
			if (i+1)%500 == 0 || i+1 == len(run.writes) {
				o.report("write", i+1, len(run.writes))
			}
		}
		run.preview.Applied = true
		preview = run.preview
		return nil
	})
	return preview, err
}

// errImportRefused is Apply's refusal of a file with problems.
func errImportRefused(p ImportPreview) error {
	if len(p.Rows) == 0 && len(p.Problems) == 0 {
		return problem.Field("file", "has no %s rows", string(p.Kind))
	}
	details := p.Problems
	if len(details) > 100 {
		details = details[:100]
	}
	rows := map[int]bool{}
	for _, e := range p.Problems {
		rows[e.Row] = true
	}
	return &problem.Error{Code: problem.Unprocessable, Field: "file", Details: details,
		Message: fmt.Sprintf("%d rows were refused; nothing was imported: correct them and send the whole file again", len(rows))}
}

// startImport checks who may import and reads the file.
func (s *Service) startImport(ctx context.Context, actor access.Actor, coop string, kind ImportKind, filename string, r io.Reader, o importOptions) (*importRun, error) {
	coop = id.NormalizeCode(coop)
	if err := problem.OneOf("kind", string(kind), ImportKinds); err != nil {
		return nil, err
	}
	if err := actor.ManageCoop(coop); err != nil {
		return nil, err
	}
	if kind == ImportKindCertifications {
		// Certificates are recorded by the network's admins, as with
		// CreateCertification.
		if err := actor.RequireAdmin(); err != nil {
			return nil, err
		}
	}
	c, err := s.store.cooperative(ctx, coop)
	if err != nil {
		return nil, err
	}
	t, err := readImportFile(kind, filename, r, o)
	if err != nil {
		return nil, err
	}
	o.report("read", len(t.rows), len(t.rows))
	return &importRun{s: s, actor: actor, coop: c, table: t, opts: o, preview: ImportPreview{Kind: kind, Cooperative: coop, Filename: filename}}, nil
}

// reset forgets a previous check, so Apply's check inside Atomically
// starts from the file alone.
func (r *importRun) reset() {
	r.preview = ImportPreview{Kind: r.preview.Kind, Cooperative: r.preview.Cooperative, Filename: r.preview.Filename}
	r.writes, r.writeOf, r.newSeen = nil, nil, nil
}

// plan checks every row and prepares the writes.
func (r *importRun) plan(ctx context.Context) error {
	t := r.table
	p := &r.preview
	p.Format, p.Delimiter, p.Sheet, p.Sheets, p.RowLabel, p.HeaderRow = t.format, t.delimiter, t.sheet, t.sheets, t.rowLabel, t.headerRow
	p.Columns = MatchColumns(p.Kind, t.header)
	p.Problems, p.Rows = []RowError{}, []ImportRow{}
	r.fields = map[string]int{}
	for _, c := range p.Columns {
		if c.Field != "" {
			r.fields[c.Field] = c.Index
		}
	}
	r.places = newPlaceIndex()
	r.places.add(r.coop.Commune)
	r.newSeen = map[string]bool{}
	var err error
	switch p.Kind {
	case ImportKindMembers:
		err = r.planMembers(ctx)
	case ImportKindParcels:
		err = r.planParcels(ctx)
	case ImportKindHarvests:
		err = r.planHarvests(ctx)
	case ImportKindCertifications:
		err = r.planCertifications(ctx)
	}
	if err != nil {
		return err
	}
	for i := range p.Rows {
		row := &p.Rows[i]
		if len(row.Problems) > 0 {
			row.Action = ImportRefused
		}
		p.Problems = append(p.Problems, row.Problems...)
		switch row.Action {
		case ImportCreate:
			p.Counts.Create++
		case ImportComplete:
			p.Counts.Complete++
		case ImportUnchanged:
			p.Counts.Unchanged++
		case ImportRefused:
			p.Counts.Refused++
		}
	}
	p.Counts.Rows = len(p.Rows)
	if len(p.Rows) == 0 && len(p.Problems) == 0 {
		r.fileProblem(issue("", "has no %s rows under its header", string(p.Kind)))
	}
	return nil
}

// requireColumns reports the fields a new record needs that no column
// fills (unless a default stands in: given by defaults).
func (r *importRun) requireColumns(fields []string, defaults map[string]bool) {
	for _, f := range fields {
		if _, ok := r.fields[f]; ok || defaults[f] {
			continue
		}
		r.preview.Missing = append(r.preview.Missing, f)
	}
}

// eachRow runs check on every data row, reporting progress.
func (r *importRun) eachRow(check func(rr *importRowRun)) {
	total := len(r.table.rows)
	for i, raw := range r.table.rows {
		r.preview.Rows = append(r.preview.Rows, ImportRow{Row: raw.number, Values: map[string]string{}})
		rr := &importRowRun{run: r, row: &r.preview.Rows[len(r.preview.Rows)-1], raw: raw}
		switch {
		case raw.parseErr != "":
			rr.fail(issue("", "is not valid CSV: %s", raw.parseErr))
		case raw.shapeErr != nil:
			rr.fail(*raw.shapeErr)
		case raw.extra > 0:
			rr.fail(issue("", "has %s cells beyond the last column of the header", strconv.Itoa(raw.extra)))
		}
		if !rr.failed() || raw.shapeErr != nil {
			check(rr)
		}
		if (i+1)%500 == 0 || i+1 == total {
			r.opts.report("check", i+1, total)
		}
	}
}

// write schedules a write for the row being checked.
func (r *importRun) write(w importWrite) {
	r.writes = append(r.writes, w)
	r.writeOf = append(r.writeOf, len(r.preview.Rows)-1)
}

// place resolves a village or commune name, or records a problem.
func (rr *importRowRun) place(field string) string {
	v := rr.cell(field)
	if v == "" {
		return ""
	}
	if name, ok := rr.run.places.resolve(v); ok {
		return name
	}
	if err := problem.RequireText(field, v, 100); err != nil {
		rr.fail(issueOf(err))
		return ""
	}
	if rr.run.opts.acceptNewPlaces {
		rr.run.places.add(v)
		if !rr.run.newSeen[v] {
			rr.run.newSeen[v] = true
			rr.run.preview.NewPlaces = append(rr.run.preview.NewPlaces, v)
		}
		return v
	}
	if near := rr.run.places.suggest(v); near != "" {
		rr.fail(issue(field, "%q is not a known "+field+": did you mean %s? (a new one can be accepted for this import)", v, near))
	} else {
		rr.fail(issue(field, "%q is not a known "+field+" of this cooperative (a new one can be accepted for this import)", v))
	}
	return ""
}

// recordCode folds a cooperative's own code for matching: case and spaces
// around it do not count.
func recordCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// validateRecordCode checks an optional member or parcel code.
func validateRecordCode(code string) error {
	if code == "" {
		return nil
	}
	if !utf8.ValidString(code) || utf8.RuneCountInString(code) > 32 || strings.ContainsAny(code, "\n\r\t") {
		return problem.Field("code", "must be at most 32 characters on one line")
	}
	return nil
}

// memberCodeFree refuses a member code another member of the cooperative
// has. Callers hold Atomically.
func (s *Service) memberCodeFree(ctx context.Context, coop, code string) error {
	if err := s.store.lockRegister(ctx, coop); err != nil {
		return err
	}
	ms, err := s.store.members(ctx, coop, mongodb.Page{Limit: math.MaxInt32})
	if err != nil {
		return err
	}
	for _, m := range ms {
		if recordCode(m.Code) == recordCode(code) {
			return &problem.Error{Code: problem.Conflict, Field: "code", Message: fmt.Sprintf("member %s has the code %s already", m.Name, m.Code)}
		}
	}
	return nil
}

// parcelCodeFree refuses a parcel code another parcel of the cooperative
// has. Callers hold Atomically.
func (s *Service) parcelCodeFree(ctx context.Context, coop, code string) error {
	if err := s.store.lockRegister(ctx, coop); err != nil {
		return err
	}
	ps, err := s.store.parcels(ctx, coop, mongodb.Page{Limit: math.MaxInt32})
	if err != nil {
		return err
	}
	for _, p := range ps {
		if recordCode(p.Code) == recordCode(code) {
			return &problem.Error{Code: problem.Conflict, Field: "code", Message: fmt.Sprintf("parcel %s has the code %s already", p.Name, p.Code)}
		}
	}
	return nil
}

// differs records that a row contradicts its record.
func (rr *importRowRun) differs(field, what, recorded, given string) {
	rr.fail(issue(field, "differs from the "+what+" on record: %q there, %q in the file (change the record itself, not through an import)", recorded, given))
}

// ---- Members --------------------------------------------------------------

func (r *importRun) planMembers(ctx context.Context) error {
	existing, err := r.s.store.members(ctx, r.coop.Code, mongodb.Page{Limit: math.MaxInt32})
	if err != nil {
		return err
	}
	parcels, err := r.s.store.parcels(ctx, r.coop.Code, mongodb.Page{Limit: math.MaxInt32})
	if err != nil {
		return err
	}
	byCode, byName := map[string]*Member{}, map[string][]*Member{}
	for i := range existing {
		m := &existing[i]
		if m.Code != "" {
			byCode[recordCode(m.Code)] = m
		}
		byName[foldText(m.Name)] = append(byName[foldText(m.Name)], m)
		r.places.add(m.Village)
		r.places.add(m.Commune)
	}
	for _, p := range parcels {
		r.places.add(p.Commune)
	}
	// "Nom" next to "Prénom" is the family name: say so in the preview.
	if i, ok := r.fields["name"]; ok && r.hasField("first_name") && !r.hasField("last_name") {
		delete(r.fields, "name")
		r.fields["last_name"] = i
		r.preview.Columns[i].Field = "last_name"
	}
	r.requireColumns([]string{"name", "gender", "village"}, map[string]bool{"name": r.hasField("first_name") && r.hasField("last_name")})
	for _, f := range r.preview.Missing {
		r.fileProblem(issue(f, "no column gives the %s: add one (for example %s)", f, columnExample(ImportKindMembers, f)))
	}
	codeRow, nameRow := map[string]int{}, map[string]int{}
	r.eachRow(func(rr *importRowRun) {
		name := memberName(rr)
		m := Member{Cooperative: r.coop.Code, Code: rr.cell("code"), Name: name}
		rr.set("code", m.Code)
		rr.set("name", name)
		if name == "" {
			rr.fail(issue("name", "is required"))
		}
		if g := rr.cell("gender"); g == "" {
			rr.fail(issue("gender", "is required (F or H, femme or homme)"))
		} else if m.Gender, _ = parseGender(g); m.Gender == "" {
			rr.fail(issue("gender", "%q is not a gender: write F or H (femme, homme)", g))
		}
		rr.set("gender", m.Gender)
		if !rr.has("village") {
			rr.fail(issue("village", "is required"))
		}
		m.Village, m.Commune = rr.place("village"), rr.place("commune")
		rr.set("village", m.Village)
		rr.set("commune", m.Commune)
		if err := validateRecordCode(m.Code); err != nil {
			rr.fail(issueOf(err))
		}
		// Twice in the file: a re-import could not tell the rows apart.
		if m.Code != "" {
			if prev, ok := codeRow[recordCode(m.Code)]; ok {
				rr.fail(issue("code", "%s is also the code on row %s", m.Code, strconv.Itoa(prev)))
			}
			codeRow[recordCode(m.Code)] = rr.row.Row
		} else if name != "" {
			if prev, ok := nameRow[foldText(name)]; ok {
				rr.fail(issue("name", "%s is also on row %s: give each member a code to tell them apart", name, strconv.Itoa(prev)))
			}
			nameRow[foldText(name)] = rr.row.Row
		}
		if rr.failed() {
			return
		}
		// Match: by code; a code new to the records may complete the one
		// member of that name recorded without a code.
		var match *Member
		if m.Code != "" {
			match = byCode[recordCode(m.Code)]
			if match == nil {
				var uncoded []*Member
				for _, x := range byName[foldText(name)] {
					if x.Code == "" {
						uncoded = append(uncoded, x)
					}
				}
				if len(uncoded) == 1 {
					match = uncoded[0]
				}
			}
		} else if same := byName[foldText(name)]; len(same) > 1 {
			rr.fail(issue("name", "%s names %s members already: give the member's code", name, strconv.Itoa(len(same))))
			return
		} else if len(same) == 1 {
			match = same[0]
		}
		if match == nil {
			if err := m.Validate(); err != nil {
				rr.fail(issueOf(err))
				return
			}
			rr.row.Action = ImportCreate
			r.write(func(ctx context.Context) (string, error) {
				m.ID, m.CreatedAt = id.New("mbr"), r.s.now().UTC()
				return m.ID, r.s.store.insertMember(ctx, m)
			})
			return
		}
		rr.row.ID = match.ID
		if foldText(match.Name) != foldText(name) {
			rr.differs("name", "member's name", match.Name, name)
		}
		if match.Gender != m.Gender {
			rr.differs("gender", "member's gender", match.Gender, m.Gender)
		}
		if placeKey(match.Village) != placeKey(m.Village) {
			rr.differs("village", "member's village", match.Village, m.Village)
		}
		if m.Commune != "" && match.Commune != "" && placeKey(match.Commune) != placeKey(m.Commune) {
			rr.differs("commune", "member's commune", match.Commune, m.Commune)
		}
		if rr.failed() {
			return
		}
		var code, commune string
		if match.Code == "" && m.Code != "" {
			code = m.Code
			rr.row.Completes = append(rr.row.Completes, "code")
		}
		if match.Commune == "" && m.Commune != "" {
			commune = m.Commune
			rr.row.Completes = append(rr.row.Completes, "commune")
		}
		if code == "" && commune == "" {
			rr.row.Action = ImportUnchanged
			return
		}
		rr.row.Action = ImportComplete
		id := match.ID
		r.write(func(ctx context.Context) (string, error) {
			return id, r.s.store.completeMember(ctx, id, code, commune)
		})
	})
	return nil
}

func (r *importRun) hasField(f string) bool { _, ok := r.fields[f]; return ok }

// memberName is the row's name: the name column, or first and last name
// columns joined ("Prénom" + "Nom" as two columns is the usual register).
func memberName(rr *importRowRun) string {
	first, last, name := rr.cell("first_name"), rr.cell("last_name"), rr.cell("name")
	if name != "" {
		return strings.Join(strings.Fields(name), " ")
	}
	return strings.Join(strings.Fields(first+" "+last), " ")
}

// columnExample names a header that would fill a field.
func columnExample(kind ImportKind, field string) string {
	for _, sp := range columnSpecs(kind) {
		if sp.field == field {
			ex := sp.synonyms
			if len(ex) > 2 {
				ex = ex[:2]
			}
			return strings.Join(ex, ", ")
		}
	}
	return field
}

// refIndex finds a member or parcel by what a file calls it: its ID, its
// code, or its name (folded).
type refIndex[T any] struct {
	byID, byCode map[string]*T
	byName       map[string][]*T
}

func newRefIndex[T any](items []T, id, code, name func(*T) string) refIndex[T] {
	ix := refIndex[T]{byID: map[string]*T{}, byCode: map[string]*T{}, byName: map[string][]*T{}}
	for i := range items {
		x := &items[i]
		ix.byID[id(x)] = x
		if c := code(x); c != "" {
			ix.byCode[recordCode(c)] = x
		}
		ix.byName[foldText(name(x))] = append(ix.byName[foldText(name(x))], x)
	}
	return ix
}

// find returns the items a reference may mean: one, none, or several
// (a name shared by several).
func (ix refIndex[T]) find(ref string) []*T {
	if x, ok := ix.byID[strings.TrimSpace(ref)]; ok {
		return []*T{x}
	}
	if x, ok := ix.byCode[recordCode(ref)]; ok {
		return []*T{x}
	}
	return ix.byName[foldText(ref)]
}

func memberRefs(ms []Member) refIndex[Member] {
	return newRefIndex(ms, func(m *Member) string { return m.ID }, func(m *Member) string { return m.Code }, func(m *Member) string { return m.Name })
}

func parcelRefs(ps []Parcel) refIndex[Parcel] {
	return newRefIndex(ps, func(p *Parcel) string { return p.ID }, func(p *Parcel) string { return p.Code }, func(p *Parcel) string { return p.Name })
}

// member resolves the row's member reference, or records a problem.
func (rr *importRowRun) member(members refIndex[Member]) *Member {
	ref := rr.cell("member")
	if ref == "" {
		return nil
	}
	found := members.find(ref)
	switch len(found) {
	case 0:
		rr.fail(issue("member", "%q is not a member of this cooperative (give the member's code or name as recorded)", ref))
		return nil
	case 1:
		return found[0]
	}
	rr.fail(issue("member", "%q names %s members: give the member's code", ref, strconv.Itoa(len(found))))
	return nil
}
