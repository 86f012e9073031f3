package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web"
	"github.com/terroir-coop/terroir/web/accounts"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/replay"
)

// config is everything the process reads from its environment and flags.
type config struct {
	Addr          string
	DataDir       string
	MongoURI      string
	PublicURL     string
	QRKey         string
	AdminEmail    string
	AdminPassword string
	StripeKey     string
	StripeWebhook string
	StripeAPIBase string
	// StripeAPIVersions are webhook API versions accepted besides the one
	// stripe-go is pinned to (comma-separated STRIPE_WEBHOOK_API_VERSIONS).
	StripeAPIVersions []string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed (TERROIR_TRUSTED_PROXIES, comma-separated addresses or
	// CIDRs; none by default).
	TrustedProxies []string
	// MapTiles is a tile server's URL template drawn under the trace
	// page's map (TERROIR_MAP_TILES; none by default).
	MapTiles string
	// MaxRequests and RateLimits bound the work per request
	// (TERROIR_MAX_REQUESTS, TERROIR_RATE_LIMITS; limits.go).
	MaxRequests string
	RateLimits  string
	BackupDir   string // scheduled backups (backup.go)
	BackupEvery string
	BackupKeep  string
}

func configFrom(getenv func(string) string) config {
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	return config{
		Addr:              or(getenv("TERROIR_ADDR"), ":8080"),
		DataDir:           or(getenv("TERROIR_DATA"), "data"),
		MongoURI:          getenv("MONGODB_URI"),
		PublicURL:         or(getenv("TERROIR_PUBLIC_URL"), "http://localhost:8080"),
		QRKey:             getenv("TERROIR_QR_KEY"),
		AdminEmail:        getenv("TERROIR_ADMIN_EMAIL"),
		AdminPassword:     getenv("TERROIR_ADMIN_PASSWORD"),
		StripeKey:         getenv("STRIPE_SECRET_KEY"),
		StripeWebhook:     getenv("STRIPE_WEBHOOK_SECRET"),
		StripeAPIBase:     getenv("STRIPE_API_BASE"),
		StripeAPIVersions: strings.FieldsFunc(getenv("STRIPE_WEBHOOK_API_VERSIONS"), func(r rune) bool { return r == ',' }),
		TrustedProxies:    strings.FieldsFunc(getenv("TERROIR_TRUSTED_PROXIES"), func(r rune) bool { return r == ',' || r == ' ' }),
		MapTiles:          getenv("TERROIR_MAP_TILES"),
		MaxRequests:       getenv("TERROIR_MAX_REQUESTS"),
		RateLimits:        getenv("TERROIR_RATE_LIMITS"),
		BackupDir:         getenv("TERROIR_BACKUP_DIR"),
		BackupEvery:       or(getenv("TERROIR_BACKUP_EVERY"), "24h"),
		BackupKeep:        or(getenv("TERROIR_BACKUP_KEEP"), "7"),
	}
}

// storeFlags registers the flags that override where the store is.
func (c *config) storeFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data", c.DataDir, "embedded store directory (TERROIR_DATA)")
	fs.StringVar(&c.MongoURI, "mongodb-uri", c.MongoURI, "MongoDB replica set URI (MONGODB_URI); empty = embedded store")
}

// app is the wired application: the store and the domain services.
type app struct {
	store    *mongodb.Store
	trace    *traceability.Service
	shops    *shops.Service
	catalog  *catalog.Service
	stock    *shops.Stock
	orders   *orders.Service
	replay   *replay.Service
	payments *orders.Stripe
	accounts *accounts.Service
	// publicURL is where the server is reached (TERROIR_PUBLIC_URL), for
	// the links the demo's order e-mails carry.
	publicURL string
	alerts    *orders.AlertLog // the recent payment alerts (admin page, metrics)
}

