package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/stripetest"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/web/webtest"
)

// platformFixture: packed saffron (20 jars) with 20 in the EU platform's
// warehouse, priced 12.00 EUR there, and the platform's manager.
type platformFixture struct {
	shopFixture
	eu string
}

func newPlatform(t *testing.T, e *webtest.Env) platformFixture {
	t.Helper()
	f := platformFixture{shopFixture: newShops(t, e, false)}
	f.eu = e.User("eu@plateforme.fr", access.ShopManager, "EU-PLATFORM")
	if st := e.JSON("PUT", "/api/v1/products/SAF-1G/prices/EU-PLATFORM", f.eu, map[string]any{"amount": 1200, "currency": "EUR"}, nil); st != 200 {
		t.Fatalf("price: %d", st)
	}
	if st := f.receive(t, e, f.eu, "EU-PLATFORM", 20); st != 201 {
		t.Fatalf("receive: %d", st)
	}
	return f
}

type orderAnswer struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	CheckoutURL string `json:"checkout_url"`
	OrderToken  string `json:"order_token"`
	Total       struct {
		Amount   int64  `json:"amount"`
		Currency string `json:"currency"`
	} `json:"total"`
	Lines []struct {
		SKU   string `json:"sku"`
		Units int64  `json:"units"`
		Lots  []struct {
			Lot   string `json:"lot"`
			Units int64  `json:"units"`
		} `json:"lots"`
	} `json:"lines"`
}

func orderBody(units int) map[string]any {
	return map[string]any{"channel": "EU-PLATFORM", "lines": []map[string]any{{"sku": "SAF-1G", "units": units}},
		"customer": map[string]any{"email": "claire@example.fr", "name": "Claire Martin",
			"address": map[string]any{"line1": "12 rue des Lilas", "postal_code": "69003", "city": "Lyon", "country": "FR"}}}
}

func placeOrder(t *testing.T, e *webtest.Env, units int, key string) (int, orderAnswer) {
	t.Helper()
	return placeOrderAs(t, e, units, key, "")
}

// placeOrderAs places an order as another customer (e-mail and address
// named after who), or as the usual one when who is empty.
func placeOrderAs(t *testing.T, e *webtest.Env, units int, key, who string) (int, orderAnswer) {
	t.Helper()
	body := orderBody(units)
	if who != "" {
		c := body["customer"].(map[string]any)
		c["email"] = who + "@example.fr"
		c["address"].(map[string]any)["line1"] = who + " rue des Lilas"
	}
	b, _ := json.Marshal(body)
	var h []string
	if key != "" {
		h = []string{"Idempotency-Key", key}
	}
	resp, answer := e.Do("POST", "/api/v1/orders", "", b, h...)
	var o orderAnswer
	_ = json.Unmarshal(answer, &o)
	return resp.StatusCode, o
}

var eventSeq atomic.Int64

// webhookEvent posts a Stripe event signed as Stripe signs them, built from
// the published fixtures (internal/stripetest): a checkout session paid in
// full for the order's total, or a refunded charge.
func webhookEvent(t *testing.T, e *webtest.Env, id, typ, orderID, pi string, signedAt time.Time, secret string) int {
	t.Helper()
	return postEvent(t, e, id, typ, stripetest.Session{OrderID: orderID, PaymentIntent: pi}, signedAt, secret)
}

// postEvent posts an event about a checkout session; a zero amount and
// currency are filled with the order's total, as Stripe would charge it.
func postEvent(t *testing.T, e *webtest.Env, id, typ string, sess stripetest.Session, signedAt time.Time, secret string) int {
	t.Helper()
	if id == "" {
		id = fmt.Sprintf("evt_test_%d", eventSeq.Add(1))
	}
	if sess.Currency == "" {
		var o struct {
			Total struct {
				Amount   int64  `json:"amount"`
				Currency string `json:"currency"`
			} `json:"total"`
		}
		e.JSON("GET", "/api/v1/orders/"+sess.OrderID, e.AdminToken, nil, &o)
		sess.AmountTotal, sess.Currency = o.Total.Amount, o.Total.Currency
	}
	object := stripetest.CheckoutSession(t, sess)
	if typ == "charge.refunded" {
		object = stripetest.Charge(t, sess.PaymentIntent, "", sess.AmountTotal, sess.Currency)
		object["metadata"] = map[string]any{}
	}
	payload := stripetest.Event(t, id, typ, "", signedAt, object)
	resp, _ := e.Do("POST", "/api/v1/stripe/webhook", "", payload, "Stripe-Signature", stripetest.Sign(payload, secret, signedAt))
	return resp.StatusCode
}

