package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/terroir-coop/terroir/traceability"
)

// Kinds of request the load tool sends.
const (
	kindScan        = "scan"
	kindCatalogJSON = "catalog_json"
	kindCatalogPage = "catalog_page"
	kindSale        = "sale"
	kindOrder       = "order"
	kindWebhook     = "webhook"
	kindProduct     = "product_page"
	kindHealthz     = "healthz"
)

var kinds = []string{kindScan, kindCatalogJSON, kindCatalogPage, kindProduct, kindHealthz, kindSale, kindOrder, kindWebhook}

// mix is the share of each kind a worker picks (percent; webhooks follow
// orders and are not picked).
type mix struct {
	scan, catalogJSON, catalogPage, sale, order int
	// product: a product page of a random shop and SKU (every SKU of the
	// manifest rotating); healthz: the server's cheapest answer, the
	// baseline pages are given against.
	product, healthz int
	cold             bool // each lot scanned once (scans only)
}

var (
	fullMix  = mix{scan: 80, catalogJSON: 4, catalogPage: 4, sale: 8, order: 4}
	writeMix = mix{sale: 50, order: 50} // orders and stock movements only: the crash test
	salesMix = mix{sale: 100}           // till sales only: writes/s against the disk's fsync rate
	// coldMix scans every lot of the manifest once, in a random order, and
	// stops when all have been scanned: the first scan of a lot, which no
	// cache of the server can answer.
	coldMix = mix{scan: 100, cold: true}
	// productsMix: product pages with all SKUs rotating, to be read against
	// healthzMix on the same server.
	productsMix = mix{product: 100}
	healthzMix  = mix{healthz: 100}
)

// mixes are the --mix names.
var mixes = map[string]mix{"full": fullMix, "writes": writeMix, "sales": salesMix, "cold": coldMix,
	"products": productsMix, "healthz": healthzMix}

// ack is a write the server acknowledged with a 2xx.
type ack struct {
	Kind string // kindSale, kindOrder or kindWebhook (the order was paid)
	ID   string // sale or order ID
}

// options of a load run.
type options struct {
	BaseURL       string
	Manifest      manifest
	QRKey         string
	AdminEmail    string
	AdminPassword string
	WebhookSecret string
	Duration      time.Duration
	MaxRequests   int64
	Concurrency   int
	Mix           mix
	// ReplayEvery sends a second, distinct paid event for every n-th order
	// (0: never), as Stripe may: the order must still be paid once.
	ReplayEvery int
	Progress    io.Writer
	OnAck       func(ack) // called for every acknowledged write (may be nil)
	// ServerPID, when not 0, is the server's process: its CPU time and
	// resident memory are read from /proc before and after the run.
	ServerPID int
	// Scanners, when not 0, makes scans come from that many distinct
	// clients: each scan names one in X-Forwarded-For (an address of the
	// benchmarking range 198.18.0.0/15, a header only: no traffic goes
	// there). The server must trust the load tool as a proxy
	// (TERROIR_TRUSTED_PROXIES=127.0.0.1), or its per-address limits count
	// every scan as one client's and stop counting after 50.
	Scanners int
}

// results of a load run, per kind.
type results struct {
	Elapsed time.Duration
	ByKind  map[string]*kindStats
	// Server is what /proc says of the server process (ServerPID).
	Server *serverUsage
}

type kindStats struct {
	OK, Refused, Errors int64
	Latencies           []time.Duration
	LastError           string
}

func runCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "the server's base URL (loopback only)")
	data := fs.String("data", "", "the seeded data directory (for "+manifestName+")")
	manifestPath := fs.String("manifest", "", "path of "+manifestName+" (default: in --data)")
	duration := fs.Duration("duration", 30*time.Second, "how long to run (at most 60s)")
	requests := fs.Int64("requests", 2_000_000, "stop after this many requests")
	concurrency := fs.Int("concurrency", 16, "concurrent clients (1-256)")
	adminEmail := fs.String("admin-email", getenv("TERROIR_ADMIN_EMAIL"), "the server's admin (creates the shop managers)")
	adminPassword := fs.String("admin-password", getenv("TERROIR_ADMIN_PASSWORD"), "the admin's password")
	secret := fs.String("webhook-secret", getenv("STRIPE_WEBHOOK_SECRET"), "STRIPE_WEBHOOK_SECRET of the server")
	mixName := fs.String("mix", "full", "full (80 % scans), writes (sales and orders), sales (till sales only), cold (each lot scanned once), products (product pages, every SKU rotating) or healthz")
	pid := fs.Int("pid", 0, "the server's process ID: report its CPU time per request and its memory")
	scanners := fs.Int("scanners", 0, "scans come from this many distinct clients (X-Forwarded-For; the server must trust 127.0.0.1 as a proxy)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := loopbackOnly(*base); err != nil {
		fmt.Fprintf(stderr, "terroir-load: %v\n", err)
		return 2
	}
	m, ok := mixes[*mixName]
	if !ok {
		fmt.Fprintln(stderr, "terroir-load: --mix is full, writes, sales, cold, products or healthz")
		return 2
	}
	// A cold run ends when every lot was scanned once; at the large scale
	// that takes longer than a minute.
	maxDuration := 60 * time.Second
	if m.cold {
		maxDuration = 3 * time.Minute
	}
	if *duration <= 0 || *duration > maxDuration || *concurrency < 1 || *concurrency > 256 || *requests < 1 || *scanners < 0 || *scanners > 1<<17 {
		fmt.Fprintf(stderr, "terroir-load: --duration must be in (0, %s], --concurrency in 1..256, --requests ≥ 1, --scanners in 0..131072\n", maxDuration)
		return 2
	}
	path := *manifestPath
	if path == "" {
		if *data == "" {
			fmt.Fprintln(stderr, "terroir-load: --data or --manifest is required")
			return 2
		}
		path = filepath.Join(*data, manifestName)
	}
	man, err := readManifest(path)
	if err != nil {
		fmt.Fprintf(stderr, "terroir-load: %v\n", err)
		return 1
	}
	qrKey, _, _ := strings.Cut(getenv("TERROIR_QR_KEY"), ",")
	if m.scan > 0 && strings.TrimSpace(qrKey) == "" {
		fmt.Fprintln(stderr, "terroir-load: set TERROIR_QR_KEY to the server's key: scans need signed trace URLs")
		return 2
	}
	if m.order > 0 && *secret == "" {
		fmt.Fprintln(stderr, "terroir-load: --webhook-secret is required for orders")
		return 2
	}
	res, err := load(context.Background(), options{BaseURL: strings.TrimRight(*base, "/"), Manifest: man, QRKey: strings.TrimSpace(qrKey),
		AdminEmail: *adminEmail, AdminPassword: *adminPassword, WebhookSecret: *secret, Duration: *duration, MaxRequests: *requests,
		Concurrency: *concurrency, Mix: m, Progress: stdout, ServerPID: *pid, Scanners: *scanners})
	if err != nil {
		fmt.Fprintf(stderr, "terroir-load: %v\n", err)
		return 1
	}
	res.print(stdout)
	return 0
}

// scannerAddr is the n-th address of the benchmarking range 198.18.0.0/15
// (RFC 2544), as a client behind a proxy would be named.
func scannerAddr(n int) string {
	return fmt.Sprintf("198.%d.%d.%d", 18+n>>16&1, n>>8&0xff, n&0xff)
}

// loopbackOnly refuses any base URL that is not http(s) on a loopback host.
func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url %q: want http://127.0.0.1:PORT", raw)
	}
	h := u.Hostname()
	if h == "localhost" {
		return nil
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--url %q: the load tool only sends traffic to a loopback address (127.0.0.1, ::1, localhost)", raw)
}

func readManifest(path string) (manifest, error) {
	var m manifest
	b, err := os.ReadFile(path)
	if err != nil {
		return m, fmt.Errorf("manifest: %w (seed first: terroir-load seed --data DIR)", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("manifest %s: %w", path, err)
	}
	if len(m.Lots) == 0 || len(m.SKUs) == 0 || len(m.Tills) == 0 {
		return m, fmt.Errorf("manifest %s is empty", path)
	}
	return m, nil
}

// client talks to the server under load.
type client struct {
	http *http.Client
	base string
}

func (c *client) do(method, path, token string, body []byte, header ...string) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept-Language", "fr-FR,fr;q=0.9")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (c *client) postJSON(path, token string, in, out any, header ...string) (int, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return 0, err
	}
	st, b, err := c.do("POST", path, token, body, header...)
	if err == nil && out != nil && st/100 == 2 {
		err = json.Unmarshal(b, out)
	}
	return st, err
}

