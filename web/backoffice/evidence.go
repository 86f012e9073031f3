package backoffice

import (
	"context"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/page"
)

// Evidence makes the control body's evidence files (traceability.EvidenceJobs).
type Evidence interface {
	Start(ctx context.Context, actor access.Actor, req traceability.EvidenceRequest) (traceability.EvidenceJob, error)
	Job(ctx context.Context, actor access.Actor, id string) (traceability.EvidenceJob, error)
	Download(ctx context.Context, actor access.Actor, id string) (traceability.EvidenceDownload, error)
}

// evidenceRefresh is how often the audit page reloads while a file is made.
const evidenceRefresh = 2

// evidenceView is the audit page's evidence file section: the job asked
// for (?job=), how far it is, and its download link once done.
type evidenceView struct {
	Job         *traceability.EvidenceJob
	Running     bool
	Progress    string // "Lots : 120 sur 1 200" in the page's language
	DownloadURL string
	Error       string
}

// evidenceSection reads the job of ?job= for the audit page; a job of
// another cooperative or one the visitor may not read shows nothing.
func (h *Handlers) evidenceSection(c *gin.Context, l *i18n.Locale, p *page.Page, coop string) evidenceView {
	var v evidenceView
	id := c.Query("job")
	if id == "" {
		return v
	}
	j, err := h.d.Evidence.Job(c.Request.Context(), page.Actor(c), id)
	if err != nil || j.Cooperative != coop {
		return v
	}
	v.Job = &j
	switch j.Status {
	case traceability.JobQueued, traceability.JobRunning:
		v.Running, p.Refresh = true, evidenceRefresh
		v.Progress = l.T("evidence_queued")
		if j.Progress.Stage != "" {
			v.Progress = l.T("evidence_progress", l.Term("evidence_stage", j.Progress.Stage), j.Progress.Done, j.Progress.Total)
		}
	case traceability.JobDone:
		v.DownloadURL = "/audit/" + esc(coop) + "/evidence/" + esc(j.ID) + "/file"
	case traceability.JobFailed:
		v.Error = j.Error
	}
	return v
}

// StartEvidence answers POST /audit/{coop}/evidence: the season's evidence
// file is made in the background (or the job already making it is taken),
// and the audit page follows it.
func (h *Handlers) StartEvidence(c *gin.Context) {
	season, err := strconv.Atoi(c.PostForm("season"))
	if err != nil {
		season = 0 // refused by the service, naming "season"
	}
	j, err := h.d.Evidence.Start(c.Request.Context(), page.Actor(c), traceability.EvidenceRequest{Cooperative: c.Param("coop"), Season: season})
	if err != nil {
		page.Fail(c, err)
		return
	}
	h.d.Pages.Redirect(c, "/audit/"+esc(j.Cooperative)+"?season="+strconv.Itoa(j.Season)+"&job="+esc(j.ID)+"#evidence", "evidence_started")
}

// EvidenceFile answers GET /audit/{coop}/evidence/{id}/file: the ZIP, as
// an attachment.
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
