package shops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
)

// LotUnits is a number of units of one lot.
type LotUnits struct {
	Lot   string `json:"lot" bson:"lot"`
	Units int64  `json:"units" bson:"units"`
}

// Line asks for units of a product. Its price is the catalogue's (Pricer),
// never the caller's.
type Line struct {
	SKU   string
	Units int64
}

// pricedLine is a line with the unit price the catalogue gives it.
type pricedLine struct {
	Line
	unitPrice int64
}

// AllocatedLine is a line with the lots its units come from (FEFO).
type AllocatedLine struct {
	SKU       string     `json:"sku" bson:"sku"`
	Units     int64      `json:"units" bson:"units"`
	UnitPrice int64      `json:"unit_price" bson:"unit_price"`
	Amount    int64      `json:"amount" bson:"amount"`
	Lots      []LotUnits `json:"lots" bson:"lots"`
}

// Sale is a completed sale at a till (or an online order's delivery from
// the platform's warehouse).
type Sale struct {
	ID       string          `json:"id" bson:"_id"`
	Shop     string          `json:"shop" bson:"shop"`
	Lines    []AllocatedLine `json:"lines" bson:"lines"`
	Total    int64           `json:"-" bson:"total"`
	Currency string          `json:"-" bson:"currency"`
	Payment  string          `json:"payment" bson:"payment"`
	Ref      string          `json:"ref,omitempty" bson:"ref,omitempty"` // order ID for online sales
	Actor    string          `json:"actor" bson:"actor"`
	At       time.Time       `json:"at" bson:"at"`
}

// Number is how the sale is written for people (id.Number).
func (s Sale) Number() string { return id.Number(s.ID) }

// Payments accepted at a till.
var Payments = []string{"cash", "card"}

// ErrSaleNotFound is returned for an unknown sale.
var ErrSaleNotFound = problem.New(problem.NotFound, "sale not found")

// checkLines validates a request's lines.
func checkLines(lines []Line) error {
	if len(lines) == 0 {
		return problem.Field("lines", "add at least one product")
	}
	if len(lines) > 200 {
		return problem.Field("lines", "at most 200 lines")
	}
	for i, l := range lines {
		if strings.TrimSpace(l.SKU) == "" {
			return problem.Field(fmt.Sprintf("lines[%d].sku", i), "is required")
		}
		if l.Units <= 0 || l.Units > 10_000 {
			return problem.Field(fmt.Sprintf("lines[%d].units", i), "must be a whole number between 1 and 10 000")
		}
	}
	return nil
}

// price gives each line the catalogue's price in the shop's channel; all
// lines are in the channel's one currency.
func (st *Stock) price(ctx context.Context, shop string, lines []Line) ([]pricedLine, string, error) {
	out := make([]pricedLine, len(lines))
	currency := ""
	for i, l := range lines {
		sku := strings.ToUpper(strings.TrimSpace(l.SKU))
		field := fmt.Sprintf("lines[%d].sku", i)
		amount, cur, ok, err := st.pricer.UnitPrice(ctx, shop, sku)
		switch {
		case problem.CodeOf(err) == problem.NotFound:
			return nil, "", problem.Field(field, "no product %q in the catalogue", sku)
		case err != nil:
			return nil, "", err
		case !ok || amount < 0:
			return nil, "", problem.Field(field, "%s has no price in %s", sku, shop)
		case currency != "" && cur != currency:
			return nil, "", fmt.Errorf("shops: %s is priced in %s in %s, other lines in %s", sku, cur, shop, currency)
		}
		currency = cur
		out[i] = pricedLine{Line: Line{SKU: sku, Units: l.Units}, unitPrice: amount}
	}
	return out, currency, nil
}

