package orders

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/problem"
)

// ErrDuplicateEvent is an event already applied; the webhook answers 200.
var ErrDuplicateEvent = errors.New("orders: event already processed")

// errNotYet is an event that arrived before what it depends on (a refund
// before the payment): the webhook answers 409 and Stripe sends it again.
var errNotYet = problem.New(problem.Conflict, "the order this event refers to is not ready for it yet; Stripe will retry")

// HandleEvent applies a verified provider event once. The event's ID is
// stored in the same atomic step as the order's change, so replays and
// duplicates change nothing. Events may come in any order: a payment for
// an order that has already expired is refunded, never marked paid; an
// expiry after the payment is ignored.
//
// An order is paid only by money that has arrived and matches it: a
// completed checkout whose payment_status is "paid", or an
// async_payment_succeeded event (delayed methods such as SEPA debit
// complete the checkout "unpaid" and confirm days later), and only when the
// amount and currency charged equal the order's total. A completed but
// unpaid checkout keeps the order's reservation while the funds travel; an
// async_payment_failed event closes the order and gives its units back. A
// mismatched amount leaves the order unpaid and raises an alert.
func (s *Service) HandleEvent(ctx context.Context, ev Event) error {
	var refundAfter *Order
	var alert *Alert
	err := s.db.Atomically(ctx, func(ctx context.Context) error {
		alert = nil
		if seen, err := s.store.eventSeen(ctx, ev.ID); err != nil {
			return err
		} else if seen {
			return ErrDuplicateEvent
		}
		var err error
		switch ev.Type {
		case EventCheckoutCompleted:
			if ev.PaymentStatus == PaymentStatusPaid {
				refundAfter, alert, err = s.paid(ctx, ev)
			} else {
				err = s.awaitingFunds(ctx, ev)
			}
		case EventAsyncPaymentSucceeded:
			refundAfter, alert, err = s.paid(ctx, ev)
		case EventAsyncPaymentFailed:
			err = s.paymentFailed(ctx, ev)
		case EventCheckoutExpired:
			err = s.checkoutExpired(ctx, ev)
		case EventChargeRefunded:
			err = s.refunded(ctx, ev)
		default:
			// Not ours to handle; recorded so a replay is cheap.
		}
		if err != nil {
			return err
		}
		return s.store.insertEvent(ctx, ev)
	})
	if err != nil {
		return err
	}
	if alert != nil {
		s.alert(ctx, *alert)
	}
	if refundAfter != nil {
		return s.refundLatePayment(ctx, *refundAfter)
	}
	return nil
}

// Alert is something an operator must look at: money that does not match
// an order, a webhook that could not be applied. Orders reports alerts
// through Config.OnAlert (cmd/terroir logs them and counts them in a
// metric); they never change an order by themselves.
type Alert struct {
	Kind    string // AlertAmountMismatch …
	OrderID string
	EventID string
	Detail  string
}

// Alert kinds.
const (
	AlertAmountMismatch = "amount_mismatch"
)

func (s *Service) alert(ctx context.Context, a Alert) {
	if s.cfg.OnAlert != nil {
		s.cfg.OnAlert(ctx, a)
	}
}

func (s *Service) orderOf(ctx context.Context, ev Event) (Order, error) {
	id := ev.OrderID
	if id == "" && ev.PaymentIntent != "" {
		id, _ = s.store.orderByPaymentIntent(ctx, ev.PaymentIntent)
	}
	if id == "" {
		return Order{}, problem.New(problem.Invalid, "event %s names no order (client_reference_id or metadata.order_id)", ev.ID)
	}
	o, err := s.store.order(ctx, id)
	if err != nil {
		return Order{}, problem.New(problem.NotFound, "event %s names unknown order %s", ev.ID, id)
	}
	return o, nil
}

// AwaitFundsFor is how long an order whose checkout completed with a
// delayed payment method keeps its units: SEPA debits confirm within 14
// days, after which Stripe sends async_payment_failed if no money came.
const AwaitFundsFor = 15 * 24 * time.Hour

