package traceability

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
)

// Scan thresholds. A buyer scans their jar a few times; a serial scanned
// by more than maxUnitScans distinct scanners, or a lot by far more
// scanners than it has units, suggests labels copied onto other jars.
//
// What is counted is distinct scanners, not requests (issue 14: 200 scans
// in 67 ms put the counterfeit warning on a genuine jar): a scanner (an
// opaque identity the web layer derives from the client's address and
// browser) counts once per code per scanWindow; one address counts at most
// maxScannersPerAddress scanners of a code and maxCountedPerAddress scans
// over all codes per scanWindow — the page still answers, the count does
// not move. The marks are this process's memory (one process owns the
// embedded store; behind a load balancer each instance keeps its own). These are the only thresholds:
// Suspicious applies them, for the stored flag and for the page's warning.
const (
	maxUnitScans          = 10
	lotScansPerUnit       = 3
	lotScansAllowance     = 20
	scanWindow            = 24 * time.Hour
	maxCountedPerAddress  = 50
	maxScannersPerAddress = 2       // per code: two phones in one household
	maxScannerMarks       = 200_000 // bounds the memory of who scanned what in a window
	scanFlushInterval     = 5 * time.Second
	maxPendingScanKeys    = 100_000
	// A flush's batch is written as documents of at most scanBatchCodes
	// codes (well under the 16 MB document limit), all in one insert, and
	// folded mongodb.UpdateEachLimit codes per update command, so the write
	// lock is never held for long.
	scanBatchCodes = 10_000
	// Batches another instance left unfolded are looked for at most this
	// often, and folded when older than scanForeignAge.
	scanForeignEvery = time.Minute
	scanForeignAge   = time.Minute
	// maxKnownScanKeys bounds the stored counts a buffer holds; past it
	// they are dropped and read again from the store as needed.
	maxKnownScanKeys = 250_000
)

// Scanner is who scans, as the web layer knows them: ID tells scanners
// apart (a hash of the address and the browser), Address is the client's
// address (limited as a whole). Both are opaque here and never stored.
type Scanner struct {
	ID, Address string
}

// ScanStat is what is known of one trace code's scans.
type ScanStat struct {
	Key        string    `json:"key" bson:"_id"` // lot, or lot/serial
	Lot        string    `json:"lot" bson:"lot"`
	Serial     string    `json:"serial,omitempty" bson:"serial,omitempty"`
	Coop       string    `json:"cooperative" bson:"coop"`
	Count      int64     `json:"count" bson:"count"`
	FirstScan  time.Time `json:"first_scan" bson:"first_scan"`
	LastScan   time.Time `json:"last_scan" bson:"last_scan"`
	Suspicious bool      `json:"suspicious" bson:"suspicious"`
	// Batch is the last flush batch folded into the count (scan_batches.go):
	// folding it again changes nothing.
	Batch string `json:"-" bson:"batch,omitempty"`
}

// Suspicious reports whether a code's count of scanners suggests a copied
// label: the one place the thresholds are applied.
func Suspicious(l Lot, serial string, count int64) bool { return suspicious(l, serial, count) }

// suspicious applies the thresholds to a count.
func suspicious(l Lot, serial string, count int64) bool {
	if serial != "" {
		return count > maxUnitScans
	}
	return l.Source == SourcePacking && count > l.Quantity*lotScansPerUnit+lotScansAllowance
}

// ScanKey names the counter of a code.
func ScanKey(lot, serial string) string {
	if serial == "" {
		return lot
	}
	return lot + "/" + serial
}

type pendingScan struct {
	stat       ScanStat
	units      int64 // a packed lot's units (0: not a packed lot)
	delta      int64
	suspicious bool // the count Add last returned is over the thresholds
	// fresh, set when a flush takes it: the buffer holds every stored
	// count (complete) and this code has none, nor any in flight, so its
	// fold may insert the counter instead of upserting it.
	fresh bool
}

