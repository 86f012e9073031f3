package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/accounts"
	"github.com/terroir-coop/terroir/web/webtest"
)

// The proof that every multi-document change is all-or-nothing on the
// embedded store: each change below runs once for every write point it has
// (journal entries, data writes, commit marker, journal cleanup); the store
// is "killed" there (mongodb.CrashAtWrite: that write and all later ones
// fail, nothing is undone in the process, the directory is left unclean),
// the same data directory is opened again — which recovers — and then:
//   - terroir verify finds nothing (chains, every lot, harvest, balance,
//     movement, shelf and order explained);
//   - a change whose crash came before its commit point is entirely absent:
//     every collection byte for byte as before it;
//   - one whose crash came after (the journal cleanup) is entirely there;
//   - a change that ran to the end (acknowledged) is entirely there after a
//     crash that follows it;
//   - no order is paid twice (orders.Verify counts the sale movements).
//
// The real SIGKILL under load is cmd/terroir-load's TestCrashUnderOrdersAndSales.

var (
	coopManager = access.Actor{UserID: "crash-coop", Email: "safran@terroir.demo", Role: access.CoopManager, Org: "SIROUA-SAFRAN"}
	taroudannt  = access.Actor{UserID: "crash-trd", Email: "taroudannt@terroir.demo", Role: access.ShopManager, Org: "TAROUDANNT"}
	agadir      = access.Actor{UserID: "crash-aga", Email: "agadir@terroir.demo", Role: access.ShopManager, Org: "AGADIR"}
	platform    = access.Actor{UserID: "crash-eu", Email: "plateforme@terroir.demo", Role: access.ShopManager, Org: "EU-PLATFORM"}
)

// crashEnv opens the app on one data directory, again and again.
type crashEnv struct {
	t   *testing.T
	dir string
	cfg config
}

