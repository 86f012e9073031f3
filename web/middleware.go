package web

import (
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/terroir-coop/terroir/web/api"
	"github.com/terroir-coop/terroir/web/backoffice"
	"github.com/terroir-coop/terroir/web/page"
)

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// withRequestID takes a sane X-Request-ID from the client (a proxy's) or
// makes one, and echoes it, so a user's report can be found in the logs.
func withRequestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !validRequestID(id) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	page.SetRequestID(c, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

// metrics are the server's Prometheus instruments.
type metrics struct {
	requests *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "terroir_http_request_duration_seconds",
		Help:    "HTTP requests by route, method and status.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"method", "route", "status"})}
	reg.MustRegister(m.requests)
	return m
}

// methodLabel is the method as a metric label: one of the methods HTTP
// defines, or "other". The method is the client's to choose, and a label
// taking whatever it sends would let anyone add series (memory on the
// server, cost in the monitoring) with `curl -X ANYTHING`. Route and status
// are the server's own: the matched pattern ("unmatched" otherwise) and the
// status it answered.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// observe logs each request as one JSON line and records its duration.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	d := time.Since(start)
	s.metrics.requests.WithLabelValues(methodLabel(c.Request.Method), route, strconv.Itoa(status)).Observe(d.Seconds())
	if route == "/healthz" || route == "/metrics" {
		return
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.log.LogAttrs(c.Request.Context(), level, "request",
		slog.String("request_id", page.RequestID(c)),
		slog.String("method", c.Request.Method),
		slog.String("route", route),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", status),
		slog.Int("bytes", c.Writer.Size()),
		slog.Duration("duration", d),
	)
}

// limitBody caps every request body by what its route takes (bodyLimitOf:
// a few kB for a JSON write or a storefront form); reading past the cap
// fails with *http.MaxBytesError, which errors.go turns into 413.
func (s *Server) limitBody(c *gin.Context) {
	limit := s.bodyLimitOf(c)
	if c.FullPath() == api.PhotoUploadRoute {
		limit = max(limit, api.PhotoBodyLimit) // photo uploads get their own cap
	}
	switch c.FullPath() { // register files too (issue 19)
	case api.ImportRoute:
		limit = max(limit, api.ImportBodyLimit)
	case backoffice.ImportRoute:
		limit = max(limit, backoffice.ImportBodyLimit)
	case api.LabResultRoute, backoffice.LabResultRoute:
		limit = max(limit, api.LabResultBodyLimit) // laboratory reports: 10 MB
	}
	if c.Request.ContentLength > limit {
		page.Fail(c, &http.MaxBytesError{Limit: limit})
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	c.Next()
}

// securityHeaders applies a strict Content-Security-Policy: pages load only
// their own scripts, styles and images, are never framed and post only here.
// Images may also come from the operator's tile server when one is
// configured (Config.MapTiles); by default no other host is allowed.
func securityHeaders(mapTiles string) gin.HandlerFunc {
	img := "img-src 'self' data:"
	if u, err := url.Parse(mapTiles); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		img += " " + u.Scheme + "://" + u.Host
	}
	csp := "default-src 'self'; " + img + "; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		c.Next()
	}
}

// recoverPanics turns a panic into a logged 500 that carries the request ID.
func recoverPanics(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			page.Logger(c).ErrorContext(c.Request.Context(), "panic", "panic", r, "request_id", page.RequestID(c))
			c.AbortWithStatusJSON(http.StatusInternalServerError,
				page.ErrorBody{Error: page.ErrorDetail{Code: "internal", Message: "internal error", RequestID: page.RequestID(c)}})
		}
	}()
	c.Next()
}

// noStore keeps API answers (which may be private) out of shared caches.
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Next()
}

func staticHandler(files fs.FS, version string) gin.HandlerFunc {
	h := http.StripPrefix("/static", http.FileServer(http.FS(files)))
	return func(c *gin.Context) {
		// The pages link static files with ?v= naming their content
		// (assetVersion), so a phone on a slow link keeps them a year; a
		// URL without it (or an old one) is kept a day.
		if c.Query("v") == version {
			c.Header("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			c.Header("Cache-Control", "public, max-age=86400")
		}
		h.ServeHTTP(c.Writer, c.Request)
	}
}
