package orders_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
)

// BenchmarkMemberStatements measures a cooperative's month of members'
// statements at the load tool's default scale (cmd/terroir-load seed: 30
// cooperatives, 3 000 members, 10 000 lots of 6 harvests each, 1 000
// products) with a season of sales over the whole network, September 2025
// to August 2026: 50 000 till sales of 1–3 jars, 1 000 till returns,
// 5 000 online orders of 1–4 jars (5 % refunded). The statement is
// August's, so the book runs through the season's twelve months (the
// balances carry). For comparison: the cooperative's own settlement
// statement of the month, a payout run (it computes the balances inside
// Atomically) and the network's impact report of the season.
//
//	go test ./orders -run '^$' -bench MemberStatements -benchtime 2x -timeout 30m
func BenchmarkMemberStatements(b *testing.B) {
	ctx := context.Background()
	db := mongotest.New(b)
	var idx []mongodb.Index
	for _, i := range [][]mongodb.Index{traceability.Indexes(), shops.Indexes(), catalog.Indexes(), orders.Indexes()} {
		idx = append(idx, i...)
	}
	if err := db.EnsureIndexes(ctx, idx); err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 8, 31, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	start := time.Now()
	coops := seedSeason(b, ctx, db)
	b.Logf("seeded in %s", time.Since(start).Round(time.Millisecond))
	if err := db.EnsureIndexes(ctx, idx); err != nil { // the _id lookup indexes over the filled tables, as serve does at start
		b.Fatal(err)
	}
	trace := traceability.NewService(traceability.NewStore(db), clock)
	sh := shops.NewService(shops.NewStore(db), clock)
	cat := catalog.NewService(catalog.NewStore(db), trace, clock)
	stock := shops.NewStock(shops.NewStore(db), trace, clock, cat)
	ord := orders.NewService(orders.NewStore(db), cat, sh, stock, nil, orders.Config{}, clock)
	pay := orders.NewMemberPay(ord, trace)
	admin := access.Actor{UserID: "adm", Email: "admin@bench", Role: access.Admin}
	coop := coops[0]
	if _, err := pay.SetRetention(ctx, admin, coop, "10", "2025-09-01"); err != nil {
		b.Fatal(err)
	}
	for m := season2025; m <= "2026-08"; m = nextMonth(m) {
		if _, err := pay.SetRate(ctx, admin, coop, m, "EUR", "10.85"); err != nil {
			b.Fatal(err)
		}
	}

	// One untimed statement first: the store was just filled, and a server
	// serves statements from a warm one.
	if _, err := pay.MemberStatements(ctx, admin, coop, "2026-08"); err != nil {
		b.Fatal(err)
	}
	b.Run("member_statements_month", func(b *testing.B) {
		var st orders.MemberStatements
		for b.Loop() {
			var err error
			if st, err = pay.MemberStatements(ctx, admin, coop, "2026-08"); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(st.Members)), "members")
		b.ReportMetric(float64(st.ProducerShare.Amount)/100, "MAD")
	})
	// A payout run computes the balances inside Atomically (the embedded
	// store's write lock): each run pays one member one centime.
	b.Run("payout_run", func(b *testing.B) {
		st, err := pay.MemberStatements(ctx, admin, coop, "2026-08")
		if err != nil {
			b.Fatal(err)
		}
		var member string
		for _, m := range st.Members {
			if m.Balance.Amount > 1000 {
				member = m.Member
			}
		}
		for b.Loop() {
			if _, _, err := pay.PayMembers(ctx, admin, coop, orders.NewPayoutRun{Method: "cash",
				Lines: []orders.PayoutRequest{{Member: member, Amount: catalog.Money{Amount: 1, Currency: "MAD"}}}}, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("settlement_statement_month", func(b *testing.B) {
		for b.Loop() {
			if _, err := ord.Statement(ctx, admin, coop, "2026-08"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impact_season_network", func(b *testing.B) {
		var rep orders.ImpactReport
		for b.Loop() {
			var err error
			if rep, err = pay.Impact(ctx, admin, 2025, ""); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(rep.ActiveMembers.Total), "active")
	})
}

// seedSeason writes the load tool's default network and a season of sales
// straight into the store, and returns the cooperatives' codes.
func seedSeason(b *testing.B, ctx context.Context, db *mongodb.Store) []string {
	b.Helper()
	const nCoops, nMembers, nLots, nProducts, harvestsPerLot = 30, 3000, 10_000, 1000, 6
	rng := rand.New(rand.NewPCG(2025, 11))
	season := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	seasonEnd := time.Date(2026, 8, 31, 0, 0, 0, 0, time.UTC)
	at := func() time.Time {
		return season.Add(time.Duration(rng.Int64N(int64(seasonEnd.Sub(season))))).Truncate(time.Millisecond)
	}
	pending := map[string][]any{}
	add := func(coll string, doc any) {
		pending[coll] = append(pending[coll], doc)
		if len(pending[coll]) == 1000 {
			if _, err := db.Collection(coll).InsertMany(ctx, pending[coll]); err != nil {
				b.Fatal(err)
			}
			pending[coll] = nil
		}
	}
	flush := func() {
		for coll, docs := range pending {
			if len(docs) > 0 {
				if _, err := db.Collection(coll).InsertMany(ctx, docs); err != nil {
					b.Fatal(err)
				}
			}
			delete(pending, coll)
		}
	}
	for _, s := range []shops.Shop{{Code: "TAROUDANNT", Currency: "MAD"}, {Code: "AGADIR", Currency: "MAD"}, {Code: "CVT-TALIOUINE", Currency: "MAD"},
		{Code: "TIZNIT", Currency: "MAD"}, {Code: "EU-PLATFORM", Currency: "EUR", Kind: shops.KindPlatform}} {
		if s.Kind == "" {
			s.Kind = shops.KindBoutique
		}
		s.Name, s.City, s.CreatedAt = s.Code, s.Code, season
		add("shops", s)
	}
	tills := []string{"TAROUDANNT", "AGADIR", "CVT-TALIOUINE", "TIZNIT"}
	coops := make([]string, nCoops)
	members := make([][]traceability.Member, nCoops)
	for c := range coops {
		coops[c] = fmt.Sprintf("COOP-SAF-%02d", c+1)
		add("cooperatives", traceability.Cooperative{Code: coops[c], Name: "Coopérative " + coops[c], Kind: "saffron", Commune: "Taliouine", Province: "Taroudannt", CreatedAt: season})
	}
	for m := range nMembers {
		c := m % nCoops
		mem := traceability.Member{ID: id.New("mbr"), Cooperative: coops[c], Name: fmt.Sprintf("Membre %d", m),
			Gender: traceability.Genders[(m%10)/6], Village: "Siroua", CreatedAt: season}
		members[c] = append(members[c], mem)
		add("members", mem)
	}
	type product struct {
		catalog.Product
		coop int
	}
	products := make([]product, nProducts)
	for p := range products {
		c := p % nCoops
		products[p] = product{catalog.Product{SKU: fmt.Sprintf("LD-SAF-%04d", p), Kind: "saffron_dried", Cooperative: coops[c],
			Names: catalog.Names{FR: "Safran", EN: "Saffron", AR: "زعفران"}, UnitSize: 1000, UnitSizeUnit: traceability.Milligram,
			Prices: map[string]catalog.Money{"TAROUDANNT": {Amount: int64(4000 + (p%40)*100), Currency: "MAD"}, "AGADIR": {Amount: int64(4050 + (p%40)*100), Currency: "MAD"},
				"CVT-TALIOUINE": {Amount: int64(4100 + (p%40)*100), Currency: "MAD"}, "TIZNIT": {Amount: int64(4150 + (p%40)*100), Currency: "MAD"},
				"EU-PLATFORM": {Amount: int64(900 + (p%40)*10), Currency: "EUR"}}, CreatedAt: season}, c}
		add("products", products[p].Product)
	}
	lots := make([]string, nLots)
	lotProduct := make([]int, nLots)
	for l := range lots {
		p := products[l%nProducts]
		code, err := traceability.NewLotCode("saffron_dried")
		if err != nil {
			b.Fatal(err)
		}
		lots[l], lotProduct[l] = code, l%nProducts
		lot := traceability.Lot{Code: code, Cooperative: p.Cooperative, ProductKind: "saffron_dried", Source: traceability.SourcePacking,
			Quantity: 50, Available: 10, Unit: traceability.Piece, SKU: p.SKU, BestBefore: "2027-12-31", UnitSize: 1000, UnitSizeOf: traceability.Milligram,
			Inputs: []traceability.EventRef{}, Outputs: []traceability.EventRef{}, Claims: []traceability.Claim{}, Flags: []traceability.Flag{}, CreatedAt: season}
		by := map[string]int64{}
		for h := range harvestsPerLot {
			mem := members[p.coop][(l+h)%len(members[p.coop])]
			hv := traceability.Harvest{ID: id.New("hrv"), Cooperative: p.Cooperative, Parcel: "prc_bench", Member: mem.ID,
				Date: time.Date(2025, 10, 20+h, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), Crop: "saffron", Quantity: 400_000, Unit: traceability.Milligram, Lot: code, CreatedAt: season}
			if h == 0 {
				hv.Advance = &traceability.HarvestAdvance{Amount: 20_000, Currency: "MAD", Method: "cash"}
			}
			add("harvests", hv)
			lot.Origin = append(lot.Origin, traceability.OriginLine{Harvest: hv.ID, Date: hv.Date, Crop: "saffron", Quantity: hv.Quantity,
				Parcel: "prc_bench", Member: mem.ID, MemberName: mem.Name, Gender: mem.Gender, Village: mem.Village})
			by[mem.ID] += hv.Quantity
		}
		for m, wgt := range by {
			lot.Shares = append(lot.Shares, traceability.MemberShare{Member: m, Weight: wgt})
		}
		add("lots", lot)
	}
	line := func(l int, channel string, units int64) shops.AllocatedLine {
		price := products[lotProduct[l]].Prices[channel].Amount
		return shops.AllocatedLine{SKU: products[lotProduct[l]].SKU, Units: units, UnitPrice: price, Amount: price * units,
			Lots: []shops.LotUnits{{Lot: lots[l], Units: units}}}
	}
	var sales []shops.Sale
	for range 50_000 {
		l, shop := rng.IntN(nLots), tills[rng.IntN(len(tills))]
		ln := line(l, shop, 1+rng.Int64N(3))
		s := shops.Sale{ID: id.New("sal"), Shop: shop, Lines: []shops.AllocatedLine{ln}, Total: ln.Amount, Currency: "MAD", Payment: "cash", Actor: "bench", At: at()}
		sales = append(sales, s)
		add("sales", s)
	}
	for range 1000 {
		s := sales[rng.IntN(len(sales))]
		add("movements", shops.Movement{ID: id.New("mov"), Shop: s.Shop, Lot: s.Lines[0].Lots[0].Lot, SKU: s.Lines[0].SKU,
			Kind: shops.MoveReturn, Units: 1, Ref: s.ID, Actor: "bench", At: s.At.Add(24 * time.Hour)})
	}
	for i := range 5000 {
		ln := line(rng.IntN(nLots), "EU-PLATFORM", 1+rng.Int64N(4))
		paid := at()
		o := orders.Order{ID: id.New("ord"), Channel: "EU-PLATFORM", Status: orders.StatusPaid, Lines: []shops.AllocatedLine{ln},
			Total: catalog.Money{Amount: ln.Amount, Currency: "EUR"}, CreatedAt: paid, PaidAt: paid, History: []orders.StatusChange{{Status: orders.StatusPaid, At: paid}}}
		if i%20 == 0 {
			o.Status, o.RefundedAt = orders.StatusRefunded, paid.Add(72*time.Hour)
		}
		add("orders", o)
	}
	flush()
	return coops
}

const season2025 = "2025-09"

func nextMonth(m string) string {
	t, _ := time.Parse("2006-01", m)
	return t.AddDate(0, 1, 0).Format("2006-01")
}