func openApp(ctx context.Context, cfg config, log *slog.Logger) (*app, error) {
	store, err := mongodb.Open(ctx, mongodb.Config{URI: cfg.MongoURI, DataDir: cfg.DataDir, Log: log})
	if err != nil {
		return nil, err
	}
	if err := store.EnsureIndexes(ctx, web.Indexes()); err != nil {
		store.Close()
		return nil, err
	}
	a := &app{store: store, publicURL: strings.TrimRight(cfg.PublicURL, "/"), alerts: orders.NewAlertLog(50, time.Now)}
	a.trace = traceability.NewService(traceability.NewStore(store), time.Now)
	a.trace.RememberFor(cacheTTL(store)) // only this process writes an embedded store
	a.shops = shops.NewService(shops.NewStore(store), time.Now)
	a.catalog = catalog.NewService(catalog.NewStore(store), a.trace, time.Now)
	// Till sales are priced by the stock service from the catalogue.
	a.stock = shops.NewStock(shops.NewStore(store), a.trace, time.Now, a.catalog)
	a.payments = orders.NewStripe(cfg.StripeKey, cfg.StripeWebhook, cfg.StripeAPIBase, nil)
	bundle, err := i18n.Load()
	if err != nil {
		store.Close()
		return nil, err
	}
	a.payments.AcceptAPIVersions(cfg.StripeAPIVersions...)
	a.orders = orders.NewService(orders.NewStore(store), a.catalog, a.shops, a.stock, a.payments,
		orders.Config{PublicURL: strings.TrimRight(cfg.PublicURL, "/"), Letters: i18n.Letters{Bundle: bundle},
			OnAlert: func(ctx context.Context, al orders.Alert) {
				log.ErrorContext(ctx, "payment alert", "alert", al.Kind, "order", al.OrderID, "event", al.EventID, "detail", al.Detail)
				a.alerts.Record(ctx, al)
			}}, time.Now)
	a.replay = replay.NewService(replay.NewStore(store), time.Now)
	a.accounts = accounts.NewService(accounts.NewStore(store), time.Now, a.checkOrg)
	if rep := store.Recovered(); store.Unclean() || rep != (mongodb.Recovery{}) {
		// Open has already rolled back what the last process left
		// unfinished (the journal of mongodb.Atomically); say so.
		log.Warn("recovered after an unclean stop", "changes_undone", rep.Undone,
			"changes_finished", rep.Finished, "documents_restored", rep.Documents)
	}
	return a, nil
}

// checkOrg tells the accounts service whether a user's organisation exists.
func (a *app) checkOrg(ctx context.Context, role access.Role, org string) error {
	if role == access.ShopManager {
		_, err := a.shops.Shop(ctx, org)
		return err
	}
	_, err := a.trace.CooperativeName(ctx, org)
	return err
}

func (a *app) close() { a.store.Close() }

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func errorf(w io.Writer, format string, args ...any) int {
	fmt.Fprintf(w, "terroir: "+format+"\n", args...)
	return 1
}

// traceCodes builds the QR signer: TERROIR_QR_KEY holds one or more keys
// separated by commas, the first signing and all verifying (rotate by
// putting a new key first and keeping the old ones while their labels are
// in shops). Without it, a key kept in the store is used.
func (a *app) traceCodes(ctx context.Context, cfg config) (traceability.Codes, error) {
	var keys [][]byte
	for _, k := range strings.Split(cfg.QRKey, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, []byte(k))
		}
	}
	if len(keys) == 0 {
		k, err := a.trace.StoredQRKey(ctx)
		if err != nil {
			return traceability.Codes{}, err
		}
		keys = append(keys, k)
	}
	signer, err := traceability.NewSigner(keys...)
	if err != nil {
		return traceability.Codes{}, err
	}
	return traceability.Codes{PublicURL: strings.TrimRight(cfg.PublicURL, "/"), Signer: signer, Parties: a.shops}, nil
}

// cacheTTL is how long a page cache may miss another instance's change:
// with the embedded store this process is the only writer (the lock file),
// so its own invalidations are complete and entries may live long; with a
// replica set other instances write too.
func cacheTTL(store *mongodb.Store) time.Duration {
	if store.Embedded() {
		return 10 * time.Minute
	}
	return 10 * time.Second
}
