package catalog

import (
	"context"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/lru"
	"github.com/terroir-coop/terroir/internal/mongodb"
)

// Store persists the catalogue. It is the only file of the package that
// knows MongoDB.
type Store struct {
	db *mongodb.Store

	// priced keeps the products read to price till sales (pricedProduct),
	// on the embedded store only: its data directory is one process's (the
	// lock file), so every change of a product passes through this Store,
	// which forgets the product before and after writing it, and the
	// Service once more when the change around the write has ended (it
	// may have rolled back). changes counts the forgettings, so that a read
	// that raced with one does not keep what it read. On a replica set,
	// where another instance may change a price, every sale reads it.
	priced  *lru.Cache[string, Product]
	changes atomic.Int64
}

// pricedBudget bounds the products kept for pricing (a few KB each).
const pricedBudget = 8 << 20

// NewStore returns a store on db.
func NewStore(db *mongodb.Store) *Store {
	s := &Store{db: db}
	if db.Embedded() {
		s.priced = lru.New[string, Product](pricedBudget)
	}
	return s
}

// pricedProduct is product, from memory when this process has read it and
// not changed it since (see priced). Callers only read what it returns.
func (s *Store) pricedProduct(ctx context.Context, sku string) (Product, error) {
	if s.priced == nil {
		return s.product(ctx, sku)
	}
	if p, ok := s.priced.Get(sku); ok {
		return p, nil
	}
	changes := s.changes.Load()
	p, err := s.product(ctx, sku)
	if err != nil {
		return p, err // an unknown SKU is read again: it may be created
	}
	s.priced.Put(sku, p, 4096)
	if s.changes.Load() != changes {
		s.priced.Remove(sku)
	}
	return p, nil
}

// forget drops a product from priced, around each write of it.
func (s *Store) forget(sku string) {
	if s.priced == nil {
		return
	}
	s.changes.Add(1)
	s.priced.Remove(sku)
}

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
	s.forget(sku)
	defer s.forget(sku)
	_, err := s.db.Collection("products").UpdateOne(ctx, bson.M{"_id": sku}, bson.M{"$set": bson.M{"prices." + channel: m}})
	return err
}

func (s *Store) setShare(ctx context.Context, sku, channel string, sh Share) error {
	s.forget(sku)
	defer s.forget(sku)
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
	s.forget(sku)
	defer s.forget(sku)
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
	s.forget(sku)
	defer s.forget(sku)
	res, err := s.db.Collection("products").UpdateOne(ctx, bson.M{"_id": sku}, bson.M{"$set": bson.M{"photo": photo}})
	if err == nil && res.MatchedCount == 0 {
		return ErrProductNotFound
	}
	return err
}
