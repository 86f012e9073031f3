package replay

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/mongodb"
)

// Store keeps the records in the idempotency collection (orders keep
// theirs there too, under another prefix).
type Store struct {
	db *mongodb.Store
}

// NewStore returns a store on db.
func NewStore(db *mongodb.Store) *Store { return &Store{db: db} }

// Indexes are the indexes this package needs.
func Indexes() []mongodb.Index {
	return []mongodb.Index{{Collection: "idempotency", Keys: []string{"created_at"}}}
}

type record struct {
	ID          string    `bson:"_id"`
	BodyHash    string    `bson:"body_hash"`
	Done        bool      `bson:"done"`
	Status      int       `bson:"status,omitempty"`
	ContentType string    `bson:"content_type,omitempty"`
	Body        []byte    `bson:"body,omitempty"`
	CreatedAt   time.Time `bson:"created_at"`
}

func (s *Store) get(ctx context.Context, id string) (record, bool, error) {
	var r record
	err := s.db.Collection("idempotency").FindOne(ctx, bson.M{"_id": id}).Decode(&r)
	if mongodb.IsNotFound(err) {
		return r, false, nil
	}
	return r, err == nil, err
}

// insertPending claims an ID; false when another request holds it.
func (s *Store) insertPending(ctx context.Context, r record) (bool, error) {
	_, err := s.db.Collection("idempotency").InsertOne(ctx, r)
	if mongodb.IsDuplicateKey(err) {
		return false, nil
	}
	return err == nil, err
}

func (s *Store) complete(ctx context.Context, id string, a Answer) error {
	_, err := s.db.Collection("idempotency").UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{
		"done": true, "status": a.Status, "content_type": a.ContentType, "body": a.Body}})
	return err
}

func (s *Store) delete(ctx context.Context, id string) error {
	_, err := s.db.Collection("idempotency").DeleteOne(ctx, bson.M{"_id": id})
	return err
}

func (s *Store) deleteBefore(ctx context.Context, t time.Time) error {
	_, err := s.db.Collection("idempotency").DeleteMany(ctx, bson.M{"_id": bson.M{"$regex": "^api\\|"}, "created_at": bson.M{"$lt": t}})
	return err
}