func (c *client) login(email, password string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	st, err := c.postJSON("/api/v1/auth/token", "", map[string]string{"email": email, "password": password}, &out)
	if err != nil || st != http.StatusOK {
		return "", fmt.Errorf("log in as %s: status %d, %v", email, st, err)
	}
	return out.Token, nil
}

// shopManagers logs in a manager for each till, creating the accounts with
// the admin's token the first time.
func (c *client) shopManagers(opts options) (map[string]string, error) {
	tokens := map[string]string{}
	if opts.Mix.sale == 0 {
		return tokens, nil
	}
	admin, err := c.login(opts.AdminEmail, opts.AdminPassword)
	if err != nil {
		return nil, fmt.Errorf("admin: %w (pass --admin-email and --admin-password)", err)
	}
	const password = "load-tool-shop-manager"
	for _, shop := range opts.Manifest.Tills {
		email := "load-" + strings.ToLower(shop) + "@terroir.load"
		st, err := c.postJSON("/api/v1/users", admin, map[string]any{"email": email, "password": password, "role": "shop_manager", "org": shop}, nil)
		if err != nil || (st != http.StatusCreated && st != http.StatusConflict) {
			return nil, fmt.Errorf("create %s: status %d, %v", email, st, err)
		}
		if tokens[shop], err = c.login(email, password); err != nil {
			return nil, err
		}
	}
	return tokens, nil
}

