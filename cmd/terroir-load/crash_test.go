package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/webtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	webtest.StopStripeMock()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func TestLoopbackOnly(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:8080/", "http://127.1.2.3"} {
		if err := loopbackOnly(u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range []string{"http://example.org", "http://10.0.0.1:8080", "http://0.0.0.0:8080", "ftp://127.0.0.1", "127.0.0.1:8080", "http://localhost.example.org"} {
		if err := loopbackOnly(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"run", "--url", "http://192.0.2.1:80", "--data", t.TempDir()}, func(string) string { return "" }, &out, &errOut); code != 2 ||
		!strings.Contains(errOut.String(), "loopback") {
		t.Fatalf("run against a remote host: exit %d, %q", code, errOut.String())
	}
}

const (
	crashAdmin    = "admin@crash.load"
	crashPassword = "crash-admin-password"
	crashSecret   = "whsec_terroir_load_crash"
	crashQRKey    = "terroir-load-crash-test-qr-key"
)

// TestCrashUnderOrdersAndSales seeds a small network, runs the load tool's
// write mix (till sales, online orders and their paid webhooks, some sent
// twice with distinct event IDs) against the real binary, SIGKILLs the
// server in the middle, and checks on the same data: every acknowledged
// order and sale is there, every acknowledged payment left the order paid,
// no order's units were taken twice, the dead process's reservations are
// released by the expiry sweep, `terroir verify` passes (hash chains, lot
// balances, shop balances = movement sums), and the server starts again.
func TestCrashUnderOrdersAndSales(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	data := t.TempDir()
	if err := seed(context.Background(), data, scales["small"], &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	man, err := readManifest(filepath.Join(data, manifestName))
	if err != nil {
		t.Fatal(err)
	}
	stripe := webtest.StripeMock(t)
	srv := startServer(t, data, stripe)

	var mu sync.Mutex
	sales := map[string]bool{}
	placed := map[string]bool{}
	paid := map[string]bool{}
	enoughPaid := make(chan struct{})
	var once sync.Once
	onAck := func(a ack) {
		mu.Lock()
		defer mu.Unlock()
		switch a.Kind {
		case kindSale:
			sales[a.ID] = true
		case kindOrder:
			placed[a.ID] = true
		case kindWebhook:
			paid[a.ID] = true
		}
		if len(paid) >= 10 && len(sales) >= 10 {
			once.Do(func() { close(enoughPaid) })
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	loadDone := make(chan error, 1)
	go func() {
		_, err := load(ctx, options{BaseURL: "http://" + srv.addr, Manifest: man, AdminEmail: crashAdmin, AdminPassword: crashPassword,
			WebhookSecret: crashSecret, Duration: 40 * time.Second, MaxRequests: 100_000, Concurrency: 6, Mix: writeMix, ReplayEvery: 3, OnAck: onAck})
		loadDone <- err
	}()
	select {
	case <-enoughPaid:
	case err := <-loadDone:
		t.Fatalf("the load ended before the crash: %v\n%s", err, srv.output())
	case <-time.After(40 * time.Second):
		t.Fatalf("fewer than 10 paid orders and 10 sales in 40 s\n%s", srv.output())
	}
	// Two orders left unpaid on purpose, so the sweep below always has the
	// dead process's reservations to release.
	unpaid := &client{http: srv.client, base: "http://" + srv.addr}
	for i := range 2 {
		var o struct {
			ID string `json:"id"`
		}
		st, err := unpaid.postJSON("/api/v1/orders", "", map[string]any{"channel": man.Platform,
			"lines": []map[string]any{{"sku": man.SKUs[i], "units": 1}},
			"customer": map[string]any{"email": "unpaid@example.fr", "name": "Unpaid", "address": map[string]any{
				"line1": "1 rue", "postal_code": "13001", "city": "Marseille", "country": "FR"}}}, &o)
		if err != nil || st != http.StatusCreated {
			t.Fatalf("unpaid order: %d %v", st, err)
		}
		onAck(ack{Kind: kindOrder, ID: o.ID})
	}
	srv.kill(t) // SIGKILL with requests in flight
	cancel()
	if err := <-loadDone; err != nil {
		t.Fatalf("load: %v", err)
	}
	mu.Lock()
	t.Logf("killed after %d sales, %d orders placed and %d paid were acknowledged", len(sales), len(placed), len(paid))
	mu.Unlock()

	// The first process to open the data after the crash (here `terroir
	// verify`; serve does the same at start) finds it left open and undoes
	// the dead process's half-done work before anything reads the stock:
	// mongodb.Store.Unclean → orders.Service.Recover.
	first := exec.Command(terroirBinary(t), "verify")
	first.Env = serverEnv(data, stripe)
	if b, err := first.CombinedOutput(); err != nil {
		t.Fatalf("first open after the crash: %v\n%s", err, b)
	}

	// The store of the dead process, opened as serve opens it.
	store, err := openStore(context.Background(), data)
	if err != nil {
		t.Fatalf("reopen the store after SIGKILL: %v", err)
	}
	bg := context.Background()
	for id := range sales {
		if n, err := store.Collection("sales").CountDocuments(bg, bson.M{"_id": id}); err != nil || n != 1 {
			t.Errorf("sale %s was acknowledged and is lost (%d, %v)", id, n, err)
		}
	}
	var all []orders.Order
	cur, err := store.Collection("orders").Find(bg, bson.M{})
	if err != nil || cur.All(bg, &all) != nil {
		t.Fatalf("read orders: %v", err)
	}
	byID := map[string]orders.Order{}
	for _, o := range all {
		byID[o.ID] = o
	}
	for id := range placed {
		o, ok := byID[id]
		if !ok {
			t.Errorf("order %s was acknowledged and is lost", id)
			continue
		}
		if paid[id] && o.Status != orders.StatusPaid {
			t.Errorf("order %s: its payment was acknowledged, status %s", id, o.Status)
		}
	}
	// Units out of the shops per reference (order or sale): exactly what was
	// sold, once — never twice for an order paid by two events.
	var moves []shops.Movement
	cur, err = store.Collection("movements").Find(bg, bson.M{"kind": shops.MoveSale})
	if err != nil || cur.All(bg, &moves) != nil {
		t.Fatalf("read movements: %v", err)
	}
	out := map[string]int64{}
	for _, m := range moves {
		out[m.Ref] -= m.Units
	}
	for _, o := range all {
		var units int64
		for _, l := range o.Lines {
			units += l.Units
		}
		want := int64(0)
		if o.Status == orders.StatusPaid {
			want = units
		}
		if out[o.ID] != want {
			t.Errorf("order %s (%s, %d units): %d units left the shop in sale movements, want %d", o.ID, o.Status, units, out[o.ID], want)
		}
	}

	// The sweeper releases what the dead process had reserved: every order
	// still pending is made due, then expired the way serve's sweeper does.
	if _, err := store.Collection("orders").UpdateMany(bg, bson.M{"status": orders.StatusPendingPayment},
		bson.M{"$set": bson.M{"expires_at": time.Now().Add(-time.Minute).UTC()}}); err != nil {
		t.Fatal(err)
	}
	trace := traceability.NewService(traceability.NewStore(store), time.Now)
	stock := shops.NewStock(shops.NewStore(store), trace, time.Now, catalog.NewService(catalog.NewStore(store), trace, time.Now))
	svc := orders.NewService(orders.NewStore(store), catalog.NewService(catalog.NewStore(store), trace, time.Now),
		shops.NewService(shops.NewStore(store), time.Now), stock, orders.NewStripe("sk_test_123", crashSecret, stripe, nil),
		orders.Config{PublicURL: "http://" + srv.addr}, time.Now)
	expired, err := svc.ExpireDue(bg)
	if err != nil {
		t.Fatalf("expire: %v", err)
	}
	var bals []shops.Balance
	cur, err = store.Collection("balances").Find(bg, bson.M{})
	if err != nil || cur.All(bg, &bals) != nil {
		t.Fatalf("read balances: %v", err)
	}
	for _, b := range bals {
		if b.Reserved != 0 {
			t.Errorf("balance %s still reserves %d units after the expiry sweep", b.ID, b.Reserved)
		}
	}
	var shelves []shops.Shelf
	cur, err = store.Collection("shelves").Find(bg, bson.M{"reserved": bson.M{"$ne": 0}})
	if err != nil || cur.All(bg, &shelves) != nil {
		t.Fatalf("read shelves: %v", err)
	}
	for _, sh := range shelves {
		t.Errorf("shelf %s still reserves %d units after the expiry sweep", sh.ID, sh.Reserved)
	}
	if expired < 2 {
		t.Errorf("the sweep expired %d orders, want at least the 2 left unpaid", expired)
	}
	t.Logf("%d orders in the store, %d expired by the sweep", len(all), expired)
	store.Close()

	cmd := exec.Command(terroirBinary(t), "verify")
	cmd.Env = serverEnv(data, stripe)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("terroir verify after the crash: %v\n%s", err, b)
	}

	srv = startServer(t, data, stripe) // restarts on the same data
	token, err := (&client{http: srv.client, base: "http://" + srv.addr}).login(crashAdmin, crashPassword)
	if err != nil {
		t.Fatal(err)
	}
	for id := range paid {
		req, _ := http.NewRequest("GET", "http://"+srv.addr+"/api/v1/orders/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := srv.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var o struct{ Status string }
		_ = json.NewDecoder(resp.Body).Decode(&o)
		resp.Body.Close()
		if resp.StatusCode != 200 || o.Status != orders.StatusPaid {
			t.Errorf("after the restart, order %s: %d %q", id, resp.StatusCode, o.Status)
		}
		break // one is enough to show the restarted server serves them
	}
}

// --- the real server binary ---

var (
	buildOnce   sync.Once
	buildDir    string
	buildOutput []byte
	buildErr    error
)

func terroirBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "terroir-load-test-"); buildErr != nil {
			return
		}
		gomod, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			buildErr = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		cmd := exec.Command("go", "build", "-buildvcs=false", "-o", filepath.Join(buildDir, "terroir"), "./cmd/terroir")
		cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
		buildOutput, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("build terroir: %v\n%s", buildErr, buildOutput)
	}
	return filepath.Join(buildDir, "terroir")
}

// serverEnv is the test's environment without any Terroir, MongoDB or
// Stripe setting of the developer's, plus the crash server's own.
func serverEnv(data, stripe string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TERROIR_") && !strings.HasPrefix(kv, "MONGODB_URI=") && !strings.HasPrefix(kv, "STRIPE_") {
			env = append(env, kv)
		}
	}
	return append(env, "TERROIR_DATA="+data, "TERROIR_ADMIN_EMAIL="+crashAdmin, "TERROIR_ADMIN_PASSWORD="+crashPassword,
		"TERROIR_QR_KEY="+crashQRKey, "TERROIR_RATE_LIMITS=off", "STRIPE_SECRET_KEY=sk_test_123", "STRIPE_WEBHOOK_SECRET="+crashSecret, "STRIPE_API_BASE="+stripe)
}

type server struct {
	cmd    *exec.Cmd
	addr   string
	out    *syncBuffer
	exited chan struct{}
	client *http.Client
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (s *server) output() string { return s.out.String() }

// startServer runs `terroir serve` on a loopback port and returns once
// /readyz answers 200; the process is killed when the test ends.
func startServer(t *testing.T, data, stripe string) *server {
	t.Helper()
	cmd := exec.Command(terroirBinary(t), "serve", "--addr", "127.0.0.1:0")
	cmd.Env = serverEnv(data, stripe)
	s := &server{cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{}), client: &http.Client{Timeout: 10 * time.Second}}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-s.exited })
	deadline := time.Now().Add(60 * time.Second)
	for {
		if s.addr == "" {
			if _, rest, ok := strings.Cut(s.out.String(), "Terroir is listening on http://"); ok {
				s.addr, _, _ = strings.Cut(rest, " ")
			}
		}
		if s.addr != "" {
			if resp, err := s.client.Get("http://" + s.addr + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return s
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready in 60 s\n%s", s.output())
		}
		select {
		case <-s.exited:
			t.Fatalf("server exited before it was ready\n%s", s.output())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.exited
}
