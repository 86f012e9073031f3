package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/stripetest"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/web/webtest"
)

// metricsText reads /metrics.
func metricsText(t *testing.T, e *webtest.Env) string {
	t.Helper()
	resp, body := e.Do("GET", "/metrics", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	return string(body)
}

// metricValue is the value of one series of /metrics ("" when absent).
func metricValue(text, series string) string {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

// TestPaymentAlertsAreCountedAndShownToTheAdmin: money that does not match
// its order and a webhook in an unknown Stripe API version each count on
// /metrics under their kind, and the admin page lists them in its
// language; a forged signature counts nothing.
func TestPaymentAlertsAreCountedAndShownToTheAdmin(t *testing.T) {
	e := webtest.New(t)
	newPlatform(t, e)
	text := metricsText(t, e)
	for _, kind := range orders.AlertKinds {
		if got := metricValue(text, `terroir_payment_alerts_total{kind="`+kind+`"}`); got != "0" {
			t.Fatalf("before any alert, %s: %q", kind, got)
		}
	}
	b := newBrowser(t, e)
	b.login("/")
	if _, page := b.get("/admin"); !strings.Contains(page, "Aucune alerte de paiement") {
		t.Fatal("the admin page does not say there is no alert")
	}

	_, o := placeOrder(t, e, 1, "")
	now := time.Now()
	if st := postEvent(t, e, "evt_wrong_amount", orders.EventCheckoutCompleted,
		stripetest.Session{OrderID: o.ID, PaymentIntent: "pi_wrong", AmountTotal: o.Total.Amount - 1, Currency: o.Total.Currency}, now, webtest.WebhookSecret); st != 200 {
		t.Fatalf("mismatched payment: %d", st)
	}
	object := stripetest.CheckoutSession(t, stripetest.Session{OrderID: o.ID, PaymentIntent: "pi_v", AmountTotal: o.Total.Amount, Currency: o.Total.Currency})
	payload := stripetest.Event(t, "evt_future_version", orders.EventCheckoutCompleted, "2099-01-01.future", now, object)
	if resp, _ := e.Do("POST", "/api/v1/stripe/webhook", "", payload, "Stripe-Signature", stripetest.Sign(payload, webtest.WebhookSecret, now)); resp.StatusCode != 422 {
		t.Fatalf("unknown API version: %d", resp.StatusCode)
	}
	// A forged signature is anyone's noise: refused, never an alert.
	if resp, _ := e.Do("POST", "/api/v1/stripe/webhook", "", payload, "Stripe-Signature", stripetest.Sign(payload, "whsec_wrong", now)); resp.StatusCode != 400 {
		t.Fatalf("forged signature: %d", resp.StatusCode)
	}
	text = metricsText(t, e)
	for kind, want := range map[string]string{orders.AlertAmountMismatch: "1", orders.AlertUnknownAPIVersion: "1", orders.AlertOther: "0"} {
		if got := metricValue(text, `terroir_payment_alerts_total{kind="`+kind+`"}`); got != want {
			t.Errorf("alerts of kind %s: %q, want %s", kind, got, want)
		}
	}
	if got := orderStatus(t, e, o.ID, o.OrderToken); got.Status != "pending_payment" {
		t.Fatalf("an alert changed the order to %s", got.Status)
	}

	_, page := b.get("/admin")
	for _, want := range []string{"Montant payé différent de la commande", "Webhook refusé : version d&#39;API Stripe inconnue",
		`<code dir="ltr">` + o.ID + `</code>`, "evt_wrong_amount", "evt_future_version"} {
		if !strings.Contains(page, want) {
			t.Errorf("the admin page lacks %q", want)
		}
	}
	// Newest first.
	if strings.Index(page, "evt_future_version") > strings.Index(page, "evt_wrong_amount") {
		t.Error("the admin page does not list the newest alert first")
	}
	if _, page := b.get("/admin?lang=ar"); !strings.Contains(page, "المبلغ المدفوع مختلف عن مبلغ الطلب") || !strings.Contains(page, `dir="rtl"`) {
		t.Error("the Arabic admin page does not name the alert")
	}
	if _, page := b.get("/admin?lang=en"); !strings.Contains(page, "Webhook refused: unknown Stripe API version") {
		t.Error("the English admin page does not name the alert")
	}
}

// TestAlertLogIsBounded: the log keeps its last alerts only, counts every
// one, and counts a kind it does not know as "other".
func TestAlertLogIsBounded(t *testing.T) {
	l := orders.NewAlertLog(3, nil)
	for i := 0; i < 10; i++ {
		l.Record(t.Context(), orders.Alert{Kind: orders.AlertAmountMismatch, EventID: string(rune('a' + i)), Detail: strings.Repeat("x", 1000)})
	}
	l.Record(t.Context(), orders.Alert{Kind: "made-up kind"})
	recent := l.Recent()
	if len(recent) != 3 || recent[0].Kind != "made-up kind" || recent[1].EventID != "j" {
		t.Fatalf("recent: %+v", recent)
	}
	if len([]rune(recent[1].Detail)) > 301 {
		t.Fatalf("a detail of %d characters kept", len(recent[1].Detail))
	}
	if l.Count(orders.AlertAmountMismatch) != 10 || l.Count(orders.AlertOther) != 1 || l.Count("made-up kind") != 0 {
		t.Fatalf("counts: %d mismatches, %d other", l.Count(orders.AlertAmountMismatch), l.Count(orders.AlertOther))
	}
}
