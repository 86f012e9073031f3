package web

import (
	"context"
	"crypto/rand"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
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
	"github.com/terroir-coop/terroir/web/api"
	"github.com/terroir-coop/terroir/web/backoffice"
	"github.com/terroir-coop/terroir/web/catalogcache"
	"github.com/terroir-coop/terroir/web/documents"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/page"
	"github.com/terroir-coop/terroir/web/replay"
	"github.com/terroir-coop/terroir/web/storefront"
	"github.com/terroir-coop/terroir/web/trace"
)

// Web's own pages (the login form) and the static files, embedded.
//
//go:embed templates static
var assets embed.FS

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
	// CacheBytes is the memory budget of the page caches: half for the
	// trace records and pages, half for the catalogues' rendered pages,
	// each evicting least recently used (DefaultCacheBytes when zero;
	// TERROIR_CACHE_BYTES).
	CacheBytes int64
	// EvidenceSyncLots: a season of at most this many lots is made while
	// the request waits, a larger one in the background (0: the default,
	// 200; negative: always in the background).
	EvidenceSyncLots int
	// CookieKey signs flash cookies (at least 16 bytes). Instances behind
	// one load balancer share it; without it each process draws its own,
	// and a flash set by one instance is not shown by another.
	CookieKey []byte
	// TrustedProxies are the addresses or CIDRs of the reverse proxies in
	// front of the server, whose X-Forwarded-For is believed. None by
	// default: the client's address is the connection's, so nobody can
	// claim another address to dodge or abuse the per-address login limit.
	TrustedProxies []string
	// MapTiles is a tile server's URL template, e.g.
	// https://tiles.example.org/{z}/{x}/{y}.png, drawn under the trace
	// page's origin map (and allowed by its Content-Security-Policy). Empty
	// by default: the map is the parcels' own outlines and the page asks
	// nothing of another host.
	MapTiles string
	// Bounded work per request (issue 14; web/load.go has the defaults):
	// requests in progress per route group, anonymous requests per
	// address, and the body limits of JSON API writes and storefront forms
	// (64 KB when zero).
	Concurrency   Concurrency
	RateLimits    RateLimits
	JSONBodyLimit int64
	FormBodyLimit int64
}

// Deps are the services the web layer serves. They are concrete here, in
// the one place that wires them; each audience package takes only the
// small interfaces it declares.
type Deps struct {
	Store        *mongodb.Store
	Accounts     *accounts.Service
	Traceability *traceability.Service
	Shops        *shops.Service
	Stock        *shops.Stock
	Catalog      *catalog.Service
	Orders       *orders.Service
	MemberPay    *orders.MemberPay  // members' pay; made from Orders and Traceability when nil
	Payments     orders.Payments    // verifies Stripe webhooks
	Replay       *replay.Service    // Idempotency-Key replays of creating API requests
	Codes        traceability.Codes // public URL and signer of QR trace codes
	Scans        *traceability.ScanBuffer
	// Bundle is the message catalogues; i18n.Load() when nil (tests give
	// catalogues whose fallbacks show, to prove a page has none).
	Bundle *i18n.Bundle
	// Alerts are the orders service's alerts (its Config.OnAlert records
	// into it): counted on /metrics, the recent ones on the admin page. Nil:
	// an empty log of its own.
	Alerts *orders.AlertLog
	// BackupSchedule is the scheduled backups' settings, shown on the admin
	// page; nil when they are off.
	BackupSchedule *mongodb.BackupSchedule
	Logger         *slog.Logger
	Now            func() time.Time
	// Evidence makes the control body's evidence files (issue 18); when
	// nil, New makes one with the PDF summary of web/documents, which
	// Server.Close stops.
	Evidence *traceability.EvidenceJobs
}