// ScanBuffer counts scans in memory and writes them in batches, so a QR
// scan costs no database write. Each flush (every scanFlushInterval, and
// at shutdown) writes what was counted since the last as one batch — one
// insert and one fsync whatever the number of codes (scan_batches.go) —
// then folds the batch into the codes' counters with a few unsynced
// update commands and deletes it; a batch whose fold was cut short (a
// crash, an error) is folded again, exactly once per code, at the next
// flush, start or first read. A flush with nothing to write sends nothing
// to the store. Counts read back are the stored count plus what is
// written but not folded and what is pending here. It is safe for
// concurrent use.
type ScanBuffer struct {
	store    *Store
	now      func() time.Time
	interval time.Duration // between flushes: scanFlushInterval
	ticks    atomic.Int64  // Run's ticks, for the tests
	// foldFault, for the tests, stops a fold before a command (foldScanBatch).
	foldFault func(deleting bool) error

	// flushMu: one flush (or recovery) at a time; held before mu.
	flushMu   sync.Mutex
	unfolded  []*scanBatch // written by this process, not yet folded, oldest first
	recovered atomic.Bool  // leftover batches found at start have been folded
	foreignAt time.Time    // when other instances' leftovers were last looked for

	mu       sync.Mutex
	pending  map[string]*pendingScan
	inflight map[string]int64 // written in a batch, not yet folded into the code's counter
	known    map[string]int64 // stored counts read by this process, since the code's last fold
	gen      uint64           // bumped by every fold: a stored count read before it may be stale
	// sole: this buffer is the only writer of the stored counts (Warm),
	// so a fold of its own batch adds to the count it knows instead of
	// dropping it; complete: known holds every stored count, so a code
	// it lacks has none. Both set by Warm; complete is dropped when a
	// fold leaves a count uncertain or known outgrows maxKnownScanKeys.
	sole, complete bool
	// The current window's marks: which scanner was counted for which
	// code, and how many scans each address had counted.
	window    time.Time
	marks     map[string]struct{} // code key + "\x00" + scanner ID
	byAddress map[string]int
}

// NewScanBuffer returns a buffer writing to the service's store.
func (s *Service) NewScanBuffer() *ScanBuffer {
	return &ScanBuffer{store: s.store, now: s.now, interval: scanFlushInterval, pending: map[string]*pendingScan{}, inflight: map[string]int64{},
		known: map[string]int64{}, marks: map[string]struct{}{}, byAddress: map[string]int{}}
}

// Add counts one scan of a lot (or one of its units) by who, and returns
// the code's count of scanners. The scan counts only if who has not been
// counted for this code in the current window and who's address has not
// used up its counted scans; otherwise the count is returned unchanged.
// The first scan of a code since its last fold reads its stored count
// once (one _id lookup), unless Warm made the buffer the judge of the
// counts; batches left unfolded by a dead process are folded before the
// first such read.
func (b *ScanBuffer) Add(ctx context.Context, l Lot, serial string, who Scanner) (int64, error) {
	key := ScanKey(l.Code, serial)
	if !b.recovered.Load() {
		if err := b.recover(ctx); err != nil {
			return 0, err
		}
	}
	now := b.now().UTC()
	b.mu.Lock()
	for {
		if _, ok := b.known[key]; ok {
			break
		}
		if b.complete { // Warm read every stored count: this code has none
			b.know(key, 0)
			break
		}
		gen := b.gen
		b.mu.Unlock()
		st, err := b.store.scanStat(ctx, key)
		if err != nil {
			return 0, err
		}
		b.mu.Lock()
		if b.gen == gen { // no fold landed meanwhile: the read is current
			b.know(key, st.Count)
			break
		}
	}
	count := func() int64 {
		c := b.known[key] + b.inflight[key]
		if p := b.pending[key]; p != nil {
			c += p.delta
		}
		return c
	}
	defer b.mu.Unlock()
	if !b.countable(now, key, who) {
		return count(), nil
	}
	p := b.pending[key]
	if p == nil {
		if len(b.pending) >= maxPendingScanKeys {
			return count(), nil // a flood of distinct codes: count what fits, never grow unbounded
		}
		p = &pendingScan{stat: ScanStat{Key: key, Lot: l.Code, Serial: serial, Coop: l.Cooperative, FirstScan: now}, units: l.Quantity}
		if l.Source != SourcePacking {
			p.units = 0
		}
		b.pending[key] = p
	}
	p.delta++
	p.stat.LastScan = now
	n := count()
	p.suspicious = suspicious(l, serial, n)
	return n, nil
}