func orderStatus(t *testing.T, e *webtest.Env, id, token string) orderAnswer {
	t.Helper()
	var o orderAnswer
	if st := e.JSON("GET", "/api/v1/orders/"+id+"?token="+token, "", nil, &o); st != 200 {
		t.Fatalf("order %s: %d", id, st)
	}
	return o
}

func platformStock(t *testing.T, e *webtest.Env, token string) (units, reserved int64) {
	t.Helper()
	var stock []struct{ Units, Reserved int64 }
	e.JSON("GET", "/api/v1/shops/EU-PLATFORM/stock", token, nil, &stock)
	for _, s := range stock {
		units += s.Units
		reserved += s.Reserved
	}
	return units, reserved
}

func TestOrderIsPricedReservedAndReadableWithItsToken(t *testing.T) {
	e := webtest.New(t)
	f := newPlatform(t, e)
	st, o := placeOrder(t, e, 3, "")
	if st != 201 || o.Status != "pending_payment" || o.Total.Amount != 3600 || o.Total.Currency != "EUR" || o.CheckoutURL == "" || o.OrderToken == "" {
		t.Fatalf("order: %d %+v", st, o)
	}
	if len(o.Lines) != 1 || o.Lines[0].Lots[0].Lot != f.packed.Code {
		t.Fatalf("lines %+v", o.Lines)
	}
	if u, r := platformStock(t, e, f.eu); u != 20 || r != 3 {
		t.Fatalf("stock after reservation: %d units, %d reserved", u, r)
	}
	orderStatus(t, e, o.ID, o.OrderToken)
	if st := e.JSON("GET", "/api/v1/orders/"+o.ID+"?token=wrong", "", nil, nil); st != 404 {
		t.Fatalf("wrong token: %d", st)
	}
	if st := e.JSON("GET", "/api/v1/orders/"+o.ID, "", nil, nil); st != 401 {
		t.Fatalf("no token: %d", st)
	}
	if st := e.JSON("GET", "/api/v1/orders/"+o.ID, f.eu, nil, nil); st != 200 {
		t.Fatalf("channel manager: %d", st)
	}
	if st := e.JSON("GET", "/api/v1/orders/"+o.ID, f.trd, nil, nil); st != 404 {
		t.Fatalf("another shop's manager: %d", st)
	}
	var apiErr webtest.APIError
	if st := e.JSON("POST", "/api/v1/orders", "", map[string]any{"channel": "EU-PLATFORM", "lines": []map[string]any{{"sku": "SAF-1G", "units": 1}},
		"customer": map[string]any{"email": "x", "name": "X", "address": map[string]any{}}}, &apiErr); st != 400 || apiErr.Error.Field != "customer.email" {
		t.Fatalf("bad email: %d %+v", st, apiErr)
	}
	body := orderBody(1)
	body["total"] = map[string]any{"amount": 1, "currency": "EUR"}
	if st := e.JSON("POST", "/api/v1/orders", "", body, &apiErr); st != 400 || apiErr.Error.Field != "total" {
		t.Fatalf("client-sent total: %d %+v", st, apiErr)
	}
	if st, _ := placeOrder(t, e, 18, ""); st != 409 {
		t.Fatalf("more than is free: %d", st)
	}
	body = orderBody(1)
	body["channel"] = "TAROUDANNT"
	if st := e.JSON("POST", "/api/v1/orders", "", body, &apiErr); st != 400 || apiErr.Error.Field != "channel" {
		t.Fatalf("order on a till shop: %d %+v", st, apiErr)
	}
}

