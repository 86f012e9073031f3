package traceability

import (
	"slices"
	"strings"

	"github.com/terroir-coop/terroir/internal/problem"
)

// Crops are what parcels grow and harvests record; an origin lot's product
// kind is its harvests' crop.
var Crops = []string{"saffron", "argan", "olive", "pamm", "rose", "honey", "almond"}

// productKinds maps every product kind to the base unit its quantities are
// kept in: produce and dry goods by mass, oils and waters by volume, crafts
// by piece. Kinds name the plausibility table's rows (plausibility.go).
var productKinds = map[string]Unit{
	"saffron": Milligram, "saffron_dried": Milligram,
	"argan": Milligram, "argan_kernels": Milligram, "argan_oil": Millilitre,
	"olive": Milligram, "olive_oil": Millilitre,
	"pamm": Milligram, "pamm_dried": Milligram, "essential_oil": Millilitre, "hydrosol": Millilitre,
	"rose":   Milligram,
	"honey":  Milligram,
	"almond": Milligram, "almond_kernels": Milligram,
	"crafts": Piece,
}

// ProductKinds lists the product kinds, sorted.
func ProductKinds() []string {
	out := make([]string, 0, len(productKinds))
	for k := range productKinds {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// KindUnit returns the base unit of a product kind.
func KindUnit(kind string) (Unit, bool) {
	u, ok := productKinds[kind]
	return u, ok
}

// checkKind validates a product kind field.
func checkKind(field, kind string) (Unit, error) {
	u, ok := productKinds[kind]
	if !ok {
		return "", problem.Field(field, "must be one of %s", strings.Join(ProductKinds(), ", "))
	}
	return u, nil
}

// baseOfKind converts q for a product kind: the unit must be of the kind's
// dimension (argan oil in l or ml, saffron in g or kg…).
func baseOfKind(field string, q Quantity, kind string) (int64, Unit, error) {
	amount, unit, err := q.Base()
	if err != nil {
		return 0, "", renamed(err, field)
	}
	want := productKinds[kind]
	if want != "" && unit != want {
		return 0, "", problem.Field(field, "%s is counted in %s (%s), not %s", problem.Kind(kind), problem.Dimension(Dimension(want)), want, problem.Dimension(Dimension(unit)))
	}
	return amount, unit, nil
}

// renamed returns a field error about the named field instead (a rule
// written for "quantity" reports "inputs[2].quantity").
func renamed(err error, field string) error {
	if fe, ok := problem.As(err); ok {
		c := *fe
		c.Field = field
		return &c
	}
	return err
}

// KindDensity is the lowest plausible density (kg/l, i.e. g/ml) of a kind
// counted by volume, used to weigh outputs against inputs for the hard
// limits (plausibility.go): the lowest density errs towards accepting. It is
// 0 for kinds counted by mass or pieces.
func KindDensity(kind string) float64 {
	switch kind {
	case "olive_oil", "argan_oil":
		return 0.91 // 0.91–0.92 at 20 °C
	case "essential_oil":
		return 0.85 // 0.85–0.95 depending on the plant; rose is near the bottom
	case "hydrosol":
		return 0.99 // water with traces of oil
	}
	return 0
}