// Server is the HTTP application. It is safe for concurrent use.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	metrics *metrics
	reg     *prometheus.Registry
	engine  *gin.Engine
	bundle  *i18n.Bundle
	groupOf map[string]string // route pattern → page group (language.go)
	pages   *page.Renderer
	// assetVersion names the static files' content (?v= of their URLs).
	assetVersion string

	ownEvidence bool // Close stops deps.Evidence

	// reads and writes limit anonymous requests per address (nil: off).
	reads, writes *limiter

	channels   *catalogcache.Cache
	trace      *trace.Handlers
	storefront *storefront.Handlers
	backoffice *backoffice.Handlers
	api        *api.Handlers
}

// New builds the server: catalogues loaded and templates parsed once, the
// caches made and subscribed to the services' announcements, the audience
// handlers wired, the routes registered.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := checkMapTiles(cfg.MapTiles); err != nil {
		return nil, err
	}
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = 1 << 20
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.JSONBodyLimit <= 0 {
		cfg.JSONBodyLimit = DefaultJSONBodyLimit
	}
	if cfg.FormBodyLimit <= 0 {
		cfg.FormBodyLimit = DefaultFormBodyLimit
	}
	cfg.Concurrency.withDefaults()
	cfg.RateLimits.withDefaults()
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 24 * time.Hour
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 10 * time.Second
	}
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = DefaultCacheBytes
	}
	if len(cfg.CookieKey) < 16 {
		cfg.CookieKey = make([]byte, 32)
		_, _ = rand.Read(cfg.CookieKey)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Alerts == nil {
		deps.Alerts = orders.NewAlertLog(alertsKept, deps.Now)
	}
	if deps.MemberPay == nil {
		deps.MemberPay = orders.NewMemberPay(deps.Orders, deps.Traceability)
	}
	if deps.Scans == nil {
		deps.Scans = deps.Traceability.NewScanBuffer()
	}
	if err := gin.New().SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &Server{cfg: cfg, deps: deps, log: deps.Logger, reg: reg, metrics: newMetrics(reg)}
	if !cfg.RateLimits.Off {
		s.reads = newLimiter(cfg.RateLimits.Reads, cfg.RateLimits.Addresses, deps.Now)
		s.writes = newLimiter(cfg.RateLimits.Writes, cfg.RateLimits.Addresses, deps.Now)
	}
	var err error
	if s.bundle = deps.Bundle; s.bundle == nil {
		if s.bundle, err = i18n.Load(); err != nil {
			return nil, err
		}
	}
	own, _ := fs.Sub(assets, ".")
	static, _ := fs.Sub(assets, "static")
	s.assetVersion = assetVersion(static)
	s.pages, err = page.NewRenderer(page.Options{Bundle: s.bundle, Version: s.assetVersion, FlashKey: cfg.CookieKey, SecureCookies: s.secureCookies()},
		map[string]fs.FS{"web": own, "trace": trace.Templates, "storefront": storefront.Templates, "backoffice": backoffice.Templates})
	if err != nil {
		return nil, err
	}
	if err := s.defineGroups(); err != nil {
		return nil, err
	}

	// The caches follow the services' announcements, subscribed once here.
	channels := catalogcache.NewWithBudget(catalogcache.Sources{Products: catalogueReads{src: deps.Catalog, s: s}, Shelves: deps.Stock, Certificates: deps.Traceability, Shops: deps.Shops},
		deps.Now, cfg.CacheTTL, cfg.CacheBytes/2)
	deps.Stock.OnChange(channels.ShelfChanged)
	deps.Catalog.OnChange(channels.ProductChanged)
	deps.Traceability.OnCertificationChange(channels.CertificationChanged)
	s.channels = channels

	if deps.Evidence == nil {
		log := deps.Logger
		deps.Evidence = traceability.NewEvidenceJobs(deps.Traceability, deps.Codes, documents.EvidencePDF, traceability.EvidenceJobOptions{
			SyncLots: cfg.EvidenceSyncLots, OnError: func(id string, err error) { log.Error("evidence file", "job", id, "err", err) }})
		s.deps.Evidence, s.ownEvidence = deps.Evidence, true
	}
	s.trace = trace.New(trace.Deps{Records: deps.Traceability, Products: deps.Catalog, Scans: deps.Scans, Codes: deps.Codes,
		Places: placeNames{shops: deps.Shops, coops: deps.Traceability}, Channels: channels,
		Pages: s.pages, Now: deps.Now, CacheTTL: cfg.CacheTTL, CacheBytes: cfg.CacheBytes / 2, MapTiles: cfg.MapTiles})
	deps.Traceability.OnLotChange(s.trace.Forget)
	deps.Catalog.OnChange(s.trace.ProductChanged)
	deps.Traceability.OnCertificationChange(s.trace.ForgetAll)
	deps.Traceability.OnParcelChange(s.trace.ForgetAll) // rare: an outline replaces a point

	s.storefront = storefront.New(storefront.Deps{Catalogue: channels, Products: deps.Catalog, Lots: deps.Traceability, Orders: deps.Orders,
		Quotes: deps.Stock, Payments: deps.Payments, Codes: deps.Codes, Pages: s.pages})
	s.backoffice = backoffice.New(backoffice.Deps{Cooperatives: deps.Traceability, Records: deps.Traceability, Audits: deps.Traceability,
		Shops: deps.Shops, Stock: deps.Stock, Catalogue: channels, Products: deps.Catalog, Orders: deps.Orders, Accounts: deps.Accounts,
		MemberPay: deps.MemberPay, Quality: deps.Traceability, Evidence: deps.Evidence, Consignments: deps.Traceability, Codes: deps.Codes,
		Alerts: deps.Alerts, Backups: backupsOf(deps.Store), BackupSchedule: deps.BackupSchedule, Pages: s.pages, Now: deps.Now})
	s.api = api.New(api.Deps{Network: deps.Traceability, Records: deps.Traceability, Certifications: deps.Traceability, Catalog: deps.Catalog,
		Channels: channels, Shops: deps.Shops, Stock: deps.Stock, Orders: deps.Orders, Accounts: deps.Accounts, Payments: deps.Payments,
		Quality: deps.Traceability, Evidence: deps.Evidence, Consignments: deps.Traceability,
		Codes: deps.Codes, Backups: deps.Store, MemberPay: deps.MemberPay, LotShares: deps.Traceability, Bundle: s.bundle, Version: cfg.Version, TokenTTL: cfg.TokenTTL, Now: deps.Now})
	registerCacheMetrics(reg, s.trace, channels)
	registerBackupMetrics(reg, deps.Store)
	registerAlertMetrics(reg, deps.Alerts)
	s.engine = s.routes()
	return s, nil
}

