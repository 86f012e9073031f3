package mongodb_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
)

// state is every document of the collections a change touches, as JSON.
func state(t testing.TB, s *mongodb.Store) string {
	t.Helper()
	out := ""
	for _, coll := range []string{"things", "others"} {
		cur, err := s.Collection(coll).Find(context.Background(), bson.M{}, options.Find().SetSort(bson.M{"_id": 1}))
		if err != nil {
			t.Fatal(err)
		}
		var docs []bson.D // field order too: a before-image restores the document as it was
		if err := cur.All(context.Background(), &docs); err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintf("%s=%v;", coll, docs)
	}
	return out
}

func seedThings(t testing.TB, s *mongodb.Store) {
	t.Helper()
	ctx := context.Background()
	for _, d := range []bson.D{{{Key: "_id", Value: "a"}, {Key: "n", Value: 1}}, {{Key: "_id", Value: "c"}, {Key: "n", Value: 3}},
		{{Key: "_id", Value: "e"}, {Key: "n", Value: 5}, {Key: "tag", Value: "x"}}} {
		if _, err := s.Collection("things").InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
}

// change makes one write of every kind Collection journals.
func change(ctx context.Context, s *mongodb.Store) error {
	things, others := s.Collection("things"), s.Collection("others")
	if _, err := things.UpdateOne(ctx, bson.M{"_id": "a"}, bson.M{"$inc": bson.M{"n": 10}}); err != nil {
		return err
	}
	if _, err := things.InsertOne(ctx, bson.M{"_id": "b", "n": 2}); err != nil {
		return err
	}
	if _, err := things.DeleteOne(ctx, bson.M{"_id": "c"}); err != nil {
		return err
	}
	if _, err := others.ReplaceOne(ctx, bson.M{"_id": "d"}, bson.M{"_id": "d", "n": 4}, options.Replace().SetUpsert(true)); err != nil {
		return err
	}
	if _, err := things.UpdateMany(ctx, bson.M{"tag": "x"}, bson.M{"$set": bson.M{"tag": "y"}}); err != nil {
		return err
	}
	if _, err := others.InsertMany(ctx, []any{bson.M{"_id": "f"}, bson.M{"_id": "g"}}); err != nil {
		return err
	}
	if err := things.ReplaceEach(ctx, []any{bson.M{"_id": "e", "n": 50}, bson.M{"_id": "h", "n": 8}}); err != nil { // one existing, one new
		return err
	}
	_, err := things.UpdateOne(ctx, bson.M{"_id": "a"}, bson.M{"$inc": bson.M{"n": 100}}) // touched twice
	return err
}

// preparedChange is change with most of its documents journaled ahead by
// Prepare, across two collections, and one ("z") prepared but never
// written: the same all-or-nothing guarantees must hold.
func preparedChange(ctx context.Context, s *mongodb.Store) error {
	if err := s.Prepare(ctx, mongodb.Doc{Coll: "things", ID: "a"}, mongodb.Doc{Coll: "things", ID: "b"},
		mongodb.Doc{Coll: "others", ID: "d"}, mongodb.Doc{Coll: "things", ID: "z"}, mongodb.Doc{Coll: "things", ID: "a"}); err != nil {
		return err
	}
	return change(ctx, s)
}

// newDocsChange is change with the documents it inserts prepared as new
// (journaled as absent without a read), and those it updates read first.
func newDocsChange(ctx context.Context, s *mongodb.Store) error {
	var a bson.M
	if err := s.Collection("things").FindOne(ctx, bson.M{"_id": "a"}).Decode(&a); err != nil {
		return err
	}
	if err := s.Prepare(ctx, mongodb.Doc{Coll: "things", ID: "b", New: true}, mongodb.Doc{Coll: "others", ID: "f", New: true},
		mongodb.Doc{Coll: "others", ID: "g", New: true}, mongodb.Doc{Coll: "things", ID: "a"}, mongodb.Doc{Coll: "things", ID: "e"}); err != nil {
		return err
	}
	return change(ctx, s)
}

// changes are the changes the all-or-nothing tests run.
var changes = []struct {
	name string
	fn   func(ctx context.Context, s *mongodb.Store) error
}{{"one entry per write", change}, {"prepared", preparedChange}, {"new documents", newDocsChange}}

func journalSize(t testing.TB, s *mongodb.Store) int64 {
	t.Helper()
	n, err := s.DB.Collection("atomically_journal").CountDocuments(context.Background(), bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAtomicallyRollsBackWhenFnFails(t *testing.T) {
	s := mongotest.New(t)
	seedThings(t, s)
	before := state(t, s)
	boom := errors.New("boom")
	err := s.Atomically(context.Background(), func(ctx context.Context) error {
		if err := change(ctx, s); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	if got := state(t, s); got != before {
		t.Fatalf("after a failed change:\n got %s\nwant %s", got, before)
	}
	if n := journalSize(t, s); n != 0 {
		t.Fatalf("journal keeps %d entries", n)
	}
	// And the same change, succeeding, is all there.
	if err := s.Atomically(context.Background(), func(ctx context.Context) error { return change(ctx, s) }); err != nil {
		t.Fatal(err)
	}
	if got := state(t, s); got == before {
		t.Fatal("the change did not apply")
	}
	if n := journalSize(t, s); n != 0 {
		t.Fatalf("journal keeps %d entries after a commit", n)
	}
}

// TestFailAtEveryWrite fails each write point of a change in turn (as a
// full disk would fail one write): the change is rolled back at once.
func TestFailAtEveryWrite(t *testing.T) {
	for _, ch := range changes {
		t.Run(ch.name, func(t *testing.T) { failAtEveryWrite(t, ch.fn) })
	}
}

func failAtEveryWrite(t *testing.T, change func(ctx context.Context, s *mongodb.Store) error) {
	s := mongotest.New(t)
	seedThings(t, s)
	before := state(t, s)
	points := 0
	for n := 1; ; n++ {
		s.InjectWriteFault(n, mongodb.FailWrite)
		err := s.Atomically(context.Background(), func(ctx context.Context) error { return change(ctx, s) })
		fired, seen := s.FaultFired()
		s.InjectWriteFault(0, 0)
		if !fired {
			if err != nil {
				t.Fatalf("no fault, error %v", err)
			}
			points = seen
			break
		}
		after := state(t, s)
		if err == nil {
			// Only the cleanup after the commit may fail and still acknowledge.
			if after == before {
				t.Fatalf("write %d: acknowledged but absent", n)
			}
			if err := s.Atomically(context.Background(), func(ctx context.Context) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if journalSize(t, s) != 0 {
				t.Fatalf("write %d: the next change did not finish the cleanup", n)
			}
			reset(t, s, before)
			continue
		}
		if after != before {
			t.Fatalf("write %d failed (%v) and the change is half there:\n got %s\nwant %s", n, err, after, before)
		}
		if js := journalSize(t, s); js != 0 {
			t.Fatalf("write %d: journal keeps %d entries", n, js)
		}
	}
	// 7 documents journaled (2 points each: journal, data), 1 re-touch,
	// commit and cleanup; with Prepare, 3 of the journal points are one.
	if points < 13 {
		t.Fatalf("only %d write points: the change was not journaled", points)
	}
}

func reset(t testing.TB, s *mongodb.Store, want string) {
	t.Helper()
	ctx := context.Background()
	for _, c := range []string{"things", "others"} {
		if _, err := s.Collection(c).DeleteMany(ctx, bson.M{}); err != nil {
			t.Fatal(err)
		}
	}
	seedThings(t, s)
	if got := state(t, s); got != want {
		t.Fatalf("reset: %s", got)
	}
}

// TestCrashAtEveryWrite kills the store at each write point of a change,
// reopens the same directory and checks the change is entirely absent —
// or entirely there when the crash came after its commit point.
func TestCrashAtEveryWrite(t *testing.T) {
	for _, ch := range changes {
		t.Run(ch.name, func(t *testing.T) { crashAtEveryWrite(t, ch.fn) })
	}
}

func crashAtEveryWrite(t *testing.T, change func(ctx context.Context, s *mongodb.Store) error) {
	base := t.TempDir()
	ctx := context.Background()
	s, err := mongodb.Open(ctx, mongodb.Config{DataDir: base})
	if err != nil {
		t.Fatal(err)
	}
	seedThings(t, s)
	before := state(t, s)
	if err := s.Atomically(ctx, func(ctx context.Context) error { return change(ctx, s) }); err != nil {
		t.Fatal(err)
	}
	after := state(t, s)
	s.Close()
	for n := 1; ; n++ {
		dir := t.TempDir()
		s, err := mongodb.Open(ctx, mongodb.Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		seedThings(t, s)
		s.InjectWriteFault(n, mongodb.CrashAtWrite)
		err = s.Atomically(ctx, func(ctx context.Context) error { return change(ctx, s) })
		fired, _ := s.FaultFired()
		s.Close()
		if !fired {
			if err != nil {
				t.Fatal(err)
			}
			if n < 13 {
				t.Fatalf("only %d write points", n-1)
			}
			return
		}
		if err == nil {
			t.Fatalf("crash at write %d acknowledged the change", n)
		}
		s, err = mongodb.Open(ctx, mongodb.Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		got := state(t, s)
		if !s.Unclean() {
			t.Errorf("write %d: the crashed directory opened clean", n)
		}
		if got != before && got != after {
			t.Fatalf("crash at write %d left half a change:\n got %s\nwant %s\n  or %s", n, got, before, after)
		}
		if js := journalSize(t, s); js != 0 {
			t.Fatalf("write %d: journal keeps %d entries after recovery", n, js)
		}
		s.Close()
	}
}

// TestStrayWriteInsideAtomicallyFails: a write that goes around Collection
// (straight to the driver) cannot be journaled, so Atomically refuses it.
func TestStrayWriteInsideAtomicallyFails(t *testing.T) {
	s := mongotest.New(t)
	if !s.Embedded() {
		t.Skip("the journal is the embedded store's")
	}
	seedThings(t, s)
	err := s.Atomically(context.Background(), func(ctx context.Context) error {
		if _, err := s.Collection("things").UpdateOne(ctx, bson.M{"_id": "a"}, bson.M{"$set": bson.M{"n": 7}}); err != nil {
			return err
		}
		_, err := s.DB.Collection("things").InsertOne(ctx, bson.M{"_id": "stray"})
		return err
	})
	if err == nil || !contains(err.Error(), "bypassed the journal") {
		t.Fatalf("stray write: %v", err)
	}
	var a bson.M
	if err := s.Collection("things").FindOne(context.Background(), bson.M{"_id": "a"}).Decode(&a); err != nil || a["n"] != int32(1) {
		t.Fatalf("the journaled write was not rolled back: %v %v", a, err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestWriteAfterAtomicallyReturnedFails(t *testing.T) {
	s := mongotest.New(t)
	if !s.Embedded() {
		t.Skip("the journal is the embedded store's")
	}
	var leaked context.Context
	if err := s.Atomically(context.Background(), func(ctx context.Context) error { leaked = ctx; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Collection("things").InsertOne(leaked, bson.M{"_id": "late"}); err == nil {
		t.Fatal("a write with a finished Atomically's context was accepted")
	}
}

// TestGuardedUpdateOutsideAtomically: 200 concurrent guarded decrements of
// a quantity of 100, without the caller taking Atomically, give exactly 100
// successes and end at 0 (FerretDB alone loses updates).
func TestGuardedUpdateOutsideAtomically(t *testing.T) {
	s := mongotest.New(t)
	ctx := context.Background()
	c := s.Collection("counters")
	if _, err := c.InsertOne(ctx, bson.M{"_id": "lot", "available": 100}); err != nil {
		t.Fatal(err)
	}
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done, err := c.UpdateByIDIf(ctx, "lot", bson.M{"available": bson.M{"$gte": 1}}, bson.M{"$inc": bson.M{"available": -1}})
			if err != nil {
				t.Error(err)
			}
			if done {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	var doc struct {
		Available int64 `bson:"available"`
	}
	if err := c.FindOne(ctx, bson.M{"_id": "lot"}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if ok.Load() != 100 || doc.Available != 0 {
		t.Fatalf("%d successes, final %d; want 100 and 0", ok.Load(), doc.Available)
	}
	if done, err := c.UpdateByIDIf(ctx, "nothing", bson.M{}, bson.M{"$set": bson.M{"x": 1}}); err != nil || done {
		t.Fatalf("guarded update of a missing document: %v %v", done, err)
	}
}

func TestMatches(t *testing.T) {
	doc, _ := bson.Marshal(bson.M{"status": "paid", "seq": int64(4), "available": int32(10), "price": 2.5,
		"nested": bson.M{"k": "v"}, "null": nil})
	tests := []struct {
		guard bson.M
		want  bool
	}{
		{bson.M{}, true},
		{bson.M{"status": "paid"}, true},
		{bson.M{"status": "pending_payment"}, false},
		{bson.M{"seq": 4}, true},
		{bson.M{"seq": int64(5)}, false},
		{bson.M{"seq": 4, "available": bson.M{"$gte": int64(10)}}, true},
		{bson.M{"available": bson.M{"$gte": 11}}, false},
		{bson.M{"available": bson.M{"$gt": 9, "$lt": 11}}, true},
		{bson.M{"price": bson.M{"$lte": 2.5}}, true},
		{bson.M{"price": bson.M{"$lt": 2}}, false},
		{bson.M{"lot": bson.M{"$exists": false}}, true},
		{bson.M{"status": bson.M{"$exists": false}}, false},
		{bson.M{"nested.k": "v"}, true},
		{bson.M{"nested.k": bson.M{"$ne": "v"}}, false},
		{bson.M{"missing": nil}, true},
		{bson.M{"null": nil}, true},
		{bson.M{"status": bson.M{"$in": bson.A{"paid", "fulfilled"}}}, true},
		{bson.M{"status": bson.M{"$in": bson.A{"expired"}}}, false},
		{bson.M{"status": bson.M{"$gt": 3}}, false}, // a string never compares with a number
	}
	for _, tt := range tests {
		got, err := mongodb.Matches(doc, tt.guard)
		if err != nil || got != tt.want {
			t.Errorf("Matches(%v) = %v, %v; want %v", tt.guard, got, err, tt.want)
		}
	}
	if _, err := mongodb.Matches(doc, bson.M{"status": bson.M{"$regex": "p"}}); err == nil {
		t.Error("an unsupported operator matched silently")
	}
}

// TestPrepareSavesJournalWrites: three documents prepared at once cost one
// journal insert, not three; outside Atomically Prepare does nothing.
func TestPrepareSavesJournalWrites(t *testing.T) {
	s := mongotest.New(t)
	seedThings(t, s)
	ctx := context.Background()
	if err := s.Prepare(ctx, mongodb.Doc{Coll: "things", ID: "a"}); err != nil || journalSize(t, s) != 0 {
		t.Fatalf("Prepare outside Atomically: %v, journal %d", err, journalSize(t, s))
	}
	inserts := func(prepare bool) int64 {
		before := s.Commands()
		err := s.Atomically(ctx, func(ctx context.Context) error {
			things := s.Collection("things")
			if prepare {
				if err := s.Prepare(ctx, mongodb.Doc{Coll: "things", ID: "a"}, mongodb.Doc{Coll: "things", ID: "c"}, mongodb.Doc{Coll: "things", ID: "e"}); err != nil {
					return err
				}
			}
			for _, id := range []string{"a", "c", "e"} {
				if _, err := things.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$inc": bson.M{"n": 1}}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return s.Commands() - before
	}
	plain, prepared := inserts(false), inserts(true)
	if prepared != plain-2 {
		t.Fatalf("%d store commands with Prepare, %d without: want two journal inserts fewer", prepared, plain)
	}
}

// TestChangeSeesItsOwnWrites: inside Atomically, a document the change has
// read or written whole by _id is read again without a round trip, and
// every read answers what the store itself holds at that moment — after
// an insert, a replace, a list of replacements, an update with operators
// (read from the store again), a delete and a rollback.
func TestChangeSeesItsOwnWrites(t *testing.T) {
	s := mongotest.New(t)
	seedThings(t, s)
	ctx := context.Background()
	things := s.Collection("things")
	// check reads _id inside the change and compares it with the store's
	// own answer (the driver's collection, past Collection's view); it
	// reports how many commands the change's read cost.
	check := func(ctx context.Context, id string) int64 {
		t.Helper()
		before := s.Commands()
		var got bson.D
		err := things.FindOne(ctx, bson.M{"_id": id}).Decode(&got)
		sent := s.Commands() - before
		var want bson.D
		werr := s.DB.Collection("things").FindOne(ctx, bson.M{"_id": id}).Decode(&want)
		if (err == nil) != (werr == nil) || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s inside the change: %v (%v); the store holds %v (%v)", id, got, err, want, werr)
		}
		return sent
	}
	seeded := state(t, s)
	err := s.Atomically(ctx, func(ctx context.Context) error {
		if n := check(ctx, "a"); n != 1 {
			t.Errorf("first read of a: %d commands, want 1", n)
		}
		if n := check(ctx, "a"); n != 0 {
			t.Errorf("second read of a: %d commands, want 0", n)
		}
		if n := check(ctx, "zz"); n != 1 || check(ctx, "zz") != 0 {
			t.Errorf("an absent document is not remembered as absent")
		}
		if _, err := things.InsertOne(ctx, bson.D{{Key: "_id", Value: "b"}, {Key: "n", Value: 2}}); err != nil {
			return err
		}
		if n := check(ctx, "b"); n != 0 {
			t.Errorf("read after insert: %d commands, want 0", n)
		}
		if _, err := things.ReplaceOne(ctx, bson.M{"_id": "a"}, bson.D{{Key: "_id", Value: "a"}, {Key: "n", Value: 11}, {Key: "w", Value: true}}); err != nil {
			return err
		}
		if n := check(ctx, "a"); n != 0 {
			t.Errorf("read after replace: %d commands, want 0", n)
		}
		// A replacement without _id is not what the store holds (it keeps
		// the filter's _id): read again.
		if _, err := things.ReplaceOne(ctx, bson.M{"_id": "b"}, bson.M{"n": 22}); err != nil {
			return err
		}
		if n := check(ctx, "b"); n != 1 {
			t.Errorf("read after a replacement without _id: %d commands, want 1", n)
		}
		if err := things.ReplaceEach(ctx, []any{bson.D{{Key: "_id", Value: "c"}, {Key: "n", Value: 33}}, bson.D{{Key: "_id", Value: "h"}, {Key: "n", Value: 8}}}); err != nil {
			return err
		}
		if check(ctx, "c")+check(ctx, "h") != 0 {
			t.Error("read after ReplaceEach went to the store")
		}
		if _, err := things.UpdateOne(ctx, bson.M{"_id": "a"}, bson.M{"$inc": bson.M{"n": 100}}); err != nil {
			return err
		}
		if n := check(ctx, "a"); n != 1 {
			t.Errorf("read after $inc: %d commands, want 1 (only the store knows the result)", n)
		}
		if _, err := things.UpdateMany(ctx, bson.M{"n": bson.M{"$gte": 30}}, bson.M{"$set": bson.M{"big": true}}); err != nil {
			return err
		}
		if n := check(ctx, "c"); n != 1 {
			t.Errorf("read after UpdateMany: %d commands, want 1", n)
		}
		if _, err := things.DeleteOne(ctx, bson.M{"_id": "h"}); err != nil {
			return err
		}
		check(ctx, "h")
		if _, err := things.DeleteMany(ctx, bson.M{"big": true}); err != nil {
			return err
		}
		check(ctx, "c")
		check(ctx, "e")
		return errors.New("roll back")
	})
	if err == nil || err.Error() != "roll back" {
		t.Fatalf("Atomically: %v", err)
	}
	if got, want := state(t, s), seeded; got != want {
		t.Fatalf("after the rollback:\n got %s\nwant %s", got, want)
	}
	// A new change starts with an empty view.
	err = s.Atomically(ctx, func(ctx context.Context) error {
		if n := check(ctx, "a"); n != 1 {
			t.Errorf("first read in a new change: %d commands, want 1", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNewDocumentNeedsNoRead: a document prepared as new is journaled
// without a read; should its _id exist after all, the failed insert
// corrects the entry, so neither the rollback nor a crash and recovery
// deletes the document that was there.
func TestNewDocumentNeedsNoRead(t *testing.T) {
	ctx := context.Background()
	t.Run("one command fewer", func(t *testing.T) {
		s := mongotest.New(t)
		cost := func(isNew bool, id string) int64 {
			before := s.Commands()
			if err := s.Atomically(ctx, func(ctx context.Context) error {
				if err := s.Prepare(ctx, mongodb.Doc{Coll: "things", ID: id, New: isNew}); err != nil {
					return err
				}
				_, err := s.Collection("things").InsertOne(ctx, bson.M{"_id": id})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return s.Commands() - before
		}
		if read, unread := cost(false, "x1"), cost(true, "x2"); unread != read-1 {
			t.Fatalf("%d commands for a new document, %d for one read first: want one fewer", unread, read)
		}
	})
	collide := func(ctx context.Context, s *mongodb.Store) error {
		if err := s.Prepare(ctx, mongodb.Doc{Coll: "things", ID: "c", New: true}); err != nil { // "c" exists
			return err
		}
		if _, err := s.Collection("things").InsertOne(ctx, bson.M{"_id": "b", "n": 2}); err != nil {
			return err
		}
		_, err := s.Collection("things").InsertOne(ctx, bson.M{"_id": "c", "n": 30})
		return err
	}
	t.Run("collision rolled back", func(t *testing.T) {
		s := mongotest.New(t)
		seedThings(t, s)
		before := state(t, s)
		err := s.Atomically(ctx, func(ctx context.Context) error { return collide(ctx, s) })
		if !mongodb.IsDuplicateKey(err) {
			t.Fatalf("Atomically: %v, want the duplicate key", err)
		}
		if got := state(t, s); got != before {
			t.Fatalf("after the rollback:\n got %s\nwant %s", got, before)
		}
	})
	t.Run("collision swallowed then crash", func(t *testing.T) {
		// A change that ignores the duplicate and writes on, then dies
		// before its commit: recovery must put back the "c" that was there.
		swallow := func(ctx context.Context, s *mongodb.Store) error {
			if err := collide(ctx, s); !mongodb.IsDuplicateKey(err) {
				return fmt.Errorf("collide: %v", err)
			}
			_, err := s.Collection("others").InsertOne(ctx, bson.M{"_id": "d"})
			return err
		}
		dir := t.TempDir()
		s, err := mongodb.Open(ctx, mongodb.Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		seedThings(t, s)
		before := state(t, s)
		s.InjectWriteFault(1000, mongodb.FailWrite) // counts the write points
		if err := s.Atomically(ctx, func(ctx context.Context) error { return errors.New("count: " + fmt.Sprint(swallow(ctx, s))) }); err.Error() != "count: <nil>" {
			t.Fatal(err)
		}
		_, points := s.FaultFired()
		s.InjectWriteFault(0, 0)
		if got := state(t, s); got != before {
			t.Fatalf("after the rollback of the swallowed collision:\n got %s\nwant %s", got, before)
		}
		// The last point before the commit marker: the insert of "d", after
		// the failed insert of "c" corrected its entry. (A crash between
		// Prepare and that insert would find "c" journaled as absent: the
		// guarantee rests there on an _id minted at random, as Doc.New says.)
		s.InjectWriteFault(points, mongodb.CrashAtWrite)
		if err := s.Atomically(ctx, func(ctx context.Context) error { return swallow(ctx, s) }); err == nil {
			t.Fatal("the change was acknowledged despite the crash")
		}
		s.Close()
		s, err = mongodb.Open(ctx, mongodb.Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got := state(t, s); got != before {
			t.Fatalf("after recovery:\n got %s\nwant %s", got, before)
		}
	})
}