// allocate picks, for each line, the lots its units come from: earliest
// best-before first, skipping expired lots, using only free units (not
// reserved for online orders). It reads and does not write; callers hold
// Atomically. A line that cannot be served → ErrInsufficientStock naming it.
func (st *Stock) allocate(ctx context.Context, shop string, lines []pricedLine) ([]AllocatedLine, map[string]*Balance, error) {
	today := st.now().UTC().Format(time.DateOnly)
	bals := map[string]*Balance{}
	taken := map[string]int64{}
	out := make([]AllocatedLine, len(lines))
	for i, ln := range lines {
		sku := strings.ToUpper(strings.TrimSpace(ln.SKU))
		al := AllocatedLine{SKU: sku, Units: ln.Units, UnitPrice: ln.unitPrice, Amount: ln.Units * ln.unitPrice}
		shelf, err := st.store.shelf(ctx, shop, sku)
		if err != nil && err != errNoShelf {
			return nil, nil, err
		}
		need := ln.Units
		for _, sl := range shelf.Lots { // kept in FEFO order
			if need == 0 {
				break
			}
			if sl.BestBefore != "" && sl.BestBefore < today {
				continue // never sell an expired lot
			}
			b := bals[sl.Lot]
			if b == nil {
				bb, err := st.store.balance(ctx, shop, sl.Lot)
				if err != nil {
					continue
				}
				b = &bb
				bals[sl.Lot] = b
			}
			free := b.Free() - taken[sl.Lot]
			if free <= 0 {
				continue
			}
			n := min(free, need)
			taken[sl.Lot] += n
			need -= n
			al.Lots = append(al.Lots, LotUnits{Lot: sl.Lot, Units: n})
		}
		if need > 0 {
			return nil, nil, problem.New(problem.InsufficientStock, "only %d units of %s can be sold here now", ln.Units-need, sku).
				At(fmt.Sprintf("lines[%d].units", i))
		}
		out[i] = al
	}
	return out, bals, nil
}

// readAhead reads, before Atomically takes the write lock, what a sale or
// reservation of lines in shop will read under it: each line's shelf and,
// FEFO as allocate walks it, the balances of the lots it would take and,
// when their units move (a sale), their chains and their movement lists'
// heads. Under the lock, each document no
// write has touched since is not read again (mongodb.Preread), so the
// lock is held for the writes; anything else is read there, so the change
// is exactly what it would be without reading ahead. On a replica set it
// reads nothing.
func (st *Stock) readAhead(ctx context.Context, shop string, lines []pricedLine, moving bool) context.Context {
	p := st.db.Preread()
	if p == nil {
		return ctx
	}
	today := st.now().UTC().Format(time.DateOnly)
	for _, ln := range lines {
		var sh Shelf
		if !readAheadInto(ctx, p, shelfDoc(shop, ln.SKU), &sh) {
			continue
		}
		need := ln.Units
		for _, sl := range sh.Lots {
			if need <= 0 {
				break
			}
			if sl.BestBefore != "" && sl.BestBefore < today {
				continue
			}
			var b Balance
			if !readAheadInto(ctx, p, balanceDoc(shop, sl.Lot), &b) || b.Free() <= 0 {
				continue
			}
			need -= b.Free()
			if !moving {
				continue
			}
			readAheadAll(ctx, p, st.trace.CustodyDocs(sl.Lot)...)
			readAheadAll(ctx, p, movementList.HeadDocs(movementKeys(Movement{Shop: shop, Lot: sl.Lot, SKU: ln.SKU})...)...)
		}
	}
	return mongodb.WithPreread(ctx, p)
}

// ReadAhead is readAhead for an online order's reservation (Reserve), for
// the orders service to call before its Atomically. Lines it cannot price
// are left to Reserve, which refuses them.
func (st *Stock) ReadAhead(ctx context.Context, shop string, lines []Line) context.Context {
	if checkLines(lines) != nil {
		return ctx // refused by Reserve, before any read
	}
	shop = id.NormalizeCode(shop)
	priced, _, err := st.price(ctx, shop, lines)
	if err != nil {
		return ctx
	}
	return st.readAhead(ctx, shop, priced, false)
}

// prepareAlloc journals in one write everything a change is about to write
// for the lots of alloc in shop, with extra (the sale itself): each lot's
// balance and shelf and, when its units move, its movement — under an _id
// minted here, returned in alloc's order for book — with the movement's
// lists and the lot's chain. Written one by one, they would cost a journal
// write each (mongodb.Store.Prepare).
func (st *Stock) prepareAlloc(ctx context.Context, shop string, alloc []AllocatedLine, moved bool, extra ...mongodb.Doc) ([]string, error) {
	docs := extra
	var moves []string
	for _, l := range alloc {
		for _, lu := range l.Lots {
			b := Balance{ID: balanceID(shop, lu.Lot), Shop: shop, Lot: lu.Lot, SKU: l.SKU}
			if !moved {
				docs = append(docs, balanceDoc(shop, lu.Lot), shelfDoc(shop, l.SKU))
				continue
			}
			m := Movement{ID: id.New("mov"), Shop: shop, Lot: lu.Lot, SKU: l.SKU}
			moves = append(moves, m.ID)
			docs = append(docs, moveDocs(m, b)...)
			docs = append(docs, st.trace.CustodyDocs(lu.Lot)...)
		}
	}
	return moves, st.db.Prepare(ctx, docs...)
}

