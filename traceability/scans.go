package traceability

import (
	"context"
	"sync"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
)

// Scan thresholds. A buyer scans their jar a few times; a serial scanned
// more than maxUnitScans times, or a lot scanned far more often than it has
// units, suggests labels copied onto other jars.
const (
	maxUnitScans       = 10
	lotScansPerUnit    = 3
	lotScansAllowance  = 20
	scanFlushInterval  = 5 * time.Second
	maxPendingScanKeys = 100_000
)

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
}

// NewScanBuffer returns a buffer writing to the service's store.
func (s *Service) NewScanBuffer() *ScanBuffer {
	return &ScanBuffer{store: s.store, now: s.now, pending: map[string]*pendingScan{}, known: map[string]int64{}}
}

// Add counts one scan of a lot (or one of its units) and returns the code's
// count including it. The first scan of a code this process has not seen
// reads its stored count once.
func (b *ScanBuffer) Add(ctx context.Context, l Lot, serial string) (int64, error) {
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