// paid handles money that has arrived. It returns the order when the money
// must go back (the order had expired), and an alert when the amount does
// not match the order (the order then stays as it was).
func (s *Service) paid(ctx context.Context, ev Event) (*Order, *Alert, error) {
	o, err := s.orderOf(ctx, ev)
	if err != nil {
		return nil, nil, err
	}
	if ev.AmountTotal != o.Total.Amount || ev.Currency != o.Total.Currency {
		return nil, &Alert{Kind: AlertAmountMismatch, OrderID: o.ID, EventID: ev.ID,
			Detail: fmt.Sprintf("charged %d %s for an order of %d %s; the order stays unpaid", ev.AmountTotal, ev.Currency, o.Total.Amount, o.Total.Currency)}, nil
	}
	before := o.Status
	now := s.now()
	emailID := id.New("eml")
	if o.Status == StatusPendingPayment {
		// Everything marking it paid writes beside its stock, in one
		// journal write (the stock's own is CommitReservation's).
		if err := s.store.preparePaid(ctx, o, ev, emailID); err != nil {
			return nil, nil, err
		}
	}
	if ev.PaymentIntent != "" {
		o.PaymentIntent = ev.PaymentIntent
		if err := s.store.linkPaymentIntent(ctx, ev.PaymentIntent, o.ID); err != nil {
			return nil, nil, err
		}
	}
	switch o.Status {
	case StatusPendingPayment:
		if err := s.stock.CommitReservation(ctx, o.Channel, o.Lines, o.ID, "stripe"); err != nil {
			return nil, nil, err
		}
		o.PaidAt = now.UTC()
		o.AwaitingFunds = false
		o.setStatus(StatusPaid, now, "payment "+ev.PaymentIntent)
		email := s.confirmationEmail(o, now)
		email.ID = emailID
		if err := s.store.insertOutbox(ctx, email); err != nil {
			return nil, nil, err
		}
		return nil, nil, s.store.saveOrder(ctx, o, before)
	case StatusExpired, StatusCancelled:
		o.RefundDue = true
		o.History = append(o.History, StatusChange{Status: o.Status, At: now.UTC(), Note: "paid after it was " + o.Status + "; refunding"})
		if err := s.store.saveOrder(ctx, o, before); err != nil {
			return nil, nil, err
		}
		return &o, nil, nil
	}
	return nil, nil, nil // already paid or further along: a second payment event changes nothing
}

// awaitingFunds handles a checkout completed with a delayed method: the
// customer has committed to pay, so the units stay reserved (and the
// sweeper leaves the order alone) until Stripe says whether the money came.
func (s *Service) awaitingFunds(ctx context.Context, ev Event) error {
	o, err := s.orderOf(ctx, ev)
	if err != nil {
		return err
	}
	if o.Status != StatusPendingPayment || o.AwaitingFunds {
		return nil
	}
	before := o.Status
	now := s.now().UTC()
	if ev.PaymentIntent != "" {
		o.PaymentIntent = ev.PaymentIntent
		if err := s.store.linkPaymentIntent(ctx, ev.PaymentIntent, o.ID); err != nil {
			return err
		}
	}
	o.AwaitingFunds = true
	if until := now.Add(AwaitFundsFor); until.After(o.ExpiresAt) {
		o.ExpiresAt = until
	}
	o.History = append(o.History, StatusChange{Status: o.Status, At: now, Note: "checkout completed; waiting for the funds of a delayed payment"})
	return s.store.saveOrder(ctx, o, before)
}

// paymentFailed closes an order whose delayed payment did not arrive and
// gives its units back.
func (s *Service) paymentFailed(ctx context.Context, ev Event) error {
	o, err := s.orderOf(ctx, ev)
	if err != nil {
		return err
	}
	if o.Status != StatusPendingPayment {
		return nil
	}
	before := o.Status
	if err := s.stock.Release(ctx, o.Channel, o.Lines); err != nil {
		return err
	}
	o.AwaitingFunds = false
	o.setStatus(StatusCancelled, s.now(), "the delayed payment failed")
	return s.store.saveOrder(ctx, o, before)
}

