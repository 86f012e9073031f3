package catalog

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/internal/problem"
)

// FuzzMoney checks price validation and formatting: Validate accepts only
// MAD or EUR amounts from 0 to 100 000 000 minor units and otherwise names
// the field at fault; String never panics and writes the exact amount, so
// what a receipt or statement prints reads back as what was charged.
func FuzzMoney(f *testing.F) {
	for _, seed := range []struct {
		amount   int64
		currency string
	}{
		{1200, "EUR"}, {0, "MAD"}, {100_000_000, "MAD"}, {100_000_001, "EUR"}, {-1, "EUR"}, {5, "eur"},
		{math.MaxInt64, "EUR"}, {math.MinInt64, "MAD"}, {-250, "MAD"}, {7, ""}, {7, "EUR "},
	} {
		f.Add(seed.amount, seed.currency)
	}
	f.Fuzz(func(t *testing.T, amount int64, currency string) {
		m := Money{Amount: amount, Currency: currency}
		err := m.Validate("price")
		valid := (currency == "MAD" || currency == "EUR") && amount >= 0 && amount <= 100_000_000
		if valid != (err == nil) {
			t.Fatalf("%+v: Validate = %v", m, err)
		}
		if err != nil {
			if p, ok := problem.As(err); !ok || p.Code != problem.Invalid || !strings.HasPrefix(p.Field, "price.") {
				t.Fatalf("%+v: %v is not an invalid error on a price field", m, err)
			}
		}
		s := m.String()
		num, _, _ := strings.Cut(s, " ")
		neg := strings.HasPrefix(num, "-")
		whole, frac, ok := strings.Cut(strings.TrimPrefix(num, "-"), ".")
		if !ok || len(frac) != 2 || neg != (amount < 0) {
			t.Fatalf("%+v: String = %q", m, s)
		}
		w, err1 := strconv.ParseUint(whole, 10, 64)
		c, err2 := strconv.ParseUint(frac, 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("%+v: String = %q", m, s)
		}
		abs := uint64(amount)
		if amount < 0 {
			abs = -abs
		}
		if w*100+c != abs {
			t.Fatalf("%+v: String = %q, which reads back as %d", m, s, w*100+c)
		}
	})
}
