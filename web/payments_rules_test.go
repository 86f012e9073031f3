package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/stripetest"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/web/webtest"
)

// stripeWire carries the server's requests to Stripe (stripe-mock), counts
// them, keeps their form bodies, and can cut the line.
type stripeWire struct {
	down  atomic.Bool
	calls atomic.Int64
	mu    sync.Mutex
	forms []url.Values
}

func (w *stripeWire) RoundTrip(r *http.Request) (*http.Response, error) {
	w.calls.Add(1)
	if w.down.Load() {
		return nil, errors.New("stripe is unreachable (test)")
	}
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		if form, err := url.ParseQuery(string(b)); err == nil {
			w.mu.Lock()
			w.forms = append(w.forms, form)
			w.mu.Unlock()
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (w *stripeWire) lastForm() url.Values {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.forms) == 0 {
		return nil
	}
	return w.forms[len(w.forms)-1]
}

// TestOnlyArrivedMoneyThatMatchesPaysAnOrder: a completed checkout paid by
// a delayed method ("unpaid") keeps the units reserved without paying; the
// async success pays it; an async failure closes the order and gives its
// units back; a payment of another amount or currency never pays and raises
// an alert.
func TestOnlyArrivedMoneyThatMatchesPaysAnOrder(t *testing.T) {
	var mu sync.Mutex
	var alerts []orders.Alert
	e := webtest.NewWith(t, webtest.Options{OnAlert: func(_ context.Context, a orders.Alert) {
		mu.Lock()
		alerts = append(alerts, a)
		mu.Unlock()
	}})
	f := newPlatform(t, e)
	now := time.Now()

	// SEPA: completed but unpaid, then the funds arrive.
	_, sepa := placeOrder(t, e, 2, "")
	if st := postEvent(t, e, "", orders.EventCheckoutCompleted, stripetest.Session{OrderID: sepa.ID, PaymentIntent: "pi_sepa", PaymentStatus: "unpaid"}, now, webtest.WebhookSecret); st != 200 {
		t.Fatalf("unpaid completion: %d", st)
	}
	if got := orderStatus(t, e, sepa.ID, sepa.OrderToken); got.Status != "pending_payment" {
		t.Fatalf("an unpaid completion made the order %s", got.Status)
	}
	if n := e.Count("outbox"); n != 0 {
		t.Fatalf("an unpaid completion sent %d e-mails", n)
	}
	if _, r := platformStock(t, e, f.eu); r != 2 {
		t.Fatalf("the units of an order waiting for its funds: %d reserved, want 2", r)
	}
	if st := postEvent(t, e, "", orders.EventAsyncPaymentSucceeded, stripetest.Session{OrderID: sepa.ID, PaymentIntent: "pi_sepa"}, now, webtest.WebhookSecret); st != 200 {
		t.Fatalf("async success: %d", st)
	}
	if got := orderStatus(t, e, sepa.ID, sepa.OrderToken); got.Status != "paid" {
		t.Fatalf("after async_payment_succeeded: %s", got.Status)
	}
	if u, r := platformStock(t, e, f.eu); u != 18 || r != 0 {
		t.Fatalf("after the SEPA payment: %d units, %d reserved; want 18, 0", u, r)
	}

	// A delayed payment that fails closes the order and frees its units.
	_, failed := placeOrder(t, e, 3, "")
	postEvent(t, e, "", orders.EventCheckoutCompleted, stripetest.Session{OrderID: failed.ID, PaymentIntent: "pi_fail", PaymentStatus: "unpaid"}, now, webtest.WebhookSecret)
	if _, r := platformStock(t, e, f.eu); r != 3 {
		t.Fatalf("reserved while waiting: %d, want 3", r)
	}
	if st := postEvent(t, e, "", orders.EventAsyncPaymentFailed, stripetest.Session{OrderID: failed.ID, PaymentIntent: "pi_fail", PaymentStatus: "unpaid"}, now, webtest.WebhookSecret); st != 200 {
		t.Fatalf("async failure: %d", st)
	}
	if got := orderStatus(t, e, failed.ID, failed.OrderToken); got.Status != "cancelled" {
		t.Fatalf("after async_payment_failed: %s", got.Status)
	}
	if u, r := platformStock(t, e, f.eu); u != 18 || r != 0 {
		t.Fatalf("after the failed payment: %d units, %d reserved; want 18, 0", u, r)
	}

	// Money that does not match the order never pays it.
	_, wrong := placeOrder(t, e, 1, "")
	for i, sess := range []stripetest.Session{
		{OrderID: wrong.ID, PaymentIntent: "pi_wrong", AmountTotal: wrong.Total.Amount - 1, Currency: wrong.Total.Currency},
		{OrderID: wrong.ID, PaymentIntent: "pi_wrong", AmountTotal: wrong.Total.Amount, Currency: "MAD"},
		{OrderID: wrong.ID, PaymentIntent: "pi_wrong", AmountTotal: wrong.Total.Amount * 100, Currency: wrong.Total.Currency},
	} {
		if st := postEvent(t, e, "", orders.EventCheckoutCompleted, sess, now, webtest.WebhookSecret); st != 200 {
			t.Fatalf("mismatch %d: %d", i, st)
		}
		if got := orderStatus(t, e, wrong.ID, wrong.OrderToken); got.Status != "pending_payment" {
			t.Fatalf("mismatch %d (%d %s for %d %s) made the order %s", i, sess.AmountTotal, sess.Currency, wrong.Total.Amount, wrong.Total.Currency, got.Status)
		}
	}
	mu.Lock()
	n := len(alerts)
	mu.Unlock()
	if n != 3 {
		t.Fatalf("%d alerts for three mismatched payments: %+v", n, alerts)
	}
	if alerts[0].Kind != orders.AlertAmountMismatch || alerts[0].OrderID != wrong.ID {
		t.Fatalf("alert: %+v", alerts[0])
	}
	// The right amount still pays it.
	postEvent(t, e, "", orders.EventCheckoutCompleted, stripetest.Session{OrderID: wrong.ID, PaymentIntent: "pi_wrong"}, now, webtest.WebhookSecret)
	if got := orderStatus(t, e, wrong.ID, wrong.OrderToken); got.Status != "paid" {
		t.Fatalf("the matching payment: %s", got.Status)
	}
}

// TestCheckoutSessionOutlivesStripesMinimum: the Checkout Session request
// asks for an expiry at least 30 minutes after its creation with a margin,
// and the order's reservation lives at least as long as the session.
func TestCheckoutSessionOutlivesStripesMinimum(t *testing.T) {
	wire := &stripeWire{}
	e := webtest.NewWith(t, webtest.Options{StripeTransport: wire})
	newPlatform(t, e)
	before := time.Now()
	st, o := placeOrder(t, e, 1, "")
	if st != 201 {
		t.Fatalf("order: %d", st)
	}
	form := wire.lastForm()
	exp, err := strconv.ParseInt(form.Get("expires_at"), 10, 64)
	if err != nil {
		t.Fatalf("the session request has no expires_at: %v", form)
	}
	if margin := time.Unix(exp, 0).Sub(before); margin < 31*time.Minute {
		t.Fatalf("expires_at is %s after the request; Stripe needs 30 min after creation, plus a margin", margin)
	}
	var full struct {
		ExpiresAt time.Time `json:"expires_at"`
	}
	e.JSON("GET", "/api/v1/orders/"+o.ID+"?token="+o.OrderToken, "", nil, &full)
	if full.ExpiresAt.Before(time.Unix(exp, 0)) {
		t.Fatalf("the reservation ends at %s, before the payment page (%s)", full.ExpiresAt, time.Unix(exp, 0))
	}
}

// TestWithoutAStripeKeyNothingIsOrdered: no outbound request, a 503 whose
// code says payment is unavailable, and no order, reservation or customer
// data kept.
func TestWithoutAStripeKeyNothingIsOrdered(t *testing.T) {
	wire := &stripeWire{}
	e := webtest.NewWith(t, webtest.Options{NoStripeKey: true, StripeTransport: wire})
	f := newPlatform(t, e)
	for _, key := range []string{"", "no-key-1"} {
		var apiErr webtest.APIError
		var h []string
		if key != "" {
			h = []string{"Idempotency-Key", key}
		}
		resp, body := e.Do("POST", "/api/v1/orders", "", mustJSON(orderBody(2)), h...)
		st := resp.StatusCode
		_ = json.Unmarshal(body, &apiErr)
		if st != 503 || apiErr.Error.Code != "payments_unavailable" {
			t.Fatalf("order without a Stripe key: %d %+v", st, apiErr)
		}
	}
	if n := wire.calls.Load(); n != 0 {
		t.Fatalf("%d requests went to Stripe without a key", n)
	}
	if n := e.Count("orders"); n != 0 {
		t.Fatalf("%d orders kept", n)
	}
	if n := e.Count("idempotency"); n != 0 {
		t.Fatalf("%d idempotency records kept", n)
	}
	if _, r := platformStock(t, e, f.eu); r != 0 {
		t.Fatalf("%d units reserved", r)
	}
}

// TestRetryAfterStripeComesBackPlacesTheOrder: Stripe is briefly
// unreachable; the order answers 503, keeps nothing, and the customer's
// retry with the same Idempotency-Key places it with a payment page.
func TestRetryAfterStripeComesBackPlacesTheOrder(t *testing.T) {
	wire := &stripeWire{}
	e := webtest.NewWith(t, webtest.Options{StripeTransport: wire})
	f := newPlatform(t, e)
	wire.down.Store(true)
	if st, o := placeOrder(t, e, 2, "retry-me"); st != 503 {
		t.Fatalf("with Stripe down: %d %+v", st, o)
	}
	if n := e.Count("orders"); n != 0 {
		t.Fatalf("a failed checkout kept %d orders (with the customer's name and address)", n)
	}
	if _, r := platformStock(t, e, f.eu); r != 0 {
		t.Fatalf("a failed checkout left %d units reserved", r)
	}
	wire.down.Store(false)
	st, o := placeOrder(t, e, 2, "retry-me")
	if st != 201 || o.Status != "pending_payment" || o.CheckoutURL == "" {
		t.Fatalf("the retry once Stripe is back: %d %+v", st, o)
	}
	st2, again := placeOrder(t, e, 2, "retry-me")
	if st2 != 201 || again.ID != o.ID {
		t.Fatalf("a replay of the placed order: %d %s, want %s", st2, again.ID, o.ID)
	}
}

// TestWebhookOfAnUnknownAPIVersionIsNotApplied: an event rendered in a
// Stripe API version the code was not written for is refused (Stripe
// retries it), changes nothing, and is not recorded as seen.
func TestWebhookOfAnUnknownAPIVersionIsNotApplied(t *testing.T) {
	e := webtest.New(t)
	newPlatform(t, e)
	_, o := placeOrder(t, e, 1, "")
	object := stripetest.CheckoutSession(t, stripetest.Session{OrderID: o.ID, PaymentIntent: "pi_v", AmountTotal: o.Total.Amount, Currency: o.Total.Currency})
	now := time.Now()
	for _, v := range []string{"2099-01-01.future", stripetest.SpecVersion(t) + "-unknown"} {
		payload := stripetest.Event(t, "evt_version", orders.EventCheckoutCompleted, v, now, object)
		resp, body := e.Do("POST", "/api/v1/stripe/webhook", "", payload, "Stripe-Signature", stripetest.Sign(payload, webtest.WebhookSecret, now))
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Fatalf("api_version %s: %d %s", v, resp.StatusCode, body)
		}
		if got := orderStatus(t, e, o.ID, o.OrderToken); got.Status != "pending_payment" {
			t.Fatalf("api_version %s changed the order to %s", v, got.Status)
		}
	}
	if n := e.Count("stripe_events"); n != 0 {
		t.Fatalf("a refused event was recorded as seen (%d)", n)
	}
	// The same event in the pinned version applies.
	payload := stripetest.Event(t, "evt_version", orders.EventCheckoutCompleted, "", now, object)
	if resp, body := e.Do("POST", "/api/v1/stripe/webhook", "", payload, "Stripe-Signature", stripetest.Sign(payload, webtest.WebhookSecret, now)); resp.StatusCode != 200 {
		t.Fatalf("pinned version: %d %s", resp.StatusCode, body)
	}
	if got := orderStatus(t, e, o.ID, o.OrderToken); got.Status != "paid" {
		t.Fatalf("pinned version left the order %s", got.Status)
	}
}

