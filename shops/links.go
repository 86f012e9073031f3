package shops

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/traceability"
)

// VerifyLinks checks that every movement and balance is explained by the
// documents around it, beyond Verify's sums: a till sale's movements are
// its lines, a transfer's movements are what it sent and what arrived, what
// shops received of a lot is what the lot says it shipped, the lot's "sold"
// and "returned" events match the sale and return movements, and every
// shelf is the sum of its balances. A change cut in the middle (a receipt
// whose lot was shipped but whose movement is missing) shows here.
func (st *Stock) VerifyLinks(ctx context.Context) ([]Discrepancy, error) {
	moves, err := st.store.allMovements(ctx)
	if err != nil {
		return nil, err
	}
	var found []Discrepancy
	add := func(shop, lot, format string, args ...any) {
		found = append(found, Discrepancy{shop, lot, fmt.Sprintf(format, args...)})
	}
	byRef := map[string]map[string]int64{}  // ref|kind → shop|lot → units
	perLot := map[string]map[string]int64{} // lot → kind → units
	for _, m := range moves {
		k := m.Ref + "|" + m.Kind
		if byRef[k] == nil {
			byRef[k] = map[string]int64{}
		}
		byRef[k][m.Shop+"|"+m.Lot] += m.Units
		if perLot[m.Lot] == nil {
			perLot[m.Lot] = map[string]int64{}
		}
		perLot[m.Lot][m.Kind] += m.Units
	}
	// Till sales: one sale movement per line's lot, none without its sale.
	sales, err := st.store.salesBetween(ctx, time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return nil, err
	}
	saleIDs := map[string]bool{}
	for _, s := range sales {
		saleIDs[s.ID] = true
		want := map[string]int64{}
		for _, l := range s.Lines {
			for _, lu := range l.Lots {
				want[s.Shop+"|"+lu.Lot] -= lu.Units
			}
		}
		if got := byRef[s.ID+"|"+MoveSale]; !equalUnits(got, want) {
			add(s.Shop, "", "sale %s sold %v but its movements are %v", s.ID, want, got)
		}
	}
	for _, m := range moves {
		if m.Kind == MoveSale && strings.HasPrefix(m.Ref, "sal_") && !saleIDs[m.Ref] {
			add(m.Shop, m.Lot, "sale movement %s of sale %s, which does not exist", m.ID, m.Ref)
		}
		if (m.Kind == MoveTransferOut || m.Kind == MoveTransferIn) && !strings.HasPrefix(m.Ref, "trf_") {
			add(m.Shop, m.Lot, "transfer movement %s names no transfer", m.ID)
		}
	}
	// Transfers: out as sent, in as received (nothing while in transit).
	all, err := st.store.shops(ctx, mongodb.Page{Limit: 10_000})
	if err != nil {
		return nil, err
	}
	transfers := map[string]Transfer{}
	for _, sh := range all {
		ts, err := st.store.transfersOf(ctx, sh.Code, "")
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			transfers[t.ID] = t
		}
	}
	for _, m := range moves {
		if (m.Kind == MoveTransferOut || m.Kind == MoveTransferIn) && strings.HasPrefix(m.Ref, "trf_") {
			if _, ok := transfers[m.Ref]; !ok {
				add(m.Shop, m.Lot, "movement %s of transfer %s, which does not exist", m.ID, m.Ref)
			}
		}
	}
	for _, t := range transfers {
		out, in := map[string]int64{}, map[string]int64{}
		for _, l := range t.Lines {
			out[t.From+"|"+l.Lot] -= l.Units
			if t.Status == TransferReceived && l.Received > 0 {
				in[t.To+"|"+l.Lot] += l.Received
			}
		}
		if got := byRef[t.ID+"|"+MoveTransferOut]; !equalUnits(got, out) {
			add(t.From, "", "transfer %s sent %v but its movements are %v", t.ID, out, got)
		}
		if got := byRef[t.ID+"|"+MoveTransferIn]; !equalUnits(got, in) {
			add(t.To, "", "transfer %s (%s) received %v but its movements are %v", t.ID, t.Status, in, got)
		}
	}
	// Each lot's story agrees with the shops' ledger.
	err = st.trace.EachLot(ctx, func(l traceability.Lot) error {
		var shipped, received, sold, returned int64
		for _, e := range l.Events {
			switch e.Type {
			case traceability.EventShipped:
				shipped += e.Quantity
			case traceability.EventReceived:
				received += e.Quantity
			case traceability.EventSold:
				sold += e.Quantity
			case traceability.EventReturned:
				returned += e.Quantity
			}
		}
		k := perLot[l.Code]
		if shipped != k[MoveReceipt] || received != k[MoveReceipt] {
			add("", l.Code, "the lot shipped %d and recorded %d received, but shops booked %d in receipts", shipped, received, k[MoveReceipt])
		}
		if sold != -k[MoveSale] {
			add("", l.Code, "the lot recorded %d sold, but shops booked %d in sales", sold, -k[MoveSale])
		}
		if returned != k[MoveReturn] {
			add("", l.Code, "the lot recorded %d returned, but shops booked %d in returns", returned, k[MoveReturn])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Shelves are their balances' totals.
	bals, err := st.store.balancesOf(ctx, nil)
	if err != nil {
		return nil, err
	}
	type tot struct{ units, reserved int64 }
	want := map[string]tot{}
	lotsOn := map[string][]string{}
	for _, b := range bals {
		id := shelfID(b.Shop, b.SKU)
		t := want[id]
		t.units += b.Units
		t.reserved += b.Reserved
		want[id] = t
		if b.Units > 0 || b.Reserved > 0 {
			lotsOn[id] = append(lotsOn[id], b.Lot)
		}
	}
	for _, sh := range all {
		shelves, err := st.store.shelvesOf(ctx, sh.Code)
		if err != nil {
			return nil, err
		}
		for _, s := range shelves {
			w := want[s.ID]
			if s.Units != w.units || s.Reserved != w.reserved {
				add(s.Shop, "", "shelf %s shows %d units, %d reserved; its balances hold %d, %d reserved", s.SKU, s.Units, s.Reserved, w.units, w.reserved)
			}
			for _, lot := range lotsOn[s.ID] {
				if !slices.ContainsFunc(s.Lots, func(x ShelfLot) bool { return x.Lot == lot }) {
					add(s.Shop, lot, "shelf %s does not list a lot it holds", s.SKU)
				}
			}
			delete(want, s.ID)
		}
	}
	for id, w := range want {
		if w.units != 0 || w.reserved != 0 {
			add(id, "", "balances hold %d units, %d reserved, but there is no shelf", w.units, w.reserved)
		}
	}
	return found, nil
}

func equalUnits(got, want map[string]int64) bool {
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

// AllMovements returns every movement (verification across domains).
func (st *Stock) AllMovements(ctx context.Context) ([]Movement, error) {
	return st.store.allMovements(ctx)
}

// AllBalances returns every balance (verification across domains).
func (st *Stock) AllBalances(ctx context.Context) ([]Balance, error) {
	return st.store.balancesOf(ctx, nil)
}