// Close stops the evidence files being made in the background (each is
// recorded interrupted, to be asked again), when New made their service.
func (s *Server) Close() {
	if s.ownEvidence {
		s.deps.Evidence.Close()
	}
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// secureCookies reports whether cookies must carry the Secure attribute.
func (s *Server) secureCookies() bool { return strings.HasPrefix(s.cfg.PublicURL, "https://") }

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok", "version": s.cfg.Version})
}

// readyz answers 200 only while the store answers and accepts writes: a
// full or read-only disk takes the instance out of the load balancer until
// space returns (mongodb.Store.Writable), while reads go on being served.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.deps.Store.Ping(ctx); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "store unavailable"})
		return
	}
	if err := s.deps.Store.Writable(ctx); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "store not writable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// registerBackupMetrics publishes what the store knows of its backups
// (scheduled ones included):
//
//	terroir_backup_last_success_timestamp_seconds  when the last backup ended
//	terroir_backup_last_size_bytes                 its size, compressed
//	terroir_backup_last_failed                     1 while the last attempt failed (alert on it)
//	terroir_backups_total, terroir_backup_failures_total
func registerBackupMetrics(reg prometheus.Registerer, st *mongodb.Store) {
	last := func(f func(mongodb.BackupStatus) float64) func() float64 {
		return func() float64 { return f(st.LastBackup()) }
	}
	reg.MustRegister(
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

// backupsOf is the store's backup record for the admin page (none without
// a store).
func backupsOf(st *mongodb.Store) backoffice.Backups {
	if st == nil {
		return nil
	}
	return st
}

// alertsKept is how many recent alerts the admin page can show.
const alertsKept = 50

// registerAlertMetrics publishes the payment alerts counted since start,
// one series per kind of orders.AlertKinds and no other (the label is never
// read from a request):
//
//	terroir_payment_alerts_total{kind="amount_mismatch"}      paid amount or currency differs from the order's
//	terroir_payment_alerts_total{kind="unknown_api_version"}  webhook refused for its Stripe API version
func registerAlertMetrics(reg prometheus.Registerer, alerts *orders.AlertLog) {
	for _, kind := range orders.AlertKinds {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "terroir_payment_alerts_total",
			Help:        "Payment alerts since start, by kind: money that does not match its order, webhooks refused for their API version.",
			ConstLabels: prometheus.Labels{"kind": kind}},
			func() float64 { return float64(alerts.Count(kind)) }))
	}
}

