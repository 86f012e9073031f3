package mongodb

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Keyed lists: the lists pages and the API serve, kept in documents read by
// _id, so that a page costs the same whatever the size of the collection.
//
// Why: the embedded FerretDB pushes only _id equality down to SQLite; a
// filter on any other field ("the harvests of cooperative X") reads the
// whole collection (0.39 s at 5,000 harvests, 3 s per 100k documents). A
// List keeps, for each key (a cooperative's code, a shop's, a channel's),
// the IDs of its items in the order they were added:
//
//	lists/_id "harvests|SIROUA-SAFRAN"          head: count, entries per block, the last block's IDs
//	lists/_id "harvests|SIROUA-SAFRAN|00000042" block 42: up to 200 item IDs, in order
//
// Reading a page is one head lookup, the one or two blocks the page falls in
// (the head's per-block counts say which, without reading the others; the
// newest page is in the head itself), and one _id lookup per item:
// measured, `$in` on _id is not pushed down either, it scans like any
// filter (the list-in case of the traceability package's
// BenchmarkHarvestList). Adding an item reads and rewrites its head only:
// the newest IDs live in the head (Tail, at most listTailSize of them),
// then go out to the last block while it has room, else to a block of
// their own. Adding under several keys journals their
// heads in one write (Prepare). Measured with the till sale, which lists a
// movement under three keys: 18 store commands for the lists before
// (head, block, and the journal of each), 7 after.
//
// Consistency: ListAdd and ListRemove run inside Atomically (joining the
// caller's), so the list changes all-or-nothing with the write that adds or
// removes the item: the journal covers both on the embedded store, a
// transaction on a replica set, where two adds to one key write the same
// head and so conflict (the loser retries). Domain stores call them next to
// the insert or delete of the item, inside the same Atomically.
//
// Order: a list keeps the order of ListAdd. NewestFirst lists (harvests,
// lots, movements, orders) serve the last added first; others (a
// cooperative's register of members and parcels) the first added first.
// Each domain store says which in its List declaration.
//
// Existing data: EnsureIndexes builds, from the collection itself, every
// List named by an Index when it was never built (or was built by another
// Version): a data directory written before the lists existed gets its
// lists at its next start. A build deletes what an interrupted build left
// and starts again, so it is idempotent. RebuildLists does it on demand,
// for tools that write collections directly (the load seeder).
const listCollection = "lists"

// ListBlockSize is how many item IDs a block of a List holds by default.
const ListBlockSize = 200

// List declares a family of keyed lists: one list per key, all of one
// collection's documents. Its Name is the first part of every _id of its
// documents, so it must be unique and must not contain "|" or start with
// "#"; keys must not contain "|" either.
type List struct {
	Name       string // "harvests"
	Collection string // the collection of the listed documents, keyed by string _id
	// NewestFirst: pages start with the item added last.
	NewestFirst bool
	// KeysOf returns the keys under which an existing document of
	// Collection is listed; the build at start-up uses it (a write lists
	// its item itself, with ListAdd).
	KeysOf func(doc bson.Raw) []string
	// OrderField orders existing documents at a build, oldest first (ties
	// by _id): the field that says when a document was added.
	OrderField string
	// Version: change it when KeysOf changes, and the next start rebuilds.
	Version int
	// BlockSize overrides ListBlockSize (tests use small blocks).
	BlockSize int
}

// ListKey joins the parts of a key ("AGADIR", "lot", "SAF-…") with "/",
// escaping "%", "/" and "|" in each part: any values, user input included,
// make a valid key, and different parts make different keys.
func ListKey(parts ...string) string {
	esc := strings.NewReplacer("%", "%25", "/", "%2F", "|", "%7C")
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = esc.Replace(p)
	}
	return strings.Join(out, "/")
}

// listTailSize is how many of the newest IDs a head holds before they go
// out to a block: a head is rewritten on every add, so it is kept small.
const listTailSize = 50

// tailSize is how many IDs the head's tail holds at most.
func (l List) tailSize() int { return min(listTailSize, l.blockSize()) }

