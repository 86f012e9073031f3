package web

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/terroir-coop/terroir/internal/mongodb"
)

// backupRoutes serves GET /api/v1/admin/backup and publishes what the
// store knows of its backups (scheduled ones included) as metrics:
//
//	terroir_backup_last_success_timestamp_seconds  when the last backup ended
//	terroir_backup_last_size_bytes                 its size, compressed
//	terroir_backup_last_failed                     1 while the last attempt failed (alert on it)
//	terroir_backups_total, terroir_backup_failures_total
func (s *Server) backupRoutes(api *gin.RouterGroup) {
	api.GET("/admin/backup", s.downloadBackup)
	st := s.deps.Store
	last := func(f func(mongodb.BackupStatus) float64) func() float64 {
		return func() float64 { return f(st.LastBackup()) }
	}
	s.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "terroir_backup_last_success_timestamp_seconds",
			Help: "When the last successful backup ended (Unix time; 0: none since start)."},
			last(func(b mongodb.BackupStatus) float64 {
				if b.At.IsZero() {
					return 0
				}
				return float64(b.At.Unix())
			})),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "terroir_backup_last_size_bytes", Help: "Size of the last successful backup, compressed."},
			last(func(b mongodb.BackupStatus) float64 { return float64(b.Bytes) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "terroir_backup_last_failed", Help: "1 when the last backup attempt failed."},
			last(func(b mongodb.BackupStatus) float64 {
				if b.Failed {
					return 1
				}
				return 0
			})),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "terroir_backups_total", Help: "Successful backups since start."},
			last(func(b mongodb.BackupStatus) float64 { return float64(b.Total) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "terroir_backup_failures_total", Help: "Failed backup attempts since start."},
			last(func(b mongodb.BackupStatus) float64 { return float64(b.Failures) })),
	)
}

// downloadBackup streams a consistent backup of the whole register (admin
// only): a gzipped mongodump archive with its manifest, while the server
// keeps serving. A failure after the first bytes leaves the client a
// truncated archive, which `terroir restore` refuses.
func (s *Server) downloadBackup(c *gin.Context) {
	if err := actorOf(c).RequireAdmin(); err != nil {
		fail(c, err)
		return
	}
	// A backup of a large register outlives the server's write timeout.
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{})
	c.Header("Content-Type", "application/gzip")
	c.Header("Content-Disposition", `attachment; filename="terroir-`+time.Now().UTC().Format("20060102-150405")+`.archive.gz"`)
	c.Status(http.StatusOK)
	m, err := s.deps.Store.Backup(c.Request.Context(), c.Writer, "terroir "+s.cfg.Version, nil)
	if err != nil {
		if !c.Writer.Written() {
			c.Header("Content-Type", "application/json; charset=utf-8")
			c.Header("Content-Disposition", "")
			fail(c, err)
			return
		}
		s.log.Error("backup over the API cut short", "request_id", requestID(c), "err", err)
		return
	}
	s.log.Info("backup downloaded", "request_id", requestID(c), "documents", m.Documents(), "held_writes", m.HeldWrites.String())
}
