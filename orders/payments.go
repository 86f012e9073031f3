package orders

import (
	"context"
	"time"
)

// Payments is what orders need of a payment provider. stripe.go implements
// it with stripe-go; tests use the same implementation against stripe-mock.
type Payments interface {
	// Available reports whether online payment is configured at all. When it
	// is not, no order is placed and nothing is sent to the provider.
	Available() bool
	// CreateCheckout opens a hosted payment page for an order. The order ID
	// is the idempotency key: asking twice gives the same session.
	CreateCheckout(ctx context.Context, req CheckoutRequest) (Checkout, error)
	// ExpireCheckout closes a session so the customer can no longer pay.
	ExpireCheckout(ctx context.Context, sessionID string) error
	// Refund gives back a payment in full; the order ID is the idempotency key.
	Refund(ctx context.Context, paymentIntent, orderID string) (string, error)
	// ParseWebhook verifies a webhook's signature (and its age) and returns
	// the event; a forged or stale one is ErrBadSignature.
	ParseWebhook(payload []byte, signatureHeader string) (Event, error)
}

// CheckoutRequest describes what the customer pays.
type CheckoutRequest struct {
	OrderID    string
	Email      string
	Currency   string
	Lines      []CheckoutLine
	SuccessURL string
	CancelURL  string
	ExpiresAt  time.Time
}

// CheckoutLine is one product on the payment page.
type CheckoutLine struct {
	Name      string
	UnitPrice int64
	Units     int64
}

// Checkout is an opened payment page.
type Checkout struct {
	SessionID string
	URL       string
}

// Event is a verified provider event, reduced to what orders use.
type Event struct {
	ID            string
	Type          string
	OrderID       string // client_reference_id, else metadata.order_id
	SessionID     string
	PaymentIntent string
	Created       time.Time
	// PaymentStatus is the Checkout Session's payment_status: "paid",
	// "unpaid" (a delayed method such as SEPA debit whose funds have not
	// arrived yet) or "no_payment_required".
	PaymentStatus string
	// AmountTotal and Currency are what the customer was charged (minor
	// units, upper-case ISO 4217), compared with the order before it is
	// marked paid.
	AmountTotal int64
	Currency    string
}

// The event types orders handle.
const (
	EventCheckoutCompleted     = "checkout.session.completed"
	EventCheckoutExpired       = "checkout.session.expired"
	EventAsyncPaymentSucceeded = "checkout.session.async_payment_succeeded"
	EventAsyncPaymentFailed    = "checkout.session.async_payment_failed"
	EventChargeRefunded        = "charge.refunded"
)

// Payment statuses of a Checkout Session (payment_status).
const (
	PaymentStatusPaid   = "paid"
	PaymentStatusUnpaid = "unpaid"
)
