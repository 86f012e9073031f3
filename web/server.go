package web

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/accounts"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/replay"
)

// Config is the web layer's configuration; cmd/terroir fills it from the
// environment and flags.
type Config struct {
	PublicURL  string        // e.g. https://trace.terroir.ma; decides Secure cookies
	BodyLimit  int64         // bytes; 1 MiB when zero
	SessionTTL time.Duration // browser sessions; 12 h when zero
	TokenTTL   time.Duration // API tokens; 24 h when zero
	Version    string
	// CacheTTL bounds how long a cached trace page or catalogue may miss
	// another instance's change. This process's own changes show at once.
	// With the embedded store one process owns the data, so cmd/terroir
	// sets it long; with a replica set and several instances, short.
	CacheTTL time.Duration
}

// Deps are the services the web layer serves.
type Deps struct {
	Store        *mongodb.Store
	Accounts     *accounts.Service
	Traceability *traceability.Service
	Shops        *shops.Service
	Stock        *shops.Stock
	Catalog      *catalog.Service
	Orders       *orders.Service
	Payments     orders.Payments    // verifies Stripe webhooks
	Replay       *replay.Service    // Idempotency-Key replays of creating API requests
	CatalogCache *CatalogCache      // also the Stock's change callback
	Codes        traceability.Codes // public URL and signer of QR trace codes
	Scans        *traceability.ScanBuffer
	Logger       *slog.Logger
	Now          func() time.Time
}

// Server is the HTTP application. It is safe for concurrent use.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics
	reg     *prometheus.Registry
	pages   map[string]*template.Template
	engine  *gin.Engine
	traces  *traceCache
	scans   *traceability.ScanBuffer
	catalog *CatalogCache
	i18n    *i18n.Bundle
}

// New builds the server: templates parsed once, routes registered.
func New(cfg Config, deps Deps) (*Server, error) {
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = 1 << 20
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 24 * time.Hour
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 10 * time.Second
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var err error
	s := &Server{cfg: cfg, deps: deps, log: deps.Logger, now: deps.Now, reg: reg, metrics: newMetrics(reg)}
	if s.i18n, err = i18n.Load(); err != nil {
		return nil, err
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	s.pages = pages
	s.traces = newTraceCache(deps.Now, cfg.CacheTTL)
	deps.Traceability.OnLotChange(func(code string) { s.traces.invalidate(code) })
	s.scans = deps.Scans
	s.catalog = deps.CatalogCache
	if s.catalog == nil {
		s.catalog = NewCatalogCache(deps.Now, cfg.CacheTTL)
	}
	if s.scans == nil {
		s.scans = deps.Traceability.NewScanBuffer()
	}
	s.engine = s.routes()
	return s, nil
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// secureCookies reports whether cookies must carry the Secure attribute.
func (s *Server) secureCookies() bool { return strings.HasPrefix(s.cfg.PublicURL, "https://") }

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok", "version": s.cfg.Version})
}

func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.deps.Store.Ping(ctx); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "store unavailable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

func (s *Server) metricsHandler() gin.HandlerFunc {
	h := promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})
	return func(c *gin.Context) { h.ServeHTTP(c.Writer, c.Request) }
}
