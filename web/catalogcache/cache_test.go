package catalogcache_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/testworld"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/catalogcache"
)

// countedProducts is the real catalogue behind the Products seam, counting
// the builds that read it; while gate is set, a build waits for it.
type countedProducts struct {
	*catalog.Service
	builds atomic.Int64
	gate   atomic.Pointer[chan struct{}]
}

func (p *countedProducts) AllProducts(ctx context.Context) ([]catalog.Product, error) {
	p.builds.Add(1)
	if g := p.gate.Load(); g != nil {
		<-*g
	}
	return p.Service.AllProducts(ctx)
}

const ttl = time.Minute

func newCache(t *testing.T, pageBytes int64) (*testworld.World, *countedProducts, *catalogcache.Cache) {
	t.Helper()
	w := testworld.New(t)
	w.Shop("TAROUDANNT", shops.KindBoutique)
	coop := w.Cooperative("SIROUA", "saffron", 1000)
	for _, sku := range []string{"SAF-1G", "SAF-2G"} {
		coop.Product(sku, "saffron_dried", 1, map[string]int64{"TAROUDANNT": 9000})
	}
	p := &countedProducts{Service: w.Catalog}
	c := catalogcache.NewWithBudget(catalogcache.Sources{Products: p, Shelves: w.Stock, Certificates: w.Trace, Shops: w.Shops},
		w.Clock.Now, ttl, pageBytes)
	return w, p, c
}

func TestConcurrentRequestsOnAnExpiredCatalogueBuildItOnce(t *testing.T) {
	w, p, c := newCache(t, catalogcache.DefaultPageBytes)
	ctx := context.Background()
	first, err := c.Channel(ctx, "TAROUDANNT")
	if err != nil {
		t.Fatal(err)
	}
	if n := p.builds.Load(); n != 1 {
		t.Fatalf("%d builds for the first request, want 1", n)
	}
	w.Clock.Advance(3 * ttl) // expired, and long unused: requests wait for a build
	start := make(chan struct{})
	var wg sync.WaitGroup
	got := make([]*catalogcache.Channel, 50)
	errs := make([]error, 50)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[i], errs[i] = c.Channel(ctx, "TAROUDANNT")
		}()
	}
	close(start)
	wg.Wait()
	if n := p.builds.Load(); n != 2 {
		t.Errorf("50 concurrent requests on an expired catalogue made %d builds, want exactly 1 more (2 in all)", n)
	}
	for i := range got {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if got[i] == first || got[i] != got[0] {
			t.Fatalf("request %d was not given the one rebuilt catalogue", i)
		}
		if len(got[i].Items()) != 2 {
			t.Fatalf("rebuilt catalogue has %d items, want 2", len(got[i].Items()))
		}
	}
}

func TestCatalogueIsRefreshedAheadWhileTheOldOneIsServed(t *testing.T) {
	w, p, c := newCache(t, catalogcache.DefaultPageBytes)
	ctx := context.Background()
	old, err := c.Channel(ctx, "TAROUDANNT")
	if err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	p.gate.Store(&gate)
	w.Clock.Advance(ttl * 9 / 10) // past refresh-ahead, before expiry
	answered := make(chan *catalogcache.Channel)
	go func() {
		for range 20 {
			ch, err := c.Channel(ctx, "TAROUDANNT")
			if err != nil {
				t.Error(err)
			}
			if ch != old {
				t.Error("a request during the refresh was not given the old catalogue")
			}
		}
		w.Clock.Advance(ttl / 2) // expired now, but being rebuilt: still served
		ch, _ := c.Channel(ctx, "TAROUDANNT")
		answered <- ch
	}()
	select {
	case ch := <-answered:
		if ch != old {
			t.Error("an expired catalogue being rebuilt was not served meanwhile")
		}
	case <-time.After(30 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("requests waited for the background rebuild")
	}
	for deadline := time.Now().Add(30 * time.Second); p.builds.Load() < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no background refresh began")
		}
	}
	if n := p.builds.Load(); n != 2 {
		t.Errorf("%d builds, want 2: one refresh for 21 requests", n)
	}
	p.gate.Store(nil)
	close(gate)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ch, err := c.Channel(ctx, "TAROUDANNT")
		if err != nil {
			t.Fatal(err)
		}
		if ch != old {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the refreshed catalogue never replaced the old one")
		}
		time.Sleep(time.Millisecond)
	}
	if n := p.builds.Load(); n != 2 {
		t.Errorf("%d builds after the refresh landed, want 2", n)
	}
}