func TestIdempotencyKeyReturnsTheSameOrder(t *testing.T) {
	e := webtest.New(t)
	f := newPlatform(t, e)
	_, first := placeOrder(t, e, 2, "key-42")
	st, again := placeOrder(t, e, 2, "key-42")
	if st != 201 || again.ID != first.ID || again.OrderToken != first.OrderToken || again.CheckoutURL != first.CheckoutURL {
		t.Fatalf("retry: %d %+v vs %+v", st, again, first)
	}
	if _, r := platformStock(t, e, f.eu); r != 2 {
		t.Fatalf("a retried order reserved again: %d reserved", r)
	}
	if st, _ := placeOrder(t, e, 3, "key-42"); st != 422 {
		t.Fatalf("same key, other body: %d", st)
	}
}

// TestConcurrentOrdersNeverOverReserve: 200 customers order one jar each
// when 100 are in stock; at most 100 reserved, the rest get 409.
func TestConcurrentOrdersNeverOverReserve(t *testing.T) {
	e := webtest.New(t)
	f := newPlatform(t, e)
	// 80 more jars: a second packing of the same dried lot is not possible
	// (200 g → 150 g packed already), so stock 100 = 20 received + 80 from a
	// fresh lot.
	_, dried := f.f.dry(t, f.f.lot(t, f.f.harvest(t, "2025-11-05", 500)).Code, 500, 100)
	var more lotAnswer
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/packings", f.f.manager, map[string]any{"lot": dried.Code, "sku": "SAF-1G", "units": 80, "best_before": "2029-06-30"}, &more); st != 201 {
		t.Fatalf("second packing: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/shops/EU-PLATFORM/receipts", f.eu, map[string]any{"lot": more.Code, "units": 80}, nil); st != 201 {
		t.Fatalf("receipt: %d", st)
	}
	var wg sync.WaitGroup
	var ok, refused, other, n atomic.Int64
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch st, _ := placeOrderAs(t, e, 1, "", fmt.Sprintf("client%d", n.Add(1))); st {
			case 201:
				ok.Add(1)
			case 409:
				refused.Add(1)
			default:
				other.Add(1)
			}
		}()
	}
	wg.Wait()
	u, r := platformStock(t, e, f.eu)
	if ok.Load() != 100 || refused.Load() != 100 || other.Load() != 0 || u != 100 || r != 100 {
		t.Fatalf("%d placed, %d refused, %d other; %d units %d reserved", ok.Load(), refused.Load(), other.Load(), u, r)
	}
	checkShopLedger(t, e)
}

