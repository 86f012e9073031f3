package mongodb_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
)

// itemList lists the "items" collection by the field "key", newest first.
func itemList(blockSize int) mongodb.List {
	return mongodb.List{Name: "items", Collection: "items", NewestFirst: true, OrderField: "at", BlockSize: blockSize,
		KeysOf: func(d bson.Raw) []string { k, _ := d.Lookup("key").StringValueOK(); return []string{k} }}
}

type item struct {
	ID  string    `bson:"_id"`
	Key string    `bson:"key"`
	At  time.Time `bson:"at"`
}

// addItem inserts an item and lists it, all-or-nothing, as a domain store does.
func addItem(ctx context.Context, s *mongodb.Store, l mongodb.List, key, id string) error {
	return s.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.Collection("items").InsertOne(ctx, item{ID: id, Key: key, At: time.Now().UTC()}); err != nil {
			return err
		}
		return s.ListAdd(ctx, l, id, key)
	})
}

// listAll lists ids under key, in one Atomically.
func listAll(t testing.TB, s *mongodb.Store, l mongodb.List, key string, ids []string) {
	t.Helper()
	err := s.Atomically(context.Background(), func(ctx context.Context) error {
		for _, id := range ids {
			if err := s.ListAdd(ctx, l, id, key); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func itemIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("it%03d", i)
	}
	return out
}

// newestFirst is ids reversed, as a NewestFirst list serves them.
func newestFirst(ids []string) []string {
	out := slices.Clone(ids)
	slices.Reverse(out)
	return out
}

// window is want[offset:offset+limit], clamped.
func window(want []string, offset, limit int) []string {
	if offset >= len(want) {
		return nil
	}
	return want[offset:min(offset+limit, len(want))]
}

func TestListPagesAcrossBlocks(t *testing.T) {
	s := mongotest.New(t)
	ctx := context.Background()
	l := itemList(4)
	ids := itemIDs(11) // blocks of 4, 4, 3
	for _, id := range ids {
		if err := addItem(ctx, s, l, "K1", id); err != nil {
			t.Fatal(err)
		}
	}
	if err := addItem(ctx, s, l, "K2", "other"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.ListCount(ctx, l, "K1"); err != nil || n != 11 {
		t.Fatalf("count %d, %v; want 11", n, err)
	}
	want := newestFirst(ids)
	for _, p := range []mongodb.Page{{Limit: 3}, {Limit: 4, Offset: 3}, {Limit: 4, Offset: 4}, {Limit: 5, Offset: 7}, {Limit: 3, Offset: 8},
		{Limit: 50}, {Limit: 2, Offset: 10}, {Limit: 2, Offset: 11}, {Limit: 1, Offset: 100}} {
		got, err := s.ListIDs(ctx, l, "K1", p)
		if err != nil {
			t.Fatal(err)
		}
		if w := window(want, p.Offset, p.Limit); !slices.Equal(got, w) {
			t.Errorf("page %+v: %v, want %v", p, got, w)
		}
		docs, err := mongodb.ListPage[item](ctx, s, l, "K1", p)
		if err != nil {
			t.Fatal(err)
		}
		var got2 []string
		for _, d := range docs {
			if d.Key != "K1" {
				t.Errorf("page %+v holds %s of key %s", p, d.ID, d.Key)
			}
			got2 = append(got2, d.ID)
		}
		if w := window(want, p.Offset, p.Limit); !slices.Equal(got2, w) {
			t.Errorf("documents of page %+v: %v, want %v", p, got2, w)
		}
	}
	// The other key holds only its own item; an unknown key is empty.
	if got, _ := s.ListIDs(ctx, l, "K2", mongodb.Page{Limit: 10}); !slices.Equal(got, []string{"other"}) {
		t.Errorf("K2: %v", got)
	}
	if got, err := s.ListIDs(ctx, l, "NONE", mongodb.Page{Limit: 10}); err != nil || len(got) != 0 {
		t.Errorf("unknown key: %v, %v", got, err)
	}
	// Oldest first over the same documents.
	oldest := l
	oldest.NewestFirst = false
	if got, _ := s.ListIDs(ctx, oldest, "K1", mongodb.Page{Limit: 5, Offset: 3}); !slices.Equal(got, ids[3:8]) {
		t.Errorf("oldest first: %v, want %v", got, ids[3:8])
	}
	// A filter walks the list: odd-numbered items, second page of 2.
	odd := func(it item) bool { return it.ID[len(it.ID)-1]%2 == 1 }
	docs, err := mongodb.ListFilter[item](ctx, s, l, "K1", odd, mongodb.Page{Limit: 2, Offset: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].ID != "it005" || docs[1].ID != "it003" {
		t.Errorf("filtered page: %+v", docs)
	}
	if _, err := s.ListIDs(ctx, l, "A|B", mongodb.Page{}); err == nil {
		t.Error("a key holding | was accepted")
	}
}

// TestListDefaultBlockEdge pages across the edge of two 200-entry blocks.
func TestListDefaultBlockEdge(t *testing.T) {
	s := mongotest.New(t)
	ctx := context.Background()
	l := itemList(0)
	ids := itemIDs(mongodb.ListBlockSize + 5)
	listAll(t, s, l, "K", ids)
	want := newestFirst(ids)
	for _, p := range []mongodb.Page{{Limit: 5}, {Limit: 10, Offset: 3}, {Limit: 5, Offset: 5}, {Limit: 50, Offset: 200}} {
		if got, _ := s.ListIDs(ctx, l, "K", p); !slices.Equal(got, window(want, p.Offset, p.Limit)) {
			t.Errorf("page %+v: %v", p, got)
		}
	}
	// The first 200 went out to a block; the last 5 are in the head.
	n, err := s.Collection("lists").CountDocuments(ctx, bson.M{"list": "items"})
	if err != nil || n != 2 {
		t.Fatalf("%d list documents (%v), want a head and 1 block", n, err)
	}
}

func TestListRemove(t *testing.T) {
	s := mongotest.New(t)
	ctx := context.Background()
	l := itemList(3)
	ids := itemIDs(8) // blocks [0 1 2] [3 4 5], and [6 7] in the head
	for _, id := range ids {
		if err := s.ListAdd(ctx, l, id, "K"); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"it004", "it000", "it001", "it002", "it007", "it006", "nothere"} {
		if err := s.ListRemove(ctx, l, id, "K"); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"it005", "it003"}
	if got, _ := s.ListIDs(ctx, l, "K", mongodb.Page{}); !slices.Equal(got, want) {
		t.Fatalf("after removals: %v, want %v", got, want)
	}
	if n, _ := s.ListCount(ctx, l, "K"); n != 2 {
		t.Fatalf("count %d", n)
	}
	// Emptied blocks are gone (the head's tail too); adding opens a new
	// block in the head, which fills and goes out to a document of its own.
	for _, id := range []string{"n1", "n2", "n3", "n4"} {
		if err := s.ListAdd(ctx, l, id, "K"); err != nil {
			t.Fatal(err)
		}
	}
	want = []string{"n4", "n3", "n2", "n1", "it005", "it003"}
	for off := range 6 {
		if got, _ := s.ListIDs(ctx, l, "K", mongodb.Page{Offset: off, Limit: 2}); !slices.Equal(got, window(want, off, 2)) {
			t.Errorf("offset %d: %v, want %v", off, got, window(want, off, 2))
		}
	}
	// [it003 it005] and [n1 n2 n3] in documents, [n4] in the head.
	n, err := s.Collection("lists").CountDocuments(ctx, bson.M{"list": "items"})
	if err != nil || n != 3 {
		t.Fatalf("%d list documents (%v), want a head and 2 blocks", n, err)
	}
}

// listState is every list document and item, as text.
func listState(t testing.TB, s *mongodb.Store) string {
	t.Helper()
	out := ""
	for _, coll := range []string{"lists", "items"} {
		cur, err := s.Collection(coll).Find(context.Background(), bson.M{}, options.Find().SetSort(bson.M{"_id": 1}))
		if err != nil {
			t.Fatal(err)
		}
		var docs []bson.D
		if err := cur.All(context.Background(), &docs); err != nil {
			t.Fatal(err)
		}
		for i, d := range docs {
			docs[i] = slices.DeleteFunc(d, func(e bson.E) bool { return e.Key == "at" })
		}
		out += fmt.Sprintf("%s=%v;", coll, docs)
	}
	return out
}

// TestListAllOrNothing fails each write point of "insert an item and list
// it" in turn, at a block edge (the add opens a block): a failed change
// leaves neither the item nor a list entry; and a change that fails after
// listing its item takes the entry back.
func TestListAllOrNothing(t *testing.T) {
	s := mongotest.New(t)
	ctx := context.Background()
	l := itemList(2)
	for _, id := range []string{"a", "b"} {
		if err := addItem(ctx, s, l, "K", id); err != nil {
			t.Fatal(err)
		}
	}
	before := listState(t, s)
	boom := errors.New("boom")
	err := s.Atomically(ctx, func(ctx context.Context) error {
		if err := addItem(ctx, s, l, "K", "c"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || listState(t, s) != before {
		t.Fatalf("failed change: %v\n got %s\nwant %s", err, listState(t, s), before)
	}
	points := 0
	for n := 1; ; n++ {
		s.InjectWriteFault(n, mongodb.FailWrite)
		err := addItem(ctx, s, l, "K", "c")
		fired, seen := s.FaultFired()
		s.InjectWriteFault(0, 0)
		if !fired {
			if err != nil {
				t.Fatal(err)
			}
			points = seen
			break
		}
		if err == nil { // only the cleanup after the commit failed: acknowledged
			if got, _ := s.ListIDs(ctx, l, "K", mongodb.Page{}); !slices.Equal(got, []string{"c", "b", "a"}) {
				t.Fatalf("write %d: acknowledged, list %v", n, got)
			}
			if err := s.ListRemove(ctx, l, "c", "K"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Collection("items").DeleteOne(ctx, bson.M{"_id": "c"}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got := listState(t, s); got != before {
			t.Fatalf("write %d failed (%v) and left:\n got %s\nwant %s", n, err, got, before)
		}
	}
	// The last run (after the block went out): the item's entry and write,
	// the head's entry, the head's write, the commit marker and the
	// cleanup. Without the head journaled there would be 5.
	if points < 7 {
		t.Fatalf("only %d write points: the list was not journaled", points)
	}
	if got, _ := s.ListIDs(ctx, l, "K", mongodb.Page{}); !slices.Equal(got, []string{"c", "b", "a"}) {
		t.Fatalf("after the change: %v", got)
	}
}

// TestListCrashRecovery kills the store in the middle of listing an item
// and reopens it: the item and its entry are both absent.
func TestListCrashRecovery(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := mongodb.Open(ctx, mongodb.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	l := itemList(2)
	if err := addItem(ctx, s, l, "K", "a"); err != nil {
		t.Fatal(err)
	}
	before := listState(t, s)
	s.InjectWriteFault(6, mongodb.CrashAtWrite) // at the commit marker, after the item and the head
	if err := addItem(ctx, s, l, "K", "b"); !errors.Is(err, mongodb.ErrSimulatedCrash) {
		t.Fatalf("got %v, want the simulated crash", err)
	}
	s.Close()
	s, err = mongodb.Open(ctx, mongodb.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := listState(t, s); got != before {
		t.Fatalf("after recovery:\n got %s\nwant %s", got, before)
	}
	if err := addItem(ctx, s, l, "K", "b"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListIDs(ctx, l, "K", mongodb.Page{}); !slices.Equal(got, []string{"b", "a"}) {
		t.Fatalf("list %v", got)
	}
}

func TestListConcurrentAdds(t *testing.T) {
	s := mongotest.New(t)
	ctx := context.Background()
	l := itemList(7)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- addItem(ctx, s, l, "K", fmt.Sprintf("c%02d", i))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ListIDs(ctx, l, "K", mongodb.Page{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if len(slices.Compact(slices.Clone(got))) != 50 || len(got) != 50 {
		t.Fatalf("%d entries, %d distinct: %v", len(got), len(slices.Compact(got)), got)
	}
	if n, _ := s.ListCount(ctx, l, "K"); n != 50 {
		t.Fatalf("count %d", n)
	}
}

// TestListBuiltFromExistingData: documents written before their list
// existed are listed by EnsureIndexes, in the order of their field; again
// is a no-op, an interrupted build is redone, a new Version rebuilds.
func TestListBuiltFromExistingData(t *testing.T) {
	s := mongotest.New(t)
	ctx := context.Background()
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	var docs []any
	var wantK []string
	for i := range 23 {
		key := "K"
		if i%3 == 0 {
			key = "J"
		} else {
			wantK = append(wantK, fmt.Sprintf("old%02d", i))
		}
		// Inserted out of order: the build orders by "at".
		docs = append([]any{item{ID: fmt.Sprintf("old%02d", i), Key: key, At: t0.Add(time.Duration(i) * time.Hour)}}, docs...)
	}
	if _, err := s.Collection("items").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	l := itemList(4)
	idx := []mongodb.Index{{Collection: "items", Keys: []string{"key"}, List: &l}}
	check := func(when string) {
		t.Helper()
		got, err := s.ListIDs(ctx, l, "K", mongodb.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, newestFirst(wantK)) {
			t.Fatalf("%s: %v, want %v", when, got, newestFirst(wantK))
		}
		if n, _ := s.ListCount(ctx, l, "J"); n != 8 {
			t.Fatalf("%s: J counts %d", when, n)
		}
		if got, _ := s.ListIDs(ctx, l, "K", mongodb.Page{Offset: 4, Limit: 4}); !slices.Equal(got, newestFirst(wantK)[4:8]) {
			t.Fatalf("%s: second page %v", when, got)
		}
	}
	if err := s.EnsureIndexes(ctx, idx); err != nil {
		t.Fatal(err)
	}
	check("built")
	if err := addItem(ctx, s, l, "K", "new"); err != nil {
		t.Fatal(err)
	}
	wantK = append(wantK, "new")
	if err := s.EnsureIndexes(ctx, idx); err != nil {
		t.Fatal(err)
	}
	check("second start")

	// An interrupted build: blocks without the marker, and a stray one.
	if _, err := s.Collection("lists").DeleteOne(ctx, bson.M{"_id": "#built|items"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Collection("lists").InsertOne(ctx, bson.M{"_id": "items|K|00000099", "list": "items", "ids": bson.A{"ghost"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureIndexes(ctx, idx); err != nil {
		t.Fatal(err)
	}
	check("rebuilt after an interruption")
	if n, _ := s.Collection("lists").CountDocuments(ctx, bson.M{"_id": "items|K|00000099"}); n != 0 {
		t.Fatal("the interrupted build's block survived")
	}

	// A new version rebuilds, with the new keys.
	l2 := l
	l2.Version = 2
	l2.KeysOf = func(bson.Raw) []string { return []string{"ALL"} }
	if err := s.EnsureIndexes(ctx, []mongodb.Index{{Collection: "items", List: &l2}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.ListCount(ctx, l2, "ALL"); n != 24 {
		t.Fatalf("version 2 lists %d under ALL", n)
	}
	if n, _ := s.ListCount(ctx, l2, "K"); n != 0 {
		t.Fatalf("version 2 kept %d under K", n)
	}
}

func TestListKey(t *testing.T) {
	for _, c := range []struct {
		parts []string
		want  string
	}{
		{[]string{"AGADIR"}, "AGADIR"},
		{[]string{"AGADIR", "lot", "SAF-1"}, "AGADIR/lot/SAF-1"},
		{[]string{"A/B", "c|d", "50%"}, "A%2FB/c%7Cd/50%25"},
	} {
		if got := mongodb.ListKey(c.parts...); got != c.want {
			t.Errorf("ListKey(%q) = %q, want %q", c.parts, got, c.want)
		}
	}
	if mongodb.ListKey("a/b") == mongodb.ListKey("a", "b") {
		t.Error("two keys collide")
	}
}

// TestListOldLayoutRebuilt: a list written before the last block moved
// into the head (every block a document, a marker without a layout) is
// rebuilt at the next start, so no page misses the entries of a block the
// new code would look for in the head.
func TestListOldLayoutRebuilt(t *testing.T) {
	s := mongotest.New(t)
	ctx := context.Background()
	l := itemList(2)
	idx := []mongodb.Index{{Collection: "items", List: &l}}
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"a", "b", "c"} {
		if _, err := s.Collection("items").InsertOne(ctx, item{ID: id, Key: "K", At: t0.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	// What the first layout wrote for these three items.
	old := []any{
		bson.M{"_id": "items|K", "list": "items", "count": 3, "first": 0, "sizes": bson.A{2, 1}},
		bson.M{"_id": "items|K|00000000", "list": "items", "ids": bson.A{"a", "b"}},
		bson.M{"_id": "items|K|00000001", "list": "items", "ids": bson.A{"c"}},
		bson.M{"_id": "#built|items", "version": 0, "items": 3},
	}
	if _, err := s.Collection("lists").InsertMany(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureIndexes(ctx, idx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListIDs(ctx, l, "K", mongodb.Page{}); !slices.Equal(got, []string{"c", "b", "a"}) {
		t.Fatalf("after the rebuild: %v", got)
	}
	if h := storedHead(t, s, "items|K"); !slices.Equal(h.Tail, []string{"c"}) {
		t.Fatalf("head's tail %v, want [c]", h.Tail)
	}
	if n, _ := s.Collection("lists").CountDocuments(ctx, bson.M{"_id": "items|K|00000001"}); n != 0 {
		t.Fatal("the old last block is still a document")
	}
	if err := addItem(ctx, s, l, "K", "d"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListIDs(ctx, l, "K", mongodb.Page{}); !slices.Equal(got, []string{"d", "c", "b", "a"}) {
		t.Fatalf("after an add: %v", got)
	}
}

// headFields is what the tests look at in a list head's document.
type headFields struct {
	Count int64    `bson:"count"`
	Sizes []int    `bson:"sizes"`
	Tail  []string `bson:"tail"`
}

// storedHead reads a list head's document as stored, packed fields
// unpacked.
func storedHead(t *testing.T, s *mongodb.Store, id string) headFields {
	t.Helper()
	raw, err := s.Collection("lists").FindOne(context.Background(), bson.M{"_id": id}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	full, err := mongodb.Unpack(raw)
	if err != nil {
		t.Fatal(err)
	}
	var h headFields
	if err := bson.Unmarshal(full, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestListTailGoesOutToBlocks: the head keeps at most 50 of the newest IDs;
// full tails fill the last block up to 200, then open another. Every page
// reads back in order across the head and the blocks, and a removal in a
// block and in the head leaves the rest in place.
func TestListTailGoesOutToBlocks(t *testing.T) {
	s := mongotest.New(t)
	ctx := context.Background()
	l := itemList(0)
	ids := itemIDs(460)
	listAll(t, s, l, "K", ids)
	h := storedHead(t, s, "items|K")
	// 460 = 200 + 200 in blocks, then 50 went out to a third block, and 10 in the head.
	if !slices.Equal(h.Sizes, []int{200, 200, 50, 10}) || len(h.Tail) != 10 {
		t.Fatalf("sizes %v, tail %d", h.Sizes, len(h.Tail))
	}
	want := newestFirst(ids)
	for _, p := range []mongodb.Page{{Limit: 20}, {Limit: 20, Offset: 5}, {Limit: 20, Offset: 55}, {Limit: 50, Offset: 190},
		{Limit: 100, Offset: 250}, {Limit: 30, Offset: 440}} {
		if got, _ := s.ListIDs(ctx, l, "K", p); !slices.Equal(got, window(want, p.Offset, p.Limit)) {
			t.Errorf("page %+v: got %d IDs, first %v", p, len(got), got[:min(3, len(got))])
		}
	}
	for _, id := range []string{"it003", "it459", "it420"} {
		if err := s.ListRemove(ctx, l, id, "K"); err != nil {
			t.Fatal(err)
		}
		want = slices.DeleteFunc(want, func(x string) bool { return x == id })
	}
	if got, _ := s.ListIDs(ctx, l, "K", mongodb.Page{}); !slices.Equal(got, want) {
		t.Fatalf("after removals: %d IDs", len(got))
	}
	if n, _ := s.ListCount(ctx, l, "K"); n != 457 {
		t.Fatalf("count %d", n)
	}
}

// TestListRebuildDropsABigOldList: rebuilding a list whose old documents
// outnumber SQLite's variables per statement (32,766) deletes them in
// batches; one delete of them all failed with "too many SQL variables",
// and the server did not start.
func TestListRebuildDropsABigOldList(t *testing.T) {
	if testing.Short() {
		t.Skip("inserts 33,000 documents")
	}
	s := mongotest.New(t)
	ctx := context.Background()
	l := itemList(0)
	batch := make([]any, 0, 1000)
	for i := range 33_000 {
		batch = append(batch, bson.M{"_id": fmt.Sprintf("items|K%05d", i), "list": "items", "count": 0})
		if len(batch) == cap(batch) {
			if _, err := s.Collection("lists").InsertMany(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if _, err := s.Collection("items").InsertOne(ctx, item{ID: "a", Key: "K", At: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureIndexes(ctx, []mongodb.Index{{Collection: "items", List: &l}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Collection("lists").CountDocuments(ctx, bson.M{"list": "items"}); n != 1 {
		t.Fatalf("%d list documents after the rebuild, want the one head", n)
	}
	if got, _ := s.ListIDs(ctx, l, "K", mongodb.Page{}); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("list %v", got)
	}
}

// TestListHeadWrittenBeforePackingReadsAndIsPacked: a head stored with its
// sizes and tail at the top (before the packing) pages as before, and the
// next add writes it packed.
func TestListHeadWrittenBeforePackingReadsAndIsPacked(t *testing.T) {
	s := mongotest.New(t)
	ctx := context.Background()
	l := itemList(0)
	ids := itemIDs(260)
	listAll(t, s, l, "K", ids)
	lists := s.Collection("lists")
	raw, err := lists.FindOne(ctx, bson.M{"_id": "items|K"}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.LookupErr("sizes"); err == nil {
		t.Fatal("a head was written with its sizes at the top")
	}
	old, err := mongodb.Unpack(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lists.ReplaceOne(ctx, bson.M{"_id": "items|K"}, bson.Raw(old)); err != nil {
		t.Fatal(err)
	}
	want := newestFirst(ids)
	for _, p := range []mongodb.Page{{Limit: 20}, {Limit: 30, Offset: 45}, {Limit: 100, Offset: 200}} {
		if got, err := s.ListIDs(ctx, l, "K", p); err != nil || !slices.Equal(got, window(want, p.Offset, p.Limit)) {
			t.Fatalf("old head, page %+v: %v %v", p, got, err)
		}
	}
	if err := addItem(ctx, s, l, "K", "it999"); err != nil {
		t.Fatal(err)
	}
	if raw, err = lists.FindOne(ctx, bson.M{"_id": "items|K"}).Raw(); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.LookupErr("sizes"); err == nil {
		t.Fatal("the next add left the sizes at the top")
	}
	if h := storedHead(t, s, "items|K"); h.Count != 261 || h.Tail[len(h.Tail)-1] != "it999" {
		t.Fatalf("head after the add: %+v", h)
	}
	if got, _ := s.ListIDs(ctx, l, "K", mongodb.Page{Limit: 2}); !slices.Equal(got, []string{"it999", want[0]}) {
		t.Fatalf("newest after the add: %v", got)
	}
}