// QuoteLine is a line priced for display, before any stock is taken.
type QuoteLine struct {
	SKU       string
	Units     int64
	UnitPrice int64 // minor units
	Amount    int64 // Units × UnitPrice; 0 when not priced
	Priced    bool  // the channel prices the product
}

// Quote is what lines would cost in a channel.
type Quote struct {
	Lines    []QuoteLine
	Total    int64
	Currency string
}

// Quote prices lines in a shop's channel as a sale would, without taking
// stock: what a till or a cart shows before checkout. A line the channel
// does not price (or with no units yet) is marked, not refused; the sale
// itself refuses it.
func (st *Stock) Quote(ctx context.Context, shop string, lines []Line) (Quote, error) {
	shop = id.NormalizeCode(shop)
	q := Quote{Lines: make([]QuoteLine, len(lines))}
	for i, l := range lines {
		sku := strings.ToUpper(strings.TrimSpace(l.SKU))
		ql := QuoteLine{SKU: sku, Units: l.Units}
		amount, cur, ok, err := st.pricer.UnitPrice(ctx, shop, sku)
		switch {
		case problem.CodeOf(err) == problem.NotFound:
		case err != nil:
			return Quote{}, err
		case ok && amount >= 0 && (q.Currency == "" || q.Currency == cur):
			q.Currency = cur
			ql.UnitPrice, ql.Priced = amount, true
			if l.Units > 0 && l.Units <= 10_000 { // what a sale accepts; no overflow
				ql.Amount = l.Units * amount
				q.Total += ql.Amount
			}
		}
		q.Lines[i] = ql
	}
	if q.Currency == "" {
		sh, err := st.store.shop(ctx, shop)
		if err != nil {
			return Quote{}, err
		}
		q.Currency = sh.Currency
	}
	return q, nil
}

// SaleRequest is a till sale: products and units, and how it was paid.
type SaleRequest struct {
	Lines   []Line
	Payment string
}

// Sell records a till sale: each line is priced from the catalogue in the
// shop's channel, and its units come from lots picked FEFO, never from
// expired lots and never below zero, even with several tills selling the
// last units at once. Only the shop's own manager sells (OperateShop).
func (st *Stock) Sell(ctx context.Context, actor access.Actor, shop string, req SaleRequest) (Sale, error) {
	shop = id.NormalizeCode(shop)
	if err := actor.OperateShop(shop); err != nil {
		return Sale{}, err
	}
	if err := problem.OneOf("payment", req.Payment, Payments); err != nil {
		return Sale{}, err
	}
	if err := checkLines(req.Lines); err != nil {
		return Sale{}, err
	}
	priced, currency, err := st.price(ctx, shop, req.Lines)
	if err != nil {
		return Sale{}, err
	}
	sale := Sale{ID: id.New("sal"), Shop: shop, Currency: currency, Payment: req.Payment, Actor: actor.Email}
	err = st.db.Atomically(st.readAhead(ctx, shop, priced, true), func(ctx context.Context) error {
		lines, bals, err := st.allocate(ctx, shop, priced)
		if err != nil {
			return err
		}
		sale.Lines = lines
		sale.At = st.now().UTC()
		sale.Total = 0
		moves, err := st.prepareAlloc(ctx, shop, lines, true, saleDoc(sale.ID))
		if err != nil {
			return err
		}
		for _, l := range lines {
			sale.Total += l.Amount
			for _, lu := range l.Lots {
				mID := moves[0]
				moves = moves[1:]
				if err := st.move(ctx, bals[lu.Lot], Movement{ID: mID, Kind: MoveSale, Units: -lu.Units, Ref: sale.ID, Actor: actor.Email}); err != nil {
					return err
				}
				if err := st.trace.RecordCustody(ctx, lu.Lot, traceability.EventSold, lu.Units, shop, actor.Email); err != nil {
					return err
				}
			}
		}
		return st.store.insertSale(ctx, sale)
	})
	if err != nil {
		return Sale{}, err
	}
	for _, l := range sale.Lines {
		st.changed(shop, l.SKU)
	}
	return sale, nil
}