func (e *crashEnv) open() *app {
	e.t.Helper()
	a, err := openApp(context.Background(), e.cfg, newLogger(io.Discard))
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// fixture is what a change's setup made for it to work on.
type fixture map[string]string

// change is one multi-document operation of the register.
type change struct {
	name string
	// setup runs (uncrashed) before the change is enumerated.
	setup func(t *testing.T, ctx context.Context, a *app) fixture
	run   func(ctx context.Context, a *app, f fixture) error
	// there checks, on top of verify, that the change is entirely there,
	// given the snapshot before it.
	there func(t *testing.T, ctx context.Context, a *app, f fixture, before snapshot)
}

func TestCrashAtEveryWriteOfEveryChange(t *testing.T) {
	if testing.Short() {
		t.Skip("reopens the store a few hundred times")
	}
	stripe := webtest.StripeMock(t)
	e := &crashEnv{t: t, dir: t.TempDir()}
	e.cfg = config{DataDir: e.dir, PublicURL: "http://localhost:8080", StripeKey: "sk_test_crash",
		StripeWebhook: webtest.WebhookSecret, StripeAPIBase: stripe}
	ctx := context.Background()
	a := e.open()
	if _, err := seedDemo(ctx, a, io.Discard); err != nil {
		t.Fatal(err)
	}
	a.close()
	total := 0
	for _, c := range changes() {
		ok := t.Run(c.name, func(t *testing.T) {
			e.t = t
			total += crashEveryWrite(t, e, c)
		})
		if !ok {
			break // later changes build on this one's result
		}
	}
	e.t = t
	t.Logf("%d crash points across %d changes", total, len(changes()))
}

// crashEveryWrite enumerates the write points of c, then leaves its
// acknowledged result in place for the next change. It returns the number
// of write points.
func crashEveryWrite(t *testing.T, e *crashEnv, c change) int {
	ctx := context.Background()
	a := e.open()
	f := c.setup(t, ctx, a)
	mustVerify(t, a, "after the setup")
	before := snap(t, a)
	a.close()
	base := t.TempDir()
	copyDir(t, e.dir, base)
	for n := 1; ; n++ {
		restoreDir(t, base, e.dir)
		a := e.open()
		a.store.InjectWriteFault(n, mongodb.CrashAtWrite)
		err := c.run(ctx, a, f)
		fired, _ := a.store.FaultFired()
		if !fired {
			if err != nil {
				t.Fatalf("without a crash: %v", err)
			}
			// Acknowledged, then the process dies at its next write.
			a.store.InjectWriteFault(1, mongodb.CrashAtWrite)
			_ = a.store.Atomically(ctx, func(ctx context.Context) error {
				_, err := a.store.Collection("settings").InsertOne(ctx, bson.M{"_id": "crash-probe"})
				return err
			})
			a.close()
			a = e.open()
			mustVerify(t, a, "after the acknowledged change and a crash")
			if snap(t, a).equal(before) {
				t.Fatal("the acknowledged change is absent")
			}
			c.there(t, ctx, a, f, before)
			a.close()
			if n < 4 {
				t.Fatalf("only %d write points: the change was not journaled", n-1)
			}
			return n - 1
		}
		if err == nil {
			t.Fatalf("crash at write %d: the change was acknowledged", n)
		}
		a.close()
		a = e.open()
		if !a.store.Unclean() {
			t.Errorf("crash at write %d: the directory opened clean", n)
		}
		mustVerify(t, a, fmt.Sprintf("after a crash at write %d", n))
		if after := snap(t, a); !after.equal(before) {
			// Only a crash after the commit point may leave it: whole.
			c.there(t, ctx, a, f, before)
			if d := after.diff(before); len(d) == 0 {
				t.Fatalf("crash at write %d: snapshot differs but no collection does", n)
			}
		}
		a.close()
	}
}

func mustVerify(t *testing.T, a *app, when string) {
	t.Helper()
	var out bytes.Buffer
	n, err := verifyAll(context.Background(), a, &out, io.Discard)
	if err != nil || n > 0 {
		t.Fatalf("verify %s: %d problems, %v\n%s", when, n, err, out.String())
	}
}

// snapshot is every collection's documents, in _id order, hashed.
type snapshot struct {
	digest map[string]string
	count  map[string]int
}

func snap(t *testing.T, a *app) snapshot {
	t.Helper()
	ctx := context.Background()
	names, err := a.store.DB.ListCollectionNames(ctx, bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	s := snapshot{digest: map[string]string{}, count: map[string]int{}}
	for _, name := range names {
		if name == "atomically_journal" {
			continue
		}
		cur, err := a.store.Collection(name).Find(ctx, bson.M{}, options.Find().SetSort(bson.M{"_id": 1}))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		for cur.Next(ctx) {
			h.Write(cur.Current)
			s.count[name]++
		}
		if err := cur.Err(); err != nil {
			t.Fatal(err)
		}
		s.digest[name] = hex.EncodeToString(h.Sum(nil))
	}
	return s
}

func (s snapshot) equal(o snapshot) bool { return len(s.diff(o)) == 0 }

func (s snapshot) diff(o snapshot) []string {
	var d []string
	for k, v := range s.digest {
		if o.digest[k] != v {
			d = append(d, k)
		}
	}
	for k := range o.digest {
		if _, ok := s.digest[k]; !ok {
			d = append(d, k)
		}
	}
	slices.Sort(d)
	return d
}

// grew checks that each collection has delta more documents than before.
func grew(t *testing.T, a *app, before snapshot, delta map[string]int) {
	t.Helper()
	now := snap(t, a)
	for c, n := range delta {
		if got := now.count[c] - before.count[c]; got != n {
			t.Errorf("%s: %+d documents, want %+d", c, got, n)
		}
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		if strings.HasSuffix(p, ".sock") || strings.HasSuffix(p, ".lock") || strings.HasSuffix(p, ".reserve") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func restoreDir(t *testing.T, base, dir string) {
	t.Helper()
	db := filepath.Join(dir, "db")
	if err := os.RemoveAll(db); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(filepath.Join(dir, "terroir.running"))
	copyDir(t, base, dir)
}

// changes are every multi-document operation, in an order where each
// builds on the demo network and the changes before it.
func changes() []change {
	sys := accounts.System
	now := time.Now().UTC()
	jarsOf := func(t *testing.T, ctx context.Context, a *app, coop string) string {
		t.Helper()
		lots, err := a.trace.Lots(ctx, sys, coop, mongodb.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for i := len(lots) - 1; i >= 0; i-- { // the oldest: the demo's jars, in every shop
			if lots[i].Source == traceability.SourcePacking {
				return lots[i].Code
			}
		}
		t.Fatalf("%s has no packed lot", coop)
		return ""
	}
	harvest := func(t *testing.T, ctx context.Context, a *app, grams int64) string {
		t.Helper()
		ps, err := a.trace.Parcels(ctx, sys, "SIROUA-SAFRAN", mongodb.Page{Limit: 10})
		if err != nil || len(ps) == 0 {
			t.Fatalf("parcels: %v", err)
		}
		h, err := a.trace.AddHarvest(ctx, coopManager, "SIROUA-SAFRAN", traceability.NewHarvest{Parcel: ps[0].ID, Member: ps[0].Member,
			Date: now.AddDate(0, 0, -1).Format(time.DateOnly), Crop: "saffron", Quantity: traceability.Quantity{Amount: grams, Unit: "g"}})
		if err != nil {
			t.Fatal(err)
		}
		return h.ID
	}
	order := func(t *testing.T, ctx context.Context, a *app, units int64) orders.Order {
		t.Helper()
		p, _, err := a.orders.Create(ctx, newOrder(units), "")
		if err != nil {
			t.Fatal(err)
		}
		return p.Order
	}
	pay := func(ctx context.Context, a *app, id string) error {
		o, err := a.orders.Order(ctx, sys, id, "")
		if err != nil {
			return err
		}
		return a.orders.HandleEvent(ctx, orders.Event{ID: "evt_crash_" + id, Type: orders.EventCheckoutCompleted, OrderID: id,
			PaymentIntent: "pi_crash_" + id, Created: now, PaymentStatus: orders.PaymentStatusPaid,
			AmountTotal: o.Total.Amount, Currency: o.Total.Currency})
	}
	noSetup := func(*testing.T, context.Context, *app) fixture { return fixture{} }
	return []change{
		{name: "harvest", setup: func(t *testing.T, ctx context.Context, a *app) fixture {
			ps, err := a.trace.Parcels(ctx, sys, "SIROUA-SAFRAN", mongodb.Page{Limit: 10})
			if err != nil || len(ps) == 0 {
				t.Fatalf("parcels: %v", err)
			}
			return fixture{"parcel": ps[0].ID, "member": ps[0].Member}
		}, run: func(ctx context.Context, a *app, f fixture) error {
			_, err := a.trace.AddHarvest(ctx, coopManager, "SIROUA-SAFRAN", traceability.NewHarvest{Parcel: f["parcel"], Member: f["member"],
				Date: now.AddDate(0, 0, -2).Format(time.DateOnly), Crop: "saffron", Quantity: traceability.Quantity{Amount: 200, Unit: "g"}})
			return err
		}, there: func(t *testing.T, ctx context.Context, a *app, f fixture, before snapshot) {
			grew(t, a, before, map[string]int{"harvests": 1, "parcels": 0})
		}},
		{name: "harvest to lot", setup: func(t *testing.T, ctx context.Context, a *app) fixture {
			return fixture{"h1": harvest(t, ctx, a, 300), "h2": harvest(t, ctx, a, 250)}
		}, run: func(ctx context.Context, a *app, f fixture) error {
			_, err := a.trace.CreateOriginLot(ctx, coopManager, "SIROUA-SAFRAN", traceability.NewOriginLot{ProductKind: "saffron", Harvests: []string{f["h1"], f["h2"]}})
			return err
		}, there: func(t *testing.T, ctx context.Context, a *app, f fixture, before snapshot) {
			grew(t, a, before, map[string]int{"lots": 1, "harvests": 0})
		}},
		{name: "transformation", setup: func(t *testing.T, ctx context.Context, a *app) fixture {
			l, err := a.trace.CreateOriginLot(ctx, coopManager, "SIROUA-SAFRAN", traceability.NewOriginLot{ProductKind: "saffron",
				Harvests: []string{harvest(t, ctx, a, 400), harvest(t, ctx, a, 600)}})
			if err != nil {
				t.Fatal(err)
			}
			return fixture{"lot": l.Code}
		}, run: func(ctx context.Context, a *app, f fixture) error {
			_, err := a.trace.Transform(ctx, coopManager, "SIROUA-SAFRAN", traceability.NewTransformation{Process: "drying",
				Inputs:  []traceability.LotInput{{Lot: f["lot"], Quantity: traceability.Quantity{Amount: 1000, Unit: "g"}}},
				Outputs: []traceability.LotOutput{{ProductKind: "saffron_dried", Quantity: traceability.Quantity{Amount: 150, Unit: "g"}}, {ProductKind: "saffron_dried", Quantity: traceability.Quantity{Amount: 50, Unit: "g"}}}})
			return err
		}, there: func(t *testing.T, ctx context.Context, a *app, f fixture, before snapshot) {
			grew(t, a, before, map[string]int{"lots": 2})
		}},
		{name: "packing", setup: func(t *testing.T, ctx context.Context, a *app) fixture {
			lots, err := a.trace.Lots(ctx, sys, "SIROUA-SAFRAN", mongodb.Page{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range lots {
				if l.ProductKind == "saffron_dried" && l.Available >= 20_000 {
					return fixture{"lot": l.Code}
				}
			}
			t.Fatal("no dried saffron to pack")
			return nil
		}, run: func(ctx context.Context, a *app, f fixture) error {
			p, err := a.catalog.Product(ctx, "SAF-TAL-1G")
			if err != nil {
				return err
			}
			_, err = a.trace.Pack(ctx, coopManager, "SIROUA-SAFRAN", traceability.NewPacking{Lot: f["lot"], Units: 20,
				BestBefore: now.AddDate(2, 0, 0).Format(time.DateOnly), Product: p.Packed()})
			return err
		}, there: func(t *testing.T, ctx context.Context, a *app, f fixture, before snapshot) {
			grew(t, a, before, map[string]int{"lots": 1})
		}},
		{name: "receipt", setup: func(t *testing.T, ctx context.Context, a *app) fixture {
			return fixture{"lot": jarsOf(t, ctx, a, "SIROUA-SAFRAN")}
		}, run: func(ctx context.Context, a *app, f fixture) error {
			_, err := a.stock.Receive(ctx, taroudannt, "TAROUDANNT", shops.ReceiptRequest{Lot: f["lot"], Units: 5})
			return err
		}, there: func(t *testing.T, ctx context.Context, a *app, f fixture, before snapshot) {
			grew(t, a, before, map[string]int{"movements": 1})
		}},
		{name: "transfer send", setup: func(t *testing.T, ctx context.Context, a *app) fixture {
			return fixture{"lot": jarsOf(t, ctx, a, "SIROUA-SAFRAN"), "argan": jarsOf(t, ctx, a, "TIWIZWINE")}
		}, run: func(ctx context.Context, a *app, f fixture) error {
			_, err := a.stock.Send(ctx, taroudannt, "TAROUDANNT", "AGADIR", []shops.LotUnits{{Lot: f["lot"], Units: 3}, {Lot: f["argan"], Units: 1}})
			return err
		}, there: func(t *testing.T, ctx context.Context, a *app, f fixture, before snapshot) {
			grew(t, a, before, map[string]int{"transfers": 1, "movements": 2})
		}},
		{name: "transfer receive", setup: func(t *testing.T, ctx context.Context, a *app) fixture {
			tr, err := a.stock.Send(ctx, taroudannt, "TAROUDANNT", "AGADIR", []shops.LotUnits{{Lot: jarsOf(t, ctx, a, "SIROUA-SAFRAN"), Units: 4},
				{Lot: jarsOf(t, ctx, a, "TIFAOUT"), Units: 2}})
			if err != nil {
				t.Fatal(err)
			}
			return fixture{"transfer": tr.ID, "lot": tr.Lines[0].Lot}
		}, run: func(ctx context.Context, a *app, f fixture) error {
			_, err := a.stock.ReceiveTransfer(ctx, agadir, "AGADIR", f["transfer"], []shops.LotUnits{{Lot: f["lot"], Units: 3}})
			return err
		}, there: func(t *testing.T, ctx context.Context, a *app, f fixture, before snapshot) {
			grew(t, a, before, map[string]int{"transfers": 0, "movements": 2})
		}},
		{name: "till sale", setup: noSetup, run: func(ctx context.Context, a *app, f fixture) error {
			_, err := a.stock.Sell(ctx, taroudannt, "TAROUDANNT", shops.SaleRequest{Payment: "cash",
				Lines: []shops.Line{{SKU: "SAF-TAL-1G", Units: 2}, {SKU: "ARG-250ML", Units: 1}}})
			return err
		}, there: func(t *testing.T, ctx context.Context, a *app, f fixture, before snapshot) {
			grew(t, a, before, map[string]int{"sales": 1, "movements": 2})
		}},
		{name: "return", setup: func(t *testing.T, ctx context.Context, a *app) fixture {
			s, err := a.stock.Sell(ctx, taroudannt, "TAROUDANNT", shops.SaleRequest{Payment: "card",
				Lines: []shops.Line{{SKU: "SAF-TAL-1G", Units: 2}}})
			if err != nil {
				t.Fatal(err)
			}
			return fixture{"sale": s.ID, "lot": s.Lines[0].Lots[0].Lot}
		}, run: func(ctx context.Context, a *app, f fixture) error {
			_, err := a.stock.Return(ctx, taroudannt, "TAROUDANNT", shops.ReturnRequest{Sale: f["sale"], Lot: f["lot"], Units: 1})
			return err
		}, there: func(t *testing.T, ctx context.Context, a *app, f fixture, before snapshot) {
			grew(t, a, before, map[string]int{"movements": 1})
		}},
		{name: "count", setup: func(t *testing.T, ctx context.Context, a *app) fixture {
			return fixture{"saffron": jarsOf(t, ctx, a, "SIROUA-SAFRAN"), "argan": jarsOf(t, ctx, a, "TIWIZWINE")}
		}, run: func(ctx context.Context, a *app, f fixture) error {
			_, err := a.stock.ApplyCount(ctx, taroudannt, "TAROUDANNT", []shops.CountLine{{Lot: f["saffron"], Counted: 10}, {Lot: f["argan"], Counted: 1}}, "monthly count")
			return err
		}, there: func(t *testing.T, ctx context.Context, a *app, f fixture, before snapshot) {
			grew(t, a, before, map[string]int{"movements": 2})
		}},
		{name: "order placement", setup: noSetup, run: func(ctx context.Context, a *app, f fixture) error {
			_, _, err := a.orders.Create(ctx, newOrder(2), "crash-idem-key")
			return err
		}, there: func(t *testing.T, ctx context.Context, a *app, f fixture, before snapshot) {
			grew(t, a, before, map[string]int{"orders": 1, "idempotency": 1})
		}},
		{name: "payment", setup: func(t *testing.T, ctx context.Context, a *app) fixture {
			return fixture{"order": order(t, ctx, a, 3).ID}
		}, run: func(ctx context.Context, a *app, f fixture) error {
			return pay(ctx, a, f["order"])
		}, there: func(t *testing.T, ctx context.Context, a *app, f fixture, before snapshot) {
			grew(t, a, before, map[string]int{"stripe_events": 1, "movements": 2, "outbox": 1})
			wantStatus(t, ctx, a, f["order"], orders.StatusPaid)
		}},
		{name: "expiry", setup: func(t *testing.T, ctx context.Context, a *app) fixture {
			o := order(t, ctx, a, 1)
			if _, err := a.store.Collection("orders").UpdateOne(ctx, bson.M{"_id": o.ID}, bson.M{"$set": bson.M{"expires_at": now.Add(-time.Hour)}}); err != nil {
				t.Fatal(err)
			}
			return fixture{"order": o.ID}
		}, run: func(ctx context.Context, a *app, f fixture) error {
			n, err := a.orders.ExpireDue(ctx)
			if err == nil && n != 1 {
				return fmt.Errorf("expired %d orders, want 1", n)
			}
			return err
		}, there: func(t *testing.T, ctx context.Context, a *app, f fixture, before snapshot) {
			wantStatus(t, ctx, a, f["order"], orders.StatusExpired)
		}},
		{name: "refund", setup: func(t *testing.T, ctx context.Context, a *app) fixture {
			o := order(t, ctx, a, 2)
			if err := pay(ctx, a, o.ID); err != nil {
				t.Fatal(err)
			}
			return fixture{"order": o.ID}
		}, run: func(ctx context.Context, a *app, f fixture) error {
			_, err := a.orders.Refund(ctx, platform, f["order"], true, "broken jar")
			return err
		}, there: func(t *testing.T, ctx context.Context, a *app, f fixture, before snapshot) {
			grew(t, a, before, map[string]int{"movements": 2}) // both lines back on the shelf
			wantStatus(t, ctx, a, f["order"], orders.StatusRefunded)
		}},
		{name: "statement close", setup: noSetup, run: func(ctx context.Context, a *app, f fixture) error {
			// A month closes once it has ended: the last one.
			_, err := a.orders.CloseStatement(ctx, sys, "SIROUA-SAFRAN", now.AddDate(0, -1, 0).Format("2006-01"))
			return err
		}, there: func(t *testing.T, ctx context.Context, a *app, f fixture, before snapshot) {
			grew(t, a, before, map[string]int{"statements": 1})
		}},
		{name: "lot correction", setup: func(t *testing.T, ctx context.Context, a *app) fixture {
			l, err := a.trace.CreateOriginLot(ctx, coopManager, "SIROUA-SAFRAN", traceability.NewOriginLot{ProductKind: "saffron", Harvests: []string{harvest(t, ctx, a, 400)}})
			if err != nil {
				t.Fatal(err)
			}
			return fixture{"lot": l.Code}
		}, run: func(ctx context.Context, a *app, f fixture) error {
			_, err := a.trace.CorrectLot(ctx, coopManager, f["lot"], traceability.Quantity{Amount: 380, Unit: "g"}, "weighed again at the drying house")
			return err
		}, there: func(t *testing.T, ctx context.Context, a *app, f fixture, before snapshot) {
			grew(t, a, before, map[string]int{"lots": 0})
			l, err := a.trace.Lot(ctx, sys, f["lot"])
			if err != nil || l.CurrentQuantity() != 380_000 {
				t.Fatalf("corrected lot: %d mg, %v", l.CurrentQuantity(), err)
			}
		}},
		{name: "harvest correction", setup: func(t *testing.T, ctx context.Context, a *app) fixture {
			h := harvest(t, ctx, a, 250)
			l, err := a.trace.CreateOriginLot(ctx, coopManager, "SIROUA-SAFRAN", traceability.NewOriginLot{ProductKind: "saffron", Harvests: []string{h}})
			if err != nil {
				t.Fatal(err)
			}
			return fixture{"harvest": h, "lot": l.Code}
		}, run: func(ctx context.Context, a *app, f fixture) error {
			_, err := a.trace.CorrectHarvest(ctx, coopManager, "SIROUA-SAFRAN", f["harvest"], traceability.Quantity{Amount: 260, Unit: "g"}, "the scale was not tared")
			return err
		}, there: func(t *testing.T, ctx context.Context, a *app, f fixture, before snapshot) {
			l, err := a.trace.Lot(ctx, sys, f["lot"])
			if err != nil || l.CurrentQuantity() != 260_000 {
				t.Fatalf("lot of the corrected harvest: %d mg, %v", l.CurrentQuantity(), err)
			}
		}},
	}
}

func newOrder(units int64) orders.NewOrder {
	return orders.NewOrder{Channel: "EU-PLATFORM", Lines: []orders.OrderLine{{SKU: "SAF-TAL-1G", Units: units}, {SKU: "PAM-ROMARIN-10ML", Units: 1}},
		Customer: orders.Customer{Email: "client@example.fr", Name: "Claire Martin",
			Address: orders.Address{Line1: "12 rue des Lices", PostalCode: "84000", City: "Avignon", Country: "FR"}}}
}

func wantStatus(t *testing.T, ctx context.Context, a *app, id, status string) {
	t.Helper()
	o, err := a.orders.Order(ctx, accounts.System, id, "")
	if err != nil || o.Status != status {
		t.Errorf("order %s: %q, %v; want %s", id, o.Status, err, status)
	}
}