// know records a code's stored count; b.mu is held. Past
// maxKnownScanKeys codes the buffer forgets them all (and no longer holds
// every count), so a flood of distinct codes cannot grow it without limit.
func (b *ScanBuffer) know(key string, n int64) {
	if _, ok := b.known[key]; !ok && len(b.known) >= maxKnownScanKeys {
		b.known, b.complete = map[string]int64{}, false
	}
	b.known[key] = n
}

// Warm reads every stored count in one pass and makes the buffer the judge
// of the counts: a code it holds no count of has none stored, and the fold
// of one of its own batches adds the batch to the counts it holds instead
// of dropping them. So no scan reads a count from the store — without it
// the first scan of every code, and its first after each fold, read one (in
// the load tool's cold mix, 1.1 of a cold scan's 4.4 lookups).
//
// Only for a buffer that is the only writer of the counts: on the embedded
// store, which one process opens, terroir serve warms its one buffer.
// Behind a load balancer other instances fold too, and counts must be read.
// A fold that leaves a count uncertain (one retried after an error, or a
// batch another process left) makes the buffer read counts again. Warm
// does nothing while a batch of this buffer waits to be folded.
func (b *ScanBuffer) Warm(ctx context.Context) error {
	if !b.recovered.Load() {
		if err := b.recover(ctx); err != nil {
			return err
		}
	}
	b.flushMu.Lock() // no fold while the counts are read
	defer b.flushMu.Unlock()
	if len(b.unfolded) > 0 {
		return nil // part of it may be in the store already: counts stay read
	}
	counts := map[string]int64{}
	err := b.store.everyScanCount(ctx, func(key string, n int64) bool {
		counts[key] = n
		return len(counts) < maxKnownScanKeys
	})
	if err != nil || len(counts) >= maxKnownScanKeys {
		return err // too many to hold: counts stay read from the store
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for key, n := range counts {
		b.known[key] = n // as current as any count read before: no fold since
	}
	b.sole, b.complete = true, true
	return nil
}

// countable decides, and records, whether who's scan of key counts; b.mu
// is held.
func (b *ScanBuffer) countable(now time.Time, key string, who Scanner) bool {
	if w := now.Truncate(scanWindow); !w.Equal(b.window) {
		b.window, b.marks, b.byAddress = w, map[string]struct{}{}, map[string]int{}
	}
	mark := key + "\x00" + who.ID
	if _, seen := b.marks[mark]; seen {
		return false
	}
	perCode := key + "\x00@" + who.Address
	if b.byAddress[who.Address] >= maxCountedPerAddress || b.byAddress[perCode] >= maxScannersPerAddress || len(b.marks) >= maxScannerMarks {
		return false
	}
	b.marks[mark] = struct{}{}
	b.byAddress[who.Address]++
	b.byAddress[perCode]++
	return true
}

// Flush writes the pending counts as one batch and folds it, after any
// batch an earlier flush could not fold. Scans that fail to write stay
// pending; a batch that fails to fold stays written and is folded by the
// next flush. With nothing pending and nothing to fold it does nothing.
func (b *ScanBuffer) Flush(ctx context.Context) error {
	if !b.recovered.Load() {
		if err := b.recover(ctx); err != nil {
			return err
		}
	}
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	var taken map[string]*pendingScan // nil when nothing is pending: b.pending stays Add's alone
	if len(b.pending) > 0 {
		taken, b.pending = b.pending, map[string]*pendingScan{}
		for key, p := range taken {
			p.fresh = b.complete && b.known[key] == 0 && b.inflight[key] == 0
			b.inflight[key] += p.delta
		}
	}
	b.mu.Unlock()
	if len(taken) == 0 && len(b.unfolded) == 0 {
		return nil // idle: not one call to the store
	}
	if len(taken) > 0 {
		batch := newScanBatch(b.now().UTC(), taken)
		if err := b.store.insertScanBatch(ctx, batch); err != nil {
			b.mu.Lock()
			for key, p := range taken { // back to pending, merged with new scans
				b.unflight(key, p.delta)
				if cur := b.pending[key]; cur != nil {
					cur.delta += p.delta
					cur.stat.FirstScan = p.stat.FirstScan
					cur.suspicious = cur.suspicious || p.suspicious
				} else {
					b.pending[key] = p
				}
			}
			b.mu.Unlock()
			return err
		}
		b.unfolded = append(b.unfolded, batch...)
	}
	for len(b.unfolded) > 0 {
		u := b.unfolded[0]
		if err := b.fold(ctx, u, u.tries > 0, true); err != nil {
			u.tries++
			return err
		}
		b.unfolded = b.unfolded[1:]
	}
	return b.foldForeign(ctx)
}

// fold folds one batch, chunk by chunk, telling Add after each chunk that
// those codes' stored counts moved; own batches (written by this buffer)
// also leave the codes' written-but-unfolded counts. again says that an
// earlier fold of it may have landed in part.
func (b *ScanBuffer) fold(ctx context.Context, batch *scanBatch, again, own bool) error {
	return b.store.foldScanBatch(ctx, batch, again, func(done []scanDelta, surprised bool) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if surprised { // a counter this buffer did not know of: it is not the only writer
			b.sole = false
		}
		exact := b.sole && own && !again // the stored count moved by exactly d.Delta
		if !exact {
			b.complete = false
		}
		for _, d := range done {
			if own {
				b.unflight(d.Key, d.Delta)
			}
			if n, ok := b.known[d.Key]; exact && (ok || b.complete) {
				b.know(d.Key, n+d.Delta) // absent from a complete buffer: none was stored
				continue
			}
			delete(b.known, d.Key) // read again at the next scan, with other instances' scans
		}
		b.gen++
	}, b.foldFault)
}

