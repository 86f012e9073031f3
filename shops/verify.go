package shops

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/terroir-coop/terroir/traceability"
)

// Discrepancy is a finding of Verify.
type Discrepancy struct {
	Shop, Lot, Reason string
}

// Verify checks every balance against its movements (their sum must equal
// the units), that no balance is negative or over-reserved, that no lot is
// held across the network beyond what was packed (as corrected), and that
// what the shops received of each lot is what the lot's events say it
// shipped: a receipt without its "shipped" event, or the reverse, is named.
func (st *Stock) Verify(ctx context.Context) ([]Discrepancy, int, error) {
	sums, err := st.store.movementSums(ctx)
	if err != nil {
		return nil, 0, err
	}
	bals, err := st.store.balancesOf(ctx, nil)
	if err != nil {
		return nil, 0, err
	}
	var found []Discrepancy
	held := map[string]int64{}
	for _, b := range bals {
		if s := sums[b.ID]; s != b.Units {
			found = append(found, Discrepancy{b.Shop, b.Lot, fmt.Sprintf("balance %d units but movements sum to %d", b.Units, s)})
		}
		if b.Units < 0 || b.Reserved < 0 || b.Reserved > b.Units {
			found = append(found, Discrepancy{b.Shop, b.Lot, fmt.Sprintf("units %d, reserved %d", b.Units, b.Reserved)})
		}
		delete(sums, b.ID)
		held[b.Lot] += b.Units
	}
	for id, s := range sums {
		found = append(found, Discrepancy{id, "", fmt.Sprintf("movements sum to %d without a balance", s)})
	}
	received, err := st.store.receiptsByLot(ctx)
	if err != nil {
		return nil, 0, err
	}
	lots := make([]string, 0, len(held)+len(received))
	for lot := range held {
		lots = append(lots, lot)
	}
	for lot := range received {
		if _, ok := held[lot]; !ok {
			lots = append(lots, lot)
		}
	}
	slices.Sort(lots)
	for _, lot := range lots {
		l, err := st.trace.PublicLot(ctx, lot)
		if err != nil {
			found = append(found, Discrepancy{"", lot, "held or received in shops but the lot does not exist"})
			continue
		}
		if units := held[lot]; units > l.CurrentQuantity() {
			found = append(found, Discrepancy{"", lot, fmt.Sprintf("shops hold %d units of a lot of %d", units, l.CurrentQuantity())})
		}
		if shipped := traceability.AccountOf(l.Events).Shipped; received[lot] != shipped {
			found = append(found, Discrepancy{"", lot, fmt.Sprintf("shops received %d units but the lot's events shipped %d", received[lot], shipped)})
		}
	}
	slices.SortStableFunc(found, func(a, b Discrepancy) int { return strings.Compare(a.Shop+"|"+a.Lot, b.Shop+"|"+b.Lot) })
	return found, len(bals), nil
}
