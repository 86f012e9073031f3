package orders

import (
	"context"

	"github.com/terroir-coop/terroir/shops"
)

// Recover puts orders and stock back in a consistent state after the
// process died in the middle of a change (the embedded store has no
// transactions: see shops.RepairLedger). Work that was never acknowledged
// is undone: an order's sale movements while the order is still pending
// (its payment event was not recorded, so Stripe delivers it again and it
// then applies whole), an order's restock movements while the order is not
// marked restocked; reservations are recomputed from the pending orders.
// It is idempotent: running it on a consistent store changes nothing.
func (s *Service) Recover(ctx context.Context) (shops.RepairReport, error) {
	var rep shops.RepairReport
	err := s.db.Atomically(ctx, func(ctx context.Context) error {
		all, err := s.store.allOrders(ctx)
		if err != nil {
			return err
		}
		byID := make(map[string]Order, len(all))
		reserved := map[string]int64{}
		for _, o := range all {
			byID[o.ID] = o
			if o.Status != StatusPendingPayment {
				continue
			}
			for _, l := range o.Lines {
				for _, lu := range l.Lots {
					reserved[o.Channel+"|"+lu.Lot] += lu.Units
				}
			}
		}
		complete := func(m shops.Movement) (bool, error) {
			o, ok := byID[m.Ref]
			if !ok {
				return false, nil
			}
			if m.Kind == shops.MoveReturn {
				return o.Restocked, nil
			}
			switch o.Status {
			case StatusPaid, StatusFulfilled, StatusDelivered, StatusRefunded:
				return true, nil
			}
			return false, nil
		}
		rep, err = s.stock.RepairLedger(ctx, complete, reserved)
		return err
	})
	return rep, err
}
