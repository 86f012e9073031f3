package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web"
)

func serve(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg := configFrom(getenv)
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.storeFlags(fs)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address (TERROIR_ADDR)")
	fs.StringVar(&cfg.PublicURL, "public-url", cfg.PublicURL, "public base URL of trace codes (TERROIR_PUBLIC_URL)")
	demo := fs.Bool("demo", false, "seed the demo network of the Souss-Massa-Drâa and print its accounts")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	schedule, err := backupSchedule(cfg)
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	log := newLogger(stdout)
	if addr := getenv("TERROIR_PPROF"); addr != "" {
		stopPprof, err := servePprof(addr, log)
		if err != nil {
			return errorf(stderr, "%v", err)
		}
		defer stopPprof()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	started := time.Now()
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	defer a.close()

	if cfg.AdminEmail != "" && cfg.AdminPassword != "" {
		created, err := a.accounts.EnsureFirstAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword)
		if err != nil {
			return errorf(stderr, "first admin: %v", err)
		}
		if created {
			log.Info("created the first admin", "email", cfg.AdminEmail)
		}
	}
	var demoJars string
	if *demo {
		if demoJars, err = seedDemo(ctx, a, stdout); err != nil {
			return errorf(stderr, "demo seed: %v", err)
		}
	}

	codes, err := a.traceCodes(ctx, cfg)
	if err != nil {
		return errorf(stderr, "QR keys: %v", err)
	}
	if demoJars != "" {
		if l, err := a.trace.PublicLot(ctx, demoJars); err == nil {
			fmt.Fprintf(stdout, "A jar of Taliouine saffron, as its QR code opens it:\n  %s\nThe catalogue: %s/shop/TAROUDANNT · the EU shop: %s/shop/EU-PLATFORM\n",
				codes.URL(traceability.RefOf(l, "")), cfg.PublicURL, cfg.PublicURL)
		}
	}
	// Scans are counted in memory and flushed every few seconds; the last
	// flush runs at shutdown, before the store closes (deferred above).
	scans := a.trace.NewScanBuffer()
	scansCtx, stopScans := context.WithCancel(context.Background())
	scansDone := make(chan struct{})
	go func() {
		defer close(scansDone)
		scans.Run(scansCtx, func(err error) { log.Warn("flush scan counts", "err", err) })
	}()
	defer func() { stopScans(); <-scansDone }()

	concurrency, rateLimits, err := loadLimits(cfg.MaxRequests, cfg.RateLimits)
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	cacheBytes, err := parseBytes("TERROIR_CACHE_BYTES", getenv("TERROIR_CACHE_BYTES"), web.DefaultCacheBytes)
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	if limit, set := defaultMemoryLimit(getenv, cacheBytes); set {
		log.Info("soft memory limit", "GOMEMLIMIT", limit, "cache_bytes", cacheBytes)
	}
	handler, err := web.New(web.Config{PublicURL: cfg.PublicURL, Version: version, CacheTTL: cacheTTL(a.store), CacheBytes: cacheBytes, TrustedProxies: cfg.TrustedProxies,
		MapTiles: cfg.MapTiles, Concurrency: concurrency, RateLimits: rateLimits},
		web.Deps{Store: a.store, Accounts: a.accounts, Traceability: a.trace, Shops: a.shops, Stock: a.stock, Catalog: a.catalog,
			Codes: codes, Scans: scans, Orders: a.orders, Payments: a.payments, Replay: a.replay, Alerts: a.alerts, BackupSchedule: schedule, Logger: log})
	if err != nil {
		return errorf(stderr, "web: %v", err)
	}
	defer handler.Close() // evidence files being made are recorded interrupted
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return errorf(stderr, "listen on %s: %v", cfg.Addr, err)
	}
	handler.WarmCatalogues(ctx)
	if a.store.Embedded() {
		go warmTraceReads(ctx, a.trace, scans, log)
	}
	go sweep(ctx, a, log)
	go expireOrders(ctx, a, log)
	if schedule != nil {
		schedule.Log = log
		go schedule.Run(ctx, a.store)
		log.Info("scheduled backups", "dir", schedule.Dir, "every", schedule.Every.String(), "keep", schedule.Keep)
	}

	embedded := "embedded store in " + cfg.DataDir
	if cfg.MongoURI != "" {
		embedded = "MongoDB replica set"
	}
	log.Info("terroir serving", "addr", ln.Addr().String(), "store", embedded, "version", version,
		"startup", time.Since(started).String())
	fmt.Fprintf(stdout, "Terroir is listening on http://%s (%s)\n", displayAddr(ln.Addr()), embedded)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return errorf(stderr, "serve: %v", err)
	case <-ctx.Done():
	}
	// Finish in-flight requests, then close the store (deferred above).
	log.Info("shutting down: finishing in-flight requests")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return errorf(stderr, "shutdown: %v", err)
	}
	log.Info("stopped")
	return 0
}

