package traceability

import (
	"math"
	"strconv"
	"strings"

	"github.com/terroir-coop/terroir/internal/problem"
)

// Unit is a base unit of quantity. Every stored quantity is an int64 count of
// one of these, so mass balance is exact integer arithmetic: no float ever
// decides whether a lot still has stock.
type Unit string

// Base units: one per dimension, so two quantities of the same dimension are
// always directly comparable.
const (
	Milligram  Unit = "mg"  // mass
	Millilitre Unit = "ml"  // volume
	Piece      Unit = "pcs" // count
)

// Dimensions returned by Dimension.
const (
	DimensionMass   = "mass"
	DimensionVolume = "volume"
	DimensionCount  = "count"
)

// Quantity is a quantity as it arrives in API JSON: an integer amount in any
// accepted unit (mg, g, kg, ml, l, pcs). It is converted with Base before it
// is stored; only base amounts are ever compared or summed.
type Quantity struct {
	Amount int64  `json:"amount"`
	Unit   string `json:"unit"`
}

// unitFactor says how to bring an accepted API unit to its base unit.
type unitFactor struct {
	base   Unit
	factor int64
}

// acceptedUnit maps an API unit to its base unit. It is a function rather
// than a package-level map so that no package state can be mutated.
func acceptedUnit(u string) (unitFactor, bool) {
	switch u {
	case "mg":
		return unitFactor{Milligram, 1}, true
	case "g":
		return unitFactor{Milligram, 1_000}, true
	case "kg":
		return unitFactor{Milligram, 1_000_000}, true
	case "ml":
		return unitFactor{Millilitre, 1}, true
	case "l":
		return unitFactor{Millilitre, 1_000}, true
	case "pcs":
		return unitFactor{Piece, 1}, true
	}
	return unitFactor{}, false
}

// Base converts q to its base unit. The unit is matched after trimming and
// lower-casing, because "L" and "Kg" are what people type for litres and
// kilograms. It returns a *FieldError on field "quantity" (re-prefix it with
// WithPrefix) when the amount is not positive, the unit is unknown, or the
// converted amount does not fit in an int64.
func (q Quantity) Base() (amount int64, unit Unit, err error) {
	u := strings.ToLower(strings.TrimSpace(q.Unit))
	conv, ok := acceptedUnit(u)
	if !ok {
		if u == "" {
			return 0, "", problem.Field("quantity", "unit is required (one of mg, g, kg, ml, l, pcs)")
		}
		return 0, "", problem.Field("quantity", "unknown unit %q (use mg, g, kg, ml, l or pcs)", q.Unit)
	}
	if q.Amount <= 0 {
		return 0, "", problem.Field("quantity", "amount must be a positive whole number, got %d", q.Amount)
	}
	if q.Amount > math.MaxInt64/conv.factor {
		return 0, "", problem.Field("quantity", "%d %s is too large", q.Amount, u)
	}
	return q.Amount * conv.factor, conv.base, nil
}

// Dimension returns "mass", "volume" or "count" for a base unit, and "" for
// anything else. Two quantities may be added or compared only when their
// dimensions match.
func Dimension(u Unit) string {
	switch u {
	case Milligram:
		return DimensionMass
	case Millilitre:
		return DimensionVolume
	case Piece:
		return DimensionCount
	}
	return ""
}

// FormatQuantity renders a base amount for people, in English symbols: it
// picks the largest display unit (kg, g, mg; l, ml) in which the amount is
// written exactly with at most three decimals, so nothing is rounded away on
// a trace page or audit report — 1250000 mg is "1.25 kg", 1000001 mg is
// "1000.001 g", 500 mg is "500 mg". Pieces and unknown units are printed as
// they are. Pages write the same choice in their reader's language (web/i18n's
// Locale.Quantity); messages carry a Measure, which prints as this.
func FormatQuantity(amount int64, unit Unit) string {
	return ShowQuantity(amount, unit).String()
}

// Shown is a base amount as people read it: a number in a display unit,
// chosen as FormatQuantity says. Whole and Fraction are its digits before
// and after the decimal point (Fraction has no trailing zero and is empty
// for a whole number), so a page can write them with its own separators.
type Shown struct {
	Negative bool
	Whole    uint64
	Fraction string
	Unit     string // display unit: kg, g, mg, l, ml, pcs (or the unknown unit as stored)
}

// ShowQuantity is how FormatQuantity writes an amount, in parts.
func ShowQuantity(amount int64, unit Unit) Shown {
	type display struct {
		name  string
		scale int64
	}
	var ladder []display
	switch unit {
	case Milligram:
		ladder = []display{{"kg", 1_000_000}, {"g", 1_000}}
	case Millilitre:
		ladder = []display{{"l", 1_000}}
	}
	for _, d := range ladder {
		// Exact with three decimals means divisible by scale/1000.
		if abs64(amount) >= d.scale && amount%(d.scale/1000) == 0 {
			return scaled(amount, d.scale, d.name)
		}
	}
	return scaled(amount, 1, string(unit))
}

// String is the English form: "1.25 kg", "-3 pcs".
func (s Shown) String() string {
	n := strconv.FormatUint(s.Whole, 10)
	if s.Fraction != "" {
		n += "." + s.Fraction
	}
	if s.Negative {
		n = "-" + n
	}
	return n + " " + s.Unit
}

// Amount is a quantity in a base unit as a message argument: the English
// message prints it as FormatQuantity does, a page in its language and
// symbols ("250 pièces", "1,25 kg", "250 قطعة"), as with a problem.Term.
type Amount struct {
	Amount int64
	Unit   Unit
}

// String is FormatQuantity of the amount.
func (a Amount) String() string { return FormatQuantity(a.Amount, a.Unit) }

// scaled splits amount/scale into whole and fractional digits without
// floating point, with trailing zeros of the fraction removed.
func scaled(amount, scale int64, name string) Shown {
	s := Shown{Unit: name}
	// Work in uint64 so that math.MinInt64 does not overflow on negation.
	u := uint64(amount)
	if amount < 0 {
		s.Negative = true
		u = uint64(-(amount + 1)) + 1
	}
	s.Whole = u / uint64(scale)
	frac := u % uint64(scale)
	if frac == 0 {
		return s
	}
	digits := len(strconv.FormatInt(scale, 10)) - 1
	fs := strconv.FormatUint(frac, 10)
	fs = strings.Repeat("0", digits-len(fs)) + fs
	s.Fraction = strings.TrimRight(fs, "0")
	return s
}

// formatScaled writes amount/scale in decimal, trailing zeros of the
// fraction removed ("235.4").
func formatScaled(amount, scale int64) string {
	s := scaled(amount, scale, "")
	return strings.TrimSuffix(s.String(), " ")
}

func abs64(v int64) int64 {
	if v < 0 {
		if v == math.MinInt64 {
			return math.MaxInt64
		}
		return -v
	}
	return v
}

// addQuantities sums two non-negative base amounts, reporting false when the
// sum does not fit in an int64. Each quantity is bounded by Base, but sums of
// many (a parcel's season, a lot's harvests) are not, and a wrapped sum would
// turn into a negative total or a store error after part of a request was
// written.
func addQuantities(a, b int64) (int64, bool) {
	if b > 0 && a > math.MaxInt64-b {
		return 0, false
	}
	return a + b, true
}

// errTotalTooLarge is the refusal of a quantity whose total with what is
// already recorded would not fit.
func errTotalTooLarge(field string) error {
	return problem.Field(field, "is too large: the total it makes with what is already recorded cannot be counted")
}
