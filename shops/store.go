package shops

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/traceability"
)

// Store persists shops. It is the only file of the package that knows MongoDB.
type Store struct {
	db *mongodb.Store
}

// NewStore returns a store on db.
func NewStore(db *mongodb.Store) *Store { return &Store{db: db} }

// Indexes are the indexes this package needs.
func Indexes() []mongodb.Index { return []mongodb.Index{{Collection: "shops"}} }

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
	if errors.Is(err, mongo.ErrNoDocuments) {
		return sh, ErrShopNotFound
	}
	return sh, err
}

func (s *Store) shops(ctx context.Context, p traceability.Page) ([]Shop, error) {
	p = p.Normalized()
	cur, err := s.db.Collection("shops").Find(ctx, bson.M{}, options.Find().
		SetSort(bson.D{{Key: "_id", Value: 1}}).SetSkip(int64(p.Offset)).SetLimit(int64(p.Limit)))
	if err != nil {
		return nil, err
	}
	var out []Shop
	return out, cur.All(ctx, &out)
}
