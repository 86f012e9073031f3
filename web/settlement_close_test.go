package web_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/web/webtest"
)

// TestClosedStatementNeverChanges: a month closes only once it has ended;
// after it is closed, a refund of its online order and a return of its
// till sale are entries of the month they happen in, a sale dated in the
// closed month (a till whose clock is behind) is booked in the next open
// month and both statements say so, and the closed statement's entries and
// totals stay exactly as they were closed.
func TestClosedStatementNeverChanges(t *testing.T) {
	e := webtest.New(t)
	f := newPlatform(t, e)
	var tr struct {
		ID string `json:"id"`
	}
	if st := e.JSON("POST", "/api/v1/shops/EU-PLATFORM/transfers", f.eu, map[string]any{"to": "TAROUDANNT", "lines": []map[string]any{{"lot": f.packed.Code, "units": 4}}}, &tr); st != 201 {
		t.Fatalf("transfer: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/transfers/"+tr.ID+"/receive", f.trd, nil, nil); st != 200 {
		t.Fatalf("arrival: %d", st)
	}
	var sale struct {
		ID string `json:"id"`
	}
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/sales", f.trd, map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 2}}, "payment": "cash"}, &sale); st != 201 {
		t.Fatalf("till sale: %d", st)
	}
	_, o := placeOrder(t, e, 3, "")
	if st := webhookEvent(t, e, "", orders.EventCheckoutCompleted, o.ID, "pi_closed", e.Clock.Now(), webtest.WebhookSecret); st != 200 {
		t.Fatalf("payment: %d", st)
	}
	month := e.Clock.Now().UTC().Format("2006-01")
	var apiErr webtest.APIError
	for _, m := range []string{month, addMonth(month, 1), "2999-01"} {
		if code := e.JSON("POST", "/api/v1/cooperatives/SIROUA/statements/"+m+"/close", e.AdminToken, nil, &apiErr); code != 409 || apiErr.Error.Field != "month" {
			t.Fatalf("closing %s before it ends: %d %+v", m, code, apiErr)
		}
	}

	// The month ends; the admin closes it.
	now := e.Clock.Now().UTC()
	nextStart := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	e.Clock.Advance(nextStart.Sub(now) + 2*time.Hour)
	admin := e.Token(webtest.AdminEmail, webtest.Password)
	trd := e.Token("trd@shop.ma", webtest.Password)
	eu := e.Token("eu@plateforme.fr", webtest.Password)
	var closed orders.Statement
	if code := e.JSON("POST", "/api/v1/cooperatives/SIROUA/statements/"+month+"/close", admin, nil, &closed); code != 200 || !closed.Closed {
		t.Fatalf("close %s: %d", month, code)
	}
	if len(closed.Lines) != 2 {
		t.Fatalf("closed statement lines: %+v", closed.Lines)
	}

	// Next month: the online order is refunded, one jar comes back to the till.
	if st := e.JSON("POST", "/api/v1/orders/"+o.ID+"/refund", eu, map[string]any{"restock": true, "reason": "colis abîmé"}, nil); st != 200 {
		t.Fatalf("refund: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/returns", trd, map[string]any{"sale": sale.ID, "lot": f.packed.Code, "units": 1}, nil); st != 200 && st != 201 {
		t.Fatalf("return: %d", st)
	}
	// A till whose clock is three hours behind sells a jar "in" the closed month.
	e.Clock.Advance(-3 * time.Hour)
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/sales", trd, map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 1}}, "payment": "cash"}, nil); st != 201 {
		t.Fatalf("late sale: %d", st)
	}
	e.Clock.Advance(3 * time.Hour)

	var again orders.Statement
	if code := e.JSON("GET", "/api/v1/cooperatives/SIROUA/statements/"+month, admin, nil, &again); code != 200 {
		t.Fatalf("closed statement: %d", code)
	}
	if !reflect.DeepEqual(again.Lines, closed.Lines) || !reflect.DeepEqual(again.Totals, closed.Totals) {
		t.Fatalf("the closed statement changed:\nwas %+v\n    %+v\nnow %+v\n    %+v", closed.Lines, closed.Totals, again.Lines, again.Totals)
	}
	next := addMonth(month, 1)
	if len(again.LaterEntries) != 1 || again.LaterEntries[0].BookedIn != next || again.LaterEntries[0].Units != 1 {
		t.Fatalf("the closed statement does not say where the late sale went: %+v", again.LaterEntries)
	}

	var open orders.Statement
	if code := e.JSON("GET", "/api/v1/cooperatives/SIROUA/statements/"+next, admin, nil, &open); code != 200 {
		t.Fatalf("next statement: %d", code)
	}
	kinds := map[string]int64{}
	late := 0
	for _, l := range open.Lines {
		kinds[l.Kind] += l.Units
		if l.LateFrom == month {
			late++
		}
		if l.ProducerShare+l.ShopMargin != l.Gross {
			t.Errorf("line %+v: share + margin ≠ gross", l)
		}
	}
	if kinds[orders.EntryRefund] != -3 || kinds[orders.EntryReturn] != -1 || kinds[orders.EntrySale] != 1 || late != 1 {
		t.Fatalf("next month's entries: %+v (late %d)", open.Lines, late)
	}
	for _, tot := range open.Totals {
		var gross, share int64
		for _, l := range open.Lines {
			if l.Currency == tot.Currency {
				gross += l.Gross
				share += l.ProducerShare
			}
		}
		if tot.Gross != gross || tot.ProducerShare != share {
			t.Fatalf("%s totals %+v do not add up the lines (%d, %d)", tot.Currency, tot, gross, share)
		}
	}
}

func addMonth(month string, n int) string {
	t, _ := time.Parse("2006-01", month)
	return t.AddDate(0, n, 0).Format("2006-01")
}
