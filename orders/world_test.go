package orders_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/webtest"
)

// world is the services wired as cmd/terroir/app.go wires them, on a fresh
// embedded store, with a settable clock, one saffron cooperative, a till
// (TAROUDANNT, MAD) and the EU platform (EUR) paying through stripe-mock.
type world struct {
	t   testing.TB
	ctx context.Context

	mu sync.Mutex
	at time.Time

	db      *mongodb.Store
	trace   *traceability.Service
	shops   *shops.Service
	catalog *catalog.Service
	stock   *shops.Stock
	orders  *orders.Service
	pay     *orders.MemberPay

	admin, manager, till, platform access.Actor
	coop                           string
	parcels                        map[string]string // member → saffron parcel
	product                        catalog.Product
	events                         int
}

func newWorld(t testing.TB, start time.Time) *world {
	t.Helper()
	w := &world{t: t, ctx: context.Background(), at: start, coop: "SIROUA", parcels: map[string]string{},
		admin:    access.Actor{UserID: "adm", Email: "admin@test", Role: access.Admin},
		manager:  access.Actor{UserID: "mgr", Email: "gerante@siroua.ma", Role: access.CoopManager, Org: "SIROUA"},
		till:     access.Actor{UserID: "trd", Email: "caisse@taroudannt.ma", Role: access.ShopManager, Org: "TAROUDANNT"},
		platform: access.Actor{UserID: "eu", Email: "eu@plateforme.fr", Role: access.ShopManager, Org: "EU-PLATFORM"}}
	w.db = mongotest.New(t)
	var idx []mongodb.Index
	for _, i := range [][]mongodb.Index{traceability.Indexes(), shops.Indexes(), catalog.Indexes(), orders.Indexes()} {
		idx = append(idx, i...)
	}
	if err := w.db.EnsureIndexes(w.ctx, idx); err != nil {
		t.Fatal(err)
	}
	w.trace = traceability.NewService(traceability.NewStore(w.db), w.now)
	w.shops = shops.NewService(shops.NewStore(w.db), w.now)
	w.catalog = catalog.NewService(catalog.NewStore(w.db), w.trace, w.now)
	w.stock = shops.NewStock(shops.NewStore(w.db), w.trace, w.now, w.catalog)
	payments := orders.NewStripe("sk_test_members", webtest.WebhookSecret, webtest.StripeMock(t), nil)
	w.orders = orders.NewService(orders.NewStore(w.db), w.catalog, w.shops, w.stock, payments, orders.Config{PublicURL: "http://test"}, w.now)
	w.pay = orders.NewMemberPay(w.orders, w.trace)

	w.must(w.trace.CreateCooperative(w.ctx, w.admin, traceability.Cooperative{Code: w.coop, Name: "Coopérative Siroua",
		Kind: "saffron", Commune: "Taliouine", Province: "Taroudannt"}))
	for _, sh := range []shops.Shop{
		{Code: "TAROUDANNT", Name: "Boutique solidaire de Taroudannt", City: "Taroudannt", Currency: "MAD", Kind: shops.KindBoutique},
		{Code: "EU-PLATFORM", Name: "Plateforme UE", City: "Marseille", Currency: "EUR", Kind: shops.KindPlatform},
	} {
		w.must(w.shops.CreateShop(w.ctx, w.admin, sh))
	}
	p := w.must(w.catalog.CreateProduct(w.ctx, w.admin, catalog.NewProduct{SKU: "SAF-1G", Kind: "saffron_dried", Cooperative: w.coop,
		Names:    catalog.Names{FR: "Safran de Taliouine 1 g", EN: "Taliouine saffron 1 g", AR: "زعفران تالوين 1 غ"},
		UnitSize: traceability.Quantity{Amount: 1, Unit: "g"}})).(catalog.Product)
	w.must(w.catalog.SetPrice(w.ctx, w.admin, p.SKU, "TAROUDANNT", "MAD", catalog.Money{Amount: 12_000, Currency: "MAD"}))
	p = w.must(w.catalog.SetPrice(w.ctx, w.admin, p.SKU, "EU-PLATFORM", "EUR", catalog.Money{Amount: 1_450, Currency: "EUR"})).(catalog.Product)
	w.product = p
	return w
}

func (w *world) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.at
}

func (w *world) advance(d time.Duration) {
	w.mu.Lock()
	w.at = w.at.Add(d)
	w.mu.Unlock()
}

// must fails the test on an error and returns the value.
func (w *world) must(v any, err error) any {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
	return v
}

// member adds a member with a saffron parcel.
func (w *world) member(name, gender string) string {
	w.t.Helper()
	m := w.must(w.trace.AddMember(w.ctx, w.admin, w.coop, traceability.Member{Name: name, Gender: gender, Village: "Siroua"})).(traceability.Member)
	p := w.must(w.trace.AddParcel(w.ctx, w.admin, w.coop, traceability.NewParcel{Name: "Parcelle de " + name, Member: m.ID, Commune: "Taliouine",
		AreaM2: 100_000, Crop: "saffron", Location: traceability.Geometry{Type: "Point", Coordinates: []byte(`[-7.92,30.53]`)}})).(traceability.Parcel)
	w.parcels[m.ID] = p.ID
	return m.ID
}

