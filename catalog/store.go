package catalog

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/mongodb"
)

// Store persists the catalogue. It is the only file of the package that
// knows MongoDB.
type Store struct {
	db *mongodb.Store
}

// NewStore returns a store on db.
func NewStore(db *mongodb.Store) *Store { return &Store{db: db} }

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