func (s *Service) checkoutExpired(ctx context.Context, ev Event) error {
	o, err := s.orderOf(ctx, ev)
	if err != nil {
		return err
	}
	if o.Status != StatusPendingPayment {
		return nil // paid meanwhile, or already expired by the sweeper
	}
	before := o.Status
	if err := s.stock.Release(ctx, o.Channel, o.Lines); err != nil {
		return err
	}
	o.setStatus(StatusExpired, s.now(), "payment page expired")
	return s.store.saveOrder(ctx, o, before)
}

func (s *Service) refunded(ctx context.Context, ev Event) error {
	o, err := s.orderOf(ctx, ev)
	if err != nil {
		if problem.CodeOf(err) == problem.NotFound || problem.CodeOf(err) == problem.Invalid {
			return errNotYet
		}
		return err
	}
	switch o.Status {
	case StatusRefunded:
		return nil
	case StatusPendingPayment:
		return errNotYet // the payment's own event has not arrived yet
	}
	before := o.Status
	o.setStatus(StatusRefunded, s.now(), "refunded at Stripe")
	return s.store.saveOrder(ctx, o, before)
}

// refundLatePayment gives back a payment that came after the order expired.
func (s *Service) refundLatePayment(ctx context.Context, o Order) error {
	if o.PaymentIntent == "" {
		return nil
	}
	id, err := s.payments.Refund(ctx, o.PaymentIntent, o.ID)
	if err != nil {
		return err
	}
	return s.transition(ctx, o.ID, func(ctx context.Context, o *Order) error {
		o.RefundDue, o.RefundID = false, id
		o.setStatus(StatusRefunded, s.now(), "late payment refunded")
		return nil
	})
}

// ExpireDue expires the unpaid orders whose reservation has run out and
// releases their units. Every instance may run it: each order is re-read
// and changed in one atomic step, so it expires once.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	due, err := s.store.pendingBefore(ctx, s.now().UTC())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range due {
		var session string
		err := s.transition(ctx, id, func(ctx context.Context, o *Order) error {
			if o.Status != StatusPendingPayment || o.ExpiresAt.After(s.now()) {
				return errSkip
			}
			session = o.SessionID
			o.setStatus(StatusExpired, s.now(), "reservation expired")
			return s.stock.Release(ctx, o.Channel, o.Lines)
		})
		if errors.Is(err, errSkip) {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
		if session != "" {
			_ = s.payments.ExpireCheckout(ctx, session) // best effort: the late-payment refund covers a miss
		}
	}
	// Late payments whose refund failed after the webhook are retried here.
	late, err := s.store.refundsDue(ctx)
	if err != nil {
		return n, err
	}
	for _, o := range late {
		if err := s.refundLatePayment(ctx, o); err != nil {
			return n, err
		}
	}
	return n, nil
}

var errSkip = errors.New("skip")

// RecordsKeptFor is how long Stripe event IDs and order idempotency keys
// are kept. Stripe redelivers an event for up to three days, and a signed
// delivery older than the five-minute tolerance is refused anyway, so after
// a week an event ID can no longer arrive; a customer's retry of an order
// comes within minutes, not weeks.
const RecordsKeptFor = 7 * 24 * time.Hour

// SweepRecords deletes the Stripe event IDs and order idempotency records
// older than RecordsKeptFor (the embedded store has no TTL indexes).
func (s *Service) SweepRecords(ctx context.Context) error {
	return s.store.deleteRecordsBefore(ctx, s.now().Add(-RecordsKeptFor).UTC())
}

// Ship marks a paid order shipped with its tracking number.
func (s *Service) Ship(ctx context.Context, actor access.Actor, id, tracking string) (Order, error) {
	tracking = strings.TrimSpace(tracking)
	// The tracking number is checked once access is granted, so a caller
	// who may not ship is refused as such (401/403), not told what to fix.
	return s.staffTransition(ctx, actor, id, func(ctx context.Context, o *Order) error {
		if err := requireTracking(tracking); err != nil {
			return err
		}
		if o.Status != StatusPaid {
			return errWrongStatus(*o, "paid")
		}
		o.Tracking = tracking
		o.setStatus(StatusFulfilled, s.now(), "shipped, tracking "+tracking)
		return s.store.insertOutbox(ctx, s.shipmentEmail(*o, s.now()))
	})
}

func requireTracking(t string) error {
	if t == "" || len(t) > 64 {
		return problem.Field("tracking", "give the carrier's tracking number (at most 64 characters)")
	}
	return nil
}

