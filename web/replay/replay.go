// Package replay makes creating API requests idempotent: a request sent
// again with the same Idempotency-Key and the same body gets the first
// answer again, without doing the work twice (API.md's convention). A
// client on a weak rural connection can therefore retry a POST it never
// got an answer to.
//
// A key is scoped to the caller, the method and the path. The record is
// inserted as "pending" before the work runs (a unique _id, so two copies
// of one request racing cannot both run: the second gets ErrInProgress),
// and completed with the answer afterwards; a 5xx answer is forgotten so
// the retry runs again. Records are kept 24 hours.
//
// store.go is the only file that talks to MongoDB.
package replay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/terroir-coop/terroir/internal/problem"
)

// Answer is a recorded response.
type Answer struct {
	Status      int
	ContentType string
	Body        []byte
}

// Errors of Begin.
var (
	ErrInProgress = problem.New(problem.Conflict, "a request with this Idempotency-Key is still being processed; retry in a moment")
	ErrOtherBody  = problem.New(problem.Unprocessable, "this Idempotency-Key was used with another request body")
)

// TTL is how long a key is remembered.
const TTL = 24 * time.Hour

// Service records and replays answers. It is safe for concurrent use.
type Service struct {
	store *Store
	now   func() time.Time
}

// NewService returns the replay service.
func NewService(store *Store, now func() time.Time) *Service { return &Service{store: store, now: now} }

func id(scope, key string) string {
	sum := sha256.Sum256([]byte(scope + "\x00" + key))
	return "api|" + hex.EncodeToString(sum[:])
}

func hash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// Begin claims a key for a request. It returns the recorded answer when
// the same request was already answered (replay), or nil when the caller
// must do the work and then call Finish or Abandon.
func (s *Service) Begin(ctx context.Context, scope, key string, body []byte) (*Answer, error) {
	if len(key) > 200 {
		return nil, problem.Field("Idempotency-Key", "must be at most 200 characters")
	}
	rid, h := id(scope, key), hash(body)
	for attempt := 0; attempt < 2; attempt++ {
		rec, found, err := s.store.get(ctx, rid)
		if err != nil {
			return nil, err
		}
		if found && s.now().Sub(rec.CreatedAt) > TTL {
			if err := s.store.delete(ctx, rid); err != nil {
				return nil, err
			}
			found = false
		}
		switch {
		case found && rec.BodyHash != h:
			return nil, ErrOtherBody
		case found && !rec.Done:
			return nil, ErrInProgress
		case found:
			return &Answer{Status: rec.Status, ContentType: rec.ContentType, Body: rec.Body}, nil
		}
		inserted, err := s.store.insertPending(ctx, record{ID: rid, BodyHash: h, CreatedAt: s.now().UTC()})
		if err != nil {
			return nil, err
		}
		if inserted {
			return nil, nil
		}
		// Another copy claimed it between our read and insert: read again.
	}
	return nil, ErrInProgress
}

// Finish records the answer to replay.
func (s *Service) Finish(ctx context.Context, scope, key string, a Answer) error {
	return s.store.complete(ctx, id(scope, key), a)
}

// Abandon forgets a key whose request failed on the server's side, so a
// retry runs again.
func (s *Service) Abandon(ctx context.Context, scope, key string) error {
	return s.store.delete(ctx, id(scope, key))
}

// Sweep deletes records older than the TTL (no TTL indexes on the embedded store).
func (s *Service) Sweep(ctx context.Context) error {
	return s.store.deleteBefore(ctx, s.now().Add(-TTL))
}