func (l List) blockSize() int {
	if l.BlockSize > 0 {
		return l.BlockSize
	}
	return ListBlockSize
}

// listHead is a key's head document. Sizes[i] is the number of entries of
// block First+i; blocks emptied by removals at either end are dropped.
// When Tail is not empty it is the last block (number TailN), kept here
// rather than in a document of its own; every other block is a document.
type listHead struct {
	ID    string   `bson:"_id"`
	List  string   `bson:"list"`
	Count int64    `bson:"count"`
	First int      `bson:"first"`
	Sizes []int    `bson:"sizes"`
	TailN int      `bson:"tail_n"`
	Tail  []string `bson:"tail,omitempty"`
}

// A head's sizes and tail are packed (Pack): a till sale rewrites three
// heads, and a shop's head lists one size per block of its history. Heads
// written before are read as they are and packed at their next write.
var packedHeadKeys = map[string]bool{"sizes": true, "tail": true}

type storedListHead listHead

// MarshalBSON writes the head with its sizes and tail packed.
func (h listHead) MarshalBSON() ([]byte, error) {
	return MarshalPacked(storedListHead(h), packedHeadKeys)
}

// UnmarshalBSON reads a head, packed or not.
func (h *listHead) UnmarshalBSON(data []byte) error {
	*h = listHead{}
	if err := UnmarshalPacked(data, (*storedListHead)(h)); err != nil {
		return fmt.Errorf("list head: %w", err)
	}
	return nil
}

// inHead reports whether block n (absolute) is the head's tail.
func (h listHead) inHead(n int) bool { return len(h.Tail) > 0 && n == h.TailN }

// listLayout is the layout of the list documents: a marker of another
// layout makes the next start rebuild the list (1: every block a document;
// 2: the last block in the head).
const listLayout = 2

type listBlock struct {
	ID   string   `bson:"_id"`
	List string   `bson:"list"`
	IDs  []string `bson:"ids"`
}

func (l List) headID(key string) string { return l.Name + "|" + key }

// HeadDocs names the heads ListAdd writes for keys, for a change that
// journals at once everything it is about to write (Store.Prepare): the
// heads are then read once, by Prepare, and ListAdd journals nothing more.
func (l List) HeadDocs(keys ...string) []Doc {
	keys = distinctKeys(keys)
	docs := make([]Doc, len(keys))
	for i, key := range keys {
		docs[i] = Doc{Coll: listCollection, ID: l.headID(key)}
	}
	return docs
}

func (l List) blockID(key string, n int) string { return fmt.Sprintf("%s|%s|%08d", l.Name, key, n) }

func (l List) check(key string) error {
	if l.Name == "" || strings.Contains(l.Name, "|") || strings.HasPrefix(l.Name, "#") {
		return fmt.Errorf("mongodb: list name %q", l.Name)
	}
	if key == "" || strings.Contains(key, "|") {
		return fmt.Errorf("mongodb: list %s: key %q is empty or holds a |", l.Name, key)
	}
	return nil
}

func (s *Store) listHead(ctx context.Context, l List, key string) (listHead, error) {
	h := listHead{ID: l.headID(key), List: l.Name}
	err := s.Collection(listCollection).FindOne(ctx, bson.M{"_id": h.ID}).Decode(&h)
	if IsNotFound(err) {
		return listHead{ID: l.headID(key), List: l.Name}, nil
	}
	return h, err
}

func (s *Store) saveListHead(ctx context.Context, h listHead) error {
	_, err := s.Collection(listCollection).ReplaceOne(ctx, bson.M{"_id": h.ID}, h, options.Replace().SetUpsert(true))
	return err
}

