package backoffice

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/page"
)

// Quality are the laboratory results of lots (traceability/quality.go).
type Quality interface {
	AddLabResult(ctx context.Context, actor access.Actor, code string, req traceability.NewLabResult) (traceability.Lot, error)
	LabReport(ctx context.Context, actor access.Actor, code, resultID string) (traceability.Report, error)
}

// LabResultRoute is the lot page's upload route: it gets the API's report
// body limit (web's middleware).
const LabResultRoute = "/lots/:code/lab-results"

// labRow is a laboratory result on the lot page.
type labRow struct {
	traceability.LabResult
	Category  string // "Catégorie I (ISO 3632)" in the page's language, or "meets no category"
	ReportURL string
}

// qualityRows fills the lot page's quality section: the mention the lot
// shows (its own result or the one it inherits by packing or sorting) and
// its own results.
func qualityRows(l *i18n.Locale, lot traceability.Lot) (mention string, rows []labRow) {
	if q := lot.Quality; q != nil {
		mention = categoryText(l, q)
	}
	for _, r := range lot.LabResults {
		row := labRow{LabResult: r, Category: l.T("iso3632_no_category")}
		if r.Category != "" {
			row.Category = l.T("iso3632_category", r.Category)
		}
		if r.Report != nil {
			row.ReportURL = lotPath(lot.Code) + "/lab-results/" + esc(r.ID) + "/report"
		}
		rows = append(rows, row)
	}
	return mention, rows
}

// categoryText is the category a lot shows, in the page's language; empty
// when the domain gives it none (traceability.CategoryMention decides).
func categoryText(l *i18n.Locale, q *traceability.Quality) string {
	if _, ok := traceability.CategoryMention(q); !ok {
		return ""
	}
	return l.T("iso3632_category", q.Category)
}

// AddLabResult answers POST /lots/{code}/lab-results: the lot page's form,
// multipart with the report file.
func (h *Handlers) AddLabResult(c *gin.Context) {
	actor := page.Actor(c)
	lot, err := h.d.Records.Lot(c.Request.Context(), actor, c.Param("code"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	if err := actor.ManageCoop(lot.Cooperative); err != nil {
		page.Fail(c, err)
		return
	}
	err = func() error {
		up, err := page.ReadReportUpload(c)
		if err != nil {
			return err
		}
		req := page.LabResultForm(c.PostForm)
		req.Report = up
		_, err = h.d.Quality.AddLabResult(c.Request.Context(), actor, lot.Code, req)
		return err
	}()
	h.done(c, err, "lab", lotPath(lot.Code), "lab_result_saved", h.showLot)
}

// LabReport answers GET /lots/{code}/lab-results/{id}/report for a
// logged-in browser: the report file as an attachment, never inline.
func (h *Handlers) LabReport(c *gin.Context) {
	r, err := h.d.Quality.LabReport(c.Request.Context(), page.Actor(c), c.Param("code"), c.Param("id"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	page.ServeReport(c, r)
}