// load drives the mix until the duration or the request count runs out.
func load(ctx context.Context, opts options) (*results, error) {
	if err := loopbackOnly(opts.BaseURL); err != nil {
		return nil, err
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	c := &client{base: opts.BaseURL, http: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: opts.Concurrency + 4, MaxIdleConns: opts.Concurrency + 4}}}
	// Setting up hashes passwords, slow on a busy machine: a longer timeout
	// than the load's requests.
	setup := &client{base: c.base, http: &http.Client{Timeout: 60 * time.Second, Transport: c.http.Transport}}
	managers, err := setup.shopManagers(opts)
	if err != nil {
		return nil, err
	}
	var traceURLs []string
	if opts.Mix.scan > 0 {
		signer, err := traceability.NewSigner([]byte(opts.QRKey))
		if err != nil {
			return nil, err
		}
		codes := traceability.Codes{PublicURL: "", Signer: signer}
		for _, l := range opts.Manifest.Lots {
			traceURLs = append(traceURLs, codes.URL(traceability.TraceRef{GTIN: l.GTIN, Lot: l.Code}))
		}
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Duration)
	defer cancel()

	var mu sync.Mutex
	res := &results{ByKind: map[string]*kindStats{}}
	for _, k := range kinds {
		res.ByKind[k] = &kindStats{}
	}
	var sent atomic.Int64
	record := func(kind string, d time.Duration, st int, err error, refusedOK bool) {
		mu.Lock()
		defer mu.Unlock()
		s := res.ByKind[kind]
		switch {
		case err == nil && st/100 == 2:
			s.OK++
			s.Latencies = append(s.Latencies, d)
		case err == nil && refusedOK && st == http.StatusConflict:
			s.Refused++ // out of stock: an answer, not a failure
			s.Latencies = append(s.Latencies, d)
		default:
			s.Errors++
			if err != nil {
				s.LastError = err.Error()
			} else {
				s.LastError = fmt.Sprintf("status %d", st)
			}
		}
	}
	onAck := func(a ack) {
		if opts.OnAck != nil {
			opts.OnAck(a)
		}
	}
	var orderSeq atomic.Int64
	// The cold mix scans the lots in a random order, each once.
	var coldNext atomic.Int64
	coldOrder := rand.Perm(len(traceURLs))
	shopCodes := append(slices.Clone(opts.Manifest.Tills), opts.Manifest.Platform)
	var scanSeq atomic.Int64
	scan := func(path string) (int, []byte, error) {
		if opts.Scanners == 0 {
			return c.do("GET", path, "", nil)
		}
		return c.do("GET", path, "", nil, "X-Forwarded-For", scannerAddr(int(scanSeq.Add(1)%int64(opts.Scanners))))
	}

	worker := func(rng *rand.Rand) {
		for ctx.Err() == nil && sent.Add(1) <= opts.MaxRequests {
			m := opts.Mix
			r := rng.IntN(m.scan + m.catalogJSON + m.catalogPage + m.sale + m.order + m.product + m.healthz)
			t0 := time.Now()
			switch {
			case m.cold:
				i := coldNext.Add(1) - 1
				if i >= int64(len(coldOrder)) {
					return // every lot scanned once
				}
				st, _, err := scan(traceURLs[coldOrder[i]])
				record(kindScan, time.Since(t0), st, err, false)
			case r < m.scan:
				st, _, err := scan(traceURLs[rng.IntN(len(traceURLs))])
				record(kindScan, time.Since(t0), st, err, false)
			case r < m.scan+m.catalogJSON:
				shop := shopCodes[rng.IntN(len(shopCodes))]
				st, _, err := c.do("GET", "/api/v1/catalog?channel="+shop+"&limit=50", "", nil)
				record(kindCatalogJSON, time.Since(t0), st, err, false)
			case r < m.scan+m.catalogJSON+m.catalogPage:
				shop := shopCodes[rng.IntN(len(shopCodes))]
				st, _, err := c.do("GET", "/shop/"+shop, "", nil)
				record(kindCatalogPage, time.Since(t0), st, err, false)
			case r < m.scan+m.catalogJSON+m.catalogPage+m.product:
				shop := shopCodes[rng.IntN(len(shopCodes))]
				sku := opts.Manifest.SKUs[rng.IntN(len(opts.Manifest.SKUs))]
				st, _, err := c.do("GET", "/shop/"+shop+"/"+sku, "", nil)
				record(kindProduct, time.Since(t0), st, err, false)
			case r < m.scan+m.catalogJSON+m.catalogPage+m.product+m.healthz:
				st, _, err := c.do("GET", "/healthz", "", nil)
				record(kindHealthz, time.Since(t0), st, err, false)
			case r < m.scan+m.catalogJSON+m.catalogPage+m.product+m.healthz+m.sale:
				shop := opts.Manifest.Tills[rng.IntN(len(opts.Manifest.Tills))]
				var sale struct {
					ID string `json:"id"`
				}
				st, err := c.postJSON("/api/v1/shops/"+shop+"/sales", managers[shop], map[string]any{"payment": "cash",
					"lines": []map[string]any{{"sku": opts.Manifest.SKUs[rng.IntN(len(opts.Manifest.SKUs))], "units": 1}}}, &sale)
				record(kindSale, time.Since(t0), st, err, true)
				if err == nil && st == http.StatusCreated {
					onAck(ack{Kind: kindSale, ID: sale.ID})
				}
			default:
				n := orderSeq.Add(1)
				var o struct {
					ID    string `json:"id"`
					Total struct {
						Amount   int64  `json:"amount"`
						Currency string `json:"currency"`
					} `json:"total"`
				}
				sku := opts.Manifest.SKUs[rng.IntN(len(opts.Manifest.SKUs))]
				st, err := c.postJSON("/api/v1/orders", "", map[string]any{"channel": opts.Manifest.Platform,
					"lines": []map[string]any{{"sku": sku, "units": 1 + rng.IntN(2)}},
					"customer": map[string]any{"email": fmt.Sprintf("client%d@example.fr", n), "name": "Claire Martin",
						"address": map[string]any{"line1": "12 rue des Lilas", "postal_code": "69003", "city": "Lyon", "country": "FR"}}},
					&o, "Idempotency-Key", fmt.Sprintf("load-%d-%d", time.Now().UnixNano(), n))
				record(kindOrder, time.Since(t0), st, err, true)
				if err != nil || st != http.StatusCreated {
					continue
				}
				onAck(ack{Kind: kindOrder, ID: o.ID})
				events := 1
				if opts.ReplayEvery > 0 && n%int64(opts.ReplayEvery) == 0 {
					events = 2
				}
				for e := range events {
					t1 := time.Now()
					st, err := c.paid(opts.WebhookSecret, fmt.Sprintf("evt_load_%d_%d_%d", time.Now().UnixNano(), n, e), o.ID, o.Total.Amount, o.Total.Currency)
					record(kindWebhook, time.Since(t1), st, err, false)
					if err == nil && st/100 == 2 {
						onAck(ack{Kind: kindWebhook, ID: o.ID})
					}
				}
			}
		}
	}

	var before serverUsage
	if opts.ServerPID != 0 {
		if before, err = readUsage(opts.ServerPID); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i := range opts.Concurrency {
		wg.Go(func() { worker(rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(i)))) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	var lastN int64
	last := start
	for {
		select {
		case <-done:
			res.Elapsed = time.Since(start)
			if opts.ServerPID != 0 {
				after, err := readUsage(opts.ServerPID)
				if err != nil {
					return nil, err
				}
				after.CPU -= before.CPU
				res.Server = &after
			}
			return res, nil
		case now := <-tick.C:
			mu.Lock()
			var n, errs int64
			for _, s := range res.ByKind {
				n += s.OK + s.Refused
				errs += s.Errors
			}
			mu.Unlock()
			fmt.Fprintf(opts.Progress, "%4.0fs  %7d requests  %6.0f req/s  %d errors\n",
				now.Sub(start).Seconds(), n, float64(n-lastN)/now.Sub(last).Seconds(), errs)
			lastN, last = n, now
		}
	}
}

// paid posts a signed checkout.session.completed event for the order, paid
// in full as Stripe would report a card payment.
func (c *client) paid(secret, eventID, orderID string, amount int64, currency string) (int, error) {
	now := time.Now()
	payload, err := json.Marshal(map[string]any{"id": eventID, "object": "event", "type": "checkout.session.completed",
		"created": now.Unix(), "api_version": "2023-10-16", "data": map[string]any{"object": map[string]any{
			"id": "cs_load_" + orderID, "object": "checkout.session", "client_reference_id": orderID,
			"metadata": map[string]string{"order_id": orderID}, "payment_intent": "pi_load_" + orderID, "payment_status": "paid",
			"amount_total": amount, "currency": strings.ToLower(currency)}}})
	if err != nil {
		return 0, err
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: now})
	st, _, err := c.do("POST", "/api/v1/stripe/webhook", "", payload, "Stripe-Signature", signed.Header)
	return st, err
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return sorted[i]
}

