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
// once (one _id lookup); batches left unfolded by a dead process are
// folded before the first such read.
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
		gen := b.gen
		b.mu.Unlock()
		st, err := b.store.scanStat(ctx, key)
		if err != nil {
			return 0, err
		}
		b.mu.Lock()
		if b.gen == gen { // no fold landed meanwhile: the read is current
			b.known[key] = st.Count
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
	return b.store.foldScanBatch(ctx, batch, again, func(done []scanDelta) {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, d := range done {
			if own {
				b.unflight(d.Key, d.Delta)
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
