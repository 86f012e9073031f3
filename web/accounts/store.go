package accounts

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/terroir-coop/terroir/internal/mongodb"
)

// Store persists users, tokens and login failures.
type Store struct {
	db *mongodb.Store
}

// NewStore returns a store on db.
func NewStore(db *mongodb.Store) *Store { return &Store{db: db} }

// Indexes are the indexes this package needs: an email names one user.
func Indexes() []mongodb.Index {
	return []mongodb.Index{
		{Collection: "users", Keys: []string{"email"}, Unique: true},
		{Collection: "tokens", Keys: []string{"expires_at"}},
		{Collection: "login_failures"},
	}
}

func (s *Store) insertUser(ctx context.Context, u User) error {
	_, err := s.db.Collection("users").InsertOne(ctx, u)
	if mongodb.IsDuplicateKey(err) {
		return ErrUserExists
	}
	return err
}

func (s *Store) countUsers(ctx context.Context) (int64, error) {
	return s.db.Collection("users").EstimatedDocumentCount(ctx)
}

func (s *Store) user(ctx context.Context, id string) (User, error) {
	return s.findUser(ctx, bson.M{"_id": id})
}

func (s *Store) userByEmail(ctx context.Context, email string) (User, error) {
	return s.findUser(ctx, bson.M{"email": email})
}

func (s *Store) findUser(ctx context.Context, filter bson.M) (User, error) {
	var u User
	err := s.db.Collection("users").FindOne(ctx, filter).Decode(&u)
	if mongodb.IsNotFound(err) {
		return u, ErrUserNotFound
	}
	return u, err
}

func (s *Store) users(ctx context.Context, p mongodb.Page) ([]User, error) {
	return mongodb.FindPage[User](ctx, s.db.Collection("users"), bson.M{}, bson.D{{Key: "_id", Value: 1}}, p)
}

func (s *Store) insertToken(ctx context.Context, t Token) error {
	_, err := s.db.Collection("tokens").InsertOne(ctx, t)
	return err
}

func (s *Store) token(ctx context.Context, hash string) (Token, error) {
	var t Token
	err := s.db.Collection("tokens").FindOne(ctx, bson.M{"_id": hash}).Decode(&t)
	return t, err
}

func (s *Store) deleteToken(ctx context.Context, hash string) error {
	_, err := s.db.Collection("tokens").DeleteOne(ctx, bson.M{"_id": hash})
	return err
}

func (s *Store) deleteTokensBefore(ctx context.Context, t time.Time) error {
	_, err := s.db.Collection("tokens").DeleteMany(ctx, bson.M{"expires_at": bson.M{"$lt": t}})
	return err
}

// loginFailures is one key's failures: a list of times, trimmed to the window.
type loginFailures struct {
	Key   string      `bson:"_id"`
	Times []time.Time `bson:"times"`
	Last  time.Time   `bson:"last"`
}

func (s *Store) recentFailures(ctx context.Context, key string, since time.Time) (int, error) {
	var f loginFailures
	err := s.db.Collection("login_failures").FindOne(ctx, bson.M{"_id": key}).Decode(&f)
	if mongodb.IsNotFound(err) {
		return 0, nil
	}
	n := 0
	for _, t := range f.Times {
		if t.After(since) {
			n++
		}
	}
	return n, err
}

// recordFailure appends a failure time, keeping only those in the window.
// It reads then writes, so it runs inside Atomically.
func (s *Store) recordFailure(ctx context.Context, key string, at time.Time, window time.Duration) error {
	return s.db.Atomically(ctx, func(ctx context.Context) error {
		coll := s.db.Collection("login_failures")
		var f loginFailures
		err := coll.FindOne(ctx, bson.M{"_id": key}).Decode(&f)
		if err != nil && !mongodb.IsNotFound(err) {
			return err
		}
		kept := []time.Time{at.UTC()}
		for _, t := range f.Times {
			if t.After(at.Add(-window)) && len(kept) < 50 {
				kept = append(kept, t)
			}
		}
		_, err = coll.UpdateOne(ctx, bson.M{"_id": key},
			bson.M{"$set": bson.M{"times": kept, "last": at.UTC()}}, options.UpdateOne().SetUpsert(true))
		return err
	})
}

func (s *Store) deleteFailuresBefore(ctx context.Context, t time.Time) error {
	_, err := s.db.Collection("login_failures").DeleteMany(ctx, bson.M{"last": bson.M{"$lt": t}})
	return err
}