// TestPaymentRecordsAreSweptAfterAWeek: Stripe event IDs and order
// idempotency records do not pile up forever.
func TestPaymentRecordsAreSweptAfterAWeek(t *testing.T) {
	e := webtest.New(t)
	newPlatform(t, e)
	_, o := placeOrder(t, e, 1, "sweep-key")
	webhookEvent(t, e, "", orders.EventCheckoutCompleted, o.ID, "pi_sweep", e.Clock.Now(), webtest.WebhookSecret)
	if e.Count("stripe_events") != 1 || e.Count("idempotency") != 1 {
		t.Fatalf("before: %d events, %d keys", e.Count("stripe_events"), e.Count("idempotency"))
	}
	ctx := context.Background()
	e.Clock.Advance(6 * 24 * time.Hour)
	if err := e.Orders.SweepRecords(ctx); err != nil {
		t.Fatal(err)
	}
	if e.Count("stripe_events") != 1 || e.Count("idempotency") != 1 {
		t.Fatalf("swept before a week: %d events, %d keys", e.Count("stripe_events"), e.Count("idempotency"))
	}
	e.Clock.Advance(2 * 24 * time.Hour)
	if err := e.Orders.SweepRecords(ctx); err != nil {
		t.Fatal(err)
	}
	if e.Count("stripe_events") != 0 || e.Count("idempotency") != 0 {
		t.Fatalf("after eight days: %d events, %d keys", e.Count("stripe_events"), e.Count("idempotency"))
	}
}

