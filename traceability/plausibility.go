package traceability

import (
	"fmt"
	"math"
	"strconv"

	"github.com/terroir-coop/terroir/internal/problem"
)

// The plausibility table is the one place that says what the processes can
// make and how much of it: each transformation row is an edge of the process
// graph (a process turns an input kind into an output kind), with the yield
// range that flags what is unusual and the hard limit that refuses what is
// impossible. Harvest rows give the same per crop and square metre.
//
// Plausibility ranges flag harvests and transformations whose figures are
// outside what the crop or process typically gives, which is how laundering
// of product from elsewhere, or a unit mistake, first shows. A flag is not a
// rejection: the lot is flagged, someone writes a justification, auditors
// see both. The ranges are deliberately wide (a flag costs a cooperative
// manager time) and are meant to be reviewed by the cooperatives' agronomist;
// every figure says where it comes from and which ones are estimates.
//
// Hard limits are different: they say what no field and no process on earth
// gives, so a figure beyond them is a typing mistake (kg for g, an extra
// zero) or product from elsewhere, and it is refused (problem.Unprocessable)
// before anything is stored:
//   - a harvest whose season total on the parcel is more than ten times the
//     top of its crop's range per square metre;
//   - a transformation whose outputs hold more matter than its inputs: every
//     process of the graph only loses mass or volume (drying, sorting,
//     cracking, distillation, pressing, extraction) or conserves it
//     (blending). Outputs counted by volume (oils) are brought to mass with
//     the lowest plausible density of the kind (KindDensity), so the limit
//     errs towards accepting. Hydrosol is the exception: it is condensed
//     steam whose water comes from the still's boiler, not from the plants,
//     so it is not counted against the input; its own limit is ten times
//     the top of its range.
//
// The graph is closed: a process makes only the kinds its rows name from the
// input kind, and anything else is refused naming outputs[i].product_kind.
// Sorting and blending keep the kind and apply to every kind but crafts
// (pieces are not transformed here). All inputs of one transformation are of
// one kind, blending included: blending mixes lots of the same product (two
// harvests' oils), and mixing two kinds would be a new product the graph
// does not know (and, for argan or olive oil, adulteration).

// Range checks.
const (
	CheckKindHarvest        = "harvest"        // quantity per parcel area per season
	CheckKindTransformation = "transformation" // output per input of one process
)

// AnyKind in a transformation Range matches every product kind but crafts;
// such ranges (sorting, blending) keep the kind: the output is of the
// input's kind, in the same unit.
const AnyKind = "*"

// Range is one row of the plausibility table: for harvests, a crop; for
// transformations, one edge of the process graph.
type Range struct {
	Check      string `json:"check"`                 // CheckKindHarvest or CheckKindTransformation
	Crop       string `json:"crop,omitempty"`        // harvest: crop key of the parcel
	Process    string `json:"process,omitempty"`     // transformation: process name
	InputKind  string `json:"input_kind,omitempty"`  // transformation: product kind consumed, or AnyKind
	OutputKind string `json:"output_kind,omitempty"` // transformation: product kind produced, or AnyKind (the input's)
	// InputUnit and OutputUnit are the base units the ratio is expressed in.
	// For harvests the input is area (m²) and InputUnit is empty.
	InputUnit  Unit `json:"input_unit,omitempty"`
	OutputUnit Unit `json:"output_unit"`
	// Min and Max bound mg per m² per season for harvests, and output base
	// amount per input base amount for transformations.
	Min float64 `json:"min"`
	Max float64 `json:"max"`
	// Typical restates the range in the units people use (kg/ha, % of mass,
	// l per kg), for pages and flag messages.
	Typical string `json:"typical"`
	Source  string `json:"source"`
	// Limit is the hard limit, in the units of Min and Max: beyond it the
	// harvest or transformation is refused. LimitText says it for people
	// and how it is derived.
	Limit     float64 `json:"limit"`
	LimitText string  `json:"limit_text"`
	// Uncounted outputs (hydrosol) are not counted against the input mass
	// when the whole transformation is checked against its inputs.
	Uncounted bool `json:"uncounted,omitempty"`
}

// 1 kg/ha = 1 000 000 mg / 10 000 m² = 100 mg/m².
const mgPerM2PerKgPerHa = 100

// hardFactor is how far beyond the top of a range a harvest (or an
// uncounted output) must go to be impossible rather than unusual.
const hardFactor = 10

