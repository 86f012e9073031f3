package backoffice

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/page"
)

// The register import page (issue 19): choose what the file holds, send
// it, read the preview — how each column was understood, every row to
// create, complete or leave, every refused row with its reason in the
// page's language — and confirm. The file travels back with the
// confirmation inside the preview's form (base64), so nothing is kept on
// the server between the two steps and the confirmation imports exactly
// the file previewed, checked again against the records as they are then.

// ImportRoute is the import page's upload, which has its own body limit
// (ImportBodyLimit): a register file may be larger than a form.
const ImportRoute = "/coop/:coop/import"

// ImportBodyLimit is a file of traceability.MaxImportBytes sent again in
// base64 with the confirmation, and the form around it.
const ImportBodyLimit = traceability.MaxImportBytes*4/3 + 128<<10

// previewRowsShown bounds the rows the page lists besides refused ones: the
// counts say the rest.
const previewRowsShown = 200

const secImport = "import"

type importColumnView struct {
	Letter, Header, Field, Unit, Note string
}

type importRowView struct {
	Row      int
	Action   string // create, complete, unchanged, refused
	Label    string // the action in the page's language
	Values   string
	Problems []string
}

type importPreviewView struct {
	Format, Where, RowLabel string
	Columns                 []importColumnView
	Missing                 []string
	FileProblems            []string
	Rows                    []importRowView
	Hidden                  int // rows not listed
	Counts                  traceability.ImportCounts
	NewPlaces               []string
	OK                      bool
	Data, Filename          string // the file again, for the confirmation
}

type importView struct {
	page.Page
	coopTop
	Kinds     []option
	Kind      string
	Sheet     string
	NewPlaces bool
	Preview   *importPreviewView
}

// ImportPage answers GET /coop/{coop}/import.
func (h *Handlers) ImportPage(c *gin.Context) { h.showImport(c, nil, nil, nil, http.StatusOK) }

// showImport shows the form, refused with formErr, or a file's preview
// (file is sent back with the confirmation when the preview is OK).
func (h *Handlers) showImport(c *gin.Context, formErr error, preview *traceability.ImportPreview, file []byte, status int) {
	l, actor := page.Locale(c), page.Actor(c)
	top, err := h.coopTop(c, secImport)
	if err != nil {
		page.Fail(c, err)
		return
	}
	if !top.CanManage {
		page.Fail(c, actor.ManageCoop(top.Cooperative.Code))
		return
	}
	v := &importView{Page: h.d.Pages.Page(c, l.T("imp_title")), coopTop: top, Kind: c.PostForm("kind"),
		Sheet: c.PostForm("sheet"), NewPlaces: c.PostForm("new_places") != ""}
	if v.Kind == "" {
		v.Kind = cmpOr(c.Query("kind"), string(traceability.ImportKindMembers))
	}
	for _, k := range traceability.ImportKinds {
		if k == string(traceability.ImportKindCertifications) && actor.RequireAdmin() != nil {
			continue // certificates are recorded by the network's admins
		}
		v.Kinds = append(v.Kinds, option{k, l.T("imp_kind_" + k)})
	}
	if preview != nil {
		v.Preview = previewView(l, *preview)
		if v.Preview.OK && file != nil {
			v.Preview.Data, v.Preview.Filename = base64.StdEncoding.EncodeToString(file), preview.Filename
		}
	}
	if formErr != nil {
		h.render(c, &v.Page, formErr, "import", "backoffice/import", v)
		return
	}
	h.d.Pages.Render(c, status, "backoffice/import", v)
}

// previewView is the preview as the page shows it, in its language.
func previewView(l *i18n.Locale, p traceability.ImportPreview) *importPreviewView {
	v := &importPreviewView{Format: strings.ToUpper(p.Format), RowLabel: l.T("imp_unit_" + p.RowLabel), Counts: p.Counts,
		NewPlaces: p.NewPlaces, OK: p.OK()}
	var where []string
	if p.Sheet != "" {
		where = append(where, l.T("imp_sheet_is", p.Sheet))
	}
	if p.Delimiter != "" {
		where = append(where, l.T("imp_delimiter_is", p.Delimiter))
	}
	if p.HeaderRow > 0 {
		where = append(where, l.T("imp_header_row_is", p.HeaderRow))
	}
	v.Where = strings.Join(where, " · ")
	for _, col := range p.Columns {
		cv := importColumnView{Letter: col.Letter, Header: col.Header, Unit: col.Unit}
		switch {
		case col.Field != "":
			cv.Field = l.Term("imp_field", col.Field)
		case col.Note == "duplicate":
			cv.Note = l.T("imp_col_duplicate", col.DuplicateOf)
		default:
			cv.Note = l.T("imp_col_ignored")
		}
		v.Columns = append(v.Columns, cv)
	}
	for _, f := range p.Missing {
		v.Missing = append(v.Missing, l.Term("imp_field", f))
	}
	// Problems of the header and the columns are on no row of Rows.
	onRows := map[int]bool{}
	for _, r := range p.Rows {
		onRows[r.Row] = true
	}
	for _, e := range p.Problems {
		if !onRows[e.Row] {
			v.FileProblems = append(v.FileProblems, rowProblem(l, e))
		}
	}
	for _, r := range p.Rows {
		if r.Action != traceability.ImportRefused && len(v.Rows) >= previewRowsShown {
			v.Hidden++
			continue
		}
		rv := importRowView{Row: r.Row, Action: r.Action, Label: l.T("imp_action_" + r.Action), Values: rowValues(l, r.Values)}
		for _, e := range r.Problems {
			rv.Problems = append(rv.Problems, rowProblem(l, e))
		}
		v.Rows = append(v.Rows, rv)
	}
	return v
}

