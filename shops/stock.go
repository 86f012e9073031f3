package shops

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
)

// Movement kinds.
const (
	MoveReceipt     = "receipt"      // from a cooperative
	MoveTransferOut = "transfer_out" // to another shop (in transit)
	MoveTransferIn  = "transfer_in"  // arrived from another shop
	MoveSale        = "sale"         // till or online
	MoveReturn      = "return"       // a customer brought units back
	MoveAdjustment  = "adjustment"   // stock count correction
	MoveLoss        = "loss"         // breakage, theft, expiry
)

// Balance is a shop's stock of one lot.
type Balance struct {
	ID          string               `json:"-" bson:"_id"` // shop|lot
	Shop        string               `json:"shop" bson:"shop"`
	Lot         string               `json:"lot" bson:"lot"`
	SKU         string               `json:"sku" bson:"sku"`
	Cooperative string               `json:"cooperative" bson:"coop"`
	BestBefore  string               `json:"best_before" bson:"best_before"`
	Units       int64                `json:"units" bson:"units"`
	Reserved    int64                `json:"reserved" bson:"reserved"`
	Claims      []traceability.Claim `json:"-" bson:"claims"`
	UpdatedAt   time.Time            `json:"updated_at" bson:"updated_at"`
	Ledger      int64                `json:"-" bson:"ledger"` // sum of movements, kept for verify
}

// Free is what can still be sold or reserved.
func (b Balance) Free() int64 { return b.Units - b.Reserved }

// A shelf's lots (each with its claims) are packed in one binary field of
// its document (mongodb.Pack: FerretDB converts every array element's
// fields on each read and write, and a till sale reads and rewrites a
// shelf; the catalogue reads them all). Nothing filters on them. Shelves
// written before are read as they are and packed at their next write: a
// shelf is always written whole. (A balance's one or two claims are left
// as they are: packing them measured no difference.)
var packedShelfKeys = map[string]bool{"lots": true}

type storedShelf Shelf

// MarshalBSON writes the shelf with its lots packed.
func (sh Shelf) MarshalBSON() ([]byte, error) {
	return mongodb.MarshalPacked(storedShelf(sh), packedShelfKeys)
}

// UnmarshalBSON reads a shelf, packed or not.
func (sh *Shelf) UnmarshalBSON(data []byte) error {
	*sh = Shelf{}
	return mongodb.UnmarshalPacked(data, (*storedShelf)(sh))
}

// ShelfLot is one lot on a shelf.
type ShelfLot struct {
	Lot        string               `json:"lot" bson:"lot"`
	BestBefore string               `json:"best_before" bson:"best_before"`
	Claims     []traceability.Claim `json:"claims" bson:"claims"` // the lot's, so the catalogue shows them without reading lots
}

// Shelf indexes a shop's lots of one product (FEFO order) with the totals.
type Shelf struct {
	ID        string     `json:"-" bson:"_id"` // shop|sku
	Shop      string     `json:"shop" bson:"shop"`
	SKU       string     `json:"sku" bson:"sku"`
	Lots      []ShelfLot `json:"lots" bson:"lots"`
	Units     int64      `json:"units" bson:"units"`
	Reserved  int64      `json:"reserved" bson:"reserved"`
	Threshold int64      `json:"threshold" bson:"threshold"` // low-stock alert below this
}

// Movement is one immutable change of a balance.
type Movement struct {
	ID     string `json:"id" bson:"_id"`
	Shop   string `json:"shop" bson:"shop"`
	Lot    string `json:"lot" bson:"lot"`
	SKU    string `json:"sku" bson:"sku"`
	Kind   string `json:"kind" bson:"kind"`
	Units  int64  `json:"units" bson:"units"` // signed: + into the shop, − out
	Ref    string `json:"ref,omitempty" bson:"ref,omitempty"`
	Reason string `json:"reason,omitempty" bson:"reason,omitempty"`
	// Consignment is the export consignment a receipt's units travelled
	// in (traceability.Consignment), when they came under one.
	Consignment string    `json:"consignment,omitempty" bson:"consignment,omitempty"`
	Actor       string    `json:"actor" bson:"actor"`
	At          time.Time `json:"at" bson:"at"`
}

// RefNumber is the movement's reference as people read it: a sale's or a
// transfer's number (id.Number), an order's, or the text it was given.
func (m Movement) RefNumber() string {
	if prefix, _, ok := strings.Cut(m.Ref, "_"); ok && len(prefix) == 3 {
		return id.Number(m.Ref)
	}
	return m.Ref
}

func balanceID(shop, lot string) string { return shop + "|" + lot }
func shelfID(shop, sku string) string   { return shop + "|" + sku }

