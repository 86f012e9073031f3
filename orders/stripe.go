package orders

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
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
var ErrPaymentsUnavailable = problem.New(problem.PaymentsUnavailable, "the payment service is unavailable; nothing was charged, try again in a moment")

// ErrUnknownAPIVersion is a verified webhook rendered in a Stripe API
// version this code was not written against: its objects may not have the
// fields (payment_status, amount_total) the order's state depends on, so it
// is refused, never applied. Stripe delivers it again, and the operator is
// alerted to pin the webhook endpoint's API version (or accept the new one
// with STRIPE_WEBHOOK_API_VERSIONS once its objects have been checked).
var ErrUnknownAPIVersion = problem.New(problem.Unprocessable, "webhook: unknown Stripe API version; not applied")

// webhookTolerance is how old a signed webhook may be: Stripe's default.
const webhookTolerance = 5 * time.Minute

// Stripe is Payments through stripe-go.
type Stripe struct {
	api           *client.API
	secretKey     string
	webhookSecret string
	apiVersions   map[string]bool
}

// NewStripe returns the Stripe provider. apiBase, when not empty, points
// stripe-go elsewhere (stripe-mock in tests: STRIPE_API_BASE). Without a
// secret key the provider is not Available: orders are refused before any
// request leaves the server.
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
	return &Stripe{api: api, secretKey: secretKey, webhookSecret: webhookSecret,
		apiVersions: map[string]bool{stripe.APIVersion: true}}
}

// AcceptAPIVersions adds API versions whose webhook objects are known to
// carry what orders read, besides the version stripe-go is pinned to.
func (s *Stripe) AcceptAPIVersions(versions ...string) {
	for _, v := range versions {
		if v = strings.TrimSpace(v); v != "" {
			s.apiVersions[v] = true
		}
	}
}

// Available reports whether a secret key is configured.
func (s *Stripe) Available() bool { return s.secretKey != "" }

// CreateCheckout creates a Checkout Session for the order.
func (s *Stripe) CreateCheckout(ctx context.Context, req CheckoutRequest) (Checkout, error) {
	if !s.Available() {
		return Checkout{}, ErrPaymentsUnavailable
	}
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
	if !s.Available() {
		return ErrPaymentsUnavailable
	}
	params := &stripe.CheckoutSessionExpireParams{}
	params.Context = ctx
	_, err := s.api.CheckoutSessions.Expire(sessionID, params)
	return err
}

// Refund refunds a payment intent in full.
func (s *Stripe) Refund(ctx context.Context, paymentIntent, orderID string) (string, error) {
	if !s.Available() {
		return "", ErrPaymentsUnavailable
	}
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
	if !s.apiVersions[ev.APIVersion] {
		return Event{ID: ev.ID, Type: string(ev.Type)}, fmt.Errorf("%w (%q)", ErrUnknownAPIVersion, ev.APIVersion)
	}
	out := Event{ID: ev.ID, Type: string(ev.Type), Created: time.Unix(ev.Created, 0).UTC()}
	if ev.Data == nil {
		return out, nil
	}
	switch ev.Type {
	case EventCheckoutCompleted, EventCheckoutExpired, EventAsyncPaymentSucceeded, EventAsyncPaymentFailed:
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
		out.PaymentStatus = string(cs.PaymentStatus)
		out.AmountTotal = cs.AmountTotal
		out.Currency = strings.ToUpper(string(cs.Currency))
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