// rowProblem is a row's problem in the page's language: "Genre (colonne
// C) : « X » n'est pas un genre…".
func rowProblem(l *i18n.Locale, e traceability.RowError) string {
	var msg string
	switch {
	case e.Problem != nil:
		msg = l.T(e.Problem.MessageKey(), e.Problem.Args...)
	case e.Key != "":
		args := make([]any, len(e.Args))
		for i, a := range e.Args {
			args[i] = a
		}
		msg = l.T(e.Key, args...)
	default:
		msg = e.Message
	}
	if e.Field == "" {
		return msg
	}
	field := l.Term("imp_field", e.Field)
	if e.Column != "" {
		field = l.T("imp_field_column", field, e.Column)
	}
	return l.T("field_error", field, msg)
}

// rowValues is what a row would store, named in the page's language.
func rowValues(l *i18n.Locale, values map[string]string) string {
	fields := make([]string, 0, len(values))
	for f := range values {
		if f == "member" || f == "parcel" || f == "area_from" {
			continue // internal IDs; the names are shown
		}
		fields = append(fields, f)
	}
	sort.Slice(fields, func(i, j int) bool { return fieldOrder(fields[i]) < fieldOrder(fields[j]) })
	parts := make([]string, 0, len(fields))
	for _, f := range fields {
		parts = append(parts, l.T("field_error", l.Term("imp_field", f), values[f]))
	}
	return strings.Join(parts, " · ")
}

// fieldOrder puts a row's identifying values first.
func fieldOrder(f string) string {
	for i, first := range []string{"code", "name", "member_name", "parcel_name", "date", "scheme", "number"} {
		if f == first {
			return string(rune('0' + i))
		}
	}
	return "z" + f
}

// Import answers POST /coop/{coop}/import: a file sent for its preview, or
// (confirm=1) the previewed file sent again to be imported, all rows or
// none. A refusal of the whole file (wrong type, too large, no header)
// shows the form again with it; refused rows show the preview again.
func (h *Handlers) Import(c *gin.Context) {
	ctx, actor := c.Request.Context(), page.Actor(c)
	kind := traceability.ImportKind(c.PostForm("kind"))
	var opts []traceability.ImportOption
	if s := strings.TrimSpace(c.PostForm("sheet")); s != "" {
		opts = append(opts, traceability.ImportSheet(s))
	}
	if c.PostForm("new_places") != "" {
		opts = append(opts, traceability.AcceptNewPlaces())
	}
	name, file, err := uploadedFile(c)
	if err != nil {
		h.showImport(c, err, nil, nil, 0)
		return
	}
	if c.PostForm("confirm") == "" {
		p, err := h.d.Records.Preview(ctx, actor, c.Param("coop"), kind, name, bytes.NewReader(file), opts...)
		if err != nil {
			h.showImport(c, err, nil, nil, 0)
			return
		}
		status := http.StatusOK
		if !p.OK() {
			status = http.StatusUnprocessableEntity
		}
		h.showImport(c, nil, &p, file, status)
		return
	}
	p, err := h.d.Records.Apply(ctx, actor, c.Param("coop"), kind, name, bytes.NewReader(file), opts...)
	if err != nil {
		if pe, ok := problem.As(err); ok && pe.Code == problem.Unprocessable && len(p.Rows)+len(p.Problems) > 0 {
			// The records changed since the preview: the preview again,
			// with what is refused now.
			h.showImport(c, nil, &p, nil, http.StatusUnprocessableEntity)
			return
		}
		h.showImport(c, err, nil, nil, 0)
		return
	}
	next := coopPath(c.Param("coop"), secImport)
	switch kind {
	case traceability.ImportKindMembers:
		next = "/coop/" + esc(p.Cooperative)
	case traceability.ImportKindParcels:
		next = coopPath(p.Cooperative, secParcels)
	case traceability.ImportKindHarvests:
		next = coopPath(p.Cooperative, secHarvests)
	}
	h.d.Pages.Redirect(c, next, "imp_done", int64(p.Counts.Create), int64(p.Counts.Complete), int64(p.Counts.Unchanged))
}

var errNoFile = problem.Field("file", "choose a file to import")

// uploadedFile is the file of the form: the upload "file", or the
// previewed file sent back with the confirmation ("data", base64).
func uploadedFile(c *gin.Context) (string, []byte, error) {
	if data := c.PostForm("data"); data != "" && c.PostForm("confirm") != "" {
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return "", nil, problem.Field("file", "could not be read: %s", "the upload was interrupted")
		}
		return c.PostForm("filename"), b, nil
	}
	fh, err := c.FormFile("file")
	if err != nil || fh.Size == 0 {
		return "", nil, errNoFile
	}
	f, err := fh.Open()
	if err != nil {
		return "", nil, errNoFile
	}
	defer f.Close()
	// One byte more than the limit, for the service to say it is too large.
	b, err := io.ReadAll(io.LimitReader(f, traceability.MaxImportBytes+1))
	if err != nil {
		return "", nil, errNoFile
	}
	return fh.Filename, b, nil
}