// TestOneCustomerCannotHoardScarceStock: a hundred orders at once from one
// customer hold at most the product's unpaid limit; changing the e-mail but
// not the address does not start over; another customer still gets units;
// and when the shelf is nearly empty an unpaid order holds its units for
// the short hold only, its payment page closed when the hold ends.
func TestOneCustomerCannotHoardScarceStock(t *testing.T) {
	wire := &stripeWire{}
	e := webtest.NewWith(t, webtest.Options{StripeTransport: wire})
	f := newPlatform(t, e) // 20 jars at the platform
	var wg sync.WaitGroup
	var placed, limited atomic.Int64
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch st, _ := placeOrderAs(t, e, 1, "", "hoarder"); st {
			case 201:
				placed.Add(1)
			case 409:
				limited.Add(1)
			default:
				t.Errorf("hoarding order: %d", st)
			}
		}()
	}
	wg.Wait()
	if placed.Load() != orders.DefaultUnpaidLimit || limited.Load() != 100-orders.DefaultUnpaidLimit {
		t.Fatalf("one customer placed %d orders (%d limited), want %d", placed.Load(), limited.Load(), orders.DefaultUnpaidLimit)
	}
	if _, r := platformStock(t, e, f.eu); r != orders.DefaultUnpaidLimit {
		t.Fatalf("%d reserved by one customer", r)
	}
	// Same address, another e-mail: still the same customer.
	body := orderBody(1)
	c := body["customer"].(map[string]any)
	c["email"] = "hoarder2@example.fr"
	c["address"].(map[string]any)["line1"] = "hoarder rue des Lilas"
	var apiErr webtest.APIError
	if st := e.JSON("POST", "/api/v1/orders", "", body, &apiErr); st != 409 || apiErr.Error.Field != "lines[0].units" || !strings.Contains(apiErr.Error.Message, "pay the waiting order") {
		t.Fatalf("same address, new e-mail: %d %+v", st, apiErr)
	}
	// Someone else still buys; with 20 − 10 − 4 = 6 free jars left (fewer
	// than the limit) the shelf is contended: a short hold.
	st, other := placeOrderAs(t, e, 4, "", "neighbour")
	if st != 201 {
		t.Fatalf("another customer: %d", st)
	}
	var full struct {
		ExpiresAt time.Time `json:"expires_at"`
	}
	e.JSON("GET", "/api/v1/orders/"+other.ID+"?token="+other.OrderToken, "", nil, &full)
	if hold := time.Until(full.ExpiresAt); hold > orders.DefaultContendedHold+time.Minute {
		t.Fatalf("an order on a nearly empty shelf holds its units for %s", hold)
	}
	before := wire.calls.Load()
	e.Clock.Advance(orders.DefaultContendedHold + time.Minute)
	if _, err := e.Orders.ExpireDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := orderStatus(t, e, other.ID, other.OrderToken); got.Status != "expired" {
		t.Fatalf("after the short hold: %s", got.Status)
	}
	if wire.calls.Load() == before {
		t.Fatal("the payment page of the expired short hold was not closed at Stripe")
	}
}