// Sale returns one of a shop's sales (the receipt).
func (st *Stock) Sale(ctx context.Context, actor access.Actor, shop, saleID string) (Sale, error) {
	shop = id.NormalizeCode(shop)
	if err := actor.ManageShop(shop); err != nil {
		return Sale{}, err
	}
	s, err := st.store.sale(ctx, saleID)
	if err != nil || s.Shop != shop {
		return Sale{}, ErrSaleNotFound
	}
	return s, nil
}

// ReturnRequest brings units of a sold lot back to the shelf.
type ReturnRequest struct {
	Sale  string
	Lot   string
	Units int64
}

// Return puts units a customer brought back on the shelf, at most what the
// sale took from that lot.
func (st *Stock) Return(ctx context.Context, actor access.Actor, shop string, req ReturnRequest) (Balance, error) {
	shop = id.NormalizeCode(shop)
	if err := actor.ManageShop(shop); err != nil {
		return Balance{}, err
	}
	if req.Units <= 0 {
		return Balance{}, problem.Field("units", "must be a positive whole number")
	}
	var b Balance
	err := st.db.Atomically(ctx, func(ctx context.Context) error {
		sale, err := st.store.sale(ctx, req.Sale)
		if err != nil || sale.Shop != shop {
			return &problem.Error{Code: problem.NotFound, Field: "sale", Message: "no such sale in this shop"}
		}
		lot := traceability.NormalizeLotCode(req.Lot)
		var sold int64
		for _, l := range sale.Lines {
			for _, lu := range l.Lots {
				if lu.Lot == lot {
					sold += lu.Units
				}
			}
		}
		returned, err := st.store.returnedUnits(ctx, sale.ID, lot)
		if err != nil {
			return err
		}
		if req.Units > sold-returned {
			return problem.Field("units", "sale %s took %d units of lot %s, %d already returned", sale.ID, sold, lot, returned)
		}
		if b, err = st.store.balance(ctx, shop, lot); err != nil {
			return err
		}
		if err := st.move(ctx, &b, Movement{Kind: MoveReturn, Units: req.Units, Ref: sale.ID, Actor: actor.Email}); err != nil {
			return err
		}
		return st.trace.RecordCustody(ctx, lot, traceability.EventReturned, req.Units, shop, actor.Email)
	})
	if err == nil {
		st.changed(shop, b.SKU)
	}
	return b, err
}

// Reserve holds units for an online order, priced from the catalogue in
// the channel: lots picked FEFO, their reserved
// count raised so no till or other order can take them. It runs inside the
// caller's Atomically (the order is written in the same step).
func (st *Stock) Reserve(ctx context.Context, shop string, lines []Line) ([]AllocatedLine, error) {
	if err := checkLines(lines); err != nil {
		return nil, err
	}
	priced, _, err := st.price(ctx, shop, lines)
	if err != nil {
		return nil, err
	}
	alloc, bals, err := st.allocate(ctx, shop, priced)
	if err != nil {
		return nil, err
	}
	if _, err := st.prepareAlloc(ctx, shop, alloc, false); err != nil {
		return nil, err
	}
	for _, l := range alloc {
		for _, lu := range l.Lots {
			b := bals[lu.Lot]
			b.Reserved += lu.Units
			b.UpdatedAt = st.now().UTC()
			if err := st.store.saveBalance(ctx, *b); err != nil {
				return nil, err
			}
			if err := st.store.adjustShelf(ctx, *b, 0, lu.Units); err != nil {
				return nil, err
			}
		}
	}
	return alloc, nil
}

