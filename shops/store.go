package shops

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/traceability"
)

// Store persists shops, balances, shelves, movements, transfers and sales.
// It is the only file of the package that knows MongoDB.
type Store struct {
	db *mongodb.Store
}

// NewStore returns a store on db.
func NewStore(db *mongodb.Store) *Store { return &Store{db: db} }

// The histories pages and the API serve are kept in keyed lists
// (mongodb.List), newest first, listed in the Atomically of their insert:
// on the embedded store a filter on "shop" reads every movement of the
// network. A movement is listed under its shop, its shop and lot, and its
// shop and SKU (the filters of a movement history); a filter on the kind
// is a bounded scan of the most specific of those lists (ListFilter), its
// cost growing with that shop's history, not the network's. A transfer is
// listed under the shop it leaves and the shop it reaches; a filter on its
// status is a bounded scan of the shop's list. Reports over a period
// (sales, movements between dates) and the ledger checks still read the
// collection: they read all of it anyway.
var (
	movementList = &mongodb.List{Name: "movements", Collection: "movements", NewestFirst: true, OrderField: "at",
		KeysOf: func(d bson.Raw) []string {
			str := func(k string) string { v, _ := d.Lookup(k).StringValueOK(); return v }
			return movementKeys(Movement{Shop: str("shop"), Lot: str("lot"), SKU: str("sku")})
		}}
	transferList = &mongodb.List{Name: "transfers", Collection: "transfers", NewestFirst: true, OrderField: "sent_at",
		KeysOf: func(d bson.Raw) []string {
			from, _ := d.Lookup("from").StringValueOK()
			to, _ := d.Lookup("to").StringValueOK()
			return []string{mongodb.ListKey(from), mongodb.ListKey(to)}
		}}
)

func movementKeys(m Movement) []string {
	return []string{mongodb.ListKey(m.Shop), mongodb.ListKey(m.Shop, "lot", m.Lot), mongodb.ListKey(m.Shop, "sku", m.SKU)}
}

// Indexes are the indexes this package needs.
func Indexes() []mongodb.Index {
	return []mongodb.Index{
		{Collection: "shops"},
		{Collection: "balances", Keys: []string{"shop"}},
		{Collection: "balances", Keys: []string{"coop"}},
		{Collection: "shelves", Keys: []string{"shop"}},
		{Collection: "movements", Keys: []string{"shop"}, List: movementList},
		{Collection: "transfers", Keys: []string{"from"}, List: transferList},
		{Collection: "transfers", Keys: []string{"to"}},
		{Collection: "sales", Keys: []string{"shop"}},
	}
}

func (s *Store) insertShop(ctx context.Context, sh Shop) error {
	_, err := s.db.Collection("shops").InsertOne(ctx, sh)
	if mongodb.IsDuplicateKey(err) {
		return ErrShopExists
	}
	return err
}

func (s *Store) shop(ctx context.Context, code string) (Shop, error) {
	var sh Shop
	err := s.db.Collection("shops").FindOne(ctx, bson.M{"_id": code}).Decode(&sh)
	if mongodb.IsNotFound(err) {
		return sh, ErrShopNotFound
	}
	return sh, err
}

func (s *Store) shops(ctx context.Context, p mongodb.Page) ([]Shop, error) {
	p = p.Normalized()
	return mongodb.FindPage[Shop](ctx, s.db.Collection("shops"), bson.M{}, bson.D{{Key: "_id", Value: 1}}, p)
}

func bsonShop(shop string) bson.M { return bson.M{"shop": shop} }
func bsonCoop(coop string) bson.M { return bson.M{"coop": coop} }

func (s *Store) balance(ctx context.Context, shop, lot string) (Balance, error) {
	var b Balance
	err := s.db.Collection("balances").FindOne(ctx, bson.M{"_id": balanceID(shop, lot)}).Decode(&b)
	if mongodb.IsNotFound(err) {
		return b, ErrBalanceNotFound
	}
	return b, err
}