func (r *results) print(w io.Writer) {
	fmt.Fprintf(w, "\n%-13s %8s %8s %7s %9s %9s %9s %9s\n", "kind", "ok", "refused", "errors", "req/s", "p50", "p95", "p99")
	var total, errs int64
	for _, k := range kinds {
		s := r.ByKind[k]
		n := s.OK + s.Refused
		if n+s.Errors == 0 {
			continue
		}
		slices.Sort(s.Latencies)
		fmt.Fprintf(w, "%-13s %8d %8d %7d %9.1f %9s %9s %9s\n", k, s.OK, s.Refused, s.Errors, float64(n)/r.Elapsed.Seconds(),
			round(percentile(s.Latencies, .50)), round(percentile(s.Latencies, .95)), round(percentile(s.Latencies, .99)))
		total += n
		errs += s.Errors
	}
	fmt.Fprintf(w, "%-13s %8d %8s %7d %9.1f   in %s\n", "total", total, "", errs, float64(total)/r.Elapsed.Seconds(), r.Elapsed.Round(time.Millisecond))
	if u := r.Server; u != nil && total > 0 {
		fmt.Fprintf(w, "server: %.2f s of CPU (%.1f%% of one core), %s per request; RSS %d MiB\n", u.CPU.Seconds(),
			100*u.CPU.Seconds()/r.Elapsed.Seconds(), round(u.CPU/time.Duration(total)), u.RSS>>20)
	}
	for _, k := range kinds {
		if s := r.ByKind[k]; s.LastError != "" {
			fmt.Fprintf(w, "last %s error: %s\n", k, s.LastError)
		}
	}
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= 10*time.Microsecond:
		return d.Round(10 * time.Microsecond)
	}
	return d
}