func harvestRange(crop, what string, minKgHa, maxKgHa float64, source string) Range {
	return Range{
		Check: CheckKindHarvest, Crop: crop, OutputUnit: Milligram,
		Min: minKgHa * mgPerM2PerKgPerHa, Max: maxKgHa * mgPerM2PerKgPerHa,
		Typical: fmt.Sprintf("%g–%g kg/ha of %s per season", minKgHa, maxKgHa, what),
		Source:  source,
		Limit:   hardFactor * maxKgHa * mgPerM2PerKgPerHa,
		LimitText: fmt.Sprintf("more than %g kg/ha of %s in a season (%d × the top of the range) is refused: no field gives it",
			hardFactor*maxKgHa, what, hardFactor),
	}
}

// massYield is a transformation whose output is a mass fraction of its
// input; it can never weigh more than what went in.
func massYield(process, in, out string, minFrac, maxFrac float64, source string) Range {
	return Range{
		Check: CheckKindTransformation, Process: process, InputKind: in, OutputKind: out,
		InputUnit: Milligram, OutputUnit: Milligram, Min: minFrac, Max: maxFrac,
		Typical: fmt.Sprintf("%g–%g %% of the input mass", minFrac*100, maxFrac*100),
		Source:  source,
		Limit:   1, LimitText: "more output than input mass is refused: " + process + " only loses mass",
	}
}

// oilYield is a transformation from a mass of plant matter (mg) to a volume
// of oil (ml). Yields are published as mass fractions; dividing by the oil's
// density (kg/l, i.e. g/ml) gives ml per g, and by 1000 ml per mg. The hard
// limit is the whole input turned into oil at the kind's lowest density.
func oilYield(process, in, out string, minFrac, maxFrac, densityKgPerL float64, source string) Range {
	low := KindDensity(out)
	return Range{
		Check: CheckKindTransformation, Process: process, InputKind: in, OutputKind: out,
		InputUnit: Milligram, OutputUnit: Millilitre,
		Min: minFrac / densityKgPerL / 1000, Max: maxFrac / densityKgPerL / 1000,
		Typical: fmt.Sprintf("%g–%g %% oil by mass, i.e. %.3g–%.3g l per kg at %g kg/l",
			minFrac*100, maxFrac*100, minFrac/densityKgPerL, maxFrac/densityKgPerL, densityKgPerL),
		Source: source,
		Limit:  1 / low / 1000,
		LimitText: fmt.Sprintf("outputs weighing more than the input are refused: at the lowest density of %s (%g kg/l), at most %.3g l per kg",
			out, low, 1/low),
	}
}

// hydrosolYield is the aromatic water collected with an essential oil:
// condensed steam, so its volume is not bounded by the plant mass (see the
// package comment on hard limits).
func hydrosolYield(in string, minLPerKg, maxLPerKg float64, source string) Range {
	return Range{
		Check: CheckKindTransformation, Process: "distillation", InputKind: in, OutputKind: "hydrosol",
		InputUnit: Milligram, OutputUnit: Millilitre, Min: minLPerKg / 1000, Max: maxLPerKg / 1000,
		Typical: fmt.Sprintf("%g–%g l of hydrosol per kg of plant material", minLPerKg, maxLPerKg),
		Source:  source, Uncounted: true,
		Limit: hardFactor * maxLPerKg / 1000,
		LimitText: fmt.Sprintf("more than %g l per kg (%d × the top of the range) is refused; hydrosol is condensed steam, so it is not counted against the plant mass",
			hardFactor*maxLPerKg, hardFactor),
	}
}

