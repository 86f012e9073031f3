package api

import (
	"context"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/page"
)

// Quality are the laboratory results of lots (traceability/quality.go).
type Quality interface {
	AddLabResult(ctx context.Context, actor access.Actor, code string, req traceability.NewLabResult) (traceability.Lot, error)
	LabReport(ctx context.Context, actor access.Actor, code, resultID string) (traceability.Report, error)
}

// LabResultRoute is the upload route of laboratory reports: it gets
// LabResultBodyLimit instead of the server's default body limit.
const LabResultRoute = "/api/v1/lots/:code/lab-results"

// LabResultBodyLimit leaves room for the multipart envelope and the figures
// around a report of traceability.MaxReportBytes; the report itself is
// measured exactly by the service (413 naming "report").
const LabResultBodyLimit = traceability.MaxReportBytes + 64<<10

// labResultRequest is a result sent as JSON (figures alone).
type labResultRequest struct {
	Laboratory struct {
		Name          string `json:"name"`
		Accreditation string `json:"accreditation"`
	} `json:"laboratory"`
	ReportNumber     string              `json:"report_number"`
	SampleDate       string              `json:"sample_date"`
	ReportDate       string              `json:"report_date"`
	Method           string              `json:"method"`
	Edition          string              `json:"edition"`
	Form             string              `json:"form"`
	E257             traceability.Figure `json:"e257"`
	E330             traceability.Figure `json:"e330"`
	E440             traceability.Figure `json:"e440"`
	Moisture         traceability.Figure `json:"moisture"`
	FloralWaste      traceability.Figure `json:"floral_waste"`
	ForeignMatter    traceability.Figure `json:"foreign_matter"`
	ReportedCategory string              `json:"reported_category"`
}

// labResultView is a result as the API shows it, with its report's URL.
type labResultView struct {
	traceability.LabResult
	ReportURL string `json:"report_url,omitempty"`
}

func labResultViews(l traceability.Lot) []labResultView {
	out := make([]labResultView, 0, len(l.LabResults))
	for _, r := range l.LabResults {
		v := labResultView{LabResult: r}
		if v.Misses == nil {
			v.Misses = []string{}
		}
		if r.Report != nil {
			v.ReportURL = "/api/v1/lots/" + l.Code + "/lab-results/" + r.ID + "/report"
		}
		out = append(out, v)
	}
	return out
}

// AddLabResult answers POST /api/v1/lots/{code}/lab-results: the figures as
// JSON, or a multipart form with the same fields and the report file in
// "report" (PDF, PNG or JPEG, at most 10 MB). 201 with the result and the
// quality the lot now shows.
func (h *Handlers) AddLabResult(c *gin.Context) {
	var req traceability.NewLabResult
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if mt == "multipart/form-data" {
		// Who may not record results is refused before the file is read.
		if err := h.mayRecordResult(c); err != nil {
			page.Fail(c, err)
			return
		}
		up, err := page.ReadReportUpload(c)
		if err != nil {
			page.Fail(c, err)
			return
		}
		req = page.LabResultForm(c.PostForm)
		req.Report = up
	} else {
		var body labResultRequest
		if err := decodeJSON(c, &body); err != nil {
			page.Fail(c, err)
			return
		}
		req = traceability.NewLabResult{
			Laboratory:   traceability.Laboratory{Name: body.Laboratory.Name, Accreditation: body.Laboratory.Accreditation},
			ReportNumber: body.ReportNumber, SampleDate: body.SampleDate, ReportDate: body.ReportDate, Method: body.Method,
			Edition: body.Edition, Form: body.Form, E257: body.E257, E330: body.E330, E440: body.E440, Moisture: body.Moisture,
			FloralWaste: body.FloralWaste, ForeignMatter: body.ForeignMatter, ReportedCategory: body.ReportedCategory,
		}
	}
	l, err := h.d.Quality.AddLabResult(c.Request.Context(), page.Actor(c), c.Param("code"), req)
	if err != nil {
		page.Fail(c, err)
		return
	}
	views := labResultViews(l)
	c.JSON(http.StatusCreated, gin.H{"lot": l.Code, "result": views[len(views)-1], "quality": l.Quality})
}

// mayRecordResult refuses, before an upload is read, who may not manage the
// lot's cooperative (404 for a lot they may not read, as the service does).
func (h *Handlers) mayRecordResult(c *gin.Context) error {
	actor := page.Actor(c)
	l, err := h.d.Records.Lot(c.Request.Context(), actor, c.Param("code"))
	if err != nil {
		return err
	}
	return actor.ManageCoop(l.Cooperative)
}

// ListLabResults answers GET /api/v1/lots/{code}/lab-results: the lot's own
// results, oldest first, and the quality it shows (its own or inherited).
func (h *Handlers) ListLabResults(c *gin.Context) {
	l, err := h.d.Records.Lot(c.Request.Context(), page.Actor(c), c.Param("code"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"lot": l.Code, "quality": l.Quality, "results": labResultViews(l)})
}

// LabReport answers GET /api/v1/lots/{code}/lab-results/{id}/report.
func (h *Handlers) LabReport(c *gin.Context) {
	r, err := h.d.Quality.LabReport(c.Request.Context(), page.Actor(c), c.Param("code"), c.Param("id"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	page.ServeReport(c, r)
}
