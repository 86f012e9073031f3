package orders

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	stripe "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/terroir-coop/terroir/internal/problem"
)

// ErrBadSignature is a webhook whose Stripe-Signature does not verify or is
// older than the tolerance.
var ErrBadSignature = problem.New(problem.Invalid, "webhook signature is invalid or stale")

// ErrPaymentsUnavailable is returned when the payment provider cannot be reached.
var ErrPaymentsUnavailable = problem.New(problem.Unavailable, "the payment service is unavailable; nothing was charged, try again in a moment")

// webhookTolerance is how old a signed webhook may be: Stripe's default.
const webhookTolerance = 5 * time.Minute

// Stripe is Payments through stripe-go.
type Stripe struct {
	api           *client.API
	webhookSecret string
}

// NewStripe returns the Stripe provider. apiBase, when not empty, points
// stripe-go elsewhere (stripe-mock in tests: STRIPE_API_BASE).
func NewStripe(secretKey, webhookSecret, apiBase string, httpClient *http.Client) *Stripe {
	cfg := &stripe.BackendConfig{HTTPClient: httpClient, MaxNetworkRetries: stripe.Int64(2)}
	if apiBase != "" {
		cfg.URL = stripe.String(apiBase)
	}
	if httpClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 20 * time.Second}
	}
	api := client.New(secretKey, &stripe.Backends{
		API:     stripe.GetBackendWithConfig(stripe.APIBackend, cfg),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, cfg),
		Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, cfg),
	})
	return &Stripe{api: api, webhookSecret: webhookSecret}
}

// CreateCheckout creates a Checkout Session for the order.
func (s *Stripe) CreateCheckout(ctx context.Context, req CheckoutRequest) (Checkout, error) {
	params := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		ClientReferenceID: stripe.String(req.OrderID),
		CustomerEmail:     stripe.String(req.Email),
		SuccessURL:        stripe.String(req.SuccessURL),
		CancelURL:         stripe.String(req.CancelURL),
		ExpiresAt:         stripe.Int64(req.ExpiresAt.Unix()),
		PaymentIntentData: &stripe.CheckoutSessionPaymentIntentDataParams{Metadata: map[string]string{"order_id": req.OrderID}},
	}
	params.AddMetadata("order_id", req.OrderID)
	for _, l := range req.Lines {
		params.LineItems = append(params.LineItems, &stripe.CheckoutSessionLineItemParams{
			Quantity: stripe.Int64(l.Units),
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency:    stripe.String(lowerCurrency(req.Currency)),
				UnitAmount:  stripe.Int64(l.UnitPrice),
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(l.Name)},
			},
		})
	}
	params.SetIdempotencyKey("checkout-" + req.OrderID)
	params.Context = ctx
	sess, err := s.api.CheckoutSessions.New(params)
	if err != nil {
		return Checkout{}, fmt.Errorf("%w: %v", ErrPaymentsUnavailable, err)
	}
	return Checkout{SessionID: sess.ID, URL: sess.URL}, nil
}

// ExpireCheckout closes a session.
func (s *Stripe) ExpireCheckout(ctx context.Context, sessionID string) error {
	params := &stripe.CheckoutSessionExpireParams{}
	params.Context = ctx
	_, err := s.api.CheckoutSessions.Expire(sessionID, params)
	return err
}

// Refund refunds a payment intent in full.
func (s *Stripe) Refund(ctx context.Context, paymentIntent, orderID string) (string, error) {
	params := &stripe.RefundParams{PaymentIntent: stripe.String(paymentIntent)}
	params.AddMetadata("order_id", orderID)
	params.SetIdempotencyKey("refund-" + orderID)
	params.Context = ctx
	r, err := s.api.Refunds.New(params)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrPaymentsUnavailable, err)
	}
	return r.ID, nil
}

// ParseWebhook verifies the signature and decodes the event.
func (s *Stripe) ParseWebhook(payload []byte, header string) (Event, error) {
	ev, err := webhook.ConstructEventWithOptions(payload, header, s.webhookSecret, webhook.ConstructEventOptions{
		Tolerance:                webhookTolerance,
		IgnoreAPIVersionMismatch: true, // the events we read have had these fields for years
	})
	if err != nil {
		return Event{}, ErrBadSignature
	}
	out := Event{ID: ev.ID, Type: string(ev.Type), Created: time.Unix(ev.Created, 0).UTC()}
	if ev.Data == nil {
		return out, nil
	}
	switch ev.Type {
	case EventCheckoutCompleted, EventCheckoutExpired:
		var cs stripe.CheckoutSession
		if err := json.Unmarshal(ev.Data.Raw, &cs); err != nil {
			return Event{}, problem.New(problem.Invalid, "webhook: not a checkout session")
		}
		out.SessionID, out.OrderID = cs.ID, cs.ClientReferenceID
		if out.OrderID == "" {
			out.OrderID = cs.Metadata["order_id"]
		}
		if cs.PaymentIntent != nil {
			out.PaymentIntent = cs.PaymentIntent.ID
		}
	case EventChargeRefunded:
		var ch stripe.Charge
		if err := json.Unmarshal(ev.Data.Raw, &ch); err != nil {
			return Event{}, problem.New(problem.Invalid, "webhook: not a charge")
		}
		out.OrderID = ch.Metadata["order_id"]
		if ch.PaymentIntent != nil {
			out.PaymentIntent = ch.PaymentIntent.ID
		}
	}
	return out, nil
}

func lowerCurrency(c string) string {
	b := []byte(c)
	for i := range b {
		if b[i] >= 'A' && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}
