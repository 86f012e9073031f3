package traceability

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
)

func harvestIDs(hs []Harvest) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.ID
	}
	return out
}

// addHarvests records n harvests a minute apart and returns their IDs in
// the order recorded.
func (f *fixture) addHarvests(n int) []string {
	f.t.Helper()
	var ids []string
	for range n {
		f.now = f.now.Add(time.Minute)
		h, err := f.harvest("saffron", "2025-10-28", Quantity{Amount: 5, Unit: "g"})
		if err != nil {
			f.t.Fatal(err)
		}
		ids = append(ids, h.ID)
	}
	return ids
}

func reversed(ids []string) []string {
	out := slices.Clone(ids)
	slices.Reverse(out)
	return out
}

func TestHarvestListNewestFirstPerCooperative(t *testing.T) {
	f := newFixture(t)
	ids := f.addHarvests(7)
	// Another cooperative's harvests stay out of SIROUA's list.
	if _, err := f.s.CreateCooperative(f.ctx, f.admin, Cooperative{Code: "TAMGOUT", Name: "Tamgout", Kind: "saffron", Commune: "Taliouine", Province: "Taroudannt"}); err != nil {
		t.Fatal(err)
	}
	m, err := f.s.AddMember(f.ctx, f.admin, "TAMGOUT", Member{Name: "Aicha", Gender: "female", Village: "Tamgout"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.s.AddParcel(f.ctx, f.admin, "TAMGOUT", NewParcel{Name: "Agadir n'Tamgout", Member: m.ID, Commune: "Taliouine",
		AreaM2: 100_000, Crop: "saffron", Location: Geometry{Type: "Point", Coordinates: []byte(`[-7.9,30.5]`)}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.s.AddHarvest(f.ctx, f.admin, "TAMGOUT", NewHarvest{Parcel: p.ID, Member: m.ID, Date: "2025-10-28", Crop: "saffron", Quantity: Quantity{Amount: 5, Unit: "g"}})
	if err != nil {
		t.Fatal(err)
	}
	want := reversed(ids)
	for _, pg := range []mongodb.Page{{}, {Limit: 3}, {Limit: 3, Offset: 3}, {Limit: 3, Offset: 6}, {Limit: 3, Offset: 7}} {
		hs, err := f.s.Harvests(f.ctx, f.manager, f.coop, pg)
		if err != nil {
			t.Fatal(err)
		}
		pg = pg.Normalized()
		w := want[min(pg.Offset, len(want)):min(pg.Offset+pg.Limit, len(want))]
		if got := harvestIDs(hs); !slices.Equal(got, w) {
			t.Errorf("page %+v: %v, want %v", pg, got, w)
		}
	}
	if hs, _ := f.s.Harvests(f.ctx, f.admin, "TAMGOUT", mongodb.Page{}); !slices.Equal(harvestIDs(hs), []string{other.ID}) {
		t.Errorf("TAMGOUT lists %v", harvestIDs(hs))
	}
}

func TestMembersParcelsLotsLists(t *testing.T) {
	f := newFixture(t)
	members := []string{f.member}
	for i := range 3 {
		f.now = f.now.Add(time.Minute)
		m, err := f.s.AddMember(f.ctx, f.admin, f.coop, Member{Name: fmt.Sprintf("Member %d", i), Gender: "female", Village: "Siroua"})
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, m.ID)
	}
	ms, err := f.s.Members(f.ctx, f.manager, f.coop, mongodb.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.ID)
	}
	if !slices.Equal(got, members) {
		t.Errorf("members %v, want the order registered %v", got, members)
	}
	parcels := []string{f.parcel("saffron", 100_000), f.parcel("argan", 100_000)}
	ps, err := f.s.Parcels(f.ctx, f.manager, f.coop, mongodb.Page{Limit: 1, Offset: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].ID != parcels[1] || ps[0].Location.Type != "Point" {
		t.Errorf("second parcel: %+v, want %s with its location", ps, parcels[1])
	}
	var lots []string
	for range 3 {
		f.now = f.now.Add(time.Minute)
		lots = append(lots, f.originLot("saffron", Quantity{Amount: 5, Unit: "g"}).Code)
	}
	ls, err := f.s.Lots(f.ctx, f.manager, f.coop, mongodb.Page{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 2 || ls[0].Code != lots[2] || ls[1].Code != lots[1] {
		t.Errorf("lots page: %v, want newest first %v", ls, reversed(lots))
	}
	if n, err := f.s.store.countLots(f.ctx, f.coop); err != nil || n != 3 {
		t.Errorf("countLots %d, %v", n, err)
	}
}

// TestConcurrentHarvestsAllListed: 50 pickings recorded at once in one
// cooperative are all in its list, once each.
func TestConcurrentHarvestsAllListed(t *testing.T) {
	f := newFixture(t)
	parcel := f.parcel("saffron", 1_000_000)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	made := make(chan string, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := f.s.AddHarvest(f.ctx, f.manager, f.coop, NewHarvest{Parcel: parcel, Member: f.member, Date: "2025-10-28", Crop: "saffron", Quantity: Quantity{Amount: 1, Unit: "g"}})
			errs <- err
			made <- h.ID
		}()
	}
	wg.Wait()
	close(errs)
	close(made)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for id := range made {
		want = append(want, id)
	}
	hs, err := f.s.Harvests(f.ctx, f.manager, f.coop, mongodb.Page{Limit: mongodb.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	got := harvestIDs(hs)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("listed %d harvests, want the 50 recorded:\n got %v\nwant %v", len(got), got, want)
	}
	if n, _ := f.s.store.db.ListCount(f.ctx, *harvestList, f.coop); n != 50 {
		t.Fatalf("the head counts %d", n)
	}
}

// TestFailedHarvestLeavesNoListEntry fails each write of recording a
// harvest in turn: a failed write leaves neither the harvest nor its entry.
func TestFailedHarvestLeavesNoListEntry(t *testing.T) {
	f := newFixture(t)
	first := f.addHarvests(1)
	db := f.s.store.db
	for n := 1; ; n++ {
		db.InjectWriteFault(n, mongodb.FailWrite)
		h, err := f.harvest("saffron", "2025-10-28", Quantity{Amount: 5, Unit: "g"})
		fired, _ := db.FaultFired()
		db.InjectWriteFault(0, 0)
		if !fired {
			if err != nil {
				t.Fatal(err)
			}
			if n < 8 {
				t.Fatalf("only %d write points", n)
			}
			break
		}
		if err == nil {
			// Only the cleanup after the commit failed: acknowledged, so
			// listed; the later rounds expect it.
			first = append(first, h.ID)
		}
		hs, lerr := f.s.Harvests(f.ctx, f.manager, f.coop, mongodb.Page{})
		if lerr != nil {
			t.Fatal(lerr)
		}
		if got := harvestIDs(hs); !slices.Equal(got, reversed(first)) {
			t.Fatalf("write %d (%v): listed %v, want %v", n, err, got, reversed(first))
		}
		stored, _ := db.Collection("harvests").CountDocuments(f.ctx, bson.M{})
		if stored != int64(len(first)) {
			t.Fatalf("write %d (%v): %d harvests stored, %d listed", n, err, stored, len(first))
		}
	}
}

// TestListsBuiltForOldData: a data directory written before the lists (no
// list documents at all) gets them at the next start, in the order the
// records were made; a second start changes nothing.
func TestListsBuiltForOldData(t *testing.T) {
	f := newFixture(t)
	f.parcel("saffron", 100_000)
	harvests := f.addHarvests(4)
	f.now = f.now.Add(time.Minute)
	lot := f.originLot("saffron", Quantity{Amount: 5, Unit: "g"})
	harvests = append(harvests, lot.Origin[0].Harvest)
	db := f.s.store.db
	read := func() (hs, ms, ps, ls []string) {
		t.Helper()
		h, err := f.s.Harvests(f.ctx, f.manager, f.coop, mongodb.Page{})
		if err != nil {
			t.Fatal(err)
		}
		m, _ := f.s.Members(f.ctx, f.manager, f.coop, mongodb.Page{})
		p, _ := f.s.Parcels(f.ctx, f.manager, f.coop, mongodb.Page{})
		l, _ := f.s.Lots(f.ctx, f.manager, f.coop, mongodb.Page{})
		for _, x := range m {
			ms = append(ms, x.ID)
		}
		for _, x := range p {
			ps = append(ps, x.ID)
		}
		for _, x := range l {
			ls = append(ls, x.Code)
		}
		return harvestIDs(h), ms, ps, ls
	}
	h0, m0, p0, l0 := read()
	if !slices.Equal(h0, reversed(harvests)) || len(m0) != 1 || len(p0) != 1 || !slices.Equal(l0, []string{lot.Code}) {
		t.Fatalf("before: %v %v %v %v", h0, m0, p0, l0)
	}
	if _, err := db.Collection("lists").DeleteMany(f.ctx, bson.M{}); err != nil {
		t.Fatal(err)
	}
	if h, _, _, _ := read(); len(h) != 0 {
		t.Fatalf("without list documents the list still reads %v: the test proves nothing", h)
	}
	for range 2 {
		if err := db.EnsureIndexes(f.ctx, Indexes()); err != nil {
			t.Fatal(err)
		}
		h1, m1, p1, l1 := read()
		if !slices.Equal(h1, h0) || !slices.Equal(m1, m0) || !slices.Equal(p1, p0) || !slices.Equal(l1, l0) {
			t.Fatalf("after the build: %v %v %v %v\nwant %v %v %v %v", h1, m1, p1, l1, h0, m0, p0, l0)
		}
	}
	// And the rebuilt lists go on growing.
	more := f.addHarvests(1)
	if h, _, _, _ := read(); len(h) != 6 || h[0] != more[0] {
		t.Fatalf("after a new harvest: %v", h)
	}
}

// BenchmarkHarvestList lists the first page (50) of one cooperative's
// harvests with 600 and with 60,000 harvests in the collection: the scan
// the store made before (FindPage, filter on "coop"), the keyed list it
// reads now, and the keyed list's IDs fetched with one $in instead of one
// _id lookup each. The cooperative holds 100 harvests in both cases (so
// both pages are full); the others are spread over 29 cooperatives, as the
// load tool spreads them. Seeding 60,000 harvests through the service
// would take minutes: they go straight into the collection (InsertMany)
// and RebuildLists makes their list documents, the path an upgraded data
// directory takes at start.
//
//	go test ./traceability -run '^$' -bench HarvestList -benchtime 20x
func BenchmarkHarvestList(b *testing.B) {
	for _, total := range []int{600, 60_000} {
		db, store := seedHarvests(b, total)
		ctx := context.Background()
		page := mongodb.Page{Limit: 50}
		b.Run(fmt.Sprintf("harvests=%d/scan", total), func(b *testing.B) {
			for b.Loop() {
				hs, err := mongodb.FindPage[Harvest](ctx, db.Collection("harvests"), bson.M{"coop": "SIROUA"}, byID, page)
				if err != nil || len(hs) != 50 {
					b.Fatal(len(hs), err)
				}
			}
		})
		b.Run(fmt.Sprintf("harvests=%d/list", total), func(b *testing.B) {
			for b.Loop() {
				hs, err := store.harvests(ctx, "SIROUA", page)
				if err != nil || len(hs) != 50 {
					b.Fatal(len(hs), err)
				}
			}
		})
		b.Run(fmt.Sprintf("harvests=%d/list-in", total), func(b *testing.B) {
			for b.Loop() {
				ids, err := db.ListIDs(ctx, *harvestList, "SIROUA", page)
				if err != nil {
					b.Fatal(err)
				}
				hs, err := mongodb.FindPage[Harvest](ctx, db.Collection("harvests"), bson.M{"_id": bson.M{"$in": ids}}, byID, mongodb.Page{})
				if err != nil || len(hs) != 50 {
					b.Fatal(len(hs), err)
				}
			}
		})
	}
}

func seedHarvests(b *testing.B, total int) (*mongodb.Store, *Store) {
	b.Helper()
	db := newBenchStore(b)
	ctx := context.Background()
	t0 := time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]any, 0, 1000)
	for i := range total {
		coop := "SIROUA"
		if i >= 100 {
			coop = fmt.Sprintf("COOP-%02d", i%29)
		}
		batch = append(batch, Harvest{ID: fmt.Sprintf("hrv_%06d", i), Cooperative: coop, Parcel: fmt.Sprintf("prc_%d", i%5000),
			Member: fmt.Sprintf("mbr_%d", i%3000), Date: "2025-10-28", Crop: "saffron", Quantity: 5_000_000, Unit: Milligram,
			CreatedBy: "seed", CreatedAt: t0.Add(time.Duration(i) * time.Second)})
		if len(batch) == cap(batch) || i == total-1 {
			if _, err := db.Collection("harvests").InsertMany(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	start := time.Now()
	if err := db.RebuildLists(ctx, Indexes()); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d harvests: lists built in %s", total, time.Since(start).Round(time.Millisecond))
	return db, NewStore(db)
}

func newBenchStore(b *testing.B) *mongodb.Store {
	b.Helper()
	db := mongotest.New(b)
	if err := db.EnsureIndexes(context.Background(), Indexes()); err != nil {
		b.Fatal(err)
	}
	return db
}