func (s *Server) metricsHandler() gin.HandlerFunc {
	h := promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})
	return func(c *gin.Context) { h.ServeHTTP(c.Writer, c.Request) }
}

// Templates are every page the server renders, by name: for the test that
// checks each key a template uses is in every catalogue.
func (s *Server) Templates() *page.Renderer { return s.pages }

// checkMapTiles refuses a tile template that is not an http(s) URL with
// {z}, {x} and {y}: a typo would otherwise show a broken map on every scan.
func checkMapTiles(t string) error {
	if t == "" {
		return nil
	}
	u, err := url.Parse(t)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		!strings.Contains(t, "{z}") || !strings.Contains(t, "{x}") || !strings.Contains(t, "{y}") {
		return fmt.Errorf("map tiles %q: want an http(s) URL template with {z}, {x} and {y}", t)
	}
	return nil
}

// placeNames names the places of a trace page's custody list: a shop's
// name, else a cooperative's.
type placeNames struct {
	shops *shops.Service
	coops *traceability.Service
}

func (p placeNames) PlaceName(ctx context.Context, code string) string {
	if sh, err := p.shops.Shop(ctx, code); err == nil {
		return sh.Name
	}
	if c, err := p.coops.CooperativeName(ctx, code); err == nil {
		return c.Name
	}
	return ""
}

// catalogueReads is the catalogue cache's source of the whole catalogue:
// what it reads, the trace pages remember too (trace.ReadAllProducts), so
// one read at start, and one per refresh, names the products of the first
// scans as well. The trace handlers are set after the cache is made; until
// then it only reads.
type catalogueReads struct {
	src *catalog.Service
	s   *Server
}

func (r catalogueReads) AllProducts(ctx context.Context) ([]catalog.Product, error) {
	if r.s.trace == nil {
		return r.src.AllProducts(ctx)
	}
	return r.s.trace.ReadAllProducts(ctx, r.src)
}

// WarmCatalogues builds every shop's catalogue in the background, from one
// read of all shelves (catalogcache.Cache.Warm), so that the first requests
// after a start find them built (the trace page's links to buy never wait
// for a build, and go missing until one lands). Shops past the first page of
// the list, or a list that cannot be read, are built by the first requests
// that need them.
func (s *Server) WarmCatalogues(ctx context.Context) {
	list, err := s.deps.Shops.Shops(ctx, mongodb.Page{Limit: mongodb.MaxPageSize})
	if err != nil {
		s.log.Warn("warming the catalogues", "err", err)
		return
	}
	codes := make([]string, len(list))
	for i, sh := range list {
		codes[i] = sh.Code
	}
	s.channels.Warm(ctx, codes)
}
