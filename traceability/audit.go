package traceability

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
)

// Tampering is one finding of Verify.
type Tampering struct {
	Lot    string `json:"lot"`
	Seq    int64  `json:"seq"` // first broken event; 0 when the chain holds but the lot is not explained by it
	Reason string `json:"reason"`
}

// LotAccount is what a lot's events say of its quantity, in the lot's base
// unit: Created (the quantity it was made with) + Corrections + Adjusted =
// Available + Consumed + Packed + Shipped, always, since each event moves
// the available quantity by its signed amount.
type LotAccount struct {
	Created     int64 `json:"created"`
	Corrections int64 `json:"corrections"`
	Adjusted    int64 `json:"adjusted"`
	Consumed    int64 `json:"consumed"` // by transformations
	Packed      int64 `json:"packed"`   // by packing into units
	Shipped     int64 `json:"shipped"`  // units sent to shops
	Available   int64 `json:"available"`
}

// AccountOf sums a lot's events.
func AccountOf(events []Event) LotAccount {
	var a LotAccount
	for _, e := range events {
		switch e.Type {
		case EventCreated, EventTransformed, EventPacked:
			a.Created += e.Quantity
		case EventCorrected:
			a.Corrections += e.Quantity
		case EventAdjusted:
			a.Adjusted += e.Quantity
		case EventConsumed:
			if e.Note == "packing" {
				a.Packed += e.Quantity
			} else {
				a.Consumed += e.Quantity
			}
		case EventShipped:
			a.Shipped += e.Quantity
		}
	}
	a.Available = BalanceFromEvents(events)
	return a
}

// explained checks that a lot's stored counters are what its events say:
// quantity + corrections = available + consumed + packed + shipped, each
// side from the stored document and from the chain. It returns the reason
// when they are not, else "".
func explained(l Lot) string {
	a := AccountOf(l.Events)
	var wrong []string
	if l.Quantity != a.Created {
		wrong = append(wrong, fmt.Sprintf("quantity is %d %s but its creation event says %d", l.Quantity, l.Unit, a.Created))
	}
	if l.Corrections != a.Corrections {
		wrong = append(wrong, fmt.Sprintf("corrections are %d %s but its corrected events sum to %d", l.Corrections, l.Unit, a.Corrections))
	}
	if l.Available != a.Available {
		wrong = append(wrong, fmt.Sprintf("available is %d %s but the events sum to %d", l.Available, l.Unit, a.Available))
	}
	if len(wrong) == 0 {
		return ""
	}
	return fmt.Sprintf("not explained by its events (quantity %d + corrections %d + adjusted %d should equal available %d + consumed %d + packed %d + shipped %d): %s",
		l.Quantity, l.Corrections, a.Adjusted, l.Available, a.Consumed, a.Packed, a.Shipped, strings.Join(wrong, "; "))
}

// Verify recomputes every lot's hash chain and checks that every lot is
// explained by its events: its stored quantity, corrections and available
// quantity are what the chain says (explained), and its laboratory results
// are those its tested events sealed (labResultsBound). progress, when not nil, is
// called after each lot with the count checked so far. Every lot at fault
// is named, once per finding.
func (s *Service) Verify(ctx context.Context, progress func(checked int)) ([]Tampering, int, error) {
	var found []Tampering
	n := 0
	err := s.store.eachLot(ctx, func(l Lot) error {
		n++
		if seq, err := VerifyChain(l.Events); err != nil {
			found = append(found, Tampering{Lot: l.Code, Seq: seq, Reason: err.Error()})
		} else if len(l.Events) == 0 {
			found = append(found, Tampering{Lot: l.Code, Reason: "lot has no events"})
		} else if last := l.Events[len(l.Events)-1]; last.Hash != l.LastHash || last.Seq != l.Seq {
			found = append(found, Tampering{Lot: l.Code, Seq: last.Seq, Reason: "events after the last recorded one were removed or added"})
		} else if why := explained(l); why != "" {
			found = append(found, Tampering{Lot: l.Code, Reason: why})
		} else if why := labResultsBound(l); why != "" {
			found = append(found, Tampering{Lot: l.Code, Reason: why})
		}
		if progress != nil {
			progress(n)
		}
		return nil
	})
	return found, n, err
}

// FlaggedLot is a lot with plausibility flags, for auditors.
type FlaggedLot struct {
	Code        string `json:"code"`
	ProductKind string `json:"product_kind"`
	Flags       []Flag `json:"flags"`
	Open        int    `json:"open"`
}

// Flags lists a cooperative's flagged lots, justified or not.
func (s *Service) Flags(ctx context.Context, actor access.Actor, coop string) ([]FlaggedLot, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ReadCoop(coop); err != nil {
		return nil, err
	}
	lots, err := s.store.lots(ctx, coop, true, mongodb.Page{Limit: 10_000})
	if err != nil {
		return nil, err
	}
	out := []FlaggedLot{}
	for _, l := range lots {
		out = append(out, FlaggedLot{Code: l.Code, ProductKind: l.ProductKind, Flags: l.Flags, Open: l.OpenFlags()})
	}
	return out, nil
}

