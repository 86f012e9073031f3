package api

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/web/page"
)

// Backups are the store's online backups.
type Backups interface {
	Backup(ctx context.Context, w io.Writer, toolVersion string, progress func(mongodb.BackupProgress)) (mongodb.Manifest, error)
}

// Backup streams a consistent backup of the whole register (admin only):
// a gzipped mongodump archive with its manifest, while the server keeps
// serving. A failure after the first bytes leaves the client a truncated
// archive, which `terroir restore` refuses.
func (h *Handlers) Backup(c *gin.Context) {
	if err := page.Actor(c).RequireAdmin(); err != nil {
		page.Fail(c, err)
		return
	}
	// A backup of a large register outlives the server's write timeout.
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{})
	c.Header("Content-Type", "application/gzip")
	c.Header("Content-Disposition", `attachment; filename="terroir-`+time.Now().UTC().Format("20060102-150405")+`.archive.gz"`)
	c.Status(http.StatusOK)
	m, err := h.d.Backups.Backup(c.Request.Context(), c.Writer, "terroir "+h.d.Version, nil)
	if err != nil {
		if !c.Writer.Written() {
			c.Header("Content-Type", "application/json; charset=utf-8")
			c.Header("Content-Disposition", "")
			page.Fail(c, err)
			return
		}
		page.Logger(c).Error("backup over the API cut short", "request_id", page.RequestID(c), "err", err)
		return
	}
	page.Logger(c).Info("backup downloaded", "request_id", page.RequestID(c), "documents", m.Documents(), "held_writes", m.HeldWrites.String())
}