// notHeld reports a balance lookup's failure on the field that named the
// lot: ErrBalanceNotFound as a 404 on that field, anything else as it is.
func notHeld(field string, err error) error {
	if pe, ok := problem.As(err); ok {
		return pe.At(field)
	}
	return err
}

// Sentinel errors.
var (
	ErrInsufficientStock = problem.New(problem.InsufficientStock, "not enough units in stock")
	ErrBalanceNotFound   = problem.New(problem.NotFound, "this shop holds no units of that lot")
)

// Pricer gives a product's price in a sales channel: the catalogue
// (catalog.Service) in production. A sale's prices come from it, never from
// the caller. ok is false when the product exists but has no price in the
// channel; a product that does not exist is a not_found problem.
type Pricer interface {
	UnitPrice(ctx context.Context, channel, sku string) (amount int64, currency string, ok bool, err error)
}

// Stock is the shops' stock-keeping service. It is safe for concurrent use.
type Stock struct {
	store  *Store
	db     *mongodb.Store
	trace  *traceability.Service
	now    func() time.Time
	pricer Pricer

	mu       sync.RWMutex
	watchers []func(shop, sku string)
}

// NewStock returns the stock service; pricer prices what is sold.
func NewStock(store *Store, trace *traceability.Service, now func() time.Time, pricer Pricer) *Stock {
	return &Stock{store: store, db: store.db, trace: trace, now: now, pricer: pricer}
}

// OnChange registers fn to be told every (shop, sku) whose stock this
// process changes, right after the change is committed: the catalogue
// caches of the web layer follow the shelves with it.
func (st *Stock) OnChange(fn func(shop, sku string)) {
	st.mu.Lock()
	st.watchers = append(st.watchers, fn)
	st.mu.Unlock()
}

// changed announces a committed change of (shop, sku).
func (st *Stock) changed(shop, sku string) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	for _, fn := range st.watchers {
		fn(shop, sku)
	}
}

// move applies one movement to a balance and its shelf. Callers hold
// Atomically and have checked the guards; move re-checks that no balance
// goes negative so a bug can never write one.
func (st *Stock) move(ctx context.Context, b *Balance, m Movement) error {
	_, err := st.book(ctx, b, m)
	return err
}

// book is move that returns the movement as booked (id, shop, lot, time).
func (st *Stock) book(ctx context.Context, b *Balance, m Movement) (Movement, error) {
	if b.Units+m.Units < 0 || b.Units+m.Units < b.Reserved {
		return Movement{}, ErrInsufficientStock
	}
	if m.ID == "" {
		m.ID = id.New("mov") // a sale mints its movements' _ids first, to journal them with the rest
	}
	m.Shop, m.Lot, m.SKU = b.Shop, b.Lot, b.SKU
	m.At = st.now().UTC()
	if err := st.store.prepareMove(ctx, m, *b); err != nil {
		return Movement{}, err
	}
	if err := st.store.insertMovement(ctx, m); err != nil {
		return Movement{}, err
	}
	b.Units += m.Units
	b.Ledger += m.Units
	b.UpdatedAt = m.At
	if err := st.store.saveBalance(ctx, *b); err != nil {
		return Movement{}, err
	}
	return m, st.store.adjustShelf(ctx, *b, m.Units, 0)
}

// ReceiptRequest receives units of a packed lot from its cooperative,
// optionally as part of an export consignment declared for this shop.
type ReceiptRequest struct {
	Lot         string
	Units       int64
	Consignment string
}

