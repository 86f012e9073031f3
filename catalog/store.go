package catalog

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/lru"
	"github.com/terroir-coop/terroir/internal/mongodb"
)

// Store persists the catalogue. It is the only file of the package that
// knows MongoDB.
type Store struct {
	db *mongodb.Store

	// priced keeps the products read to price till sales (pricedProduct),
	// on the embedded store only, whose data directory one process holds:
	// every change of a product passes through the Service, which forgets
	// it once the change around the write has ended (it may have rolled
	// back). On a replica set, where another instance may change a price,
	// it is nil and every sale reads the product.
	priced *lru.Memo[string, Product]
}

// pricedBudget bounds the products kept for pricing, a few KB each.
const pricedBudget, pricedSize = 8 << 20, 4 << 10

// NewStore returns a store on db.
func NewStore(db *mongodb.Store) *Store {
	s := &Store{db: db}
	if db.Embedded() {
		s.priced = lru.NewMemo[string, Product](pricedBudget, pricedSize)
	}
	return s
}

// pricedProduct is product, from memory when this process has read it and
// not changed it since (see priced). Callers only read what it returns.
func (s *Store) pricedProduct(ctx context.Context, sku string) (Product, error) {
	return s.priced.Get(sku, func() (Product, error) { return s.product(ctx, sku) })
}

// forget drops a product from priced once a change that wrote it ended.
func (s *Store) forget(sku string) { s.priced.Forget(sku) }

// Indexes are the indexes this package needs.
func Indexes() []mongodb.Index {
	return []mongodb.Index{{Collection: "products", Keys: []string{"coop"}}, {Collection: "photos"}}
}

func (s *Store) insertProduct(ctx context.Context, p Product) error {
	_, err := s.db.Collection("products").InsertOne(ctx, p)
	if mongodb.IsDuplicateKey(err) {
		return ErrProductExists
	}
	return err
}

func (s *Store) product(ctx context.Context, sku string) (Product, error) {
	var p Product
	err := s.db.Collection("products").FindOne(ctx, bson.M{"_id": sku}).Decode(&p)
	if mongodb.IsNotFound(err) {
		return p, ErrProductNotFound
	}
	return p, err
}

func (s *Store) products(ctx context.Context, pg mongodb.Page) ([]Product, error) {
	return mongodb.FindPage[Product](ctx, s.db.Collection("products"), bson.M{}, bson.D{{Key: "_id", Value: 1}}, pg)
}

func (s *Store) setPrice(ctx context.Context, sku, channel string, m Money) error {
	_, err := s.db.Collection("products").UpdateOne(ctx, bson.M{"_id": sku}, bson.M{"$set": bson.M{"prices." + channel: m}})
	return err
}

func (s *Store) setShare(ctx context.Context, sku, channel string, sh Share) error {
	_, err := s.db.Collection("products").UpdateOne(ctx, bson.M{"_id": sku}, bson.M{"$set": bson.M{"shares." + channel: sh}})
	return err
}

// setUnpaidLimit stores a product's unpaid limit; 0 removes it (the
// platform's default applies).
func (s *Store) setUnpaidLimit(ctx context.Context, sku string, limit int64) error {
	update := bson.M{"$set": bson.M{"unpaid_limit": limit}}
	if limit == 0 {
		update = bson.M{"$unset": bson.M{"unpaid_limit": ""}}
	}
	_, err := s.db.Collection("products").UpdateOne(ctx, bson.M{"_id": sku}, update)
	return err
}

func (s *Store) insertPhoto(ctx context.Context, p Photo) error {
	_, err := s.db.Collection("photos").InsertOne(ctx, p)
	return err
}

func (s *Store) photo(ctx context.Context, id string) (Photo, error) {
	var p Photo
	err := s.db.Collection("photos").FindOne(ctx, bson.M{"_id": id}).Decode(&p)
	if mongodb.IsNotFound(err) {
		return p, ErrPhotoNotFound
	}
	return p, err
}

func (s *Store) deletePhoto(ctx context.Context, id string) error {
	_, err := s.db.Collection("photos").DeleteOne(ctx, bson.M{"_id": id})
	return err
}

func (s *Store) setProductPhoto(ctx context.Context, sku, photo string) error {
	res, err := s.db.Collection("products").UpdateOne(ctx, bson.M{"_id": sku}, bson.M{"$set": bson.M{"photo": photo}})
	if err == nil && res.MatchedCount == 0 {
		return ErrProductNotFound
	}
	return err
}