// BalanceRow is the mass balance of one product kind of a cooperative over
// a season, in one physical unit: Unit is the kind's base unit (mg or ml;
// pcs only for crafts), and a packed unit counts for its net content (units
// × the product's unit size), so grams are never added to jars.
//
// The bulk lots of the kind reconcile exactly:
//
//	Harvested + Produced + Corrections = Transformed + Packed + OnHand + Losses
//
// and their packed units too: PackedUnits + UnitCorrections = ShippedUnits +
// OnHandUnits. Shipped and sold are shown in units and in content. What the
// identity cannot explain is Unexplained, never a loss, with the lots
// responsible in InconsistentLots (and why in Inconsistencies); so is a
// transformation that gave more than it took, whose negative loss is not
// counted in TransformationLoss.
type BalanceRow struct {
	ProductKind string `json:"product_kind"`
	Unit        Unit   `json:"unit"`
	Lots        int    `json:"lots"`
	// Bulk lots, in Unit.
	Harvested   int64 `json:"harvested"`   // origin lots as made
	Produced    int64 `json:"produced"`    // transformation outputs as made
	Corrections int64 `json:"corrections"` // net of corrections (and stock found by adjustments), signed
	Transformed int64 `json:"transformed"` // consumed by transformations
	Packed      int64 `json:"packed"`      // net content packed into units
	OnHand      int64 `json:"on_hand"`     // bulk still available
	Losses      int64 `json:"losses"`      // recorded losses (adjustments down)
	Adjusted    int64 `json:"adjusted"`    // net of adjustments: corrections' share minus losses
	// Packed units of the kind, and their content in Unit.
	PackedUnits     int64 `json:"packed_units"`
	UnitCorrections int64 `json:"unit_corrections"` // signed
	Shipped         int64 `json:"shipped"`          // content
	ShippedUnits    int64 `json:"shipped_units"`
	Sold            int64 `json:"sold"` // content, net of returns
	SoldUnits       int64 `json:"sold_units"`
	OnHandUnits     int64 `json:"on_hand_units"`  // still at the cooperative
	OnHandPacked    int64 `json:"on_hand_packed"` // their content
	// What this kind's transformations lost (input − output, when they keep
	// the dimension: drying, sorting, cracking, blending) and their yield.
	TransformationLoss int64  `json:"transformation_loss"`
	YieldPercent       string `json:"yield_percent"`
	// What does not reconcile: the identity's difference and the lots
	// responsible. Both empty in a record that holds up.
	Unexplained      int64          `json:"unexplained"`
	InconsistentLots []string       `json:"inconsistent_lots"`
	Inconsistencies  []BalanceIssue `json:"inconsistencies"`
}

// Why a lot is named in a balance row.
const (
	IssueNotExplained     = "not_explained"        // its stored quantities are not what its events say
	IssueOutputExceedsIns = "output_exceeds_input" // a transformation gave more than it took
)

// BalanceIssue names a lot that keeps a row from reconciling.
type BalanceIssue struct {
	Lot      string `json:"lot"`
	Issue    string `json:"issue"`    // IssueNotExplained or IssueOutputExceedsIns
	Expected int64  `json:"expected"` // not explained: available by its events; exceeds: the inputs
	Recorded int64  `json:"recorded"` // not explained: available stored; exceeds: the outputs
}

// Reconciles reports whether the row holds up: both identities exact and no
// lot named.
func (r BalanceRow) Reconciles() bool {
	return r.Harvested+r.Produced+r.Corrections == r.Transformed+r.Packed+r.OnHand+r.Losses &&
		r.PackedUnits+r.UnitCorrections == r.ShippedUnits+r.OnHandUnits &&
		r.Unexplained == 0 && len(r.InconsistentLots) == 0
}

// MassBalance reports a cooperative's mass balance for lots created in a
// season (1 September of that year to 31 August of the next; see seasonOf),
// one row per product kind, sorted by kind.
func (s *Service) MassBalance(ctx context.Context, actor access.Actor, coop string, season int) ([]BalanceRow, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ReadCoop(coop); err != nil {
		return nil, err
	}
	lots, err := s.store.lots(ctx, coop, false, mongodb.Page{Limit: 1_000_000})
	if err != nil {
		return nil, err
	}
	return massBalance(lots, season), nil
}