// ListAdd appends the item id to the list of each key (a key given twice
// counts once), inside Atomically: call it in the Atomically of the write
// that creates the item. It reads every head first and journals them in
// one write, then rewrites each.
func (s *Store) ListAdd(ctx context.Context, l List, id string, keys ...string) error {
	return s.Atomically(ctx, func(ctx context.Context) error {
		var heads []listHead
		var keyOf []string
		var docs []Doc
		for _, key := range distinctKeys(keys) {
			if err := l.check(key); err != nil {
				return err
			}
			h, err := s.listHead(ctx, l, key)
			if err != nil {
				return err
			}
			heads, keyOf = append(heads, h), append(keyOf, key)
			docs = append(docs, Doc{Coll: listCollection, ID: h.ID})
		}
		if err := s.Prepare(ctx, docs...); err != nil {
			return err
		}
		saved := make([]any, len(heads))
		for i, h := range heads {
			h, err := s.listAdd(ctx, l, keyOf[i], h, id)
			if err != nil {
				return err
			}
			saved[i] = h
		}
		return s.Collection(listCollection).ReplaceEach(ctx, saved) // every head in one command
	})
}

// listAdd appends id to the list under key, whose head is h, and returns
// the head to save (the caller saves it; a full tail it moved out to a
// block is written here).
func (s *Store) listAdd(ctx context.Context, l List, key string, h listHead, id string) (listHead, error) {
	n := len(h.Sizes)
	if n == 0 || !h.inHead(h.First+n-1) || len(h.Tail) >= l.tailSize() {
		// A new last block, in the head. A full tail goes out first: into
		// the block before it when that has room, else to a block of its own.
		if len(h.Tail) > 0 {
			lists := s.Collection(listCollection)
			if n >= 2 && h.Sizes[n-2] > 0 && h.Sizes[n-2]+len(h.Tail) <= l.blockSize() {
				if _, err := lists.UpdateOne(ctx, bson.M{"_id": l.blockID(key, h.TailN-1)}, bson.M{"$push": bson.M{"ids": bson.M{"$each": h.Tail}}, "$set": bson.M{"list": l.Name}}, options.UpdateOne().SetUpsert(true)); err != nil {
					return h, err
				}
				h.Sizes[n-2] += len(h.Tail)
				h.Sizes = h.Sizes[:n-1]
			} else {
				b := listBlock{ID: l.blockID(key, h.TailN), List: l.Name, IDs: h.Tail}
				if _, err := lists.ReplaceOne(ctx, bson.M{"_id": b.ID}, b, options.Replace().SetUpsert(true)); err != nil {
					return h, err
				}
			}
		}
		h.Sizes = append(h.Sizes, 0)
		h.TailN, h.Tail = h.First+len(h.Sizes)-1, nil
	}
	h.Tail = append(h.Tail, id)
	h.Sizes[len(h.Sizes)-1]++
	h.Count++
	return h, nil
}