func TestWebhookPaysOnceAndRefusesForgeries(t *testing.T) {
	e := webtest.New(t)
	f := newPlatform(t, e)
	_, o := placeOrder(t, e, 2, "")
	now := time.Now()
	if st := webhookEvent(t, e, "", "checkout.session.completed", o.ID, "pi_test_1", now, "whsec_forged"); st != 400 {
		t.Fatalf("forged signature: %d", st)
	}
	if st := webhookEvent(t, e, "", "checkout.session.completed", o.ID, "pi_test_1", now.Add(-10*time.Minute), webtest.WebhookSecret); st != 400 {
		t.Fatalf("stale signature: %d", st)
	}
	if got := orderStatus(t, e, o.ID, o.OrderToken); got.Status != "pending_payment" {
		t.Fatalf("a refused webhook changed the order: %s", got.Status)
	}
	for i := range 10 {
		if st := webhookEvent(t, e, "evt_pay_once", "checkout.session.completed", o.ID, "pi_test_1", time.Now(), webtest.WebhookSecret); st != 200 {
			t.Fatalf("delivery %d: %d", i, st)
		}
	}
	if got := orderStatus(t, e, o.ID, o.OrderToken); got.Status != "paid" {
		t.Fatalf("after payment: %s", got.Status)
	}
	u, r := platformStock(t, e, f.eu)
	if u != 18 || r != 0 {
		t.Fatalf("paid once means 2 jars sold: %d units, %d reserved", u, r)
	}
	n, _ := e.Store.Collection("movements").CountDocuments(context.Background(), bson.M{"ref": o.ID, "kind": "sale"})
	if n != 1 {
		t.Fatalf("%d sale movements for one payment", n)
	}
	// A second, distinct completion event and a late expiry change nothing.
	webhookEvent(t, e, "", "checkout.session.completed", o.ID, "pi_test_1", time.Now(), webtest.WebhookSecret)
	webhookEvent(t, e, "", "checkout.session.expired", o.ID, "", time.Now(), webtest.WebhookSecret)
	if got := orderStatus(t, e, o.ID, o.OrderToken); got.Status != "paid" {
		t.Fatalf("late expiry changed a paid order: %s", got.Status)
	}
	var mails []map[string]any
	if st := e.JSON("GET", "/api/v1/shops/EU-PLATFORM/outbox", f.eu, nil, &mails); st != 200 || len(mails) != 1 || mails[0]["to"] != "claire@example.fr" ||
		!strings.Contains(mails[0]["body"].(string), "/orders/"+o.ID+"?token="+o.OrderToken) {
		t.Fatalf("confirmation email with the order's link: %d %v", st, mails)
	}
	// Stripe refunds it from its dashboard: charge.refunded finds the order
	// from the payment intent.
	if st := webhookEvent(t, e, "", "charge.refunded", "", "pi_test_1", time.Now(), webtest.WebhookSecret); st != 200 {
		t.Fatalf("charge.refunded: %d", st)
	}
	if got := orderStatus(t, e, o.ID, o.OrderToken); got.Status != "refunded" {
		t.Fatalf("after refund event: %s", got.Status)
	}
	checkShopLedger(t, e)
}

func TestExpiredOrdersReleaseStockAndAreNeverPaid(t *testing.T) {
	e := webtest.New(t)
	f := newPlatform(t, e)
	_, o := placeOrder(t, e, 5, "")
	// Stripe says the page expired.
	_, o2 := placeOrder(t, e, 4, "")
	if st := webhookEvent(t, e, "", "checkout.session.expired", o2.ID, "", time.Now(), webtest.WebhookSecret); st != 200 {
		t.Fatal(st)
	}
	if got := orderStatus(t, e, o2.ID, o2.OrderToken); got.Status != "expired" {
		t.Fatalf("session expired: %s", got.Status)
	}
	// The sweeper expires what ran out of time: the clock moves past it.
	if n, err := e.Orders.ExpireDue(context.Background()); err != nil || n != 0 {
		t.Fatalf("sweeper expired %d (%v) before the time", n, err)
	}
	e.Clock.Advance(orders.ReservationTTL + time.Minute)
	n, err := e.Orders.ExpireDue(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("sweeper expired %d (%v)", n, err)
	}
	if _, r := platformStock(t, e, f.eu); r != 0 {
		t.Fatalf("reservations left after expiry: %d", r)
	}
	// A payment that arrives after expiry is refunded, never marked paid.
	if st := webhookEvent(t, e, "", "checkout.session.completed", o.ID, "pi_late", time.Now(), webtest.WebhookSecret); st != 200 {
		t.Fatalf("late payment: %d", st)
	}
	if got := orderStatus(t, e, o.ID, o.OrderToken); got.Status != "refunded" {
		t.Fatalf("late payment left the order %s", got.Status)
	}
	if u, _ := platformStock(t, e, f.eu); u != 20 {
		t.Fatalf("a late payment sold stock: %d units", u)
	}
	checkShopLedger(t, e)
}

