package traceability

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

// FuzzQuantityBase checks the conversion of API quantities to base units:
// it never panics, never answers a non-positive amount without an error,
// and what it answers converts to itself again (a base amount in its base
// unit is already converted), so no quantity changes when it is stored and
// read back. FormatQuantity must render any amount without panicking and
// give back the exact amount for base-unit renderings.
func FuzzQuantityBase(f *testing.F) {
	for _, seed := range []struct {
		amount int64
		unit   string
	}{
		{1250, "g"}, {1, "kg"}, {3, " L "}, {20, "pcs"}, {1, "mg"}, {0, "g"}, {-5, "kg"},
		{math.MaxInt64, "mg"}, {math.MaxInt64 / 1_000_000, "kg"}, {math.MaxInt64/1_000_000 + 1, "kg"},
		{math.MinInt64, "g"}, {10, ""}, {10, "tonnes"}, {10, "KG"}, {10, "\u212a\u0261"},
	} {
		f.Add(seed.amount, seed.unit)
	}
	f.Fuzz(func(t *testing.T, amount int64, unit string) {
		q := Quantity{Amount: amount, Unit: unit}
		base, u, err := q.Base()
		_ = FormatQuantity(amount, Unit(unit))
		if err != nil {
			if base != 0 || u != "" {
				t.Fatalf("%+v: error %v with a result %d %q", q, err, base, u)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "quantity" {
				t.Fatalf("%+v: error %v is not a FieldError on quantity", q, err)
			}
			return
		}
		if base <= 0 {
			t.Fatalf("%+v: base amount %d without an error", q, base)
		}
		if Dimension(u) == "" {
			t.Fatalf("%+v: base unit %q has no dimension", q, u)
		}
		if base < amount || base%amount != 0 {
			t.Fatalf("%+v: base amount %d is not a whole multiple of the amount", q, base)
		}
		again, u2, err := Quantity{Amount: base, Unit: string(u)}.Base()
		if err != nil || again != base || u2 != u {
			t.Fatalf("%+v → %d %s, which converts again to %d %s, %v", q, base, u, again, u2, err)
		}
		if s := FormatQuantity(base, u); u == Piece || u == Milligram || u == Millilitre {
			if back, ok := parseFormatted(s); !ok || back != base {
				t.Fatalf("FormatQuantity(%d, %s) = %q, which reads back as %d", base, u, s, back)
			}
		}
	})
}

// parseFormatted reads what FormatQuantity writes ("1.25 kg", "500 mg")
// back into base units, exactly.
func parseFormatted(s string) (int64, bool) {
	num, unit, ok := strings.Cut(s, " ")
	if !ok {
		return 0, false
	}
	scale := map[string]int64{"kg": 1_000_000, "g": 1_000, "mg": 1, "l": 1_000, "ml": 1, "pcs": 1}[unit]
	if scale == 0 {
		return 0, false
	}
	whole, frac, _ := strings.Cut(num, ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, false
	}
	v := w * scale
	if frac != "" {
		digits := len(strconv.FormatInt(scale, 10)) - 1
		if len(frac) > digits {
			return 0, false
		}
		fv, err := strconv.ParseInt(frac+strings.Repeat("0", digits-len(frac)), 10, 64)
		if err != nil {
			return 0, false
		}
		v += fv
	}
	return v, true
}
