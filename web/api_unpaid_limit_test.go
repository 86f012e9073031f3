package web_test

import (
	"testing"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/web/webtest"
)

// TestUnpaidLimitIsSetByThePlatform: the EU platform's manager (or the
// admin) sets how many units of a product one customer may hold unpaid;
// the next order is held to it; 0 restores the default. A bad value is
// refused naming the field and changes nothing; a boutique's or a
// cooperative's manager may not set it.
func TestUnpaidLimitIsSetByThePlatform(t *testing.T) {
	e := webtest.New(t)
	f := newPlatform(t, e)
	limitOf := func() int64 {
		t.Helper()
		var p struct {
			UnpaidLimit int64 `json:"unpaid_limit"`
		}
		if st := e.JSON("GET", "/api/v1/products/SAF-1G", e.AdminToken, nil, &p); st != 200 {
			t.Fatalf("product: %d", st)
		}
		return p.UnpaidLimit
	}
	put := func(token string, body any) (int, webtest.APIError) {
		t.Helper()
		var apiErr webtest.APIError
		st := e.JSON("PUT", "/api/v1/products/SAF-1G/unpaid-limit", token, body, &apiErr)
		return st, apiErr
	}
	if st, _ := put(f.eu, map[string]any{"unpaid_limit": 2}); st != 200 || limitOf() != 2 {
		t.Fatalf("the platform's manager sets 2: %d, limit %d", st, limitOf())
	}
	if st, o := placeOrder(t, e, 3, ""); st != 409 {
		t.Fatalf("3 units over a limit of 2: %d %+v", st, o)
	}
	if st, _ := put(e.AdminToken, map[string]any{"unpaid_limit": 0}); st != 200 || limitOf() != 0 {
		t.Fatalf("the admin restores the default: %d, limit %d", st, limitOf())
	}
	if st, _ := placeOrder(t, e, 3, ""); st != 201 {
		t.Fatalf("3 units under the default limit: %d", st)
	}
	if st, _ := put(f.eu, map[string]any{"unpaid_limit": 4}); st != 200 {
		t.Fatalf("limit 4: %d", st)
	}
	if st, _ := placeOrder(t, e, 2, ""); st != 409 {
		t.Fatalf("3 held + 2 over a limit of 4: %d", st)
	}

	for _, bad := range []any{
		map[string]any{"unpaid_limit": -1},
		map[string]any{"unpaid_limit": 2.5},
		map[string]any{"unpaid_limit": "3"},
		map[string]any{"unpaid_limit": 10001},
		map[string]any{"unpaid_limit": nil},
		map[string]any{},
	} {
		if st, apiErr := put(f.eu, bad); st != 400 || apiErr.Error.Field != "unpaid_limit" {
			t.Errorf("%v: %d %+v, want 400 naming unpaid_limit", bad, st, apiErr)
		}
	}
	if st, apiErr := put(f.eu, map[string]any{"unpaid_limit": 3, "limit": 1}); st != 400 || apiErr.Error.Field != "limit" {
		t.Errorf("an unknown field: %d %+v", st, apiErr)
	}
	coop := e.User("manager@siroua.ma", access.CoopManager, "SIROUA")
	for who, token := range map[string]string{"a boutique's manager": f.trd, "a cooperative's manager": coop} {
		if st, _ := put(token, map[string]any{"unpaid_limit": 50}); st != 403 {
			t.Errorf("%s sets the limit: %d", who, st)
		}
	}
	if st, _ := put("", map[string]any{"unpaid_limit": 50}); st != 401 {
		t.Errorf("anonymous: %d", st)
	}
	if st := e.JSON("PUT", "/api/v1/products/NOPE-1/unpaid-limit", f.eu, map[string]any{"unpaid_limit": 5}, nil); st != 404 {
		t.Errorf("an unknown product: %d", st)
	}
	if got := limitOf(); got != 4 {
		t.Fatalf("refused requests changed the limit to %d", got)
	}
}
