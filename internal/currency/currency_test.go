package currency_test

import (
	"testing"

	"github.com/terroir-coop/terroir/internal/currency"
	"github.com/terroir-coop/terroir/internal/problem"
)

func TestCheck(t *testing.T) {
	for _, c := range currency.Codes {
		if err := currency.Check("currency", c); err != nil {
			t.Errorf("%s: %v", c, err)
		}
	}
	for _, c := range []string{"", "mad", "USD", "MAD "} {
		e, ok := problem.As(currency.Check("price.currency", c))
		if !ok || e.Code != problem.Invalid || e.Field != "price.currency" {
			t.Errorf("%q: got %v, want an Invalid error on price.currency", c, e)
		}
	}
}