// distinctKeys is keys without repeats, in their order.
func distinctKeys(keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// ListRemove takes the item id out of the list of each key, inside
// Atomically. It looks for it from the last block back (items removed are
// mostly recent: an order withdrawn, moving on from its status), reading
// one block per step; an item not listed is no error.
func (s *Store) ListRemove(ctx context.Context, l List, id string, keys ...string) error {
	return s.Atomically(ctx, func(ctx context.Context) error {
		for _, key := range distinctKeys(keys) {
			if err := s.listRemove(ctx, l, key, id); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) listRemove(ctx context.Context, l List, key, id string) error {
	if err := l.check(key); err != nil {
		return err
	}
	h, err := s.listHead(ctx, l, key)
	if err != nil {
		return err
	}
	c := s.Collection(listCollection)
	for i := len(h.Sizes) - 1; i >= 0; i-- {
		if h.Sizes[i] == 0 {
			continue
		}
		if h.inHead(h.First + i) {
			at := slices.Index(h.Tail, id)
			if at < 0 {
				continue
			}
			h.Tail = slices.Delete(h.Tail, at, at+1)
			if len(h.Tail) == 0 {
				h.Tail = nil
			}
			h.Sizes[i] = len(h.Tail)
		} else {
			var b listBlock
			bid := l.blockID(key, h.First+i)
			if err := c.FindOne(ctx, bson.M{"_id": bid}).Decode(&b); err != nil {
				if IsNotFound(err) {
					continue
				}
				return err
			}
			at := slices.Index(b.IDs, id)
			if at < 0 {
				continue
			}
			b.IDs = slices.Delete(b.IDs, at, at+1)
			if len(b.IDs) == 0 {
				_, err = c.DeleteOne(ctx, bson.M{"_id": bid})
			} else {
				_, err = c.UpdateOne(ctx, bson.M{"_id": bid}, bson.M{"$set": bson.M{"ids": b.IDs}})
			}
			if err != nil {
				return err
			}
			h.Sizes[i] = len(b.IDs)
		}
		h.Count--
		for len(h.Sizes) > 0 && h.Sizes[0] == 0 {
			h.Sizes, h.First = h.Sizes[1:], h.First+1
		}
		for len(h.Sizes) > 0 && h.Sizes[len(h.Sizes)-1] == 0 {
			h.Sizes = h.Sizes[:len(h.Sizes)-1]
		}
		return s.saveListHead(ctx, h)
	}
	return nil
}

// ListCount is the number of items listed under key: one _id lookup.
func (s *Store) ListCount(ctx context.Context, l List, key string) (int64, error) {
	if err := l.check(key); err != nil {
		return 0, err
	}
	h, err := s.listHead(ctx, l, key)
	return h.Count, err
}

// listEach calls fn with the IDs listed under key in list order, after
// skipping the first skip of them, until fn returns false. Only the blocks
// it reaches are read: the head's counts say which blocks skip passes.
func (s *Store) listEach(ctx context.Context, l List, key string, skip int, fn func(id string) (bool, error)) error {
	if err := l.check(key); err != nil {
		return err
	}
	h, err := s.listHead(ctx, l, key)
	if err != nil {
		return err
	}
	c := s.Collection(listCollection)
	n := len(h.Sizes)
	for step := range n {
		i := step
		if l.NewestFirst {
			i = n - 1 - step
		}
		if skip >= h.Sizes[i] {
			skip -= h.Sizes[i]
			continue
		}
		var b listBlock
		if h.inHead(h.First + i) {
			b.IDs = h.Tail
		} else if err := c.FindOne(ctx, bson.M{"_id": l.blockID(key, h.First+i)}).Decode(&b); err != nil {
			if IsNotFound(err) {
				continue // emptied while the head was read (reads are not isolated)
			}
			return err
		}
		ids := b.IDs
		if l.NewestFirst {
			ids = slices.Clone(ids)
			slices.Reverse(ids)
		}
		ids = ids[min(skip, len(ids)):]
		skip = 0
		for _, id := range ids {
			more, err := fn(id)
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
		}
	}
	return nil
}

// ListIDs returns the IDs of one page of the list under key, in list order.
// A zero Limit returns them all.
func (s *Store) ListIDs(ctx context.Context, l List, key string, p Page) ([]string, error) {
	var out []string
	err := s.listEach(ctx, l, key, p.Offset, func(id string) (bool, error) {
		out = append(out, id)
		return p.Limit <= 0 || len(out) < p.Limit, nil
	})
	return out, err
}

// ListPage decodes one page of the documents listed under key, in list
// order: the IDs of the page, then one _id lookup each. An ID whose
// document is gone (a read racing a removal on the embedded store, where
// reads are not isolated) is left out.
func ListPage[T any](ctx context.Context, s *Store, l List, key string, p Page) ([]T, error) {
	ids, err := s.ListIDs(ctx, l, key, p)
	if err != nil {
		return nil, err
	}
	// The lookups of a page go out a few at a time: each is a round trip
	// to the store, and SQLite serves reads side by side.
	docs := make([]*T, len(ids))
	errs := make([]error, len(ids))
	coll := s.Collection(l.Collection)
	var wg sync.WaitGroup
	next := make(chan int)
	workers := pageLookups
	if _, inTx := ctx.Value(txKey{}).(*tx); inTx {
		workers = 1 // a transaction's session takes one operation at a time
	}
	for range min(workers, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				var v T
				err := coll.FindOne(ctx, bson.M{"_id": ids[i]}).Decode(&v)
				switch {
				case err == nil:
					docs[i] = &v
				case !IsNotFound(err):
					errs[i] = err
				}
			}
		}()
	}
	for i := range ids {
		next <- i
	}
	close(next)
	wg.Wait()
	out := make([]T, 0, len(ids))
	for i, d := range docs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if d != nil {
			out = append(out, *d)
		}
	}
	return out, nil
}

// pageLookups is how many _id lookups of a page ListPage has in flight.
const pageLookups = 4

// ListFilter is ListPage over only the listed documents keep accepts (nil:
// all). It walks the list from its start until the page is full, so its
// cost grows with the key's list, not with the collection: the bounded scan
// for filters rare enough not to deserve a list of their own.
func ListFilter[T any](ctx context.Context, s *Store, l List, key string, keep func(T) bool, p Page) ([]T, error) {
	coll := s.Collection(l.Collection)
	skip := 0
	if keep == nil {
		skip, p.Offset = p.Offset, 0 // the head skips unfiltered entries without reading them
	}
	var out []T
	err := s.listEach(ctx, l, key, skip, func(id string) (bool, error) {
		var v T
		if err := coll.FindOne(ctx, bson.M{"_id": id}).Decode(&v); err != nil {
			if IsNotFound(err) {
				return true, nil
			}
			return false, err
		}
		if keep != nil && !keep(v) {
			return true, nil
		}
		if p.Offset > 0 {
			p.Offset--
			return true, nil
		}
		out = append(out, v)
		return p.Limit <= 0 || len(out) < p.Limit, nil
	})
	return out, err
}

// listMarker is the _id of the document that says a List was built.
func listMarker(name string) string { return "#built|" + name }

// ensureLists builds the Lists of idx that were never built at their
// Version (force: every one of them).
func (s *Store) ensureLists(ctx context.Context, idx []Index, force bool) error {
	done := map[string]bool{}
	for _, ix := range idx {
		if ix.List == nil || done[ix.List.Name] {
			continue
		}
		l := *ix.List
		done[l.Name] = true
		if !force {
			var m struct {
				Version int `bson:"version"`
				Layout  int `bson:"layout"`
			}
			err := s.Collection(listCollection).FindOne(ctx, bson.M{"_id": listMarker(l.Name)}).Decode(&m)
			if err == nil && m.Version == l.Version && max(m.Layout, 1) == listLayout {
				continue
			}
			if err != nil && !IsNotFound(err) {
				return fmt.Errorf("mongodb: list %s: %w", l.Name, err)
			}
		}
		if err := s.buildList(ctx, l); err != nil {
			return fmt.Errorf("mongodb: build list %s: %w", l.Name, err)
		}
	}
	return nil
}

// RebuildLists builds every List named by idx again from its collection,
// for tools that write collections without ListAdd (the load seeder). Run
// it while nothing else writes.
func (s *Store) RebuildLists(ctx context.Context, idx []Index) error {
	return s.ensureLists(ctx, idx, true)
}

// listProgressEvery is how many documents a build reads between progress lines.
const listProgressEvery = 20_000

// buildList makes a List from its collection: every document, ordered by
// OrderField then _id, appended under each of its keys. It runs at start,
// before anything writes, so it writes outside Atomically, in batches; the
// marker, written last, says it finished.
func (s *Store) buildList(ctx context.Context, l List) error {
	start := time.Now()
	lists := s.Collection(listCollection)
	if err := s.dropListDocs(ctx, l); err != nil {
		return err
	}
	if _, err := lists.DeleteOne(ctx, bson.M{"_id": listMarker(l.Name)}); err != nil {
		return err
	}
	type entry struct {
		at  int64  // OrderField as a time or a number
		str string // OrderField as a string
		id  string
	}
	byKey := map[string][]entry{}
	var keys []string
	cur, err := s.Collection(l.Collection).Find(ctx, bson.M{})
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	read := 0
	for cur.Next(ctx) {
		doc := cur.Current
		id, ok := doc.Lookup("_id").StringValueOK()
		if !ok {
			return fmt.Errorf("%s: an _id is not a string", l.Collection)
		}
		e := entry{id: id}
		if v, err := doc.LookupErr(l.OrderField); err == nil {
			switch v.Type {
			case bson.TypeDateTime:
				e.at = v.DateTime()
			case bson.TypeInt64, bson.TypeInt32, bson.TypeDouble:
				e.at, _ = v.AsInt64OK()
			case bson.TypeString:
				e.str = v.StringValue()
			}
		}
		for _, k := range distinctKeys(l.KeysOf(doc)) {
			if k == "" {
				continue
			}
			if err := l.check(k); err != nil {
				return err
			}
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], e)
		}
		if read++; read%listProgressEvery == 0 {
			s.progress("building a list", "list", l.Name, "documents", read)
		}
	}
	if err := cur.Err(); err != nil {
		return err
	}
	var batch []any
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := lists.InsertMany(ctx, batch)
		batch = batch[:0]
		return err
	}
	bs := l.blockSize()
	for _, k := range keys {
		es := byKey[k]
		slices.SortStableFunc(es, func(a, b entry) int {
			if a.at != b.at {
				return cmpInt(a.at, b.at)
			}
			if a.str != b.str {
				return strings.Compare(a.str, b.str)
			}
			return strings.Compare(a.id, b.id)
		})
		h := listHead{ID: l.headID(k), List: l.Name, Count: int64(len(es))}
		for n := 0; n*bs < len(es); n++ {
			part := es[n*bs : min((n+1)*bs, len(es))]
			ids := make([]string, len(part))
			for i, e := range part {
				ids[i] = e.id
			}
			h.Sizes = append(h.Sizes, len(ids))
			if (n+1)*bs >= len(es) { // the last block: the head's tail
				h.TailN, h.Tail = n, ids
				continue
			}
			batch = append(batch, listBlock{ID: l.blockID(k, n), List: l.Name, IDs: ids})
			if len(batch) >= 100 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		batch = append(batch, h)
	}
	if err := flush(); err != nil {
		return err
	}
	if read >= listProgressEvery {
		s.progress("built a list", "list", l.Name, "documents", read, "keys", len(keys), "took", time.Since(start).Round(time.Millisecond).String())
	}
	_, err = lists.InsertOne(ctx, bson.M{"_id": listMarker(l.Name), "version": l.Version, "layout": listLayout, "items": read, "built_at": time.Now().UTC()})
	return err
}