func TestFulfilmentAndBackOfficeRefund(t *testing.T) {
	e := webtest.New(t)
	f := newPlatform(t, e)
	_, o := placeOrder(t, e, 2, "")
	webhookEvent(t, e, "", "checkout.session.completed", o.ID, "pi_ship", time.Now(), webtest.WebhookSecret)
	var pl orderAnswer
	if st := e.JSON("GET", "/api/v1/orders/"+o.ID+"/packing-list", f.eu, nil, &pl); st != 200 || pl.Lines[0].Lots[0].Lot != f.packed.Code {
		t.Fatalf("packing list: %d %+v", st, pl)
	}
	var apiErr webtest.APIError
	if st := e.JSON("POST", "/api/v1/orders/"+o.ID+"/ship", f.eu, map[string]string{}, &apiErr); st != 400 || apiErr.Error.Field != "tracking" {
		t.Fatalf("ship without tracking: %d %+v", st, apiErr)
	}
	if st := e.JSON("POST", "/api/v1/orders/"+o.ID+"/ship", f.trd, map[string]string{"tracking": "6A123"}, nil); st != 403 {
		t.Fatalf("another shop ships: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/orders/"+o.ID+"/ship", f.eu, map[string]string{"tracking": "6A12345678901"}, nil); st != 200 {
		t.Fatalf("ship: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/orders/"+o.ID+"/deliver", f.eu, nil, nil); st != 200 {
		t.Fatalf("deliver: %d", st)
	}
	var refunded orderAnswer
	if st := e.JSON("POST", "/api/v1/orders/"+o.ID+"/refund", f.eu, map[string]any{"restock": true, "reason": "jars came back broken-sealed"}, &refunded); st != 200 || refunded.Status != "refunded" {
		t.Fatalf("refund: %d %+v", st, refunded)
	}
	if u, _ := platformStock(t, e, f.eu); u != 20 {
		t.Fatalf("restock after refund: %d units", u)
	}
	if st := e.JSON("POST", "/api/v1/orders/"+o.ID+"/refund", f.eu, nil, &refunded); st != 200 {
		t.Fatalf("refunding twice: %d", st)
	}
	if u, _ := platformStock(t, e, f.eu); u != 20 {
		t.Fatalf("second refund restocked again: %d units", u)
	}
	// Cancelling an unpaid order releases its units.
	_, o3 := placeOrder(t, e, 3, "")
	if st := e.JSON("POST", "/api/v1/orders/"+o3.ID+"/cancel", f.eu, map[string]string{"reason": "customer asked"}, nil); st != 200 {
		t.Fatalf("cancel: %d", st)
	}
	if _, r := platformStock(t, e, f.eu); r != 0 {
		t.Fatalf("cancel left %d reserved", r)
	}
	checkShopLedger(t, e)
}

// signedWebhook builds a checkout.session.completed event for orderID and
// its Stripe-Signature header, signed at signedAt with the test secret.
func signedWebhook(t *testing.T, e *webtest.Env, id, orderID string, signedAt time.Time) (payload []byte, header string) {
	var o struct {
		Total struct {
			Amount   int64  `json:"amount"`
			Currency string `json:"currency"`
		} `json:"total"`
	}
	e.JSON("GET", "/api/v1/orders/"+orderID, e.AdminToken, nil, &o)
	if o.Total.Currency == "" {
		o.Total.Currency = "EUR" // an unknown order: any amount
	}
	object := stripetest.CheckoutSession(t, stripetest.Session{OrderID: orderID, PaymentIntent: "pi_hostile", AmountTotal: o.Total.Amount, Currency: o.Total.Currency})
	payload = stripetest.Event(t, id, "checkout.session.completed", "", signedAt, object)
	return payload, stripetest.Sign(payload, webtest.WebhookSecret, signedAt)
}

// TestWebhookRefusesHostileDeliveries: a body altered after signing, no
// signature, a stale signature, a signed non-JSON body and an event naming
// an unknown order are all refused and change nothing.
func TestWebhookRefusesHostileDeliveries(t *testing.T) {
	e := webtest.New(t)
	newPlatform(t, e)
	_, o := placeOrder(t, e, 2, "")
	payload, header := signedWebhook(t, e, "evt_hostile_1", o.ID, time.Now())
	altered := []byte(strings.Replace(string(payload), `"pi_hostile"`, `"pi_evil00"`, 1))
	stalePayload, staleHeader := signedWebhook(t, e, "evt_hostile_2", o.ID, time.Now().Add(-10*time.Minute))
	notJSON := []byte("order=" + o.ID + "&paid=true")
	notJSONSigned := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: notJSON, Secret: webtest.WebhookSecret, Timestamp: time.Now()})
	unknownPayload, unknownHeader := signedWebhook(t, e, "evt_hostile_3", "ord_does_not_exist", time.Now())
	for _, tc := range []struct {
		name      string
		body      []byte
		header    []string
		low, high int
	}{
		{"altered after signing", altered, []string{"Stripe-Signature", header}, 400, 400},
		{"no signature", payload, nil, 400, 400},
		{"signed ten minutes ago", stalePayload, []string{"Stripe-Signature", staleHeader}, 400, 400},
		{"signed non-JSON body", notJSON, []string{"Stripe-Signature", notJSONSigned.Header}, 400, 400},
		{"unknown order", unknownPayload, []string{"Stripe-Signature", unknownHeader}, 400, 499},
	} {
		before := fmt.Sprint(counts(t, e))
		resp, body := e.Do("POST", "/api/v1/stripe/webhook", "", tc.body, tc.header...)
		if resp.StatusCode < tc.low || resp.StatusCode > tc.high {
			t.Errorf("%s: %d %s, want %d..%d", tc.name, resp.StatusCode, body, tc.low, tc.high)
		}
		if after := fmt.Sprint(counts(t, e)); after != before {
			t.Errorf("%s wrote: %s → %s", tc.name, before, after)
		}
		if got := orderStatus(t, e, o.ID, o.OrderToken); got.Status != "pending_payment" {
			t.Errorf("%s changed the order to %s", tc.name, got.Status)
		}
	}
	// The untouched delivery is still good: the refusals above did not
	// record its event as seen.
	if resp, body := e.Do("POST", "/api/v1/stripe/webhook", "", payload, "Stripe-Signature", header); resp.StatusCode != 200 {
		t.Fatalf("the genuine delivery: %d %s", resp.StatusCode, body)
	}
	if got := orderStatus(t, e, o.ID, o.OrderToken); got.Status != "paid" {
		t.Fatalf("after the genuine delivery: %s", got.Status)
	}
}

