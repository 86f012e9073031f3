// Package currency holds the one list of currencies the network sells in:
// catalogue prices (catalog.Money) and shops' and channels' currencies
// (shops.Shop) are checked against it, and forms offer it.
//
// Invariant: codes are ISO 4217 and amounts in them are kept in minor
// units (two decimals for every code listed).
package currency

import "github.com/terroir-coop/terroir/internal/problem"

// Codes are the currencies the network sells in, the home currency first.
var Codes = []string{"MAD", "EUR"}

// Check refuses a code that is not one of Codes, naming field.
func Check(field, code string) error { return problem.OneOf(field, code, Codes) }