// Receive books units of a packed lot into a shop. The units come out of the
// lot's available quantity at its cooperative in the same atomic step: more
// than the lot has → ErrInsufficientStock (409), and nothing changes. A
// receipt naming a consignment is checked against it first (bound for this
// shop, the lot one of its lines, no more than declared: 400 or 409 naming
// consignment, lot or units), then counted in it, and its movement refers
// to it.
func (st *Stock) Receive(ctx context.Context, actor access.Actor, shop string, req ReceiptRequest) (Balance, error) {
	shop = id.NormalizeCode(shop)
	if err := actor.ManageShop(shop); err != nil {
		return Balance{}, err
	}
	if _, err := st.store.shop(ctx, shop); err != nil {
		return Balance{}, err
	}
	if strings.TrimSpace(req.Lot) == "" {
		return Balance{}, problem.Field("lot", "is required")
	}
	if req.Units <= 0 || req.Units > 1_000_000 {
		return Balance{}, problem.Field("units", "must be a whole number between 1 and 1 000 000")
	}
	req.Consignment = strings.TrimSpace(req.Consignment)
	var b Balance
	err := st.db.Atomically(ctx, func(ctx context.Context) error {
		if req.Consignment != "" {
			if err := st.trace.CheckConsignmentReceipt(ctx, req.Consignment, shop, req.Lot, req.Units); err != nil {
				return err
			}
		}
		l, err := st.trace.ShipUnits(ctx, req.Lot, req.Units, shop, actor.Email)
		if err != nil {
			return err
		}
		b, err = st.store.balance(ctx, shop, l.Code)
		if err == ErrBalanceNotFound {
			b = Balance{ID: balanceID(shop, l.Code), Shop: shop, Lot: l.Code, SKU: l.SKU, Cooperative: l.Cooperative,
				BestBefore: l.BestBefore, Claims: l.Claims}
			if err := st.store.addToShelf(ctx, shop, l.SKU, ShelfLot{Lot: l.Code, BestBefore: l.BestBefore, Claims: l.Claims}); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if err := st.move(ctx, &b, Movement{Kind: MoveReceipt, Units: req.Units, Ref: l.Cooperative, Consignment: req.Consignment, Actor: actor.Email}); err != nil {
			return err
		}
		if req.Consignment != "" {
			return st.trace.RecordConsignmentReceipt(ctx, req.Consignment, shop, l.Code, req.Units, actor.Email)
		}
		return nil
	})
	if err == nil {
		st.changed(shop, b.SKU)
	}
	return b, err
}

// AdjustmentRequest corrects a balance: a count difference or a loss.
type AdjustmentRequest struct {
	Lot    string
	Units  int64 // signed
	Kind   string
	Reason string
}

// Adjust applies a count correction or records a loss, with a reason.
func (st *Stock) Adjust(ctx context.Context, actor access.Actor, shop string, req AdjustmentRequest) (Balance, error) {
	shop = id.NormalizeCode(shop)
	if err := actor.ManageShop(shop); err != nil {
		return Balance{}, err
	}
	if req.Kind == "" {
		req.Kind = MoveAdjustment
	}
	if req.Kind != MoveAdjustment && req.Kind != MoveLoss {
		return Balance{}, problem.Field("kind", "must be adjustment or loss")
	}
	if req.Units == 0 {
		return Balance{}, problem.Field("units", "must not be zero")
	}
	if req.Kind == MoveLoss && req.Units > 0 {
		req.Units = -req.Units // a loss always takes units out
	}
	if err := problem.RequireText("reason", req.Reason, 500); err != nil {
		return Balance{}, err
	}
	var b Balance
	err := st.db.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if b, err = st.store.balance(ctx, shop, traceability.NormalizeLotCode(req.Lot)); err != nil {
			return notHeld("lot", err)
		}
		if b.Units+req.Units < b.Reserved {
			return problem.New(problem.InsufficientStock, "the shop holds %d units of lot %s (%d reserved)", b.Units, b.Lot, b.Reserved).At("units")
		}
		return st.move(ctx, &b, Movement{Kind: req.Kind, Units: req.Units, Reason: strings.TrimSpace(req.Reason), Actor: actor.Email})
	})
	if err == nil {
		st.changed(shop, b.SKU)
	}
	return b, err
}

// CountLine is a counted quantity of a lot.
type CountLine struct {
	Lot     string
	Counted int64
}

// ApplyCount turns a stock count into adjustments: for each lot counted,
// the difference with the balance becomes one adjustment movement. Lots
// not listed are left as they are. All lines apply, or none.
func (st *Stock) ApplyCount(ctx context.Context, actor access.Actor, shop string, lines []CountLine, reason string) ([]Movement, error) {
	shop = id.NormalizeCode(shop)
	if err := actor.ManageShop(shop); err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, problem.Field("lines", "count at least one lot")
	}
	if strings.TrimSpace(reason) == "" {
		reason = "stock count"
	}
	// Each line is applied against the balance as read before any line
	// moved it: a lot counted twice would book two differences against
	// the same starting units, and the balance would disagree with its
	// movements.
	counted := make(map[string]bool, len(lines))
	for i, ln := range lines {
		lot := traceability.NormalizeLotCode(ln.Lot)
		if counted[lot] {
			return nil, problem.Field(fmt.Sprintf("lines[%d].lot", i), "lot %s is counted twice; give one line per lot", lot)
		}
		counted[lot] = true
	}
	var out []Movement
	var skus []string
	err := st.db.Atomically(ctx, func(ctx context.Context) error {
		out, skus = nil, nil
		bals := make([]Balance, len(lines))
		for i, ln := range lines {
			b, err := st.store.balance(ctx, shop, traceability.NormalizeLotCode(ln.Lot))
			if err != nil {
				return notHeld(fmt.Sprintf("lines[%d].lot", i), err)
			}
			if ln.Counted < 0 {
				return problem.Field(fmt.Sprintf("lines[%d].counted", i), "cannot be negative")
			}
			if ln.Counted < b.Reserved {
				return problem.Field(fmt.Sprintf("lines[%d].counted", i), "%d units of lot %s are reserved for online orders; count them too", b.Reserved, b.Lot)
			}
			bals[i] = b
		}
		for i, ln := range lines {
			diff := ln.Counted - bals[i].Units
			if diff == 0 {
				continue
			}
			m, err := st.book(ctx, &bals[i], Movement{Kind: MoveAdjustment, Units: diff, Reason: reason, Actor: actor.Email})
			if err != nil {
				return err
			}
			out = append(out, m)
			skus = append(skus, bals[i].SKU)
		}
		return nil
	})
	for _, sku := range skus {
		st.changed(shop, sku)
	}
	return out, err
}