// readAheadInto reads doc into p, ahead of the write lock
// (mongodb.Preread), and decodes it into out; false when it could not be
// read or decoded (the change then reads it under the lock, as without
// reading ahead).
func readAheadInto(ctx context.Context, p *mongodb.Preread, doc mongodb.Doc, out any) bool {
	raw, err := p.FindOne(ctx, doc.Coll, doc.ID)
	return err == nil && bson.Unmarshal(raw, out) == nil
}

// readAheadAll reads docs into p, for the change to find under the lock.
func readAheadAll(ctx context.Context, p *mongodb.Preread, docs ...mongodb.Doc) {
	for _, d := range docs {
		_, _ = p.FindOne(ctx, d.Coll, d.ID)
	}
}

func shelfDoc(shop, sku string) mongodb.Doc {
	return mongodb.Doc{Coll: "shelves", ID: shelfID(shop, sku)}
}
func balanceDoc(shop, lot string) mongodb.Doc {
	return mongodb.Doc{Coll: "balances", ID: balanceID(shop, lot)}
}

// saveBalance writes a balance whole. Callers hold Atomically.
func (s *Store) saveBalance(ctx context.Context, b Balance) error {
	_, err := s.db.Collection("balances").ReplaceOne(ctx, bson.M{"_id": b.ID}, b, options.Replace().SetUpsert(true))
	return err
}

func (s *Store) balancesOf(ctx context.Context, filter bson.M) ([]Balance, error) {
	if filter == nil {
		filter = bson.M{}
	}
	return mongodb.FindPage[Balance](ctx, s.db.Collection("balances"), filter, bson.D{{Key: "_id", Value: 1}}, mongodb.Page{})
}

// prepareMove journals at once the documents a movement writes (moveDocs)
// inside the caller's Atomically: one journal write on the embedded store
// instead of one per document. A caller that prepared them already (a
// sale, with the rest of what it writes) costs nothing here.
func (s *Store) prepareMove(ctx context.Context, m Movement, b Balance) error {
	return s.db.Prepare(ctx, moveDocs(m, b)...)
}

// moveDocs are the documents a movement of balance b writes: the movement
// itself (new, under the _id book has just minted), the balance, its shelf
// and the heads of the movement's lists.
func moveDocs(m Movement, b Balance) []mongodb.Doc {
	return append([]mongodb.Doc{{Coll: "movements", ID: m.ID, New: true}, {Coll: "balances", ID: b.ID},
		{Coll: "shelves", ID: shelfID(b.Shop, b.SKU)}}, movementList.HeadDocs(movementKeys(m)...)...)
}

// saleDoc names a sale about to be inserted under the _id just minted.
func saleDoc(id string) mongodb.Doc { return mongodb.Doc{Coll: "sales", ID: id, New: true} }

func (s *Store) insertMovement(ctx context.Context, m Movement) error {
	return s.db.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.db.Collection("movements").InsertOne(ctx, m); err != nil {
			return err
		}
		return s.db.ListAdd(ctx, *movementList, m.ID, movementKeys(m)...)
	})
}

// movements reads a page of a shop's movements, newest first: from the
// list of its lot or SKU when the filter names one, else of the shop; the
// rest of the filter is a bounded scan of that list.
func (s *Store) movements(ctx context.Context, shop string, f MovementFilter, p mongodb.Page) ([]Movement, error) {
	lot, sku := traceability.NormalizeLotCode(f.Lot), strings.ToUpper(f.SKU)
	key := mongodb.ListKey(shop)
	switch {
	case f.Lot != "":
		key = mongodb.ListKey(shop, "lot", lot)
	case f.SKU != "":
		key = mongodb.ListKey(shop, "sku", sku)
	}
	var keep func(Movement) bool
	if (f.Lot != "" && f.SKU != "") || f.Kind != "" {
		keep = func(m Movement) bool {
			return (f.SKU == "" || m.SKU == sku) && (f.Kind == "" || m.Kind == f.Kind)
		}
	}
	return mongodb.ListFilter(ctx, s.db, *movementList, key, keep, p)
}

