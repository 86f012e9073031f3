package traceability

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/mongodb"
)

// scanWorld is a store and a service on it, reopenable on the same data
// directory (a restart of the process).
type scanWorld struct {
	t   testing.TB
	dir string
	db  *mongodb.Store
	svc *Service
	now time.Time
}

func newScanWorld(t testing.TB) *scanWorld {
	w := &scanWorld{t: t, dir: t.TempDir(), now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	w.open()
	t.Cleanup(func() { w.db.Close() })
	return w
}

func (w *scanWorld) open() {
	w.t.Helper()
	db, err := mongodb.Open(context.Background(), mongodb.Config{DataDir: w.dir})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := db.EnsureIndexes(context.Background(), Indexes()); err != nil {
		w.t.Fatal(err)
	}
	w.db = db
	w.svc = NewService(NewStore(db), func() time.Time { return w.now })
}

// restart closes the store, as a dead process leaves it, and opens it
// again: a new process, whose buffers know nothing of the last one's.
func (w *scanWorld) restart() {
	w.db.Close()
	w.open()
}

func (w *scanWorld) stored(key string) ScanStat {
	w.t.Helper()
	st, err := w.svc.store.scanStat(context.Background(), key)
	if err != nil {
		w.t.Fatal(err)
	}
	return st
}

func (w *scanWorld) batches() int {
	w.t.Helper()
	ids, err := w.svc.store.scanBatchIDs(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	return len(ids)
}

func scanLot(i int) Lot {
	return Lot{Code: fmt.Sprintf("SAF-%05d", i), Cooperative: "SIROUA", Source: SourcePacking, Quantity: 1000}
}

// scanner i at its own address.
func phone(i int) Scanner {
	return Scanner{ID: fmt.Sprintf("phone-%d", i), Address: fmt.Sprintf("198.51.%d.%d", i/256, i%256)}
}

func mustAdd(t testing.TB, b *ScanBuffer, l Lot, serial string, who Scanner) int64 {
	t.Helper()
	n, err := b.Add(context.Background(), l, serial, who)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestScanCountsExactAcrossFlushes: many scanners scan many codes from
// several goroutines while flushes run; every count read back (from Add,
// and stored) is the number of distinct scanners, and each flush wrote one
// batch that its fold removed.
func TestScanCountsExactAcrossFlushes(t *testing.T) {
	t.Run("counts read from the store", func(t *testing.T) { scanCountsExactAcrossFlushes(t, false) })
	t.Run("warmed while scans and flushes run", func(t *testing.T) { scanCountsExactAcrossFlushes(t, true) })
}

func scanCountsExactAcrossFlushes(t *testing.T, warm bool) {
	w := newScanWorld(t)
	b := w.svc.NewScanBuffer()
	ctx := context.Background()
	if warm { // counts stored before the warm, by an earlier process
		for i := range 10 {
			mustAdd(t, b, scanLot(i), "", phone(1000+i))
		}
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		w.restart()
		b = w.svc.NewScanBuffer()
	}
	const codes, rounds = 100, 4 // 100 codes: four fold commands a flush
	want := map[string]int64{}
	var wg sync.WaitGroup
	var errs sync.Map
	if warm {
		for i := range 10 {
			want[scanLot(i).Code]++
		}
	}
	warmed := make(chan error, 1)
	for r := range rounds {
		if warm && r == 1 {
			go func() { warmed <- b.Warm(ctx) }()
		}
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := g; i < codes; i += 4 {
					if _, err := b.Add(ctx, scanLot(i), "", phone(r*codes+i)); err != nil {
						errs.Store(i, err)
					}
				}
			}()
		}
		for i := range codes {
			want[scanLot(i).Code]++
		}
		if r%2 == 1 {
			wg.Wait()
		}
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	errs.Range(func(k, v any) bool { t.Fatalf("add %v: %v", k, v); return false })
	if warm {
		if err := <-warmed; err != nil {
			t.Fatal(err)
		}
		if !b.sole {
			t.Fatal("the warm did not land")
		}
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for code, n := range want {
		if st := w.stored(code); st.Count != n || st.Coop != "SIROUA" || st.FirstScan.IsZero() {
			t.Fatalf("%s stored %+v, want count %d", code, st, n)
		}
		// A scan already counted reads the count back unchanged.
		var i int
		fmt.Sscanf(code, "SAF-%d", &i)
		if got := mustAdd(t, b, scanLot(i), "", phone(i)); got != n {
			t.Fatalf("%s reads %d, want %d", code, got, n)
		}
	}
	if n := w.batches(); n != 0 {
		t.Fatalf("%d batches left after the folds", n)
	}
}

// TestWarmedScanBufferReadsNoCount: after Warm, a scan reads no count
// from the store — neither the first of a code nor the first after a fold
// — and every count it returns, and every count stored, is exact: codes
// counted by an earlier process, and codes never scanned.
func TestWarmedScanBufferReadsNoCount(t *testing.T) {
	w := newScanWorld(t)
	ctx := context.Background()
	b := w.svc.NewScanBuffer()
	for i := range 20 { // codes 0-19 stored with 2 scanners each
		mustAdd(t, b, scanLot(i), "", phone(i))
		mustAdd(t, b, scanLot(i), "", phone(100+i))
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	w.restart()
	b = w.svc.NewScanBuffer()
	if err := b.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	scan := func(code, who int) int64 {
		t.Helper()
		before := w.db.Commands()
		n := mustAdd(t, b, scanLot(code), "", phone(who))
		if sent := w.db.Commands() - before; sent != 0 {
			t.Fatalf("a scan of code %d sent %d commands to the store", code, sent)
		}
		return n
	}
	for i := range 40 { // 0-19 stored, 20-39 never scanned
		want := int64(1)
		if i < 20 {
			want = 3
		}
		if got := scan(i, 200+i); got != want {
			t.Fatalf("code %d reads %d, want %d", i, got, want)
		}
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 40 { // the first scans after the fold
		want := int64(2)
		if i < 20 {
			want = 4
		}
		if got := scan(i, 300+i); got != want {
			t.Fatalf("code %d reads %d after the fold, want %d", i, got, want)
		}
		if st := w.stored(scanLot(i).Code); st.Count != want-1 {
			t.Fatalf("code %d: stored %d, want %d", i, st.Count, want-1)
		}
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := w.stored(scanLot(39).Code); st.Count != 2 {
		t.Fatalf("stored %d, want 2", st.Count)
	}
}

// TestScanFlushIsOneBatchedWrite: whatever the number of codes, a flush
// sends one insert, its fold update commands of mongodb.UpdateEachLimit statements
// and one delete — not a command per code.
func TestScanFlushIsOneBatchedWrite(t *testing.T) {
	w := newScanWorld(t)
	b := w.svc.NewScanBuffer()
	ctx := context.Background()
	if err := b.Flush(ctx); err != nil { // the start's look for leftovers
		t.Fatal(err)
	}
	for _, codes := range []int{10, 100} {
		for i := range codes {
			mustAdd(t, b, scanLot(i), fmt.Sprintf("U%d", codes), phone(i))
		}
		before := w.db.Commands()
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		sent := w.db.Commands() - before
		folds := (codes + mongodb.UpdateEachLimit - 1) / mongodb.UpdateEachLimit
		if want := int64(1 + folds + 1); sent != want {
			t.Fatalf("a flush of %d codes sent %d commands, want %d (insert, %d folds, delete)", codes, sent, want, folds)
		}
	}
}

// TestIdleScanBufferCallsNoStore: with nothing scanned, flushes and the
// running ticker send nothing to the store.
func TestIdleScanBufferCallsNoStore(t *testing.T) {
	w := newScanWorld(t)
	b := w.svc.NewScanBuffer()
	b.interval = time.Millisecond
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.Run(ctx, func(err error) { t.Error(err) }) }()
	for !b.recovered.Load() {
		time.Sleep(time.Millisecond)
	}
	before := w.db.Commands()
	for range 50 {
		if err := b.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ticks := b.ticks.Load()
	for b.ticks.Load() < ticks+20 { // twenty idle ticks of Run
		time.Sleep(time.Millisecond)
	}
	if sent := w.db.Commands() - before; sent != 0 {
		t.Fatalf("an idle buffer sent %d commands to the store", sent)
	}
	// A scan makes the next tick write.
	mustAdd(t, b, scanLot(1), "", phone(1))
	for w.stored(scanLot(1).Code).Count != 1 {
		time.Sleep(time.Millisecond)
	}
	stop()
	<-done
}

// TestScanBatchSurvivesACrashBeforeItsFold: the process dies after a
// batch is written and before (or while) it is folded; the next process
// folds it once, at its start or first read, and no count is lost or
// doubled.
func TestScanBatchSurvivesACrashBeforeItsFold(t *testing.T) {
	for _, tc := range []struct {
		name   string
		foldOK int // fold commands that land before the "crash"
	}{
		{"before the fold", 0},
		{"after one command", 1},
		{"after the fold, before the delete", 3}, // 80 codes: 32, 32, 16
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newScanWorld(t)
			ctx := context.Background()
			b := w.svc.NewScanBuffer()
			const codes = 80
			for i := range codes {
				mustAdd(t, b, scanLot(i), "", phone(i))
			}
			if err := b.Flush(ctx); err != nil { // folded: one count each
				t.Fatal(err)
			}
			for i := range codes {
				mustAdd(t, b, scanLot(i), "", phone(codes+i))
			}
			crash := errors.New("the process dies here")
			folds := 0
			b.foldFault = func(deleting bool) error {
				if deleting || folds == tc.foldOK {
					return crash
				}
				folds++
				return nil
			}
			if err := b.Flush(ctx); !errors.Is(err, crash) {
				t.Fatalf("flush: %v", err)
			}
			if n := w.batches(); n != 1 {
				t.Fatalf("%d batches stored, want the one not folded", n)
			}
			w.restart() // b and its memory are gone
			next := w.svc.NewScanBuffer()
			// The first read folds the leftover batch.
			// (The new process has no memory of phone 0: its scan counts.)
			if got := mustAdd(t, next, scanLot(0), "", phone(0)); got != 3 {
				t.Fatalf("first code reads %d after the restart, want 3", got)
			}
			for i := range codes {
				if st := w.stored(scanLot(i).Code); st.Count != 2 {
					t.Fatalf("code %d: count %d after the restart, want 2", i, st.Count)
				}
			}
			if n := w.batches(); n != 0 {
				t.Fatalf("%d batches left", n)
			}
			// Run's start finds nothing more to fold.
			if err := next.recover(ctx); err != nil {
				t.Fatal(err)
			}
			if st := w.stored(scanLot(codes - 1).Code); st.Count != 2 {
				t.Fatalf("count %d after a second recovery", st.Count)
			}
		})
	}
}

// TestScanFoldThatFailsIsFinishedByTheNextFlush: a fold cut short by an
// error (the process lives on) is finished by the next flush, with the
// scans counted meanwhile; Add's counts never lose or double the batch.
func TestScanFoldThatFailsIsFinishedByTheNextFlush(t *testing.T) {
	t.Run("counts read from the store", func(t *testing.T) { scanFoldThatFails(t, false) })
	t.Run("warmed", func(t *testing.T) { scanFoldThatFails(t, true) })
}

func scanFoldThatFails(t *testing.T, warm bool) {
	w := newScanWorld(t)
	ctx := context.Background()
	b := w.svc.NewScanBuffer()
	if warm {
		if err := b.Warm(ctx); err != nil {
			t.Fatal(err)
		}
	}
	const codes = 80
	for i := range codes {
		mustAdd(t, b, scanLot(i), "", phone(i))
	}
	fail := true
	b.foldFault = func(bool) error {
		if fail {
			fail = false
			return nil // the first chunk lands, the second fails
		}
		if b.foldFault != nil {
			b.foldFault = nil
			return errors.New("disk full")
		}
		return nil
	}
	if err := b.Flush(ctx); err == nil {
		t.Fatal("flush did not fail")
	}
	for i := range codes { // read while the batch is half folded
		if got := mustAdd(t, b, scanLot(i), "", phone(i)); got != 1 {
			t.Fatalf("code %d reads %d while half folded, want 1", i, got)
		}
		mustAdd(t, b, scanLot(i), "", phone(codes+i))
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range codes {
		if st := w.stored(scanLot(i).Code); st.Count != 2 {
			t.Fatalf("code %d: stored %d, want 2", i, st.Count)
		}
		if got := mustAdd(t, b, scanLot(i), "", phone(2*codes+i)); got != 3 {
			t.Fatalf("code %d reads %d after the retried fold, want 3", i, got)
		}
	}
	if warm && b.complete {
		t.Fatal("a retried fold left the buffer sure of every count")
	}
}

// TestFreshCountersAreInserted: a warmed buffer inserts the counters of
// codes that have none instead of upserting each (insertCounters). What it
// stores is what the upsert stores, flags included; a counter that
// appeared behind the buffer's back (another writer) is added to, flagged
// from its real count, and the buffer reads counts from the store again.
func TestFreshCountersAreInserted(t *testing.T) {
	ctx := context.Background()
	const codes = 70 // three fold commands
	key := func(i int) string {
		if i%2 == 1 {
			return ScanKey(scanLot(i).Code, "U1")
		}
		return scanLot(i).Code
	}
	scanAll := func(b *ScanBuffer) {
		for i := range codes {
			serial := ""
			if i%2 == 1 {
				serial = "U1"
			}
			scanners := 1
			if i == 5 {
				scanners = maxUnitScans + 1 // a unit's copied label
			}
			for s := range scanners {
				mustAdd(t, b, scanLot(i), serial, phone(1000*i+s))
			}
		}
	}
	upserted := newScanWorld(t) // counts read from the store: every fold an upsert
	b := upserted.svc.NewScanBuffer()
	scanAll(b)
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	inserted := newScanWorld(t)
	w := inserted.svc.NewScanBuffer()
	if err := w.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	scanAll(w)
	// Another writer counts code 3 (a unit, at its threshold) after the warm.
	earlier := inserted.now.Add(-time.Hour)
	other := ScanStat{Key: key(3), Lot: scanLot(3).Code, Serial: "U1", Coop: "SIROUA", Count: maxUnitScans, FirstScan: earlier, LastScan: earlier}
	if _, err := inserted.db.Collection("scans").InsertOne(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range codes {
		want, got := upserted.stored(key(i)), inserted.stored(key(i))
		want.Batch, got.Batch = "", ""
		if i == 3 {
			want.Count += other.Count
			want.FirstScan = earlier
			want.Suspicious = true // past it with this buffer's scan
		}
		if got != want {
			t.Errorf("code %d stored %+v, want %+v", i, got, want)
		}
	}
	for _, world := range []*scanWorld{upserted, inserted} {
		alerts, err := world.svc.store.suspiciousScans(ctx, "SIROUA")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(alerts, func(a ScanStat) bool { return a.Key == key(5) }) {
			t.Errorf("alerts %+v, want code 5 among them", alerts)
		}
	}
	if w.sole || w.complete {
		t.Error("a counter the buffer did not know of left it the judge of the counts")
	}
	if got := mustAdd(t, w, scanLot(3), "U1", phone(99_999)); got != other.Count+2 {
		t.Errorf("code 3 reads %d after the surprise, want %d", got, other.Count+2)
	}
}

// BenchmarkColdScanFold: the fold of a flush of 1,000 codes never scanned
// before, by a buffer that reads counts (an upsert per code) and by a
// warmed one (the counters inserted).
func BenchmarkColdScanFold(b *testing.B) {
	for _, warm := range []bool{false, true} {
		b.Run(fmt.Sprintf("warm=%v", warm), func(b *testing.B) {
			w := newScanWorld(b)
			buf := w.svc.NewScanBuffer()
			ctx := context.Background()
			if warm {
				if err := buf.Warm(ctx); err != nil {
					b.Fatal(err)
				}
			}
			const codes = 1000
			for n := 0; b.Loop(); n++ {
				b.StopTimer()
				for i := range codes {
					mustAdd(b, buf, scanLot(n*codes+i), "", phone(i))
				}
				b.StartTimer()
				if err := buf.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*codes), "µs/code")
		})
	}
}

// TestScanFlagsFollowTheFold: the stored suspicious flag (the scan-alerts
// list) is set by the fold that takes a unit past its threshold.
func TestScanFlagsFollowTheFold(t *testing.T) {
	w := newScanWorld(t)
	ctx := context.Background()
	b := w.svc.NewScanBuffer()
	l := scanLot(7)
	for i := range maxUnitScans {
		mustAdd(t, b, l, "U3", phone(i))
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := w.stored(ScanKey(l.Code, "U3")); st.Count != maxUnitScans || st.Suspicious {
		t.Fatalf("at the threshold: %+v", st)
	}
	if got := mustAdd(t, b, l, "U3", phone(99)); got != maxUnitScans+1 || !Suspicious(l, "U3", got) {
		t.Fatalf("past the threshold reads %d", got)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	alerts, err := w.svc.store.suspiciousScans(ctx, "SIROUA")
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].Serial != "U3" || alerts[0].Count != maxUnitScans+1 {
		t.Fatalf("alerts %+v", alerts)
	}
}