// listDeleteBatch is how many list documents one delete removes: FerretDB
// deletes the documents a filter matches in one SQLite statement with a
// variable per document, and SQLite takes at most 32,766.
const listDeleteBatch = 10_000

// dropListDocs deletes every document of list l, in batches: the first
// listDeleteBatch by _id, then every one up to the last of them (a range,
// which FerretDB checks per document cheaply; $in with thousands of IDs is
// a scan of the array for every document).
func (s *Store) dropListDocs(ctx context.Context, l List) error {
	lists := s.Collection(listCollection)
	dropped := 0
	for {
		cur, err := lists.Find(ctx, bson.M{"list": l.Name}, options.Find().SetProjection(bson.M{"_id": 1}).
			SetSort(bson.M{"_id": 1}).SetSkip(listDeleteBatch-1).SetLimit(1))
		if err != nil {
			return err
		}
		var last bson.RawValue
		if cur.Next(ctx) {
			last = cur.Current.Lookup("_id")
		}
		err = cur.Err()
		_ = cur.Close(ctx)
		if err != nil {
			return err
		}
		if last.Type == 0 { // fewer than a batch are left
			_, err := lists.DeleteMany(ctx, bson.M{"list": l.Name})
			return err
		}
		if _, err := lists.DeleteMany(ctx, bson.M{"list": l.Name, "_id": bson.M{"$lte": last}}); err != nil {
			return err
		}
		dropped += listDeleteBatch
		s.progress("dropping an old list", "list", l.Name, "documents", dropped)
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// progress reports start-up work on the store's log, when it has one.
func (s *Store) progress(msg string, args ...any) {
	if s.log != nil {
		s.log.Info(msg, args...)
	}
}