// movementSums adds up every movement per balance (shop|lot).
func (s *Store) movementSums(ctx context.Context) (map[string]int64, error) {
	cur, err := s.db.Collection("movements").Find(ctx, bson.M{}, options.Find().SetProjection(bson.M{"shop": 1, "lot": 1, "units": 1}))
	if err != nil {
		return nil, err
	}
	defer cur.Close(ctx)
	sums := map[string]int64{}
	for cur.Next(ctx) {
		var m Movement
		if err := cur.Decode(&m); err != nil {
			return nil, err
		}
		sums[balanceID(m.Shop, m.Lot)] += m.Units
	}
	return sums, cur.Err()
}

// receiptsByLot adds up the units every shop received of each lot from its
// cooperative (receipt movements).
func (s *Store) receiptsByLot(ctx context.Context) (map[string]int64, error) {
	cur, err := s.db.Collection("movements").Find(ctx, bson.M{"kind": MoveReceipt}, options.Find().SetProjection(bson.M{"lot": 1, "units": 1}))
	if err != nil {
		return nil, err
	}
	defer cur.Close(ctx)
	sums := map[string]int64{}
	for cur.Next(ctx) {
		var m Movement
		if err := cur.Decode(&m); err != nil {
			return nil, err
		}
		sums[m.Lot] += m.Units
	}
	return sums, cur.Err()
}

var errNoShelf = errors.New("no shelf")

func (s *Store) shelf(ctx context.Context, shop, sku string) (Shelf, error) {
	var sh Shelf
	err := s.db.Collection("shelves").FindOne(ctx, bson.M{"_id": shelfID(shop, sku)}).Decode(&sh)
	if mongodb.IsNotFound(err) {
		return Shelf{ID: shelfID(shop, sku), Shop: shop, SKU: sku}, errNoShelf
	}
	return sh, err
}

func (s *Store) saveShelf(ctx context.Context, sh Shelf) error {
	_, err := s.db.Collection("shelves").ReplaceOne(ctx, bson.M{"_id": sh.ID}, sh, options.Replace().SetUpsert(true))
	return err
}

// addToShelf puts a lot on its product's shelf, keeping FEFO order
// (earliest best-before first, then lot code). Callers hold Atomically.
func (s *Store) addToShelf(ctx context.Context, shop, sku string, sl ShelfLot) error {
	sh, err := s.shelf(ctx, shop, sku)
	if err != nil && err != errNoShelf {
		return err
	}
	if slices.ContainsFunc(sh.Lots, func(x ShelfLot) bool { return x.Lot == sl.Lot }) {
		return nil
	}
	sh.Lots = append(sh.Lots, sl)
	slices.SortFunc(sh.Lots, func(a, b ShelfLot) int { return strings.Compare(a.BestBefore+a.Lot, b.BestBefore+b.Lot) })
	return s.saveShelf(ctx, sh)
}

// adjustShelf moves a shelf's totals with a balance change and takes an
// emptied lot off the shelf. Callers hold Atomically.
func (s *Store) adjustShelf(ctx context.Context, b Balance, units, reserved int64) error {
	sh, err := s.shelf(ctx, b.Shop, b.SKU)
	if err != nil && err != errNoShelf {
		return err
	}
	if err == errNoShelf {
		sh.Lots = []ShelfLot{{Lot: b.Lot, BestBefore: b.BestBefore, Claims: b.Claims}}
	}
	sh.Units += units
	sh.Reserved += reserved
	if b.Units == 0 && b.Reserved == 0 {
		sh.Lots = slices.DeleteFunc(sh.Lots, func(x ShelfLot) bool { return x.Lot == b.Lot })
	} else if !slices.ContainsFunc(sh.Lots, func(x ShelfLot) bool { return x.Lot == b.Lot }) {
		sh.Lots = append(sh.Lots, ShelfLot{Lot: b.Lot, BestBefore: b.BestBefore, Claims: b.Claims})
		slices.SortFunc(sh.Lots, func(a, b ShelfLot) int { return strings.Compare(a.BestBefore+a.Lot, b.BestBefore+b.Lot) })
	}
	return s.saveShelf(ctx, sh)
}