func TestKeptPagesFollowTheirShelfAndTheBudget(t *testing.T) {
	_, p, c := newCache(t, catalogcache.DefaultPageBytes)
	ctx := context.Background()
	ch, err := c.Channel(ctx, "TAROUDANNT")
	if err != nil {
		t.Fatal(err)
	}
	ch.KeepPage("SAF-1G", "product SAF-1G fr", []byte("one"))
	ch.KeepPage("SAF-2G", "product SAF-2G fr", []byte("two"))
	ch.KeepPage("", "list fr", []byte("list"))
	if string(ch.Page("SAF-1G", "product SAF-1G fr")) != "one" || string(ch.Page("", "list fr")) != "list" {
		t.Fatal("kept pages not served")
	}
	c.ShelfChanged("TAROUDANNT", "SAF-1G")
	ch, err = c.Channel(ctx, "TAROUDANNT")
	if err != nil {
		t.Fatal(err)
	}
	if ch.Page("SAF-1G", "product SAF-1G fr") != nil {
		t.Error("the page of a moved shelf was still served")
	}
	if ch.Page("", "list fr") != nil {
		t.Error("a list page was still served after a shelf moved")
	}
	if string(ch.Page("SAF-2G", "product SAF-2G fr")) != "two" {
		t.Error("the page of an unmoved shelf was dropped")
	}
	c.ProductChanged("SAF-2G")
	ch, err = c.Channel(ctx, "TAROUDANNT")
	if err != nil {
		t.Fatal(err)
	}
	if ch.Page("SAF-2G", "product SAF-2G fr") != nil {
		t.Error("a page was served after its product changed")
	}
	if n := p.builds.Load(); n != 2 {
		t.Errorf("%d builds, want 2 (the product change drops the channel)", n)
	}

	// The budget: 100 pages of 1 KB in a 20 KB budget keep the last ones.
	_, _, small := newCache(t, 20<<10)
	ch, err = small.Channel(ctx, "TAROUDANNT")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		ch.KeepPage("", string(rune('A'+i%26))+string(rune('a'+i/26)), make([]byte, 1024))
	}
	st := small.PageStats()
	if st.Bytes > 20<<10 || st.Entries == 0 || st.Entries >= 20 || st.Evicted == 0 {
		t.Errorf("page stats %+v: want within 20 KiB, some kept, some evicted", st)
	}
	if ch.Page("", string(rune('A'+99%26))+string(rune('a'+99/26))) == nil {
		t.Error("the most recent page was evicted")
	}
	if ch.Page("", "Aa") != nil {
		t.Error("the least recently used page was kept past the budget")
	}
}