// Deliver marks a shipped order delivered.
func (s *Service) Deliver(ctx context.Context, actor access.Actor, id string) (Order, error) {
	return s.staffTransition(ctx, actor, id, func(ctx context.Context, o *Order) error {
		if o.Status != StatusFulfilled {
			return errWrongStatus(*o, "fulfilled")
		}
		o.setStatus(StatusDelivered, s.now(), "")
		return nil
	})
}

func (s *Service) staffTransition(ctx context.Context, actor access.Actor, id string, fn func(ctx context.Context, o *Order) error) (Order, error) {
	o, err := s.store.order(ctx, id)
	if err != nil {
		return Order{}, ErrOrderNotFound
	}
	if err := actor.ManageShop(o.Channel); err != nil {
		return Order{}, err
	}
	var out Order
	err = s.transition(ctx, id, func(ctx context.Context, o *Order) error {
		if err := fn(ctx, o); err != nil {
			return err
		}
		out = *o
		return nil
	})
	return out, err
}

// Refund gives a paid order's money back through the provider. With
// restock, the units go back on the platform's shelf (the goods came back,
// or never left: an order cancelled before shipping).
func (s *Service) Refund(ctx context.Context, actor access.Actor, id string, restock bool, reason string) (Order, error) {
	o, err := s.store.order(ctx, id)
	if err != nil {
		return Order{}, ErrOrderNotFound
	}
	if err := actor.ManageShop(o.Channel); err != nil {
		return Order{}, err
	}
	switch o.Status {
	case StatusPaid, StatusFulfilled, StatusDelivered:
	case StatusRefunded:
		return o, nil // asking twice refunds once
	default:
		return Order{}, errWrongStatus(o, "paid, fulfilled or delivered")
	}
	if len([]rune(reason)) > 500 {
		return Order{}, problem.Field("reason", "must be at most 500 characters")
	}
	refundID, err := s.payments.Refund(ctx, o.PaymentIntent, o.ID)
	if err != nil {
		return Order{}, err
	}
	var out Order
	err = s.transition(ctx, id, func(ctx context.Context, o *Order) error {
		if o.Status == StatusRefunded {
			out = *o
			return nil
		}
		if restock && !o.Restocked {
			if err := s.stock.Restock(ctx, o.Channel, o.Lines, o.ID, actor.Email); err != nil {
				return err
			}
			o.Restocked = true
		}
		o.RefundID = refundID
		o.setStatus(StatusRefunded, s.now(), strings.TrimSpace(reason))
		out = *o
		return nil
	})
	return out, err
}

// Cancel cancels an order before it ships: an unpaid one releases its
// units; a paid one is refunded and its units go back on the shelf.
func (s *Service) Cancel(ctx context.Context, actor access.Actor, id, reason string) (Order, error) {
	o, err := s.store.order(ctx, id)
	if err != nil {
		return Order{}, ErrOrderNotFound
	}
	if err := actor.ManageShop(o.Channel); err != nil {
		return Order{}, err
	}
	switch o.Status {
	case StatusPendingPayment:
		return s.staffTransition(ctx, actor, id, func(ctx context.Context, o *Order) error {
			if o.Status != StatusPendingPayment {
				return errWrongStatus(*o, "unpaid")
			}
			o.setStatus(StatusCancelled, s.now(), reason)
			return s.stock.Release(ctx, o.Channel, o.Lines)
		})
	case StatusPaid:
		r, err := s.Refund(ctx, actor, id, true, reason)
		if err != nil {
			return Order{}, err
		}
		return r, nil
	}
	return Order{}, errWrongStatus(o, "unpaid or paid and not shipped")
}

// PackingList is what the warehouse packs for a paid order: per line, the
// lots (FEFO) its units come from.
func (s *Service) PackingList(ctx context.Context, actor access.Actor, id string) (Order, error) {
	o, err := s.Order(ctx, actor, id, "")
	if err != nil {
		return Order{}, err
	}
	if o.Status != StatusPaid && o.Status != StatusFulfilled {
		return Order{}, errWrongStatus(o, "paid")
	}
	return o, nil
}
