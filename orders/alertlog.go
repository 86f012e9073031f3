package orders

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// AlertUnknownAPIVersion is a verified webhook refused because it was
// rendered in a Stripe API version this code does not read
// (ErrUnknownAPIVersion); Stripe delivers it again until it is accepted.
const AlertUnknownAPIVersion = "unknown_api_version"

// AlertOther counts an alert of a kind AlertKinds does not name (a kind
// added without its place in the list): the counters' labels stay a fixed,
// known set.
const AlertOther = "other"

// AlertKinds are the kinds an AlertLog counts, the only values of the
// alert metric's label.
var AlertKinds = []string{AlertAmountMismatch, AlertUnknownAPIVersion, AlertOther}

// RecordedAlert is an alert and when it was raised.
type RecordedAlert struct {
	Alert
	At time.Time
}

// AlertLog keeps the last alerts in memory, for the admin page, and counts
// every alert by kind since the process started, for the metrics.
//
// Decision: memory, bounded, not a collection. An alert is already a log
// line (cmd/terroir logs each one, the lasting record) and a counter
// (what monitoring alerts on); the page only needs the recent ones to say
// what happened. A collection would be one more thing that grows from
// outside traffic (a stream of refused webhooks), and a restart forgetting
// the page's list loses nothing the log does not keep. A Detail longer than
// alertDetailMax is cut.
//
// It is safe for concurrent use.
type AlertLog struct {
	mu     sync.Mutex
	size   int
	recent []RecordedAlert // oldest first, at most size
	counts map[string]int64
	now    func() time.Time
}

const alertDetailMax = 300

// NewAlertLog keeps the last size alerts (at least 1).
func NewAlertLog(size int, now func() time.Time) *AlertLog {
	if now == nil {
		now = time.Now
	}
	return &AlertLog{size: max(size, 1), counts: map[string]int64{}, now: now}
}

// Record keeps a (its Config.OnAlert shape).
func (l *AlertLog) Record(_ context.Context, a Alert) {
	if r := []rune(a.Detail); len(r) > alertDetailMax {
		a.Detail = string(r[:alertDetailMax]) + "…"
	}
	kind := a.Kind
	if !slices.Contains(AlertKinds, kind) {
		kind = AlertOther
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts[kind]++
	if len(l.recent) == l.size {
		l.recent = slices.Delete(l.recent, 0, 1)
	}
	l.recent = append(l.recent, RecordedAlert{Alert: a, At: l.now().UTC()})
}

// Recent returns the alerts kept, newest first.
func (l *AlertLog) Recent() []RecordedAlert {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.recent)
	slices.Reverse(out)
	return out
}

// Count is how many alerts of kind (one of AlertKinds) were recorded since
// start.
func (l *AlertLog) Count(kind string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[kind]
}

// WebhookRefused is told of a webhook that could not be parsed. A verified
// event in an unknown API version raises an alert (the operator must pin
// or accept the version); a bad signature does not: anyone can send one,
// and an alert must mean something to look at.
func (s *Service) WebhookRefused(ctx context.Context, ev Event, err error) {
	if errors.Is(err, ErrUnknownAPIVersion) {
		s.alert(ctx, Alert{Kind: AlertUnknownAPIVersion, EventID: ev.ID, Detail: err.Error()})
	}
}
