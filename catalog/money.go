package catalog

import (
	"fmt"
	"strings"

	"github.com/terroir-coop/terroir/internal/currency"
	"github.com/terroir-coop/terroir/internal/problem"
)

// Money is an amount in minor units (centimes, cents) of an ISO 4217
// currency. Never a float: sums and shares are exact.
type Money struct {
	Amount   int64  `json:"amount" bson:"amount"`
	Currency string `json:"currency" bson:"currency"`
}

// Validate checks a price: a currency of currency.Codes and an amount from
// 0 to a million units of it.
func (m Money) Validate(field string) error {
	if err := currency.Check(field+".currency", m.Currency); err != nil {
		return err
	}
	if m.Amount < 0 || m.Amount > 100_000_000 {
		return problem.Field(field+".amount", "must be a whole number of minor units (centimes) from 0 to 100 000 000")
	}
	return nil
}

// String formats the amount for people: "120.00 MAD", "12.50 EUR".
func (m Money) String() string {
	sign := ""
	// In uint64, so that the most negative amount is negated exactly.
	a := uint64(m.Amount)
	if m.Amount < 0 {
		sign, a = "-", -a
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, a/100, a%100, strings.TrimSpace(m.Currency))
}
