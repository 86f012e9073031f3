// Package stripetest builds Stripe webhook deliveries for tests from the
// objects Stripe itself publishes: the fixtures of the OpenAPI description
// that ship inside the stripe-mock module (a tool dependency in go.mod), so
// a test's checkout session has every field a real one has, in the shape of
// the API version stripe-mock describes, instead of the handful of fields a
// hand-written map would carry. Only tests import it.
package stripetest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	stripe "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

var fixtures struct {
	once      sync.Once
	resources map[string]json.RawMessage
	version   string
	err       error
}

func load() {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/stripe/stripe-mock").Output()
	if err != nil {
		fixtures.err = fmt.Errorf("stripetest: locate the stripe-mock module: %w", err)
		return
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "embedded", "openapi")
	raw, err := os.ReadFile(filepath.Join(dir, "fixtures3.json"))
	if err != nil {
		fixtures.err = fmt.Errorf("stripetest: %w", err)
		return
	}
	var f struct {
		Resources map[string]json.RawMessage `json:"resources"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		fixtures.err = fmt.Errorf("stripetest: fixtures3.json: %w", err)
		return
	}
	fixtures.resources = f.Resources
	spec, err := os.ReadFile(filepath.Join(dir, "spec3.json"))
	if err != nil {
		fixtures.err = fmt.Errorf("stripetest: %w", err)
		return
	}
	var s struct {
		Info struct {
			Version string `json:"version"`
		} `json:"info"`
	}
	if err := json.Unmarshal(spec, &s); err != nil {
		fixtures.err = fmt.Errorf("stripetest: spec3.json: %w", err)
		return
	}
	fixtures.version = s.Info.Version
}

// Fixture returns a fresh copy of the published example of a resource
// ("checkout.session", "charge", "event" …).
func Fixture(t testing.TB, resource string) map[string]any {
	t.Helper()
	fixtures.once.Do(load)
	if fixtures.err != nil {
		t.Fatal(fixtures.err)
	}
	raw, ok := fixtures.resources[resource]
	if !ok {
		t.Fatalf("stripetest: no fixture for %q", resource)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// SpecVersion is the Stripe API version of the description stripe-mock
// ships (and answers in).
func SpecVersion(t testing.TB) string {
	t.Helper()
	fixtures.once.Do(load)
	if fixtures.err != nil {
		t.Fatal(fixtures.err)
	}
	return fixtures.version
}

// Session describes the checkout session of a delivery.
type Session struct {
	OrderID       string // client_reference_id and metadata.order_id
	PaymentIntent string
	AmountTotal   int64
	Currency      string // any case; Stripe sends lower case
	PaymentStatus string // "paid", "unpaid"; "paid" when empty
	Status        string // "complete", "expired", "open"; "complete" when empty
}

// CheckoutSession is the published checkout.session example with the
// fields that tie it to an order replaced.
func CheckoutSession(t testing.TB, s Session) map[string]any {
	t.Helper()
	m := Fixture(t, "checkout.session")
	if s.PaymentStatus == "" {
		s.PaymentStatus = "paid"
	}
	if s.Status == "" {
		s.Status = "complete"
	}
	m["id"] = "cs_test_" + s.OrderID
	m["client_reference_id"] = s.OrderID
	m["metadata"] = map[string]any{"order_id": s.OrderID}
	m["payment_intent"] = s.PaymentIntent
	m["amount_total"] = s.AmountTotal
	m["amount_subtotal"] = s.AmountTotal
	m["currency"] = strings.ToLower(s.Currency)
	m["payment_status"] = s.PaymentStatus
	m["status"] = s.Status
	return m
}

// Charge is the published charge example for a payment intent.
func Charge(t testing.TB, paymentIntent, orderID string, amount int64, currency string) map[string]any {
	t.Helper()
	m := Fixture(t, "charge")
	m["payment_intent"] = paymentIntent
	m["metadata"] = map[string]any{"order_id": orderID}
	m["amount"] = amount
	m["amount_refunded"] = amount
	m["refunded"] = true
	m["currency"] = strings.ToLower(currency)
	return m
}

// Event wraps object in the published event example, rendered in
// apiVersion (stripe-go's pinned stripe.APIVersion when empty).
func Event(t testing.TB, id, typ, apiVersion string, created time.Time, object map[string]any) []byte {
	t.Helper()
	ev := Fixture(t, "event")
	if apiVersion == "" {
		apiVersion = stripe.APIVersion
	}
	ev["id"], ev["type"], ev["api_version"], ev["created"] = id, typ, apiVersion, created.Unix()
	ev["data"] = map[string]any{"object": object}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Sign returns the Stripe-Signature header of payload signed at at.
func Sign(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at}).Header
}