// Release gives reserved units back (an order expired or was cancelled).
// Callers hold Atomically.
func (st *Stock) Release(ctx context.Context, shop string, alloc []AllocatedLine) error {
	if _, err := st.prepareAlloc(ctx, shop, alloc, false); err != nil {
		return err
	}
	for _, l := range alloc {
		for _, lu := range l.Lots {
			b, err := st.store.balance(ctx, shop, lu.Lot)
			if err != nil {
				return err
			}
			b.Reserved -= min(lu.Units, b.Reserved)
			b.UpdatedAt = st.now().UTC()
			if err := st.store.saveBalance(ctx, b); err != nil {
				return err
			}
			if err := st.store.adjustShelf(ctx, b, 0, -lu.Units); err != nil {
				return err
			}
		}
	}
	return nil
}

// CommitReservation turns reserved units into a sale (an order was paid):
// units and reserved both drop, with one sale movement per lot and the lot's
// "sold" custody event. Callers hold Atomically.
func (st *Stock) CommitReservation(ctx context.Context, shop string, alloc []AllocatedLine, ref, actor string) error {
	moves, err := st.prepareAlloc(ctx, shop, alloc, true)
	if err != nil {
		return err
	}
	for _, l := range alloc {
		for _, lu := range l.Lots {
			mID := moves[0]
			moves = moves[1:]
			b, err := st.store.balance(ctx, shop, lu.Lot)
			if err != nil {
				return err
			}
			if b.Reserved < lu.Units {
				return fmt.Errorf("shops: commit %s: lot %s has %d reserved, %d to commit", ref, lu.Lot, b.Reserved, lu.Units)
			}
			b.Reserved -= lu.Units
			if err := st.store.adjustShelf(ctx, b, 0, -lu.Units); err != nil {
				return err
			}
			if err := st.move(ctx, &b, Movement{ID: mID, Kind: MoveSale, Units: -lu.Units, Ref: ref, Actor: actor}); err != nil {
				return err
			}
			if err := st.trace.RecordCustody(ctx, lu.Lot, traceability.EventSold, lu.Units, shop, actor); err != nil {
				return err
			}
		}
	}
	return nil
}

// Changed tells the caches that (shop, sku) moved; orders call it after a
// committed reservation change.
func (st *Stock) Changed(shop, sku string) { st.changed(shop, sku) }

// Restock puts an order's units back on the shelf (a refunded order whose
// goods came back, or never left). Callers hold Atomically and make sure it
// happens once per order.
func (st *Stock) Restock(ctx context.Context, shop string, alloc []AllocatedLine, ref, actor string) error {
	moves, err := st.prepareAlloc(ctx, shop, alloc, true)
	if err != nil {
		return err
	}
	for _, l := range alloc {
		for _, lu := range l.Lots {
			mID := moves[0]
			moves = moves[1:]
			b, err := st.store.balance(ctx, shop, lu.Lot)
			if err != nil {
				return err
			}
			if err := st.move(ctx, &b, Movement{ID: mID, Kind: MoveReturn, Units: lu.Units, Ref: ref, Actor: actor}); err != nil {
				return err
			}
			if err := st.trace.RecordCustody(ctx, lu.Lot, traceability.EventReturned, lu.Units, shop, actor); err != nil {
				return err
			}
		}
	}
	return nil
}

// SaleReturn is units a customer brought back to a till, with the sale
// they came from (its line says what was paid for them).
type SaleReturn struct {
	Movement Movement
	Sale     Sale
}

// ReturnsBetween lists the till returns of every shop in [from, to), for
// settlement statements (an online order's restock is not a till return:
// its refund is the order's).
func (st *Stock) ReturnsBetween(ctx context.Context, from, to time.Time) ([]SaleReturn, error) {
	moves, err := st.store.movementsBetween(ctx, MoveReturn, from, to)
	if err != nil {
		return nil, err
	}
	var out []SaleReturn
	sales := map[string]Sale{}
	for _, m := range moves {
		sale, ok := sales[m.Ref]
		if !ok {
			sale, err = st.store.sale(ctx, m.Ref)
			if errors.Is(err, ErrSaleNotFound) {
				continue // an order's restock
			}
			if err != nil {
				return nil, err
			}
			sales[m.Ref] = sale
		}
		out = append(out, SaleReturn{Movement: m, Sale: sale})
	}
	return out, nil
}

// SalesBetween lists the till sales of every shop in [from, to) (for
// settlement statements).
func (st *Stock) SalesBetween(ctx context.Context, from, to time.Time) ([]Sale, error) {
	return st.store.salesBetween(ctx, from, to)
}
