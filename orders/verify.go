package orders

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/terroir-coop/terroir/shops"
)

// Finding is something Verify found wrong with an order or the stock it
// holds.
type Finding struct {
	Order  string `json:"order,omitempty"`
	Reason string `json:"reason"`
}

// Verify checks that every order is explained by the stock ledger and the
// other way round: a paid order (and a refunded one that had been paid)
// has exactly one sale movement per lot of its lines — never two, so no
// order is paid twice — and an unpaid one has none; a restocked order has
// its return movements once; every balance's reserved units are what the
// pending orders hold of it.
func (s *Service) Verify(ctx context.Context) ([]Finding, error) {
	all, err := s.store.allOrders(ctx)
	if err != nil {
		return nil, err
	}
	moves, err := s.stock.AllMovements(ctx)
	if err != nil {
		return nil, err
	}
	bals, err := s.stock.AllBalances(ctx)
	if err != nil {
		return nil, err
	}
	type key struct{ ref, kind string }
	booked := map[key]map[string]int64{} // → shop|lot → units
	count := map[key]int{}
	for _, m := range moves {
		k := key{m.Ref, m.Kind}
		if booked[k] == nil {
			booked[k] = map[string]int64{}
		}
		booked[k][m.Shop+"|"+m.Lot] += m.Units
		count[k]++
	}
	var found []Finding
	reserved := map[string]int64{}
	slices.SortFunc(all, func(a, b Order) int { return strings.Compare(a.ID, b.ID) })
	for _, o := range all {
		lines := map[string]int64{}
		n := 0
		for _, l := range o.Lines {
			for _, lu := range l.Lots {
				lines[o.Channel+"|"+lu.Lot] += lu.Units
				n++
			}
		}
		neg := map[string]int64{}
		for k, v := range lines {
			neg[k] = -v
		}
		sold, returned := booked[key{o.ID, shops.MoveSale}], booked[key{o.ID, shops.MoveReturn}]
		paid := !o.PaidAt.IsZero()
		switch {
		case paid && (!sameUnits(sold, neg) || count[key{o.ID, shops.MoveSale}] != n):
			found = append(found, Finding{o.ID, fmt.Sprintf("%s order sold %v in %d movements; its lines are %v", o.Status, sold, count[key{o.ID, shops.MoveSale}], lines)})
		case !paid && len(sold) > 0:
			found = append(found, Finding{o.ID, fmt.Sprintf("%s order was never paid but sold %v", o.Status, sold)})
		}
		switch {
		case o.Restocked && (!sameUnits(returned, lines) || count[key{o.ID, shops.MoveReturn}] != n):
			found = append(found, Finding{o.ID, fmt.Sprintf("restocked order returned %v; its lines are %v", returned, lines)})
		case !o.Restocked && len(returned) > 0:
			found = append(found, Finding{o.ID, fmt.Sprintf("order not restocked but returned %v", returned)})
		}
		if o.Status == StatusPendingPayment {
			for k, v := range lines {
				reserved[k] += v
			}
		}
	}
	for _, b := range bals {
		if want := reserved[b.ID]; b.Reserved != want {
			found = append(found, Finding{"", fmt.Sprintf("balance %s has %d reserved; pending orders hold %d", b.ID, b.Reserved, want)})
		}
		delete(reserved, b.ID)
	}
	for id, v := range reserved {
		found = append(found, Finding{"", fmt.Sprintf("pending orders hold %d of %s, which has no balance", v, id)})
	}
	return found, nil
}

func sameUnits(got, want map[string]int64) bool {
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	for k, v := range got {
		if want[k] != v {
			return false
		}
	}
	return true
}