// TestConcurrentWebhookDeliveriesPayOnce: Stripe delivers the same event
// ten times at once; the order is paid once, with one set of sale
// movements, and no delivery gets a 5xx.
func TestConcurrentWebhookDeliveriesPayOnce(t *testing.T) {
	e := webtest.New(t)
	f := newPlatform(t, e)
	_, o := placeOrder(t, e, 2, "")
	payload, header := signedWebhook(t, e, "evt_concurrent", o.ID, time.Now())
	var wg sync.WaitGroup
	statuses := make([]int, 10)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := e.Do("POST", "/api/v1/stripe/webhook", "", payload, "Stripe-Signature", header)
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	ok := 0
	for _, st := range statuses {
		switch st {
		case 200:
			ok++
		case 409: // Stripe retries it
		default:
			t.Errorf("a concurrent delivery got %d (all: %v)", st, statuses)
		}
	}
	if ok == 0 {
		// Every delivery asked for a retry: the retry must pay.
		if resp, body := e.Do("POST", "/api/v1/stripe/webhook", "", payload, "Stripe-Signature", header); resp.StatusCode != 200 {
			t.Fatalf("retry after %v: %d %s", statuses, resp.StatusCode, body)
		}
	}
	if got := orderStatus(t, e, o.ID, o.OrderToken); got.Status != "paid" {
		t.Fatalf("after ten deliveries: %s (%v)", got.Status, statuses)
	}
	n, _ := e.Store.Collection("movements").CountDocuments(context.Background(), bson.M{"ref": o.ID, "kind": "sale"})
	if n != 1 {
		t.Fatalf("%d sale movements for one payment (%v)", n, statuses)
	}
	if u, r := platformStock(t, e, f.eu); u != 18 || r != 0 {
		t.Fatalf("paid once means 2 jars sold: %d units, %d reserved", u, r)
	}
	checkShopLedger(t, e)
}
