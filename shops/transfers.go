package shops

import (
	"context"
	"fmt"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
)

// Transfer statuses.
const (
	TransferInTransit = "in_transit"
	TransferReceived  = "received"
)

// TransferLine is one lot sent, and what arrived.
type TransferLine struct {
	Lot         string               `json:"lot" bson:"lot"`
	SKU         string               `json:"sku" bson:"sku"`
	Cooperative string               `json:"cooperative" bson:"coop"`
	BestBefore  string               `json:"best_before" bson:"best_before"`
	Claims      []traceability.Claim `json:"-" bson:"claims"`
	Units       int64                `json:"units" bson:"units"`
	Received    int64                `json:"received" bson:"received"`
	Missing     int64                `json:"missing" bson:"missing"` // sent − received, recorded on arrival
}

// Transfer moves units between shops: out of the sender at once, into the
// receiver when it confirms what arrived.
type Transfer struct {
	ID         string         `json:"id" bson:"_id"`
	From       string         `json:"from" bson:"from"`
	To         string         `json:"to" bson:"to"`
	Status     string         `json:"status" bson:"status"`
	Lines      []TransferLine `json:"lines" bson:"lines"`
	SentBy     string         `json:"sent_by" bson:"sent_by"`
	SentAt     time.Time      `json:"sent_at" bson:"sent_at"`
	ReceivedBy string         `json:"received_by,omitempty" bson:"received_by,omitempty"`
	ReceivedAt time.Time      `json:"received_at,omitzero" bson:"received_at,omitempty"`
}

// Number is how the transfer is written for people (id.Number).
func (tr Transfer) Number() string { return id.Number(tr.ID) }

// ErrTransferNotFound is returned for an unknown transfer.
var ErrTransferNotFound = problem.New(problem.NotFound, "transfer not found")

// Send starts a transfer: the units leave the sender's balances now and are
// in transit until the receiver confirms them.
func (st *Stock) Send(ctx context.Context, actor access.Actor, from, to string, lines []LotUnits) (Transfer, error) {
	from, to = id.NormalizeCode(from), id.NormalizeCode(to)
	if err := actor.OperateShop(from); err != nil {
		return Transfer{}, err
	}
	if to == from {
		return Transfer{}, problem.Field("to", "must be another shop")
	}
	if _, err := st.store.shop(ctx, to); err != nil {
		return Transfer{}, problem.Field("to", "no shop %q", to)
	}
	if len(lines) == 0 || len(lines) > 200 {
		return Transfer{}, problem.Field("lines", "send between 1 and 200 lots")
	}
	t := Transfer{ID: id.New("trf"), From: from, To: to, Status: TransferInTransit, SentBy: actor.Email}
	var skus []string
	err := st.db.Atomically(ctx, func(ctx context.Context) error {
		t.Lines, skus = nil, nil
		bals := make([]Balance, len(lines))
		seen := map[string]bool{}
		for i, ln := range lines {
			lot := traceability.NormalizeLotCode(ln.Lot)
			if seen[lot] {
				return problem.Field(fmt.Sprintf("lines[%d].lot", i), "lot %s is listed twice", lot)
			}
			seen[lot] = true
			if ln.Units <= 0 {
				return problem.Field(fmt.Sprintf("lines[%d].units", i), "must be a positive whole number")
			}
			b, err := st.store.balance(ctx, from, lot)
			if err != nil {
				return notHeld(fmt.Sprintf("lines[%d].lot", i), err)
			}
			if b.Free() < ln.Units {
				return problem.New(problem.InsufficientStock, "lot %s has %d units free here", lot, b.Free()).At(fmt.Sprintf("lines[%d].units", i))
			}
			bals[i] = b
		}
		t.SentAt = st.now().UTC()
		for i, ln := range lines {
			b := &bals[i]
			if err := st.move(ctx, b, Movement{Kind: MoveTransferOut, Units: -ln.Units, Ref: t.ID, Actor: actor.Email}); err != nil {
				return err
			}
			t.Lines = append(t.Lines, TransferLine{Lot: b.Lot, SKU: b.SKU, Cooperative: b.Cooperative, BestBefore: b.BestBefore,
				Claims: b.Claims, Units: ln.Units})
			skus = append(skus, b.SKU)
		}
		return st.store.insertTransfer(ctx, t)
	})
	for _, sku := range skus {
		st.changed(from, sku)
	}
	return t, err
}

// ReceiveTransfer confirms what arrived. Lines not listed arrived whole; a
// line may say fewer units (broken, missing) — the difference is recorded
// as missing on the transfer. More than was sent is refused.
func (st *Stock) ReceiveTransfer(ctx context.Context, actor access.Actor, shop, transferID string, arrived []LotUnits) (Transfer, error) {
	shop = id.NormalizeCode(shop)
	if err := actor.OperateShop(shop); err != nil {
		return Transfer{}, err
	}
	var t Transfer
	err := st.db.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if t, err = st.store.transfer(ctx, transferID); err != nil || t.To != shop {
			return ErrTransferNotFound
		}
		if t.Status != TransferInTransit {
			return problem.New(problem.Conflict, "transfer %s was already received", transferID)
		}
		got := map[string]int64{}
		for i, a := range arrived {
			lot := traceability.NormalizeLotCode(a.Lot)
			found := false
			for _, l := range t.Lines {
				if l.Lot == lot {
					found = true
					if a.Units < 0 || a.Units > l.Units {
						return problem.Field(fmt.Sprintf("lines[%d].units", i), "between 0 and the %d units sent", l.Units)
					}
				}
			}
			if !found {
				return problem.Field(fmt.Sprintf("lines[%d].lot", i), "lot %s is not in this transfer", lot)
			}
			got[lot] = a.Units
		}
		for i := range t.Lines {
			l := &t.Lines[i]
			l.Received = l.Units
			if n, ok := got[l.Lot]; ok {
				l.Received = n
			}
			l.Missing = l.Units - l.Received
			if l.Received == 0 {
				continue
			}
			b, err := st.store.balance(ctx, shop, l.Lot)
			if err == ErrBalanceNotFound {
				b = Balance{ID: balanceID(shop, l.Lot), Shop: shop, Lot: l.Lot, SKU: l.SKU, Cooperative: l.Cooperative,
					BestBefore: l.BestBefore, Claims: l.Claims}
				if err := st.store.addToShelf(ctx, shop, l.SKU, ShelfLot{Lot: l.Lot, BestBefore: l.BestBefore, Claims: l.Claims}); err != nil {
					return err
				}
			} else if err != nil {
				return err
			}
			if err := st.move(ctx, &b, Movement{Kind: MoveTransferIn, Units: l.Received, Ref: t.ID, Actor: actor.Email}); err != nil {
				return err
			}
		}
		t.Status, t.ReceivedBy, t.ReceivedAt = TransferReceived, actor.Email, st.now().UTC()
		return st.store.saveTransfer(ctx, t)
	})
	if err == nil {
		for _, l := range t.Lines {
			st.changed(shop, l.SKU)
		}
	}
	return t, err
}

// Transfers lists the transfers a shop sent or receives, newest first;
// status filters (in_transit, received) when not empty.
func (st *Stock) Transfers(ctx context.Context, actor access.Actor, shop, status string) ([]Transfer, error) {
	shop = id.NormalizeCode(shop)
	if err := actor.ManageShop(shop); err != nil {
		return nil, err
	}
	return st.store.transfersOf(ctx, shop, status)
}