// unflight takes delta off a code's written-but-unfolded count; b.mu is held.
func (b *ScanBuffer) unflight(key string, delta int64) {
	if n := b.inflight[key] - delta; n > 0 {
		b.inflight[key] = n
	} else {
		delete(b.inflight, key)
	}
}

// recover folds the batches that the store holds when this buffer starts:
// left by a process that died between writing a batch and folding it
// (on the embedded store, the only process), or by another instance.
func (b *ScanBuffer) recover(ctx context.Context) error {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	if b.recovered.Load() {
		return nil
	}
	if err := b.foldLeftovers(ctx, time.Time{}); err != nil {
		return err
	}
	b.foreignAt = b.now()
	b.recovered.Store(true)
	return nil
}

// foldForeign folds, at most every scanForeignEvery, the batches another
// instance wrote more than scanForeignAge ago and did not fold (it died):
// their counts add up on every instance. b.flushMu is held.
func (b *ScanBuffer) foldForeign(ctx context.Context) error {
	now := b.now()
	if now.Sub(b.foreignAt) < scanForeignEvery {
		return nil
	}
	b.foreignAt = now
	return b.foldLeftovers(ctx, now.Add(-scanForeignAge))
}

// foldLeftovers folds every stored batch written before cutoff (all of
// them when cutoff is zero) that is not this process's own; b.flushMu is
// held.
func (b *ScanBuffer) foldLeftovers(ctx context.Context, cutoff time.Time) error {
	ids, err := b.store.scanBatchIDs(ctx)
	if err != nil {
		return err
	}
	mine := map[string]bool{}
	for _, u := range b.unfolded {
		mine[u.ID] = true
	}
	for _, id := range ids {
		if mine[id.ID] || (!cutoff.IsZero() && !id.At.Before(cutoff)) {
			continue
		}
		batch, found, err := b.store.scanBatch(ctx, id.ID)
		if err != nil {
			return err
		}
		if !found {
			continue // another instance folded it meanwhile
		}
		if err := b.fold(ctx, batch, true, false); err != nil {
			return err
		}
	}
	return nil
}

// Run flushes every few seconds until ctx ends, then flushes once more.
// A tick with nothing to flush costs a look at two maps, no store call.
func (b *ScanBuffer) Run(ctx context.Context, onError func(error)) {
	if err := b.recover(ctx); err != nil && onError != nil {
		onError(err)
	}
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := b.Flush(context.WithoutCancel(ctx)); err != nil && onError != nil {
				onError(err)
			}
			return
		case <-t.C:
			// A flush under way finishes even when ctx ends meanwhile.
			if err := b.Flush(context.WithoutCancel(ctx)); err != nil && onError != nil {
				onError(err)
			}
			b.ticks.Add(1)
		}
	}
}

// ScanAlerts lists a cooperative's codes scanned suspiciously often.
func (s *Service) ScanAlerts(ctx context.Context, actor access.Actor, coop string) ([]ScanStat, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ReadCoop(coop); err != nil {
		return nil, err
	}
	return s.store.suspiciousScans(ctx, coop)
}
