package mongodb_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
)

// prereadStore is a fresh embedded store with the seeded things; reading
// ahead is the embedded store's, so on a replica set the test is skipped.
func prereadStore(t *testing.T) *mongodb.Store {
	t.Helper()
	s := mongotest.New(t)
	if !s.Embedded() {
		t.Skip("reading ahead is for the embedded store")
	}
	seedThings(t, s)
	return s
}

// TestPrereadIsUsedOnlyWhileUnchanged: documents read ahead of the write
// lock are not read again inside Atomically — unless a write touched them
// meanwhile (inside another change, outside any, or a rollback putting a
// before-image back), and then the change reads what is stored.
func TestPrereadIsUsedOnlyWhileUnchanged(t *testing.T) {
	s := prereadStore(t)
	ctx := context.Background()
	things := s.Collection("things")
	preread := func(ids ...string) context.Context {
		t.Helper()
		p := s.Preread()
		for _, id := range ids {
			if _, err := p.FindOne(ctx, "things", id); err != nil && !mongodb.IsNotFound(err) {
				t.Fatal(err)
			}
		}
		return mongodb.WithPreread(ctx, p)
	}
	// reads returns the commands the change's reads of ids cost, each
	// checked against what the store holds.
	reads := func(ctx context.Context, ids ...string) int64 {
		t.Helper()
		var sent int64
		err := s.Atomically(ctx, func(ctx context.Context) error {
			for _, id := range ids {
				before := s.Commands()
				var got bson.D
				err := things.FindOne(ctx, bson.M{"_id": id}).Decode(&got)
				sent += s.Commands() - before
				var want bson.D
				werr := s.DB.Collection("things").FindOne(ctx, bson.M{"_id": id}).Decode(&want)
				if (err == nil) != (werr == nil) || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("%s read ahead: %v (%v); the store holds %v (%v)", id, got, err, want, werr)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return sent
	}
	if n := reads(preread("a", "c", "zz"), "a", "c", "zz"); n != 0 {
		t.Errorf("unchanged documents read ahead: %d commands inside the change, want 0", n)
	}
	if n := reads(ctx, "a"); n != 1 {
		t.Errorf("without reading ahead: %d commands, want 1", n)
	}

	// A write outside Atomically, after the read ahead.
	pctx := preread("a", "c")
	if _, err := things.UpdateOne(ctx, bson.M{"_id": "a"}, bson.M{"$inc": bson.M{"n": 1}}); err != nil {
		t.Fatal(err)
	}
	if n := reads(pctx, "a", "c"); n != 2 {
		t.Errorf("after a write outside Atomically: %d commands, want both read again", n)
	}

	// A write of another change: only the document it wrote is read again.
	pctx = preread("a", "c")
	if err := s.Atomically(ctx, func(ctx context.Context) error {
		_, err := things.UpdateOne(ctx, bson.M{"_id": "c"}, bson.M{"$inc": bson.M{"n": 1}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := reads(pctx, "a", "c"); n != 1 {
		t.Errorf("after another change wrote c: %d commands, want c alone read again", n)
	}

	// A change in flight writes e; the read ahead sees its write; it then
	// rolls back: the change that read ahead must see e as stored again.
	wrote, undo := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- s.Atomically(ctx, func(ctx context.Context) error {
			if _, err := things.UpdateOne(ctx, bson.M{"_id": "e"}, bson.M{"$set": bson.M{"n": 500}}); err != nil {
				return err
			}
			close(wrote)
			<-undo
			return errors.New("roll back")
		})
	}()
	<-wrote
	p := s.Preread()
	raw, err := p.FindOne(ctx, "things", "e")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := raw.Lookup("n").AsInt64OK(); n != 500 {
		t.Fatalf("the read ahead did not see the change in flight (n=%d): the test proves nothing", n)
	}
	close(undo)
	if err := <-done; err == nil || err.Error() != "roll back" {
		t.Fatalf("the change in flight: %v", err)
	}
	if n := reads(mongodb.WithPreread(ctx, p), "e"); n != 1 {
		t.Errorf("after the rollback: %d commands, want e read again", n)
	}
}

// TestPrereadIsABeforeImage: a document read ahead and then written by
// the change is restored as it was when the change fails, without having
// been read again.
func TestPrereadIsABeforeImage(t *testing.T) {
	s := prereadStore(t)
	ctx := context.Background()
	before := state(t, s)
	p := s.Preread()
	if _, err := p.FindOne(ctx, "things", "a"); err != nil {
		t.Fatal(err)
	}
	sent := s.Commands()
	err := s.Atomically(mongodb.WithPreread(ctx, p), func(ctx context.Context) error {
		if _, err := s.Collection("things").ReplaceOne(ctx, bson.M{"_id": "a"}, bson.M{"_id": "a", "n": 99}); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if err == nil || err.Error() != "roll back" {
		t.Fatal(err)
	}
	// journal insert, replace, restore, journal delete: no read.
	if n := s.Commands() - sent; n != 4 {
		t.Errorf("%d commands for a prepared write rolled back, want 4 (no read)", n)
	}
	if got := state(t, s); got != before {
		t.Fatalf("after the rollback:\n got %s\nwant %s", got, before)
	}
}
