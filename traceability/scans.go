package traceability

import (
	"context"
	"sync"
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
	stat  ScanStat
	units int64
	delta int64
}

// ScanBuffer counts scans in memory and writes them in batches, so a QR
// scan costs no database write: Flush (every few seconds, and at shutdown)
// adds each code's new scans with one update. Counts read back are the
// stored count plus what is pending here. It is safe for concurrent use.
type ScanBuffer struct {
	store *Store
	now   func() time.Time

	mu      sync.Mutex
	pending map[string]*pendingScan
	known   map[string]int64 // stored counts seen by this process
	// The current window's marks: which scanner was counted for which
	// code, and how many scans each address had counted.
	window    time.Time
	marks     map[string]struct{} // code key + "\x00" + scanner ID
	byAddress map[string]int
}

// NewScanBuffer returns a buffer writing to the service's store.
func (s *Service) NewScanBuffer() *ScanBuffer {
	return &ScanBuffer{store: s.store, now: s.now, pending: map[string]*pendingScan{}, known: map[string]int64{},
		marks: map[string]struct{}{}, byAddress: map[string]int{}}
}

// Add counts one scan of a lot (or one of its units) by who, and returns
// the code's count of scanners. The scan counts only if who has not been
// counted for this code in the current window and who's address has not
// used up its counted scans; otherwise the count is returned unchanged.
// The first scan of a code this process has not seen reads its stored
// count once.
func (b *ScanBuffer) Add(ctx context.Context, l Lot, serial string, who Scanner) (int64, error) {
	key := ScanKey(l.Code, serial)
	b.mu.Lock()
	stored, ok := b.known[key]
	b.mu.Unlock()
	if !ok {
		st, err := b.store.scanStat(ctx, key)
		if err != nil {
			return 0, err
		}
		stored = st.Count
	}
	now := b.now().UTC()
	b.mu.Lock()
	defer b.mu.Unlock()
	if cur, ok := b.known[key]; ok {
		stored = cur // a flush may have landed meanwhile
	} else {
		b.known[key] = stored
	}
	if !b.countable(now, key, who) {
		if p := b.pending[key]; p != nil {
			return stored + p.delta, nil
		}
		return stored, nil
	}
	p := b.pending[key]
	if p == nil {
		if len(b.pending) >= maxPendingScanKeys {
			return stored, nil // a flood of distinct codes: count what fits, never grow unbounded
		}
		p = &pendingScan{stat: ScanStat{Key: key, Lot: l.Code, Serial: serial, Coop: l.Cooperative, FirstScan: now}, units: l.Quantity}
		if l.Source != SourcePacking {
			p.units = 0
		}
		b.pending[key] = p
	}
	p.delta++
	p.stat.LastScan = now
	return stored + p.delta, nil
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

// Flush writes the pending counts. Scans that fail to write stay pending.
func (b *ScanBuffer) Flush(ctx context.Context) error {
	b.mu.Lock()
	batch := b.pending
	b.pending = map[string]*pendingScan{}
	b.mu.Unlock()
	for key, p := range batch {
		count, err := b.store.addScans(ctx, p.stat, p.delta, p.units)
		b.mu.Lock()
		if err != nil {
			// Put them back for the next flush, merged with new scans.
			if cur := b.pending[key]; cur != nil {
				cur.delta += p.delta
			} else {
				b.pending[key] = p
			}
		} else {
			b.known[key] = count
		}
		b.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// Run flushes every few seconds until ctx ends, then flushes once more.
func (b *ScanBuffer) Run(ctx context.Context, onError func(error)) {
	t := time.NewTicker(scanFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := b.Flush(context.WithoutCancel(ctx)); err != nil && onError != nil {
				onError(err)
			}
			return
		case <-t.C:
			if err := b.Flush(ctx); err != nil && onError != nil {
				onError(err)
			}
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
