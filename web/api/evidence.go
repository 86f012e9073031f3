package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/page"
)

// Evidence makes the control body's evidence files (traceability.EvidenceJobs).
type Evidence interface {
	Request(ctx context.Context, actor access.Actor, req traceability.EvidenceRequest) (*traceability.EvidenceDownload, *traceability.EvidenceJob, error)
	Job(ctx context.Context, actor access.Actor, id string) (traceability.EvidenceJob, error)
	Download(ctx context.Context, actor access.Actor, id string) (traceability.EvidenceDownload, error)
}

// evidenceJobView is a job as the API shows it: its record, where to poll
// it and, once done, where to download the file.
type evidenceJobView struct {
	traceability.EvidenceJob
	URL         string `json:"url"`
	DownloadURL string `json:"download_url,omitempty"`
}

func evidenceJobOf(j traceability.EvidenceJob) evidenceJobView {
	v := evidenceJobView{EvidenceJob: j, URL: "/api/v1/evidence-jobs/" + j.ID}
	if j.Status == traceability.JobDone {
		v.DownloadURL = v.URL + "/file"
	}
	return v
}

// CooperativeEvidence answers GET and POST
// /api/v1/cooperatives/{coop}/evidence?season=YYYY: the season's evidence
// file as a ZIP when it is small (200), else the job making it (202, its
// URL in Location; the same job is returned while it runs).
func (h *Handlers) CooperativeEvidence(c *gin.Context) {
	season, err := h.seasonOf(c)
	if err != nil {
		page.Fail(c, err)
		return
	}
	h.evidence(c, traceability.EvidenceRequest{Cooperative: c.Param("coop"), Season: season})
}

// LotEvidence answers GET and POST /api/v1/lots/{code}/evidence: the
// evidence file of one lot (its inputs upstream, their harvests, parcels,
// members, certificates and results).
func (h *Handlers) LotEvidence(c *gin.Context) {
	h.evidence(c, traceability.EvidenceRequest{Lot: c.Param("code")})
}

func (h *Handlers) evidence(c *gin.Context, req traceability.EvidenceRequest) {
	dl, job, err := h.d.Evidence.Request(c.Request.Context(), page.Actor(c), req)
	if err != nil {
		page.Fail(c, err)
		return
	}
	if job != nil {
		v := evidenceJobOf(*job)
		c.Header("Location", v.URL)
		c.JSON(http.StatusAccepted, v)
		return
	}
	page.ServeEvidence(c, *dl)
}

// EvidenceJob answers GET /api/v1/evidence-jobs/{id}: how far the file is.
func (h *Handlers) EvidenceJob(c *gin.Context) {
	if page.Actor(c).Anonymous() {
		page.Fail(c, access.ErrUnauthorized) // not "no such job": log in first
		return
	}
	j, err := h.d.Evidence.Job(c.Request.Context(), page.Actor(c), c.Param("id"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, evidenceJobOf(j))
}

// EvidenceFile answers GET /api/v1/evidence-jobs/{id}/file: the finished
// ZIP; 409 while it is being made or when it failed.
func (h *Handlers) EvidenceFile(c *gin.Context) {
	if page.Actor(c).Anonymous() {
		page.Fail(c, access.ErrUnauthorized) // not "no such job": log in first
		return
	}
	dl, err := h.d.Evidence.Download(c.Request.Context(), page.Actor(c), c.Param("id"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	page.ServeEvidence(c, dl)
}