// massBalance computes the rows from the cooperative's lots.
func massBalance(lots []Lot, season int) []BalanceRow {
	rows := map[string]*BalanceRow{}
	row := func(kind string) *BalanceRow {
		r := rows[kind]
		if r == nil {
			r = &BalanceRow{ProductKind: kind, Unit: productKinds[kind], InconsistentLots: []string{}, Inconsistencies: []BalanceIssue{}}
			rows[kind] = r
		}
		return r
	}
	name := func(r *BalanceRow, issue BalanceIssue) {
		if !slices.Contains(r.InconsistentLots, issue.Lot) {
			r.InconsistentLots = append(r.InconsistentLots, issue.Lot)
		}
		r.Inconsistencies = append(r.Inconsistencies, issue)
	}
	byCode := make(map[string]Lot, len(lots))
	for _, l := range lots {
		byCode[l.Code] = l
	}
	consumedSameDim := map[string]int64{} // input kind → consumed by transformations keeping the dimension
	for _, l := range lots {
		if seasonOf(l.CreatedAt) != season {
			continue
		}
		r := row(l.ProductKind)
		r.Lots++
		a := AccountOf(l.Events)
		if l.Source == SourcePacking {
			size := l.UnitSize
			r.PackedUnits += a.Created
			r.UnitCorrections += a.Corrections + a.Adjusted
			r.ShippedUnits += a.Shipped
			r.Shipped += a.Shipped * size
			r.OnHandUnits += l.Available
			r.OnHandPacked += l.Available * size
			var sold int64
			for _, e := range l.Events {
				switch e.Type {
				case EventSold:
					sold += e.Quantity
				case EventReturned:
					sold -= e.Quantity
				}
			}
			r.SoldUnits += sold
			r.Sold += sold * size
			if a.Available != l.Available || a.Created != l.Quantity || a.Corrections != l.Corrections {
				name(r, BalanceIssue{Lot: l.Code, Issue: IssueNotExplained, Expected: a.Available, Recorded: l.Available})
			}
			continue
		}
		if l.Source == SourceHarvest {
			r.Harvested += a.Created
		} else {
			r.Produced += a.Created
		}
		r.Corrections += a.Corrections
		r.Adjusted += a.Adjusted
		if a.Adjusted < 0 {
			r.Losses -= a.Adjusted
		} else {
			r.Corrections += a.Adjusted
		}
		r.Transformed += a.Consumed
		r.Packed += a.Packed
		r.OnHand += l.Available
		if why := explained(l); why != "" {
			name(r, BalanceIssue{Lot: l.Code, Issue: IssueNotExplained, Expected: a.Available, Recorded: l.Available})
		}
		for _, e := range l.Events {
			if e.Type == EventConsumed && e.Note != "packing" && len(e.Outputs) > 0 && Dimension(e.Outputs[0].Unit) == Dimension(l.Unit) {
				consumedSameDim[l.ProductKind] += e.Quantity
			}
		}
	}
	// Transformation losses per input kind: each step (the outputs sharing
	// one list of inputs) keeping the dimension, input minus output.
	type step struct {
		kind    string
		in, out int64
		outputs []string
	}
	steps := map[string]*step{}
	var order []string
	for _, l := range lots {
		if seasonOf(l.CreatedAt) != season || l.Source != SourceTransformation || len(l.Inputs) == 0 {
			continue
		}
		first, ok := byCode[l.Inputs[0].Lot]
		if !ok || Dimension(l.Inputs[0].Unit) != Dimension(l.Unit) {
			continue
		}
		key := stepKey(first, l.Code)
		st := steps[key]
		if st == nil {
			st = &step{kind: first.ProductKind}
			for _, in := range l.Inputs {
				st.in += in.Quantity
			}
			steps[key] = st
			order = append(order, key)
		}
		st.out += l.CurrentQuantity()
		st.outputs = append(st.outputs, l.Code)
	}
	outputs := map[string]int64{}
	for _, key := range order {
		st := steps[key]
		outputs[st.kind] += st.out
		if st.out > st.in {
			r := row(st.kind)
			for _, code := range st.outputs {
				name(r, BalanceIssue{Lot: code, Issue: IssueOutputExceedsIns, Expected: st.in, Recorded: st.out})
			}
		}
	}
	out := make([]BalanceRow, 0, len(rows))
	for kind, r := range rows {
		if in := consumedSameDim[kind]; in > 0 {
			r.TransformationLoss = max(in-outputs[kind], 0)
			r.YieldPercent = fmt.Sprintf("%.1f", float64(outputs[kind])*100/float64(in))
		}
		r.Unexplained = r.Harvested + r.Produced + r.Corrections - r.Transformed - r.Packed - r.OnHand - r.Losses
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b BalanceRow) int { return strings.Compare(a.ProductKind, b.ProductKind) })
	return out
}

// stepKey identifies the transformation that made output from its first
// input: that input's consumed event naming the output (the outputs of one
// step share it).
func stepKey(first Lot, output string) string {
	for _, e := range first.Events {
		if e.Type == EventConsumed && slices.ContainsFunc(e.Outputs, func(r EventRef) bool { return r.Lot == output }) {
			return first.Code + "#" + strconv.FormatInt(e.Seq, 10)
		}
	}
	return output
}

// CurrentSeason is the season of today.
func (s *Service) CurrentSeason() int { return seasonOf(s.now().UTC()) }