// PlausibilityTable returns the table, freshly built on each call so that no
// caller can change what another sees.
func PlausibilityTable() []Range {
	return []Range{
		// Harvests. Crop keys are those of parcels and harvests.
		harvestRange("saffron", "fresh stigmas", 2, 60,
			"Estimate. Dried saffron yields commonly cited for Taliouine (FAO and ORMVA Ouarzazate value-chain work, INRA Maroc) are about 2–6 kg/ha in traditional plots, and agronomic literature from Spain, Iran and Kashmir rarely exceeds 10–12 kg/ha; dried is about 1/5 of fresh stigma mass. First-year plots and drought years give far less, hence the low minimum."),
		harvestRange("argan", "fruit", 5, 4000,
			"Estimate from agronomic literature on the arganeraie: a tree gives roughly 8–30 kg of fruit in a good year with strong alternate bearing; forest stands hold tens of trees per ha, new orchards a few hundred."),
		harvestRange("olive", "olives", 200, 15000,
			"FAOSTAT puts Morocco's average olive yield around 1–2 t/ha (mostly rainfed); irrigated intensive and super-intensive orchards reach 10–15 t/ha. The minimum allows old rainfed mountain trees in a dry year."),
		harvestRange("pamm", "fresh plant material", 100, 25000,
			"Estimate. Cultivated rosemary or lavender gives on the order of 10–25 t/ha of fresh biomass a year (agronomic literature); wild collection on rangeland (thyme, rosemary, under HCEFLCD allotments) yields far less per ha."),
		harvestRange("rose", "fresh flowers", 300, 6000,
			"Estimate. Rosa damascena hedges of the Dadès valley (Kelaat M'Gouna) are commonly reported at about 2–4 t/ha of fresh flowers; intensive Bulgarian and Turkish plantations reach about 5–6 t/ha. Hedge borders around fields give less per ha."),
		harvestRange("honey", "honey per ha of declared forage", 0.5, 300,
			"Estimate, and only meaningful when the apiary parcel records the forage area, not the hive stand. Moroccan hives give roughly 5–25 kg/year (traditional to modern); nectar potential of the richest forage (rosemary, citrus, euphorbia) is a few hundred kg/ha."),
		harvestRange("almond", "dry in-shell almonds", 50, 6000,
			"FAOSTAT puts Morocco's average almond yield well under 1 t/ha in shell (rainfed, mountain trees, as in the INRA study communes); modern irrigated orchards reach about 3–6 t/ha in shell."),

		// Transformations: the edges of the process graph. Kind names follow
		// the crop keys for raw produce.
		massYield("drying", "saffron", "saffron_dried", 0.16, 0.25,
			"Fresh stigmas are about 75–82 % water and dried saffron keeps 5–12 % (ISO 3632 allows up to 12 %), so dried mass is about 18–25 % of fresh; the common rule of thumb is 1/5. Widened slightly for weighing losses."),
		massYield("drying", "pamm", "pamm_dried", 0.20, 0.50,
			"Estimate: fresh aromatic herbs are about 50–80 % water."),
		oilYield("pressing", "olive", "olive_oil", 0.10, 0.25, 0.915,
			"Olive oil yields of 10–25 % of olive mass (about 16–20 % for Picholine marocaine in modern mills, lower in traditional maasra), as reported by the International Olive Council and INRA Maroc extension material; olive oil density 0.91–0.92 kg/l."),
		massYield("cracking", "argan", "argan_kernels", 0.02, 0.08,
			"Estimate: kernels are a few per cent of dried fruit mass (the nut is roughly a third of the fruit and the kernel a small part of the nut); the common figure of about 30–40 kg of fruit per litre of oil is consistent with it."),
		oilYield("extraction", "argan_kernels", "argan_oil", 0.28, 0.55, 0.912,
			"Argan kernels hold about 50–55 % oil (agronomic and chemistry literature, e.g. Charrouf & Guillaume); hand extraction recovers roughly 30–40 %, mechanical presses 40–50 %. Argan oil density about 0.91 kg/l."),
		oilYield("pressing", "argan_kernels", "argan_oil", 0.28, 0.55, 0.912,
			"Mechanical pressing of argan kernels, same figures as extraction: presses recover roughly 40–50 % of the kernel mass as oil, of the 50–55 % the kernels hold. Argan oil density about 0.91 kg/l."),
		oilYield("distillation", "pamm", "essential_oil", 0.001, 0.03, 0.9,
			"Steam distillation of aromatic plants gives about 0.1–3 % essential oil by fresh mass depending on the plant (rosemary and lavender around 0.5–1.5 %, thymes up to 2–3 %), per ONSSA/INRA Maroc extension material and the aromatic-plant literature; essential-oil density taken as 0.9 kg/l (0.85–0.95)."),
		oilYield("distillation", "pamm_dried", "essential_oil", 0.002, 0.06, 0.9,
			"Estimate: dried plants hold the oil of two to five times their mass of fresh plants, less what drying evaporates, so about 0.2–6 % by dried mass; density as for fresh plants."),
		oilYield("distillation", "rose", "essential_oil", 0.0001, 0.0006, 0.9,
			"Rose (Rosa damascena, Kelaat M'Gouna) gives only about 0.02–0.05 % essential oil by flower mass, well below other plants, so it has its own row."),
		hydrosolYield("pamm", 0.3, 2,
			"Estimate: stills are usually run to collect about 0.5–1.5 l of hydrosol per kg of fresh plants, the rest of the condensate being returned or discarded."),
		hydrosolYield("pamm_dried", 0.5, 4,
			"Estimate: dried plants are distilled with more water per kg, about 1–3 l of hydrosol per kg."),
		hydrosolYield("rose", 0.5, 3,
			"Rose water is the main product of rose distillation in the Dadès valley: about 1–2 l per kg of flowers for a good quality water (cooperatives' practice)."),
		massYield("cracking", "almond", "almond_kernels", 0.20, 0.45,
			"Estimate: hard-shelled local (beldi) almonds give about 20–30 % kernel by in-shell mass, soft-shelled varieties up to about 40–45 %."),
		{
			Check: CheckKindTransformation, Process: "sorting", InputKind: AnyKind, OutputKind: AnyKind,
			Min: 0.85, Max: 1.0, Typical: "85–100 % of the input, in the same unit",
			Source: "House rule: sorting removes debris, floral waste or defects; losing more than 15 % means the input was mis-weighed or the rejects should be a separate output.",
			Limit:  1, LimitText: "more output than input is refused: sorting only removes",
		},
		{
			Check: CheckKindTransformation, Process: "blending", InputKind: AnyKind, OutputKind: AnyKind,
			Min: 0.98, Max: 1.0, Typical: "98–100 % of the inputs, in the same unit",
			Source: "House rule: blending loses only what sticks to the tanks; more output than input is never plausible.",
			Limit:  1, LimitText: "more output than input is refused: blending conserves what goes in",
		},
	}
}

