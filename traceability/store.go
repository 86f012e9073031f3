package traceability

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/terroir-coop/terroir/internal/mongodb"
)

// Store persists the traceability records. It is the only file of the
// package that knows about MongoDB.
type Store struct {
	db *mongodb.Store
}

// NewStore returns a store on db.
func NewStore(db *mongodb.Store) *Store { return &Store{db: db} }

// Indexes are the indexes this package needs.
func Indexes() []mongodb.Index {
	return []mongodb.Index{
		{Collection: "members", Keys: []string{"coop"}},
	}
}

func (s *Store) insertCooperative(ctx context.Context, c Cooperative) error {
	_, err := s.db.Collection("cooperatives").InsertOne(ctx, c)
	if mongodb.IsDuplicateKey(err) {
		return ErrCooperativeExists
	}
	return err
}

func (s *Store) cooperative(ctx context.Context, code string) (Cooperative, error) {
	var c Cooperative
	err := s.db.Collection("cooperatives").FindOne(ctx, bson.M{"_id": code}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return c, ErrCooperativeNotFound
	}
	return c, err
}

func (s *Store) cooperatives(ctx context.Context, only []string, p Page) ([]Cooperative, error) {
	filter := bson.M{}
	if only != nil {
		filter["_id"] = bson.M{"$in": only}
	}
	var out []Cooperative
	return out, findAll(ctx, s.db.Collection("cooperatives"), filter, p, &out)
}

func (s *Store) insertMember(ctx context.Context, m Member) error {
	_, err := s.db.Collection("members").InsertOne(ctx, m)
	return err
}

func (s *Store) member(ctx context.Context, id string) (Member, error) {
	var m Member
	err := s.db.Collection("members").FindOne(ctx, bson.M{"_id": id}).Decode(&m)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return m, ErrMemberNotFound
	}
	return m, err
}

func (s *Store) members(ctx context.Context, coop string, p Page) ([]Member, error) {
	var out []Member
	return out, findAll(ctx, s.db.Collection("members"), bson.M{"coop": coop}, p, &out)
}

// findAll decodes one page of documents matching filter, ordered by _id.
func findAll(ctx context.Context, c *mongo.Collection, filter any, p Page, out any) error {
	cur, err := c.Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "_id", Value: 1}}).
		SetSkip(int64(p.Offset)).SetLimit(int64(p.Limit)))
	if err != nil {
		return err
	}
	return cur.All(ctx, out)
}