// TestReadyNeverWaitsForABuild: the trace page asks for a channel only in
// passing; while its catalogue is being built Ready answers at once (not
// ready), starts one build however often it is asked, and gives the
// catalogue once built. A channel that does not exist is settled: nil and
// ready, so pages that name it may be kept.
func TestReadyNeverWaitsForABuild(t *testing.T) {
	_, p, c := newCache(t, catalogcache.DefaultPageBytes)
	ctx := context.Background()
	gate := make(chan struct{})
	p.gate.Store(&gate)
	answered := make(chan bool)
	go func() {
		for range 20 {
			if ch, ok := c.Ready(ctx, "TAROUDANNT"); ok || ch != nil {
				answered <- false
				return
			}
		}
		answered <- true
	}()
	select {
	case ok := <-answered:
		if !ok {
			t.Fatal("Ready gave a catalogue not built yet")
		}
	case <-time.After(30 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("Ready waited for the build")
	}
	for deadline := time.Now().Add(30 * time.Second); p.builds.Load() < 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Ready began no build")
		}
	}
	p.gate.Store(nil)
	close(gate)
	var ch *catalogcache.Channel
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
		var ok bool
		if ch, ok = c.Ready(ctx, "TAROUDANNT"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the catalogue Ready began never became ready")
		}
	}
	if n := p.builds.Load(); n != 1 {
		t.Errorf("%d builds for 20 calls during one build, want 1", n)
	}
	if ch == nil || len(ch.Items()) != 2 {
		t.Fatalf("ready catalogue: %+v", ch)
	}
	if same, err := c.Channel(ctx, "TAROUDANNT"); err != nil || same != ch {
		t.Errorf("Channel after Ready built another catalogue (%v)", err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
		ch, ok := c.Ready(ctx, "NOWHERE")
		if ok {
			if ch != nil {
				t.Fatal("a catalogue for a shop that does not exist")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a channel without a shop never settled")
		}
	}
}

// TestWarmBuildsEveryChannelFromOneRead: Warm builds the channels in the
// background from one read of the catalogue and the shelves, each with its
// own shelves, and a request after it waits for no build.
func TestWarmBuildsEveryChannelFromOneRead(t *testing.T) {
	w, p, c := newCache(t, catalogcache.DefaultPageBytes)
	w.Shop("AGADIR", shops.KindBoutique)
	ctx := context.Background()
	// Taroudannt holds 3 jars of SAF-2G; Agadir, which prices it too, none.
	coop := w.Cooperative("TIFAWT", "saffron", 1000)
	coop.Product("SAF-3G", "saffron_dried", 1, map[string]int64{"TAROUDANNT": 9000, "AGADIR": 9500})
	dried, err := w.Trace.Transform(ctx, coop.Manager, coop.Code, traceability.NewTransformation{Process: "drying",
		Inputs:  []traceability.LotInput{{Lot: coop.Lot("2025-10-28", 50).Code, Quantity: traceability.Quantity{Amount: 50, Unit: "g"}}},
		Outputs: []traceability.LotOutput{{ProductKind: "saffron_dried", Quantity: traceability.Quantity{Amount: 10, Unit: "g"}}}})
	if err != nil {
		t.Fatal(err)
	}
	packed := coop.Pack(dried[0].Code, "SAF-3G", 10, w.Clock.Now().AddDate(1, 0, 0).Format(time.DateOnly))
	if _, err := w.Stock.Receive(ctx, w.Admin, "TAROUDANNT", shops.ReceiptRequest{Lot: packed.Code, Units: 3}); err != nil {
		t.Fatal(err)
	}
	p.builds.Store(0)
	c.Warm(ctx, []string{"TAROUDANNT", "AGADIR", "TAROUDANNT", "NOWHERE"})
	for _, code := range []string{"TAROUDANNT", "AGADIR"} {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
			if _, ok := c.Ready(ctx, code); ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never warmed", code)
			}
		}
	}
	if n := p.builds.Load(); n != 1 {
		t.Errorf("%d reads of the catalogue warming two channels (one named twice), want 1", n)
	}
	for shop, want := range map[string]int64{"TAROUDANNT": 3, "AGADIR": 0} {
		ch, err := c.Channel(ctx, shop)
		if err != nil {
			t.Fatal(err)
		}
		it, ok := ch.Item("SAF-3G")
		if !ok || it.AvailableUnits != want || ch.Shop().Code != shop {
			t.Errorf("%s warmed with %+v (%v) in shop %s, want %d units", shop, it, ok, ch.Shop().Code, want)
		}
	}
	if n := p.builds.Load(); n != 1 {
		t.Errorf("a request after warming built again (%d reads)", n)
	}
	if _, ok := c.Ready(ctx, "NOWHERE"); !ok {
		t.Error("a channel without a shop, warmed, is not settled")
	}
}

// TestChannelsDueAreRefreshedTogether: past their refresh-ahead point, the
// channels built are refreshed from one read of the shelves (which the
// embedded store reads whole for any one shop), not one read each.
func TestChannelsDueAreRefreshedTogether(t *testing.T) {
	w, p, c := newCache(t, catalogcache.DefaultPageBytes)
	w.Shop("AGADIR", shops.KindBoutique)
	ctx := context.Background()
	old := map[string]*catalogcache.Channel{}
	for _, code := range []string{"TAROUDANNT", "AGADIR"} {
		ch, err := c.Channel(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		old[code] = ch
	}
	p.builds.Store(0)
	w.Clock.Advance(ttl * 9 / 10)
	if ch, _ := c.Channel(ctx, "TAROUDANNT"); ch != old["TAROUDANNT"] {
		t.Fatal("the old catalogue was not served during the refresh")
	}
	for _, code := range []string{"TAROUDANNT", "AGADIR"} {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
			ch, ok := c.Ready(ctx, code)
			if ok && ch != old[code] {
				if ch.Shop().Code != code {
					t.Fatalf("%s refreshed as %s", code, ch.Shop().Code)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s was not refreshed", code)
			}
		}
	}
	if n := p.builds.Load(); n != 1 {
		t.Errorf("%d reads to refresh two channels due together, want 1", n)
	}
}
