package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web"
	"github.com/terroir-coop/terroir/web/accounts"
)

// scale is the size of a seeded network.
type scale struct {
	Coops, Members, Parcels, HarvestsPerLot, Lots, Products int
	ShopsPerLot                                             int   // each lot is on this many shops' shelves
	PackedUnits, UnitsPerShop                               int64 // per lot
	// CSVPath, when set, receives CSVRows harvests of the first
	// cooperative's parcels in the import format (season 2026).
	CSVPath string
	CSVRows int
}

var scales = map[string]scale{
	"default": {Coops: 30, Members: 3000, Parcels: 10_000, HarvestsPerLot: 6, Lots: 10_000, Products: 1000, ShopsPerLot: 2, PackedUnits: 50, UnitsPerShop: 20},
	// large: ten times the default, to show which costs grow with the
	// number of lots (they should not).
	"large": {Coops: 30, Members: 30_000, Parcels: 100_000, HarvestsPerLot: 6, Lots: 100_000, Products: 10_000, ShopsPerLot: 2, PackedUnits: 50, UnitsPerShop: 20},
	"small": {Coops: 3, Members: 300, Parcels: 1000, HarvestsPerLot: 6, Lots: 1000, Products: 100, ShopsPerLot: 2, PackedUnits: 50, UnitsPerShop: 20},
}

// The seeded shops: four tills in MAD and the EU platform in EUR.
var seedShops = []shops.Shop{
	{Code: "TAROUDANNT", Name: "Boutique solidaire de Taroudannt", City: "Taroudannt", Currency: "MAD", Kind: shops.KindBoutique},
	{Code: "AGADIR", Name: "Boutique solidaire d'Agadir", City: "Agadir", Currency: "MAD", Kind: shops.KindBoutique},
	{Code: "CVT-TALIOUINE", Name: "Centre de valorisation de Taliouine", City: "Taliouine", Currency: "MAD", Kind: shops.KindBoutique},
	{Code: "TIZNIT", Name: "Boutique solidaire de Tiznit", City: "Tiznit", Currency: "MAD", Kind: shops.KindBoutique},
	{Code: "EU-PLATFORM", Name: "Plateforme de distribution UE", City: "Marseille", Currency: "EUR", Kind: shops.KindPlatform},
}

// crops of the seeded cooperatives, in turn: the harvest crop, the packed
// product kind and its unit size.
var seedCrops = []struct {
	crop, kind, label string
	unitSize          int64
	unit              traceability.Unit
	harvestMg         int64
	communes          []string
}{
	{"saffron", "saffron_dried", "Safran de Taliouine, 1 g", 1000, traceability.Milligram, 400_000, []string{"Taliouine", "Askaoun", "Sidi Hsaine"}},
	{"argan", "argan_oil", "Huile d'argan, 250 ml", 250, traceability.Millilitre, 150_000_000, []string{"Arbâa Sahel", "Tamanar", "Aït Baha"}},
	{"pamm", "essential_oil", "Huile essentielle de romarin, 10 ml", 10, traceability.Millilitre, 200_000_000, []string{"Tagmoute", "Tata", "Akka"}},
}

// manifest is what seed leaves for run: what to scan, buy and sell.
type manifest struct {
	Lots     []manifestLot `json:"lots"`
	SKUs     []string      `json:"skus"`
	Tills    []string      `json:"tills"`
	Platform string        `json:"platform"`
}

type manifestLot struct {
	Code string `json:"code"`
	GTIN string `json:"gtin,omitempty"`
}

const manifestName = "load-manifest.json"

func seedCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "embedded store directory (required; the server must be stopped)")
	scaleName := fs.String("scale", "default", "default, small (one tenth) or large (ten times: 100 000 lots, 10 000 products)")
	csvPath := fs.String("harvest-csv", "", "also write a harvest import file for the first cooperative (for `terroir import harvests`)")
	csvRows := fs.Int("csv-rows", 10_000, "rows of --harvest-csv")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	sc, ok := scales[*scaleName]
	if *data == "" || !ok {
		fmt.Fprintln(stderr, "usage: terroir-load seed --data DIR [--scale default|small|large]")
		return 2
	}
	start := time.Now()
	sc.CSVPath, sc.CSVRows = *csvPath, *csvRows
	if err := seed(context.Background(), *data, sc, stdout); err != nil {
		fmt.Fprintf(stderr, "terroir-load: seed: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "seeded %s scale in %s\n", *scaleName, time.Since(start).Round(time.Millisecond))
	return 0
}

// openStore opens the store the way serve does: every index of every domain,
// and on the embedded store the _id lookup indexes.
func openStore(ctx context.Context, dir string) (*mongodb.Store, error) {
	store, err := mongodb.Open(ctx, mongodb.Config{DataDir: dir})
	if err != nil {
		return nil, err
	}
	if err := store.EnsureIndexes(ctx, web.Indexes()); err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}

// batcher buffers documents per collection and writes them with InsertMany.
type batcher struct {
	ctx     context.Context
	store   *mongodb.Store
	pending map[string][]any
	written map[string]int
	out     io.Writer
	last    time.Time
}

func (b *batcher) add(coll string, doc any) error {
	b.pending[coll] = append(b.pending[coll], doc)
	if len(b.pending[coll]) >= 500 {
		return b.flush(coll)
	}
	return nil
}

func (b *batcher) flush(coll string) error {
	docs := b.pending[coll]
	if len(docs) == 0 {
		return nil
	}
	if _, err := b.store.Collection(coll).InsertMany(b.ctx, docs); err != nil {
		return fmt.Errorf("insert into %s: %w", coll, err)
	}
	b.written[coll] += len(docs)
	b.pending[coll] = docs[:0]
	if time.Since(b.last) > 2*time.Second {
		b.progress()
	}
	return nil
}

func (b *batcher) flushAll() error {
	for _, coll := range slices.Sorted(func(yield func(string) bool) {
		for k := range b.pending {
			if !yield(k) {
				return
			}
		}
	}) {
		if err := b.flush(coll); err != nil {
			return err
		}
	}
	b.progress()
	return nil
}

func (b *batcher) progress() {
	b.last = time.Now()
	fmt.Fprintf(b.out, "seed: %d cooperatives, %d members, %d parcels, %d harvests, %d lots, %d products, %d balances, %d movements\n",
		b.written["cooperatives"], b.written["members"], b.written["parcels"], b.written["harvests"], b.written["lots"],
		b.written["products"], b.written["balances"], b.written["movements"])
}

func seed(ctx context.Context, dir string, sc scale, out io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	store, err := openStore(ctx, dir)
	if err != nil {
		return err
	}
	defer store.Close()
	if n, err := store.Collection("lots").EstimatedDocumentCount(ctx); err != nil {
		return err
	} else if n > 0 {
		return errors.New(dir + " holds lots already: seed an empty data directory")
	}
	b := &batcher{ctx: ctx, store: store, pending: map[string][]any{}, written: map[string]int{}, out: out, last: time.Now()}
	now := time.Now().UTC().Truncate(time.Millisecond)
	const actor = "seed@terroir.load"

	for _, sh := range seedShops {
		sh.CreatedAt = now
		if err := b.add("shops", sh); err != nil {
			return err
		}
	}
	// Cooperatives, their members and parcels.
	type coopRec struct {
		code    string
		crop    int
		members []traceability.Member
		parcels []traceability.Parcel
		next    int // round-robin over parcels
	}
	coops := make([]*coopRec, sc.Coops)
	for c := range coops {
		cr := seedCrops[c%len(seedCrops)]
		code := fmt.Sprintf("COOP-%s-%02d", traceability.LotPrefix(cr.kind), c+1)
		coops[c] = &coopRec{code: code, crop: c % len(seedCrops)}
		if err := b.add("cooperatives", traceability.Cooperative{Code: code, Name: "Coopérative " + cr.communes[c%3] + " " + strconv.Itoa(c+1),
			Kind: cr.crop, Commune: cr.communes[c%3], Province: "Taroudannt", CreatedAt: now}); err != nil {
			return err
		}
	}
	names := []string{"Fatima", "Aicha", "Khadija", "Itto", "Zahra", "Mohamed", "Brahim", "Lahcen", "Hassan", "Malika"}
	villages := []string{"Siroua", "Tinfat", "Zagmouzen", "Assaisse", "Tamazirt"}
	for m := range sc.Members {
		c := coops[m%sc.Coops]
		mem := traceability.Member{ID: id.New("mbr"), Cooperative: c.code, Name: fmt.Sprintf("%s %d", names[m%len(names)], m),
			Gender: traceability.Genders[(m%10)/6], Village: villages[m%len(villages)], CreatedAt: now} // 60 % women
		c.members = append(c.members, mem)
		if err := b.add("members", mem); err != nil {
			return err
		}
	}
	for _, coll := range []string{"shops", "cooperatives", "members"} { // so the progress line counts them
		if err := b.flush(coll); err != nil {
			return err
		}
	}
	for p := range sc.Parcels {
		c := coops[p%sc.Coops]
		cr := seedCrops[c.crop]
		lon, lat := -7.9+float64(p%100)*0.001, 30.5+float64(p%77)*0.001
		par := traceability.Parcel{ID: id.New("prc"), Cooperative: c.code, Name: fmt.Sprintf("Parcelle %d", p+1),
			Member: c.members[(p/sc.Coops)%len(c.members)].ID, Commune: cr.communes[p%3], AreaM2: 2000 + int64(p%50)*100, Crop: cr.crop,
			LocationRaw: fmt.Sprintf(`{"type":"Point","coordinates":[%.4f,%.4f]}`, lon, lat), Lon: lon, Lat: lat,
			SeasonTotals: map[string]int64{}, CreatedAt: now}
		c.parcels = append(c.parcels, par)
	}
	// Products: GTIN 611999 + number + check digit on saffron, none on the others.
	type productRec struct {
		catalog.Product
		coop *coopRec
	}
	products := make([]productRec, sc.Products)
	m := manifest{Platform: "EU-PLATFORM"}
	for _, sh := range seedShops {
		if sh.Kind == shops.KindBoutique {
			m.Tills = append(m.Tills, sh.Code)
		}
	}
	for p := range products {
		c := coops[p%sc.Coops]
		cr := seedCrops[c.crop]
		sku := fmt.Sprintf("LD-%s-%04d", traceability.LotPrefix(cr.kind), p)
		prices := map[string]catalog.Money{}
		for i, sh := range seedShops {
			amount := int64(4000 + (p%40)*100 + i*50)
			if sh.Currency == "EUR" {
				amount = int64(900 + (p%40)*10)
			}
			prices[sh.Code] = catalog.Money{Amount: amount, Currency: sh.Currency}
		}
		gtin := ""
		if c.crop == 0 {
			gtin = gtin13(fmt.Sprintf("611999%06d", p))
		}
		products[p] = productRec{Product: catalog.Product{SKU: sku, Kind: cr.kind, Cooperative: c.code,
			Names:        catalog.Names{FR: fmt.Sprintf("%s n° %d", cr.label, p), EN: fmt.Sprintf("%s no. %d", cr.label, p), AR: fmt.Sprintf("منتوج تعاوني %d", p)},
			Descriptions: catalog.Names{FR: "Produit de la coopérative " + c.code + ".", EN: "Made by the cooperative " + c.code + ".", AR: "من إنتاج التعاونية."},
			UnitSize:     cr.unitSize, UnitSizeUnit: cr.unit, GTIN: gtin, Prices: prices, CreatedAt: now}, coop: c}
		m.SKUs = append(m.SKUs, sku)
		if err := b.add("products", products[p].Product); err != nil {
			return err
		}
	}
	// Lots: lot l packs product l % Products from HarvestsPerLot harvests of
	// that product's cooperative, and goes to ShopsPerLot shops.
	shelves := map[string]*shops.Shelf{}
	for l := range sc.Lots {
		p := products[l%sc.Products]
		c := p.coop
		cr := seedCrops[c.crop]
		code, err := traceability.NewLotCode(cr.kind)
		if err != nil {
			return err
		}
		bestBefore := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, l%700).Format(time.DateOnly)
		lot := traceability.Lot{Code: code, Cooperative: c.code, ProductKind: cr.kind, Source: traceability.SourcePacking,
			Quantity: sc.PackedUnits, Available: sc.PackedUnits, Unit: traceability.Piece, SKU: p.SKU, BestBefore: bestBefore,
			UnitSize: cr.unitSize, UnitSizeOf: cr.unit, Inputs: []traceability.EventRef{}, Outputs: []traceability.EventRef{},
			Claims: []traceability.Claim{}, Flags: []traceability.Flag{}, CreatedBy: actor, CreatedAt: now}
		if p.GTIN != "" {
			if lot.GTIN, err = traceability.NormalizeGTIN(p.GTIN); err != nil {
				return err
			}
		}
		for h := range sc.HarvestsPerLot {
			par := &c.parcels[c.next%len(c.parcels)]
			c.next++
			mem := c.members[(l+h)%len(c.members)]
			day := time.Date(2025, 10, 20+h, 0, 0, 0, 0, time.UTC)
			hv := traceability.Harvest{ID: id.New("hrv"), Cooperative: c.code, Parcel: par.ID, Member: mem.ID,
				Date: day.Format(time.DateOnly), Crop: cr.crop, Quantity: cr.harvestMg, Unit: traceability.Milligram, Lot: code,
				CreatedBy: actor, CreatedAt: now}
			par.SeasonTotals["2025_"+cr.crop] += cr.harvestMg
			if err := b.add("harvests", hv); err != nil {
				return err
			}
			lot.Origin = append(lot.Origin, traceability.OriginLine{Harvest: hv.ID, Date: hv.Date, Crop: cr.crop, Quantity: hv.Quantity,
				Parcel: par.ID, ParcelName: par.Name, Commune: par.Commune, Lon: par.Lon, Lat: par.Lat,
				Member: mem.ID, MemberName: mem.Name, Gender: mem.Gender, Village: mem.Village})
		}
		seal := func(e traceability.Event) {
			var prev *traceability.Event
			if n := len(lot.Events); n > 0 {
				prev = &lot.Events[n-1]
			}
			e.Lot, e.Unit, e.At, e.Actor = code, lot.Unit, now, actor
			s := traceability.SealEvent(prev, e)
			lot.Events = append(lot.Events, s)
			lot.Seq, lot.LastHash = s.Seq, s.Hash
		}
		seal(traceability.Event{Type: traceability.EventPacked, Place: c.code, Quantity: sc.PackedUnits})
		k := l / sc.Products
		for i := range sc.ShopsPerLot {
			sh := seedShops[(l+k+i)%len(seedShops)]
			seal(traceability.Event{Type: traceability.EventShipped, Place: c.code + " → " + sh.Code, Quantity: sc.UnitsPerShop})
			seal(traceability.Event{Type: traceability.EventReceived, Place: sh.Code, Quantity: sc.UnitsPerShop})
			lot.Available -= sc.UnitsPerShop
			if err := b.add("movements", shops.Movement{ID: id.New("mov"), Shop: sh.Code, Lot: code, SKU: p.SKU,
				Kind: shops.MoveReceipt, Units: sc.UnitsPerShop, Ref: c.code, Actor: actor, At: now}); err != nil {
				return err
			}
			if err := b.add("balances", shops.Balance{ID: sh.Code + "|" + code, Shop: sh.Code, Lot: code, SKU: p.SKU, Cooperative: c.code,
				BestBefore: bestBefore, Units: sc.UnitsPerShop, Claims: lot.Claims, UpdatedAt: now, Ledger: sc.UnitsPerShop}); err != nil {
				return err
			}
			id := sh.Code + "|" + p.SKU
			shelf := shelves[id]
			if shelf == nil {
				shelf = &shops.Shelf{ID: id, Shop: sh.Code, SKU: p.SKU}
				shelves[id] = shelf
			}
			shelf.Lots = append(shelf.Lots, shops.ShelfLot{Lot: code, BestBefore: bestBefore, Claims: lot.Claims})
			shelf.Units += sc.UnitsPerShop
		}
		m.Lots = append(m.Lots, manifestLot{Code: code, GTIN: lot.GTIN})
		if err := b.add("lots", lot); err != nil {
			return err
		}
	}
	for _, c := range coops {
		for _, par := range c.parcels {
			if err := b.add("parcels", par); err != nil {
				return err
			}
		}
	}
	for _, id := range slices.Sorted(func(yield func(string) bool) {
		for k := range shelves {
			if !yield(k) {
				return
			}
		}
	}) {
		sh := shelves[id]
		slices.SortFunc(sh.Lots, func(a, b shops.ShelfLot) int { // FEFO
			if a.BestBefore != b.BestBefore {
				return strings.Compare(a.BestBefore, b.BestBefore)
			}
			return strings.Compare(a.Lot, b.Lot)
		})
		if err := b.add("shelves", *sh); err != nil {
			return err
		}
	}
	if err := b.flushAll(); err != nil {
		return err
	}
	if sc.CSVPath != "" {
		if err := writeHarvestCSV(sc.CSVPath, sc.CSVRows, coops[0].code, coops[0].parcels, seedCrops[coops[0].crop].crop, out); err != nil {
			return err
		}
	}
	js, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, manifestName), js, 0o644); err != nil {
		return err
	}
	// Indexes again, now that every collection has its documents: this is
	// the path serve takes at start (the _id lookup indexes cover the tables
	// the inserts created).
	var idx []mongodb.Index
	idx = append(idx, traceability.Indexes()...)
	idx = append(idx, shops.Indexes()...)
	idx = append(idx, catalog.Indexes()...)
	idx = append(idx, orders.Indexes()...)
	idx = append(idx, accounts.Indexes()...)
	if err := store.EnsureIndexes(ctx, idx); err != nil {
		return err
	}
	// The documents went in without their keyed lists (ListAdd is the
	// stores' job): build them from the collections, as a start does for
	// a data directory written before the lists.
	return store.RebuildLists(ctx, idx)
}

// gtin13 appends the GS1 check digit to 12 digits.
func gtin13(twelve string) string {
	for d := '0'; d <= '9'; d++ {
		if s := twelve + string(d); traceability.ValidGTIN(s) {
			return s
		}
	}
	return ""
}

// writeHarvestCSV writes rows harvests on the parcels, a few grams each, in
// the season after the seeded one.
func writeHarvestCSV(path string, rows int, coop string, parcels []traceability.Parcel, crop string, out io.Writer) error {
	var b strings.Builder
	b.WriteString(strings.Join(traceability.HarvestCSVHeader, ",") + "\n")
	for i := range rows {
		p := parcels[i%len(parcels)]
		day := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%60).Format(time.DateOnly)
		fmt.Fprintf(&b, "%s,%s,%s,%s,%d,g\n", p.ID, p.Member, day, crop, 1+i%5)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %d harvests of %s to %s: terroir import harvests --coop %s %s\n", rows, coop, path, coop, path)
	return nil
}