// CheckHarvest compares a season's harvest of a crop on a parcel with the
// table. quantityMg should be the parcel's total for the season, not one
// picking, since the ranges are per season. An unknown crop or a parcel
// without an area gives no flag (there is nothing to compare with). Otherwise
// ok is false when the harvest is outside the range, and flag says why in
// words fit for the lot page.
func CheckHarvest(crop string, quantityMg int64, areaM2 int64) (flag string, ok bool) {
	if areaM2 <= 0 {
		return "", true
	}
	for _, r := range PlausibilityTable() {
		if r.Check != CheckKindHarvest || r.Crop != crop {
			continue
		}
		perM2 := float64(quantityMg) / float64(areaM2)
		if perM2 >= r.Min && perM2 <= r.Max {
			return "", true
		}
		side, bound := "below the typical minimum", r.Min
		if perM2 > r.Max {
			side, bound = "above the typical maximum", r.Max
		}
		return fmt.Sprintf("harvest of %s %s on %s m² is %s of %s for that area (typical: %s)",
			FormatQuantity(quantityMg, Milligram), crop, strconv.FormatInt(areaM2, 10), side,
			FormatQuantity(roundSignificant(bound*float64(areaM2), 3), Milligram), r.Typical), false
	}
	return "", true
}

// CheckYield compares a transformation's output with its input. inputBase is
// the total of the inputs and outputBase the total of the outputs of
// outputKind, both in base units. A process and kinds the table does not
// know give no flag. Known ones are flagged when outside the range, and also
// when the units are not those the range is written in (oil recorded by mass,
// a sorting that changes unit), since the yield cannot then be judged and
// the record is probably wrong.
func CheckYield(process string, inputKind, outputKind string, inputBase, outputBase int64, inputUnit, outputUnit Unit) (flag string, ok bool) {
	r, found := yieldRange(process, inputKind, outputKind)
	if !found {
		return "", true
	}
	what := fmt.Sprintf("%s %s → %s", process, inputKind, outputKind)
	switch {
	case r.InputKind == AnyKind && inputUnit != outputUnit:
		return fmt.Sprintf("%s should keep the unit, got %s in and %s out; yield not checked", what, inputUnit, outputUnit), false
	case r.InputKind != AnyKind && (inputUnit != r.InputUnit || outputUnit != r.OutputUnit):
		return fmt.Sprintf("%s is expected from %s to %s, got %s to %s; yield not checked", what, r.InputUnit, r.OutputUnit, inputUnit, outputUnit), false
	case inputBase <= 0:
		return what + " has no input quantity; yield not checked", false
	}
	ratio := float64(outputBase) / float64(inputBase)
	if ratio >= r.Min && ratio <= r.Max {
		return "", true
	}
	side, bound := "below the typical minimum", r.Min
	if ratio > r.Max {
		side, bound = "above the typical maximum", r.Max
	}
	return fmt.Sprintf("%s: %s gave %s, a yield of %s, %s of %s (typical: %s)",
		what, FormatQuantity(inputBase, inputUnit), FormatQuantity(outputBase, outputUnit),
		formatYield(ratio, inputUnit, outputUnit), side, formatYield(bound, inputUnit, outputUnit), r.Typical), false
}

