package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/page"
)

// ImportRoute is the register import's route, which has its own body
// limit (ImportBodyLimit): a register file may be larger than a JSON body.
const ImportRoute = "/api/v1/cooperatives/:coop/imports"

// ImportBodyLimit leaves room for the multipart envelope around a file of
// traceability.MaxImportBytes; the file itself is measured by the domain,
// which answers 413 naming "file".
const ImportBodyLimit = traceability.MaxImportBytes + 64<<10

// Import answers POST /api/v1/cooperatives/{coop}/imports?kind=…&dry_run=…:
// a register file (CSV, XLSX; GeoJSON, KML or GPX for parcels) in the
// multipart field "file". A dry run answers 200 with the preview (its
// rows' problems included) and writes nothing; otherwise the file is
// imported, all rows or none: 201 with the preview of what was written,
// or 422 whose details are the problems by row. Options: sheet (a
// workbook's sheet), new_places=true (record unknown villages).
func (h *Handlers) Import(c *gin.Context) {
	// Who may import is decided before a byte of the file is read (the
	// service decides again).
	if err := page.Actor(c).ManageCoop(id.NormalizeCode(c.Param("coop"))); err != nil {
		page.Fail(c, err)
		return
	}
	dryRun, err := boolQuery(c, "dry_run")
	if err != nil {
		page.Fail(c, err)
		return
	}
	newPlaces, err := boolQuery(c, "new_places")
	if err != nil {
		page.Fail(c, err)
		return
	}
	var opts []traceability.ImportOption
	if s := c.Query("sheet"); s != "" {
		opts = append(opts, traceability.ImportSheet(s))
	}
	if newPlaces {
		opts = append(opts, traceability.AcceptNewPlaces())
	}
	name, file, err := filePart(c.Request, "file")
	if err != nil {
		page.Fail(c, err)
		return
	}
	ctx, actor, kind := c.Request.Context(), page.Actor(c), traceability.ImportKind(c.Query("kind"))
	if dryRun {
		p, err := h.d.Records.Preview(ctx, actor, c.Param("coop"), kind, name, file, opts...)
		if err != nil {
			page.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, p)
		return
	}
	p, err := h.d.Records.Apply(ctx, actor, c.Param("coop"), kind, name, file, opts...)
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, p)
}

// boolQuery reads ?name=true|false (absent is false).
func boolQuery(c *gin.Context, name string) (bool, error) {
	v, ok := c.GetQuery(name)
	if !ok || v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, problem.Field(name, "must be true or false, got %q", v)
	}
	return b, nil
}

// filePart positions the multipart body on its field and returns the
// file's name and content, to be streamed (the domain bounds its size).
// Fields before it are skipped.
func filePart(r *http.Request, field string) (string, io.Reader, error) {
	errForm := problem.Field(field, "send the file as multipart/form-data in the field %q", field)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return "", nil, errForm
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return "", nil, errForm
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return "", nil, err
			}
			return "", nil, problem.Field(field, "no field %q in the form", field)
		}
		if part.FormName() == field {
			return part.FileName(), part, nil
		}
		if _, err := io.Copy(io.Discard, part); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return "", nil, err
			}
			return "", nil, errForm
		}
	}
}
