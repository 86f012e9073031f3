package shops

import (
	"context"
	"fmt"
)

// Discrepancy is a finding of Verify.
type Discrepancy struct {
	Shop, Lot, Reason string
}

// Verify checks every balance against its movements (their sum must equal
// the units), that no balance is negative or over-reserved, and that no lot
// is held across the network beyond what was packed.
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
	for lot, units := range held {
		l, err := st.trace.PublicLot(ctx, lot)
		if err != nil {
			found = append(found, Discrepancy{"", lot, "held in shops but the lot does not exist"})
			continue
		}
		if units > l.Quantity {
			found = append(found, Discrepancy{"", lot, fmt.Sprintf("shops hold %d units of a lot of %d", units, l.Quantity)})
		}
	}
	return found, len(bals), nil
}