// StockLine is a row of a shop's stock.
type StockLine struct {
	SKU        string `json:"sku"`
	Lot        string `json:"lot"`
	Units      int64  `json:"units"`
	Reserved   int64  `json:"reserved"`
	BestBefore string `json:"best_before"`
}

// StockOf lists a shop's balances with units, by SKU then best-before.
func (st *Stock) StockOf(ctx context.Context, actor access.Actor, shop string) ([]StockLine, error) {
	shop = id.NormalizeCode(shop)
	if err := actor.ManageShop(shop); err != nil {
		return nil, err
	}
	bals, err := st.store.balancesOf(ctx, bsonShop(shop))
	if err != nil {
		return nil, err
	}
	out := make([]StockLine, 0, len(bals))
	for _, b := range bals {
		if b.Units == 0 && b.Reserved == 0 {
			continue
		}
		out = append(out, StockLine{SKU: b.SKU, Lot: b.Lot, Units: b.Units, Reserved: b.Reserved, BestBefore: b.BestBefore})
	}
	slices.SortFunc(out, func(a, b StockLine) int {
		if c := strings.Compare(a.SKU, b.SKU); c != 0 {
			return c
		}
		return strings.Compare(a.BestBefore+a.Lot, b.BestBefore+b.Lot)
	})
	return out, nil
}

// Movements lists a shop's movements, newest first, optionally of one lot,
// SKU or kind.
func (st *Stock) Movements(ctx context.Context, actor access.Actor, shop string, f MovementFilter, page mongodb.Page) ([]Movement, error) {
	shop = id.NormalizeCode(shop)
	if err := actor.ManageShop(shop); err != nil {
		return nil, err
	}
	return st.store.movements(ctx, shop, f, page.Normalized())
}

// MovementFilter narrows a movement history.
type MovementFilter struct {
	Lot, SKU, Kind string
}

// Shelf returns a shop's shelf of one product.
func (st *Stock) Shelf(ctx context.Context, shop, sku string) (Shelf, error) {
	return st.store.shelf(ctx, id.NormalizeCode(shop), sku)
}

// Shelves returns all of a shop's shelves (the catalogue's availability,
// which is public: the catalogue shows how many units are in stock).
func (st *Stock) Shelves(ctx context.Context, shop string) ([]Shelf, error) {
	return st.store.shelvesOf(ctx, id.NormalizeCode(shop))
}

// AllShelves returns every shop's shelves, by shop and product: one read
// where a shop's own costs the same on a store that scans the whole
// collection for it (the catalogues warmed at start).
func (st *Stock) AllShelves(ctx context.Context) ([]Shelf, error) {
	return st.store.allShelves(ctx)
}

// ShopShelves returns a shop's shelves with their thresholds, for its
// manager and the admin.
func (st *Stock) ShopShelves(ctx context.Context, actor access.Actor, shop string) ([]Shelf, error) {
	shop = id.NormalizeCode(shop)
	if err := actor.ManageShop(shop); err != nil {
		return nil, err
	}
	return st.store.shelvesOf(ctx, shop)
}

// Holdings lists where a cooperative's lots are: balances with units, for
// its manager, auditors in scope and the admin.
func (st *Stock) Holdings(ctx context.Context, actor access.Actor, coop string) ([]Balance, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ReadCoop(coop); err != nil {
		return nil, err
	}
	return st.store.balancesOf(ctx, bsonCoop(coop))
}

// SetThreshold sets the low-stock threshold of a product in a shop.
func (st *Stock) SetThreshold(ctx context.Context, actor access.Actor, shop, sku string, threshold int64) error {
	shop = id.NormalizeCode(shop)
	if err := actor.ManageShop(shop); err != nil {
		return err
	}
	if threshold < 0 || threshold > 1_000_000 {
		return problem.Field("threshold", "must be between 0 and 1 000 000")
	}
	return st.db.Atomically(ctx, func(ctx context.Context) error {
		return st.store.setThreshold(ctx, shop, sku, threshold)
	})
}
