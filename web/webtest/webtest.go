// Package webtest runs the whole Terroir server for tests: a fresh embedded
// store, the real services and the real router on an httptest server, with
// helpers to log in and call the JSON API.
package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
	"github.com/terroir-coop/terroir/internal/testworld"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web"
	"github.com/terroir-coop/terroir/web/accounts"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/replay"
)

// Env is a running server and its parts.
type Env struct {
	T            testing.TB
	Store        *mongodb.Store
	Server       *httptest.Server
	Web          *web.Server // the handler behind Server
	Accounts     *accounts.Service
	Traceability *traceability.Service
	Shops        *shops.Service
	Catalog      *catalog.Service
	Stock        *shops.Stock
	Codes        traceability.Codes
	Scans        *traceability.ScanBuffer
	Orders       *orders.Service
	Payments     *orders.Stripe
	Alerts       *orders.AlertLog // what the admin page and /metrics show
	AdminToken   string
	// Clock is every service's and the server's clock: real time, moved by
	// a test (Advance, Set) to make reservations expire, certificates lapse
	// or a month end, instead of editing stored documents.
	Clock *testworld.Clock
}

// AdminEmail and Password are the credentials of the admin New creates.
const (
	AdminEmail = "admin@test.terroir"
	Password   = "correct-horse-battery"
	QRKey      = "test-qr-key-0123456789abcdef"
)

// Options change how New builds the server; the zero value is the usual
// test server, paying through stripe-mock.
type Options struct {
	// NoStripeKey starts the server without STRIPE_SECRET_KEY.
	NoStripeKey bool
	// StripeTransport, when set, carries every request to Stripe (to count,
	// inspect or cut them); it reaches stripe-mock unless it decides
	// otherwise.
	StripeTransport http.RoundTripper
	// OnAlert receives the orders service's alerts.
	OnAlert func(ctx context.Context, a orders.Alert)
	// BackupSchedule is what the admin page shows of scheduled backups
	// (nil: off). The test runs it if it wants backups taken.
	BackupSchedule *mongodb.BackupSchedule
	// TrustedProxies is web.Config.TrustedProxies.
	TrustedProxies []string
	// EvidenceSyncLots is web.Config's: -1 sends every season's evidence
	// file to a background job (issue 18).
	EvidenceSyncLots int
	// MapTiles is web.Config.MapTiles: an operator's tile server.
	MapTiles string
	// Bundle, when set, is the server's catalogues (web.Deps.Bundle).
	Bundle *i18n.Bundle
	// Configure, when set, changes the server's configuration last (the
	// concurrency caps, rate limits and body limits of issue 14).
	Configure func(*web.Config)
}

// New starts a server on a fresh store with one admin user.
func New(t testing.TB) *Env {
	t.Helper()
	return NewWith(t, Options{})
}

// NewWith starts a server as New does, changed by opts.
func NewWith(t testing.TB, opts Options) *Env {
	t.Helper()
	store := mongotest.New(t)
	ctx := context.Background()
	if err := store.EnsureIndexes(ctx, web.Indexes()); err != nil {
		t.Fatal(err)
	}
	e := &Env{T: t, Store: store, Clock: &testworld.Clock{}}
	now := e.Clock.Now
	e.Traceability = traceability.NewService(traceability.NewStore(store), now)
	e.Shops = shops.NewService(shops.NewStore(store), now)
	e.Catalog = catalog.NewService(catalog.NewStore(store), e.Traceability, now)
	e.Stock = shops.NewStock(shops.NewStore(store), e.Traceability, now, e.Catalog)
	e.Accounts = accounts.NewService(accounts.NewStore(store), now, func(ctx context.Context, role access.Role, org string) error {
		if role == access.ShopManager {
			_, err := e.Shops.Shop(ctx, org)
			return err
		}
		_, err := e.Traceability.CooperativeName(ctx, org)
		return err
	})
	e.Accounts.SetBcryptCost(bcrypt.MinCost)
	// The public URL of trace codes is the test server's own address, so a
	// decoded QR code can be opened as it is.
	var handler http.Handler
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(e.Server.Close)
	signer, err := traceability.NewSigner([]byte(QRKey))
	if err != nil {
		t.Fatal(err)
	}
	e.Codes = traceability.Codes{PublicURL: e.Server.URL, Signer: signer}
	e.Scans = e.Traceability.NewScanBuffer()
	key := "sk_test_terroir"
	if opts.NoStripeKey {
		key = ""
	}
	var stripeClient *http.Client
	if opts.StripeTransport != nil {
		stripeClient = &http.Client{Transport: opts.StripeTransport, Timeout: 20 * time.Second}
	}
	e.Payments = orders.NewStripe(key, WebhookSecret, StripeMock(t), stripeClient)
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	e.Alerts = orders.NewAlertLog(50, now)
	onAlert := func(ctx context.Context, a orders.Alert) {
		e.Alerts.Record(ctx, a)
		if opts.OnAlert != nil {
			opts.OnAlert(ctx, a)
		}
	}
	e.Orders = orders.NewService(orders.NewStore(store), e.Catalog, e.Shops, e.Stock, e.Payments,
		orders.Config{PublicURL: e.Server.URL, Letters: i18n.Letters{Bundle: bundle}, OnAlert: onAlert}, now)
	// One process owns the test store, as in production on the embedded
	// store, so caches live as long as there (their own invalidations are
	// complete; the TTL only bounds other instances' changes).
	cfg := web.Config{Version: "test", PublicURL: e.Server.URL, CacheTTL: 10 * time.Minute, TrustedProxies: opts.TrustedProxies, EvidenceSyncLots: opts.EvidenceSyncLots, MapTiles: opts.MapTiles}
	// Tests send hundreds of anonymous requests from 127.0.0.1 in a moment
	// (floods of orders, scans, page crawls) and hundreds at once to prove
	// races lose nothing: the per-address limits are off and the groups'
	// caps far above those floods unless a test sets them (Configure), as
	// load_test.go does.
	cfg.RateLimits.Off = true
	cfg.Concurrency = web.Concurrency{Public: 4096, API: 4096, Pages: 4096}
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	srv, err := web.New(cfg, web.Deps{
		Codes: e.Codes, Scans: e.Scans, Orders: e.Orders, Payments: e.Payments,
		Replay: replay.NewService(replay.NewStore(store), now), Alerts: e.Alerts, BackupSchedule: opts.BackupSchedule,
		Store: store, Accounts: e.Accounts, Traceability: e.Traceability, Shops: e.Shops, Stock: e.Stock, Catalog: e.Catalog,
		Logger: slog.New(slog.DiscardHandler), Now: now, Bundle: opts.Bundle,
	})
	if err != nil {
		t.Fatal(err)
	}
	handler = srv
	t.Cleanup(srv.Close) // before the store closes: background evidence files stop first
	e.Web = srv
	if _, err := e.Accounts.CreateUser(ctx, accounts.System, accounts.NewUser{Email: AdminEmail, Password: Password, Role: access.Admin}); err != nil {
		t.Fatal(err)
	}
	e.AdminToken = e.Token(AdminEmail, Password)
	return e
}