// yieldRange finds the row for exactly these kinds, else the process's
// keep-the-kind row when the kind is kept.
func yieldRange(process, inputKind, outputKind string) (Range, bool) {
	return edge(process, inputKind, outputKind)
}

// HarvestLimit refuses a season total beyond what any field gives: more
// than the crop's hard limit per square metre (ten times the top of its
// range). It returns nil for crops without a row and parcels without an
// area, and otherwise a problem.Unprocessable naming field.
func HarvestLimit(field, crop string, seasonTotalMg, areaM2 int64) error {
	if areaM2 <= 0 {
		return nil
	}
	for _, r := range PlausibilityTable() {
		if r.Check != CheckKindHarvest || r.Crop != crop {
			continue
		}
		if float64(seasonTotalMg)/float64(areaM2) <= r.Limit {
			return nil
		}
		err := problem.New(problem.Unprocessable,
			"%s of %s on %s m² in a season is more than any field gives: the limit is %s on that area (%s kg/ha, ten times the top of the plausible range)",
			Amount{seasonTotalMg, Milligram}, problem.Kind(crop), strconv.FormatInt(areaM2, 10),
			Amount{roundSignificant(r.Limit*float64(areaM2), 3), Milligram}, strconv.FormatFloat(r.Limit/mgPerM2PerKgPerHa, 'f', -1, 64))
		err.Field = field
		return err
	}
	return nil
}

// OutputAmount is one output of a transformation for TransformationLimit.
type OutputAmount struct {
	Kind   string
	Amount int64 // base units of the kind
}

// TransformationLimit refuses a transformation whose outputs hold more than
// its inputs (every process of the graph only loses or conserves matter):
// the counted outputs, weighed as their edges' hard limits say (volume at
// the kind's lowest density), must not exceed the input total; an uncounted
// output (hydrosol) must stay within its own limit. inputTotal is in the
// base unit of inputKind. It returns a problem.Unprocessable on "outputs",
// or nil. Edges must have been checked (checkEdge) before.
func TransformationLimit(process, inputKind string, inputTotal int64, outputs []OutputAmount) error {
	inUnit := productKinds[inputKind]
	var counted float64
	for _, o := range outputs {
		r, ok := edge(process, inputKind, o.Kind)
		if !ok || r.Limit <= 0 {
			continue
		}
		if r.Uncounted {
			if limit := r.Limit * float64(inputTotal); float64(o.Amount) > limit {
				err := problem.New(problem.Unprocessable,
					"%s of %s cannot give %s of %s: at most %s, ten times the top of its plausible range",
					problem.Step(process), Amount{inputTotal, inUnit}, Amount{o.Amount, productKinds[o.Kind]}, problem.Kind(o.Kind),
					Amount{int64(limit), productKinds[o.Kind]})
				err.Field = "outputs"
				return err
			}
			continue
		}
		counted += float64(o.Amount) / r.Limit
	}
	// A relative tolerance of 1e-9 absorbs the float rounding of the
	// density conversion; like-unit outputs are integers compared exactly
	// well below 2^53.
	if counted > float64(inputTotal)*(1+1e-9) {
		err := problem.New(problem.Unprocessable,
			"%s of %s cannot give outputs holding %s: the outputs would hold more than the inputs, and no process makes matter (volumes are weighed at their lowest plausible density)",
			problem.Step(process), Amount{inputTotal, inUnit}, Amount{int64(math.Ceil(counted)), inUnit})
		err.Field = "outputs"
		return err
	}
	return nil
}

// formatYield writes a ratio of base amounts the way the table's Typical
// does: a percentage for like units, litres per kilogram for oil.
func formatYield(ratio float64, in, out Unit) string {
	switch {
	case in == out:
		return strconv.FormatFloat(ratio*100, 'g', 3, 64) + " %"
	case in == Milligram && out == Millilitre:
		return strconv.FormatFloat(ratio*1000, 'g', 3, 64) + " l per kg"
	}
	return strconv.FormatFloat(ratio, 'g', 3, 64) + " " + string(out) + " per " + string(in)
}

// roundSignificant rounds v to n significant digits so that flag messages say
// "375 g", not "374.999 g".
func roundSignificant(v float64, n int) int64 {
	if v == 0 {
		return 0
	}
	scale := math.Pow(10, float64(n)-math.Ceil(math.Log10(math.Abs(v))))
	r := math.Round(v*scale) / scale
	if r >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(r)
}