// harvest records a member's delivery of saffron (mg), with an advance in
// centimes when advance > 0.
func (w *world) harvest(member string, mg, advance int64) traceability.Harvest {
	w.t.Helper()
	nh := traceability.NewHarvest{Parcel: w.parcels[member], Member: member, Date: w.now().Format(time.DateOnly), Crop: "saffron",
		Quantity: traceability.Quantity{Amount: mg, Unit: "mg"}}
	if advance > 0 {
		nh.Advance = &traceability.HarvestAdvance{Amount: advance, Currency: "MAD", Method: "cash"}
	}
	return w.must(w.trace.AddHarvest(w.ctx, w.manager, w.coop, nh)).(traceability.Harvest)
}

func (w *world) originLot(hs ...traceability.Harvest) traceability.Lot {
	w.t.Helper()
	var ids []string
	for _, h := range hs {
		ids = append(ids, h.ID)
	}
	return w.must(w.trace.CreateOriginLot(w.ctx, w.manager, w.coop, traceability.NewOriginLot{ProductKind: "saffron", Harvests: ids})).(traceability.Lot)
}

// transform takes mg of each input lot and makes one lot of kind (mg).
func (w *world) transform(process, kind string, out int64, inputs ...any) traceability.Lot {
	w.t.Helper()
	req := traceability.NewTransformation{Process: process, Outputs: []traceability.LotOutput{{ProductKind: kind, Quantity: traceability.Quantity{Amount: out, Unit: "mg"}}}}
	for i := 0; i+1 < len(inputs); i += 2 {
		req.Inputs = append(req.Inputs, traceability.LotInput{Lot: inputs[i].(traceability.Lot).Code, Quantity: traceability.Quantity{Amount: inputs[i+1].(int64), Unit: "mg"}})
	}
	made := w.must(w.trace.Transform(w.ctx, w.manager, w.coop, req)).([]traceability.Lot)
	return made[0]
}

// pack packs 1 g jars of SAF-1G from a lot and receives them at the till
// and the platform.
func (w *world) pack(lot traceability.Lot, units, toTill, toPlatform int64) traceability.Lot {
	w.t.Helper()
	jars := w.must(w.trace.Pack(w.ctx, w.manager, w.coop, traceability.NewPacking{Lot: lot.Code, Units: units, BestBefore: "2028-12-31",
		Product: w.product.Packed()})).(traceability.Lot)
	if toTill > 0 {
		w.must(w.stock.Receive(w.ctx, w.till, "TAROUDANNT", shops.ReceiptRequest{Lot: jars.Code, Units: toTill}))
	}
	if toPlatform > 0 {
		w.must(w.stock.Receive(w.ctx, w.platform, "EU-PLATFORM", shops.ReceiptRequest{Lot: jars.Code, Units: toPlatform}))
	}
	return jars
}

// sell sells jars at the till.
func (w *world) sell(units int64) shops.Sale {
	w.t.Helper()
	return w.must(w.stock.Sell(w.ctx, w.till, "TAROUDANNT", shops.SaleRequest{Payment: "cash",
		Lines: []shops.Line{{SKU: "SAF-1G", Units: units}}})).(shops.Sale)
}

// giveBack brings jars of a till sale back.
func (w *world) giveBack(sale shops.Sale, lot string, units int64) {
	w.t.Helper()
	w.must(w.stock.Return(w.ctx, w.till, "TAROUDANNT", shops.ReturnRequest{Sale: sale.ID, Lot: lot, Units: units}))
}

// order places an online order and pays it (the verified webhook's event).
func (w *world) order(units int64) orders.Order {
	w.t.Helper()
	placed, _, err := w.orders.Create(w.ctx, orders.NewOrder{Channel: "EU-PLATFORM", Lines: []orders.OrderLine{{SKU: "SAF-1G", Units: units}},
		Customer: orders.Customer{Email: "client@example.fr", Name: "Claire Martin",
			Address: orders.Address{Line1: "3 rue des Épices", PostalCode: "13001", City: "Marseille", Country: "FR"}}}, "")
	if err != nil {
		w.t.Fatal(err)
	}
	w.events++
	o := placed.Order
	if err := w.orders.HandleEvent(w.ctx, orders.Event{ID: fmt.Sprintf("evt_members_%d", w.events), Type: orders.EventCheckoutCompleted,
		OrderID: o.ID, SessionID: o.SessionID, PaymentIntent: "pi_" + o.ID, Created: w.now(), PaymentStatus: orders.PaymentStatusPaid,
		AmountTotal: o.Total.Amount, Currency: o.Total.Currency}); err != nil {
		w.t.Fatal(err)
	}
	return o
}

func (w *world) refund(o orders.Order) {
	w.t.Helper()
	w.must(w.orders.Refund(w.ctx, w.platform, o.ID, true, "colis abîmé"))
}

func (w *world) entries(month string) []orders.EntrySplit {
	w.t.Helper()
	return w.must(w.pay.Entries(w.ctx, w.manager, w.coop, month)).([]orders.EntrySplit)
}

func (w *world) statements(month string) orders.MemberStatements {
	w.t.Helper()
	return w.must(w.pay.MemberStatements(w.ctx, w.manager, w.coop, month)).(orders.MemberStatements)
}
