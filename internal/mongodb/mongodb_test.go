package mongodb_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
)

var errRefused = errors.New("refused")

// TestAtomicallyGuardedDecrement is the proof DESIGN.md asks for: 200
// concurrent guarded decrements of a quantity of 100 give exactly 100
// successes and 100 refusals, and the quantity ends at 0.
func TestAtomicallyGuardedDecrement(t *testing.T) {
	s := mongotest.New(t)
	ctx := context.Background()
	coll := s.Collection("counters")
	if _, err := coll.InsertOne(ctx, bson.M{"_id": "lot", "available": 100}); err != nil {
		t.Fatal(err)
	}
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Atomically(ctx, func(ctx context.Context) error {
				var doc struct {
					Available int64 `bson:"available"`
				}
				if err := coll.FindOne(ctx, bson.M{"_id": "lot"}).Decode(&doc); err != nil {
					return err
				}
				if doc.Available < 1 {
					return errRefused
				}
				_, err := coll.UpdateOne(ctx, bson.M{"_id": "lot"}, bson.M{"$inc": bson.M{"available": -1}})
				return err
			})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, errRefused):
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var doc struct {
		Available int64 `bson:"available"`
	}
	if err := coll.FindOne(ctx, bson.M{"_id": "lot"}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if ok.Load() != 100 || refused.Load() != 100 || doc.Available != 0 {
		t.Fatalf("successes %d, refusals %d, final %d; want 100, 100, 0", ok.Load(), refused.Load(), doc.Available)
	}
}

func TestAtomicallyNests(t *testing.T) {
	s := mongotest.New(t)
	ran := false
	err := s.Atomically(context.Background(), func(ctx context.Context) error {
		return s.Atomically(ctx, func(context.Context) error { ran = true; return nil })
	})
	if err != nil || !ran {
		t.Fatalf("nested Atomically: ran %v, err %v", ran, err)
	}
}

func TestSecondProcessOnSameDataDirIsRefused(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	first, err := mongodb.Open(ctx, mongodb.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	_, err = mongodb.Open(ctx, mongodb.Config{DataDir: dir})
	if !errors.Is(err, mongodb.ErrLocked) {
		t.Fatalf("second open: got %v, want ErrLocked", err)
	}
	first.Close()
	// Once released, the directory opens again with its data.
	again, err := mongodb.Open(ctx, mongodb.Config{DataDir: dir})
	if err != nil {
		t.Fatalf("reopen after close: %v", err)
	}
	again.Close()
}

func TestUniqueIndexRefusesDuplicates(t *testing.T) {
	s := mongotest.New(t)
	ctx := context.Background()
	if err := s.EnsureIndexes(ctx, []mongodb.Index{{Collection: "users", Keys: []string{"email"}, Unique: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Collection("users").InsertOne(ctx, bson.M{"_id": "u1", "email": "a@b.ma"}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Collection("users").InsertOne(ctx, bson.M{"_id": "u2", "email": "a@b.ma"})
	if !mongodb.IsDuplicateKey(err) {
		t.Fatalf("duplicate email: got %v, want duplicate key", err)
	}
}

// TestUncleanStopIsNoticed: a data directory closed properly opens clean;
// one left open by a process that died (its marker still there) opens
// unclean, so the caller recovers half-done work.
func TestUncleanStopIsNoticed(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := mongodb.Open(ctx, mongodb.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if s.Unclean() {
		t.Fatal("a new directory is unclean")
	}
	s.Close()
	s, err = mongodb.Open(ctx, mongodb.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if s.Unclean() {
		t.Fatal("a directory closed properly is unclean")
	}
	s.Close()
	// What a SIGKILL leaves: the marker of the running process.
	if err := os.WriteFile(filepath.Join(dir, "terroir.running"), []byte("4242\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = mongodb.Open(ctx, mongodb.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Unclean() {
		t.Fatal("a directory left open by a dead process opens clean")
	}
}