func (s *Store) shelvesOf(ctx context.Context, shop string) ([]Shelf, error) {
	return mongodb.FindPage[Shelf](ctx, s.db.Collection("shelves"), bson.M{"shop": shop}, bson.D{{Key: "_id", Value: 1}}, mongodb.Page{})
}

func (s *Store) allShelves(ctx context.Context) ([]Shelf, error) {
	return mongodb.FindPage[Shelf](ctx, s.db.Collection("shelves"), bson.M{}, bson.D{{Key: "_id", Value: 1}}, mongodb.Page{})
}

func (s *Store) setThreshold(ctx context.Context, shop, sku string, threshold int64) error {
	sh, err := s.shelf(ctx, shop, sku)
	if err != nil && err != errNoShelf {
		return err
	}
	sh.Threshold = threshold
	return s.saveShelf(ctx, sh)
}

func (s *Store) insertSale(ctx context.Context, sale Sale) error {
	_, err := s.db.Collection("sales").InsertOne(ctx, sale)
	return err
}

func (s *Store) sale(ctx context.Context, id string) (Sale, error) {
	var sale Sale
	err := s.db.Collection("sales").FindOne(ctx, bson.M{"_id": id}).Decode(&sale)
	if mongodb.IsNotFound(err) {
		return sale, ErrSaleNotFound
	}
	return sale, err
}

// returnedUnits is what was already returned of a lot from a sale.
func (s *Store) returnedUnits(ctx context.Context, sale, lot string) (int64, error) {
	ms, err := mongodb.FindPage[Movement](ctx, s.db.Collection("movements"), bson.M{"ref": sale, "lot": lot, "kind": MoveReturn}, bson.D{{Key: "_id", Value: 1}}, mongodb.Page{})
	if err != nil {
		return 0, err
	}
	var n int64
	for _, m := range ms {
		n += m.Units
	}
	return n, nil
}

func (s *Store) insertTransfer(ctx context.Context, t Transfer) error {
	return s.db.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.db.Collection("transfers").InsertOne(ctx, t); err != nil {
			return err
		}
		return s.db.ListAdd(ctx, *transferList, t.ID, mongodb.ListKey(t.From), mongodb.ListKey(t.To))
	})
}

func (s *Store) saveTransfer(ctx context.Context, t Transfer) error {
	_, err := s.db.Collection("transfers").ReplaceOne(ctx, bson.M{"_id": t.ID}, t)
	return err
}

func (s *Store) transfer(ctx context.Context, id string) (Transfer, error) {
	var t Transfer
	err := s.db.Collection("transfers").FindOne(ctx, bson.M{"_id": id}).Decode(&t)
	if mongodb.IsNotFound(err) {
		return t, ErrTransferNotFound
	}
	return t, err
}

// transfersOf lists the last 500 transfers from or to a shop, newest
// first, of one status when status is set (a bounded scan of its list).
func (s *Store) transfersOf(ctx context.Context, shop, status string) ([]Transfer, error) {
	var keep func(Transfer) bool
	if status != "" {
		keep = func(t Transfer) bool { return t.Status == status }
	}
	return mongodb.ListFilter(ctx, s.db, *transferList, mongodb.ListKey(shop), keep, mongodb.Page{Limit: 500})
}

func (s *Store) salesBetween(ctx context.Context, from, to time.Time) ([]Sale, error) {
	return mongodb.FindPage[Sale](ctx, s.db.Collection("sales"), bson.M{"at": bson.M{"$gte": from, "$lt": to}}, bson.D{{Key: "at", Value: 1}}, mongodb.Page{})
}

func (s *Store) movementsBetween(ctx context.Context, kind string, from, to time.Time) ([]Movement, error) {
	return mongodb.FindPage[Movement](ctx, s.db.Collection("movements"), bson.M{"kind": kind, "at": bson.M{"$gte": from, "$lt": to}}, bson.D{{Key: "at", Value: 1}}, mongodb.Page{})
}

func (s *Store) allMovements(ctx context.Context) ([]Movement, error) {
	return mongodb.FindPage[Movement](ctx, s.db.Collection("movements"), bson.M{}, bson.D{{Key: "_id", Value: 1}}, mongodb.Page{})
}