// parseBytes reads a size in bytes: a whole number, optionally with a
// KiB, MiB or GiB suffix (or KB, MB, GB, taken as the binary units); empty
// is def.
func parseBytes(name, v string, def int64) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return def, nil
	}
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}} {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			v, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%s must be a positive size in bytes (e.g. 134217728 or 128MiB), got %q", name, v)
	}
	return n * mult, nil
}

// defaultMemoryLimit gives the Go runtime a soft memory limit when the
// operator set none: GOMEMLIMIT, when set, is the runtime's own and is
// left as it is (so is a limit set by anything else before).
func defaultMemoryLimit(getenv func(string) string, cacheBytes int64) (int64, bool) {
	if getenv("GOMEMLIMIT") != "" || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		return 0, false
	}
	limit := memoryLimitFor(cacheBytes)
	debug.SetMemoryLimit(limit)
	return limit, true
}

// minMemoryLimit is the default soft limit's floor: the server's live heap
// without its caches (≈ 18 MB after the load tool's default mix) and the
// garbage between collections need it whatever the budget, or a small
// TERROIR_CACHE_BYTES would leave the collector running without pause.
const minMemoryLimit = 144 << 20

// memoryLimitFor is the default soft limit for a cache budget: the budget
// plus 48 MiB for the rest of the live heap and the garbage between
// collections, at least minMemoryLimit. The collector works harder as the
// heap nears it, instead of letting garbage double the RSS between
// collections. With the default budget it is 144 MiB, which with the
// binary's mapped pages (≈ 43 MiB) and the embedded SQLite's memory kept
// RSS at 190 MiB after the default mix (BENCHMARKS.md); a larger budget
// raises the limit with it.
func memoryLimitFor(cacheBytes int64) int64 {
	return max(cacheBytes+48<<20, minMemoryLimit)
}

func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if ok && tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return a.String()
}

// sweep deletes expired sessions and tokens: the embedded store has no TTL
// indexes. Every instance may run it; deletes are idempotent.
func sweep(ctx context.Context, a *app, log interface{ Warn(string, ...any) }) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.accounts.SweepExpired(ctx); err != nil && ctx.Err() == nil {
				log.Warn("sweep expired credentials", "err", err)
			}
			if err := a.replay.Sweep(ctx); err != nil && ctx.Err() == nil {
				log.Warn("sweep idempotency keys", "err", err)
			}
			if err := a.orders.SweepRecords(ctx); err != nil && ctx.Err() == nil {
				log.Warn("sweep payment records", "err", err)
			}
		}
	}
}

// expireOrders releases the reservations of unpaid orders every 30 s. Every
// instance may run it: each order expires once (orders.Service.ExpireDue).
func expireOrders(ctx context.Context, a *app, log interface{ Warn(string, ...any) }) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := a.orders.ExpireDue(ctx); err != nil && ctx.Err() == nil {
				log.Warn("expire orders", "err", err)
			}
		}
	}
}

// warmTraceReads reads, once after a start, what cold scans would read one
// lookup at a time: every parcel's outline and every code's scan count (the
// products come with the catalogues' warm, web.Server). Only on the
// embedded store: this process is its only writer, so what it remembers
// stays exact (its own changes are applied or forgotten as they happen),
// and the trace memo lives as long as the page caches.
func warmTraceReads(ctx context.Context, trace *traceability.Service, scans *traceability.ScanBuffer, log *slog.Logger) {
	start := time.Now()
	parcels, err := trace.WarmOutlines(ctx)
	if err != nil {
		log.Warn("warming the parcels' outlines", "err", err)
	}
	outlines := time.Since(start)
	if err := scans.Warm(ctx); err != nil {
		log.Warn("warming the scan counts", "err", err)
	}
	log.Info("trace reads warmed", "parcels", parcels, "parcels_took", outlines.String(), "scan_counts_took", (time.Since(start) - outlines).String())
}