// URL returns the server's address for path.
func (e *Env) URL(path string) string { return e.Server.URL + path }

// Token logs in through the API and returns a bearer token.
func (e *Env) Token(email, password string) string {
	e.T.Helper()
	var out struct {
		Token string `json:"token"`
	}
	if st := e.JSON("POST", "/api/v1/auth/token", "", map[string]string{"email": email, "password": password}, &out); st != 200 {
		e.T.Fatalf("login %s: status %d", email, st)
	}
	return out.Token
}

// Do sends a request with a raw body and returns the response and its body.
// An answer of the JSON API is validated against the served OpenAPI
// document (contract.go): an undeclared status or media type, or a body
// that does not match its schema, fails the test; so does a request the
// API accepted that the document would refuse.
func (e *Env) Do(method, path, token string, body []byte, header ...string) (*http.Response, []byte) {
	e.T.Helper()
	req, err := http.NewRequest(method, e.URL(path), bytes.NewReader(body))
	if err != nil {
		e.T.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.T.Fatal(err)
	}
	e.checkContract(req, body, resp, b)
	return resp, b
}

// JSON sends in (marshalled unless it is []byte or nil) and decodes the
// answer into out when out is not nil. It returns the status.
func (e *Env) JSON(method, path, token string, in, out any) int {
	e.T.Helper()
	var body []byte
	switch v := in.(type) {
	case nil:
	case []byte:
		body = v
	case string:
		body = []byte(v)
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			e.T.Fatal(err)
		}
	}
	resp, b := e.Do(method, path, token, body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			e.T.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

// APIError is the error shape of API.md.
type APIError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// User creates a user through the API as the admin and returns a token for it.
func (e *Env) User(email string, role access.Role, org string, scope ...string) string {
	e.T.Helper()
	body := map[string]any{"email": email, "password": Password, "role": role, "org": org}
	if len(scope) > 0 {
		body["scope"] = scope
	}
	var apiErr APIError
	if st := e.JSON("POST", "/api/v1/users", e.AdminToken, body, &apiErr); st != 201 {
		e.T.Fatalf("create user %s: %d %+v", email, st, apiErr)
	}
	return e.Token(email, Password)
}

// Cooperative creates a cooperative through the API as the admin.
func (e *Env) Cooperative(code, kind string) {
	e.T.Helper()
	var apiErr APIError
	st := e.JSON("POST", "/api/v1/cooperatives", e.AdminToken, map[string]string{
		"code": code, "name": "Coopérative " + code, "kind": kind, "commune": "Taliouine", "province": "Taroudannt",
	}, &apiErr)
	if st != 201 {
		e.T.Fatalf("create cooperative %s: %d %+v", code, st, apiErr)
	}
}

// Count returns the number of documents in a collection.
func (e *Env) Count(collection string) int64 {
	e.T.Helper()
	n, err := e.Store.Collection(collection).CountDocuments(context.Background(), map[string]any{})
	if err != nil {
		e.T.Fatal(err)
	}
	return n
}
