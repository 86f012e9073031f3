package shops

import (
	"context"
	"slices"
	"strings"
)

// Repair after a crash on the embedded store. There, Atomically is a lock
// and not a transaction: a process killed in the middle of a sale, a
// transfer or a payment leaves the writes it had made and not the others
// (its request was never acknowledged). RepairLedger takes the shops back to
// a consistent state:
//
//   - movements of work that did not complete are deleted: a sale's
//     movements without the sale, a transfer's without the transfer (or
//     transfer_in movements of a transfer still in transit), and the
//     movements whose reference the caller says is not complete (an order's
//     sale movements while the order is still pending_payment — Stripe will
//     deliver the unacknowledged payment again, and it then applies whole);
//   - every balance's units become the sum of its movements, its reserved
//     units what the caller says open orders hold, and every shelf is
//     rebuilt from its balances.

// RepairReport says what RepairLedger changed.
type RepairReport struct {
	MovementsDeleted int
	BalancesFixed    int
	ShelvesRebuilt   int
}

// RepairLedger repairs the shops after a crash (see above). complete says,
// for a movement whose reference is not a shops document (an order), whether
// the work it belongs to completed; reserved gives, per "shop|lot", the
// units open orders hold. Callers hold Atomically.
func (st *Stock) RepairLedger(ctx context.Context, complete func(Movement) (bool, error), reserved map[string]int64) (RepairReport, error) {
	var rep RepairReport
	moves, err := st.store.allMovements(ctx)
	if err != nil {
		return rep, err
	}
	sums := map[string]int64{}
	for _, m := range moves {
		keep, err := st.movementComplete(ctx, m, complete)
		if err != nil {
			return rep, err
		}
		if !keep {
			if err := st.store.deleteMovement(ctx, m.ID); err != nil {
				return rep, err
			}
			rep.MovementsDeleted++
			continue
		}
		sums[balanceID(m.Shop, m.Lot)] += m.Units
	}
	bals, err := st.store.balancesOf(ctx, nil)
	if err != nil {
		return rep, err
	}
	shelves := map[string]*Shelf{}
	for _, b := range bals {
		units, res := sums[b.ID], reserved[b.ID]
		if b.Units != units || b.Reserved != res || b.Ledger != units {
			b.Units, b.Reserved, b.Ledger = units, res, units
			if err := st.store.saveBalance(ctx, b); err != nil {
				return rep, err
			}
			rep.BalancesFixed++
		}
		id := shelfID(b.Shop, b.SKU)
		sh := shelves[id]
		if sh == nil {
			old, err := st.store.shelf(ctx, b.Shop, b.SKU)
			if err != nil && err != errNoShelf {
				return rep, err
			}
			sh = &Shelf{ID: id, Shop: b.Shop, SKU: b.SKU, Threshold: old.Threshold}
			shelves[id] = sh
		}
		sh.Units += b.Units
		sh.Reserved += b.Reserved
		if b.Units > 0 || b.Reserved > 0 {
			sh.Lots = append(sh.Lots, ShelfLot{Lot: b.Lot, BestBefore: b.BestBefore, Claims: b.Claims})
		}
	}
	for _, sh := range shelves {
		slices.SortFunc(sh.Lots, func(a, b ShelfLot) int { return strings.Compare(a.BestBefore+a.Lot, b.BestBefore+b.Lot) })
		old, err := st.store.shelf(ctx, sh.Shop, sh.SKU)
		if err != nil && err != errNoShelf {
			return rep, err
		}
		if old.Units == sh.Units && old.Reserved == sh.Reserved && slices.EqualFunc(old.Lots, sh.Lots, func(a, b ShelfLot) bool { return a.Lot == b.Lot }) {
			continue
		}
		if err := st.store.saveShelf(ctx, *sh); err != nil {
			return rep, err
		}
		rep.ShelvesRebuilt++
	}
	return rep, nil
}

// movementComplete says whether a movement belongs to work that completed.
func (st *Stock) movementComplete(ctx context.Context, m Movement, complete func(Movement) (bool, error)) (bool, error) {
	switch {
	case m.Kind == MoveSale && strings.HasPrefix(m.Ref, "sal_"):
		_, err := st.store.sale(ctx, m.Ref)
		if err == ErrSaleNotFound {
			return false, nil
		}
		return err == nil, err
	case m.Kind == MoveTransferOut || m.Kind == MoveTransferIn:
		t, err := st.store.transfer(ctx, m.Ref)
		if err == ErrTransferNotFound {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return m.Kind == MoveTransferOut || t.Status == TransferReceived, nil
	case m.Kind == MoveSale || (m.Kind == MoveReturn && strings.HasPrefix(m.Ref, "ord_")):
		return complete(m)
	}
	return true, nil
}
