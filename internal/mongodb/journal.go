package mongodb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The journal makes Atomically all-or-nothing on the embedded store, which
// has no transactions.
//
// Before the first write of a document inside Atomically, its before-image
// (the whole document, or "absent") goes into the journal collection, in
// the same SQLite database and so the same write-ahead log as the data:
// SQLite commits in order, so a data write never survives a crash without
// the journal entry written before it. When fn returns nil, a commit
// marker is written (the commit point: from then on the change is
// acknowledged) and the entries are dropped. When fn fails, or the process
// dies before the commit marker, the before-images are put back, last
// first: at once in the process, or by Open on the next start.
//
// Each document is journaled once per Atomically (its first before-image
// is the one to restore), so the journal costs one _id read and one insert
// per document touched, plus the commit marker and one delete per change.
// Less in practice: a document the change read by _id needs no second
// read, a new one under an _id just minted needs none at all (Doc.New),
// and Prepare journals many documents in one insert. A change that
// prepares everything it writes (a till sale) journals in one insert.
const journalName = "atomically_journal"

// journalEntry is one before-image, or a commit marker.
type journalEntry struct {
	ID    string        `bson:"_id"` // tx/n, ordered
	Tx    string        `bson:"tx"`
	N     int           `bson:"n"`
	Coll  string        `bson:"coll,omitempty"`
	DocID bson.RawValue `bson:"doc_id"`
	// Before is the document's BSON as it was, kept as binary: restored
	// byte for byte, and cheap for FerretDB to store (one string, not a
	// tree of fields). Nil: the document did not exist.
	Before []byte `bson:"before,omitempty"`
	Commit bool   `bson:"commit,omitempty"`
}

type txKey struct{}

// viaJournal marks the contexts of writes this package makes itself, so
// the command monitor can tell them from a write that bypassed Collection.
type viaJournal struct{}

// tx is one Atomically call on the embedded store.
type tx struct {
	s  *Store
	id string

	mu      sync.Mutex
	n       int
	touched map[string]bool
	entries []journalEntry      // before-images written, in order
	seen    map[string]bson.Raw // documents read by _id, not yet written: nil = absent
	// view holds documents as they are now, as far as this change knows:
	// read whole by _id, or written whole (inserted, replaced) by it; nil =
	// absent. A write the change cannot see the result of (an update with
	// operators, a delete by filter) drops the document from it. It is exact
	// because no one else writes while the change holds the write lock, so
	// a second read of one document inside the change costs no round trip.
	view map[string]bson.Raw
	// unread maps the new documents (Doc.New) journaled as absent without
	// a read to their entry, until an insert settles it (inserted).
	unread map[string]int
	// inflight are the write generations (preread.go) of the write being
	// made, closed when it returns.
	inflight []uint64
	done     bool

	stray atomic.Pointer[error] // a write inside fn that did not go through Collection
}

func (t *tx) finished() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.done
}

// remember keeps what FindOne read of a document: in the change's view,
// and, when the change has not touched it yet, as the before-image of a
// write that may follow.
func (t *tx) remember(coll string, id bson.RawValue, raw bson.Raw) {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := docKey(coll, id)
	t.setView(key, raw)
	if t.touched[key] {
		return
	}
	if t.seen == nil {
		t.seen = map[string]bson.Raw{}
	}
	t.seen[key] = raw
}

// known returns the document as it is now, when this change has read it or
// written it whole and not changed it otherwise since (nil: absent).
func (t *tx) known(coll string, id bson.RawValue) (bson.Raw, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	raw, ok := t.view[docKey(coll, id)]
	return raw, ok
}

// wrote puts a document this change has just written whole into its view;
// raw without an _id (a replacement that relied on the filter's) is not
// the stored document, so it is left out.
func (t *tx) wrote(coll string, id bson.RawValue, raw bson.Raw) {
	if v, err := raw.LookupErr("_id"); err != nil || !v.Equal(id) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.setView(docKey(coll, id), raw)
}

func (t *tx) setView(key string, raw bson.Raw) {
	if t.view == nil {
		t.view = map[string]bson.Raw{}
	}
	t.view[key] = raw
}

func docKey(coll string, id bson.RawValue) string {
	return coll + "\x00" + string(rune(id.Type)) + string(id.Value)
}

// capture journals the before-images of the documents ids of c that this
// change has not touched yet, then passes the fault point of the data
// write that follows. The write is about to change them, so they leave the
// change's view until the writer puts back what it wrote (wrote).
func (t *tx) capture(ctx context.Context, c *Collection, ids []bson.RawValue) error {
	refs := make([]docRef, len(ids))
	t.mu.Lock()
	for i, id := range ids {
		refs[i] = docRef{coll: c.Name(), id: id}
		delete(t.view, docKey(c.Name(), id))
	}
	t.bumpDocs(c.Name(), ids)
	t.mu.Unlock()
	return t.captureDocs(ctx, refs, false)
}

// docRef is one document of the store: its collection and _id; isNew when
// the change is about to create it under an _id it has just minted (Doc.New).
type docRef struct {
	coll  string
	id    bson.RawValue
	isNew bool
}

// captureDocs journals, in one insert, the before-images of the documents
// refs names that this change has not touched yet: read from what the
// change read of them when it can, else by _id; "absent" without a read
// for a new document. prepared is true for Prepare, which writes no data:
// what it reads joins the change's view.
func (t *tx) captureDocs(ctx context.Context, refs []docRef, prepared bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var fresh []any
	var keys []string
	var created []bool
	seen := map[string]bool{}
	for _, r := range refs {
		key := docKey(r.coll, r.id)
		if t.touched[key] || seen[key] {
			continue
		}
		seen[key] = true
		before, known := t.seen[key]
		if !known && !r.isNew {
			raw, err := t.s.DB.Collection(r.coll).FindOne(ctx, bson.D{{Key: "_id", Value: r.id}}).Raw()
			switch {
			case errors.Is(err, mongo.ErrNoDocuments):
			case err != nil:
				return t.s.classify(err)
			default:
				before = raw
			}
			if prepared {
				t.setView(key, before)
			}
		}
		t.n++
		fresh = append(fresh, journalEntry{ID: fmt.Sprintf("%s/%06d", t.id, t.n), Tx: t.id, N: t.n, Coll: r.coll, DocID: r.id, Before: before})
		keys = append(keys, key)
		created = append(created, r.isNew && !known)
	}
	if len(fresh) > 0 {
		if err := t.s.point(); err != nil {
			return err
		}
		if _, err := t.s.journal.InsertMany(ctx, fresh); err != nil {
			return t.s.classify(err)
		}
		for i, e := range fresh {
			t.touched[keys[i]] = true
			delete(t.seen, keys[i])
			if created[i] {
				if t.unread == nil {
					t.unread = map[string]int{}
				}
				t.unread[keys[i]] = len(t.entries)
			}
			t.entries = append(t.entries, e.(journalEntry))
		}
	}
	return t.s.point()
}

// inserted is told the outcome of an insert of the documents ids of c. A
// new document (Doc.New) was journaled as absent without a read; if the
// insert found one under its _id after all, that entry would delete it on
// undo, so it is corrected first to the document found (read now, since
// the failed insert changed nothing), in the journal and in memory.
func (t *tx) inserted(ctx context.Context, c *Collection, ids []bson.RawValue, err error) error {
	if err == nil || !mongo.IsDuplicateKeyError(err) {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range ids {
		i, ok := t.unread[docKey(c.Name(), id)]
		if !ok {
			continue
		}
		raw, rerr := c.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
		if errors.Is(rerr, mongo.ErrNoDocuments) {
			continue // not this one: absent is right
		}
		if rerr == nil {
			_, rerr = t.s.journal.UpdateOne(ctx, bson.D{{Key: "_id", Value: t.entries[i].ID}}, bson.M{"$set": bson.M{"before": []byte(raw)}})
		}
		if rerr != nil {
			return fmt.Errorf("%w (and its journal entry could not be corrected: %v)", err, rerr)
		}
		t.entries[i].Before = raw
		delete(t.unread, docKey(c.Name(), id))
	}
	return err
}

// Doc names one document: its collection and _id.
type Doc struct {
	Coll string
	ID   any
	// New says the change is about to insert the document under an _id
	// it has just minted at random (id.New: 80 random bits), so that its
	// before-image is "absent" without a read. Should an insert meet a
	// document under that _id after all, the entry is corrected before the
	// insert's error returns (tx.inserted).
	New bool
}

// Prepare journals at once the documents an Atomically change is about to
// write, so that their writes that follow need no journal write of their
// own: one insert into the journal instead of one per document, each a
// round trip and an SQLite transaction on the embedded store. Documents the
// change has read by _id cost no read here. Outside Atomically, and on a
// replica set (where the transaction covers every write), it does nothing.
// Preparing a document that is then not written only costs its entry.
func (s *Store) Prepare(ctx context.Context, docs ...Doc) error {
	t, _ := ctx.Value(txKey{}).(*tx)
	if !s.embedded || t == nil || len(docs) == 0 {
		return nil
	}
	if t.finished() {
		return errors.New("mongodb: Prepare with the context of an Atomically call that has returned")
	}
	refs := make([]docRef, len(docs))
	for i, d := range docs {
		rv, err := rawOf(d.ID)
		if err != nil {
			return fmt.Errorf("mongodb: prepare %s: %w", d.Coll, err)
		}
		refs[i] = docRef{coll: d.Coll, id: rv, isNew: d.New}
	}
	ctx = context.WithValue(ctx, viaJournal{}, true)
	s.writes.Add(1) // the checkpointer's sign of activity (checkpoint.go)
	return t.captureDocs(ctx, refs, true)
}

// captureOne journals the document a single-document write would change
// and returns the filter to write with: the caller's when it is {_id: X},
// else {_id} of the document it matches now (the same one, since the write
// lock is held). found is false when nothing matches and no upsert is asked.
func (t *tx) captureOne(ctx context.Context, c *Collection, filter any, upsert bool) (any, bool, error) {
	if id, ok := idOnly(filter); ok {
		return filter, true, t.capture(ctx, c, []bson.RawValue{id})
	}
	if upsert {
		return nil, false, errors.New("mongodb: inside Atomically an upsert filters on _id alone, so the journal knows the document it may create")
	}
	raw, err := c.c.FindOne(ctx, filter, options.FindOne().SetProjection(bson.M{"_id": 1})).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, t.s.classify(err)
	}
	id := raw.Lookup("_id")
	return bson.D{{Key: "_id", Value: id}}, true, t.capture(ctx, c, []bson.RawValue{id})
}

// captureMany journals every document filter matches now.
func (t *tx) captureMany(ctx context.Context, c *Collection, filter any) error {
	cur, err := c.c.Find(ctx, filter, options.Find().SetProjection(bson.M{"_id": 1}))
	if err != nil {
		return t.s.classify(err)
	}
	var ids []bson.RawValue
	for cur.Next(ctx) {
		ids = append(ids, cur.Current.Lookup("_id"))
	}
	if err := cur.Err(); err != nil {
		return t.s.classify(err)
	}
	_ = cur.Close(ctx)
	return t.capture(ctx, c, ids)
}

// write runs one write of a Collection: as it is on a replica set (inside
// Atomically the context carries the transaction's session); journaled
// inside Atomically on the embedded store; under the write lock outside it.
func (s *Store) write(ctx context.Context, do func(ctx context.Context, t *tx) error) error {
	if !s.embedded {
		return do(ctx, nil)
	}
	ctx = context.WithValue(ctx, viaJournal{}, true)
	s.writes.Add(1) // the checkpointer's sign of activity (checkpoint.go)
	t, _ := ctx.Value(txKey{}).(*tx)
	if t == nil {
		if err := s.lockWrites(ctx); err != nil {
			return err
		}
		defer s.writeMu.Unlock()
		if s.crashed.Load() {
			return ErrSimulatedCrash
		}
		s.epoch.Add(1) // which documents it changes is not known here (preread.go)
		err := do(ctx, nil)
		s.epoch.Add(1)
		if err != nil {
			return s.classify(err)
		}
		if isUnsynced(ctx) {
			return nil // durable with the next fsync (Unsynced)
		}
		return s.classify(s.syncWAL()) // acknowledged: durable
	}
	if t.finished() {
		return errors.New("mongodb: write with the context of an Atomically call that has returned")
	}
	err := do(ctx, t)
	t.bumpAfter()
	return s.classify(err)
}

// lockWrites takes the embedded store's write lock, first finishing the
// recovery of a change whose undo failed earlier (a full disk): no write
// may land on a document a pending undo will restore.
func (s *Store) lockWrites(ctx context.Context) error {
	s.writeMu.Lock()
	if s.pending {
		if _, err := s.recoverJournal(context.WithoutCancel(ctx)); err != nil {
			s.writeMu.Unlock()
			return s.classify(fmt.Errorf("%w: %v", ErrUnavailable, err))
		}
		s.pending = false
	}
	if err := s.writesAllowed(); err != nil {
		s.writeMu.Unlock()
		return err
	}
	return nil
}

// atomicallyEmbedded is Atomically on the embedded store.
func (s *Store) atomicallyEmbedded(ctx context.Context, fn func(ctx context.Context) error) error {
	if err := s.lockWrites(ctx); err != nil {
		return err
	}
	defer s.writeMu.Unlock()
	if s.crashed.Load() {
		return ErrSimulatedCrash
	}
	t := &tx{s: s, id: bson.NewObjectID().Hex(), touched: map[string]bool{}}
	t.seed(ctx)
	err := fn(context.WithValue(ctx, txKey{}, t))
	t.mu.Lock()
	t.done = true
	t.mu.Unlock()
	if p := t.stray.Load(); err == nil && p != nil {
		err = *p
	}
	bg := context.WithoutCancel(ctx)
	if err != nil {
		if len(t.entries) > 0 {
			if uerr := s.rollback(bg, t); uerr != nil {
				s.pending = true
				return s.classify(fmt.Errorf("%w (%v) after: %w", ErrUnavailable, uerr, err))
			}
		}
		return err
	}
	if len(t.entries) == 0 {
		return nil
	}
	if err := s.point(); err != nil {
		return s.undoAfter(bg, t, err)
	}
	marker := bson.M{"_id": t.id + "/commit", "tx": t.id, "n": t.n + 1, "commit": true}
	if _, err := s.journal.InsertOne(context.WithValue(bg, viaJournal{}, true), marker); err != nil {
		return s.undoAfter(bg, t, s.classify(err))
	}
	if err := s.syncWAL(); err != nil {
		return s.undoAfter(bg, t, s.classify(err))
	}
	// Committed: from here on the change is acknowledged. Dropping the
	// entries is housekeeping; if it fails, the next write or start does it.
	if err := s.point(); err != nil {
		if errors.Is(err, ErrSimulatedCrash) {
			return err
		}
		s.pending = true
		return nil
	}
	if _, err := s.journal.DeleteMany(context.WithValue(bg, viaJournal{}, true), bson.M{"tx": t.id}); err != nil {
		s.pending = true
	}
	return nil
}

func (s *Store) undoAfter(ctx context.Context, t *tx, err error) error {
	if uerr := s.rollback(ctx, t); uerr != nil {
		s.pending = true
		return s.classify(fmt.Errorf("%w (%v) after: %w", ErrUnavailable, uerr, err))
	}
	return err
}

// rollback puts back the before-images of a change that failed in this
// process, then drops its entries.
func (s *Store) rollback(ctx context.Context, t *tx) error {
	if s.crashed.Load() {
		return ErrSimulatedCrash // a dead process undoes nothing; Open will
	}
	if s.diskFull.Load() {
		s.giveBackReserve() // room for the undo
	}
	ctx = context.WithValue(ctx, viaJournal{}, true)
	s.epoch.Add(1) // documents change outside Collection (preread.go)
	defer s.epoch.Add(1)
	for i := len(t.entries) - 1; i >= 0; i-- {
		if err := s.restore(ctx, t.entries[i]); err != nil {
			return err
		}
	}
	_, err := s.journal.DeleteMany(ctx, bson.M{"tx": t.id})
	return err
}

// restore puts one before-image back: idempotent, so a recovery that is
// itself interrupted can run again.
func (s *Store) restore(ctx context.Context, e journalEntry) error {
	c := s.DB.Collection(e.Coll)
	id := bson.D{{Key: "_id", Value: e.DocID}}
	if e.Before == nil {
		_, err := c.DeleteOne(ctx, id)
		return err
	}
	_, err := c.ReplaceOne(ctx, id, e.Before, options.Replace().SetUpsert(true))
	return err
}

// syncWAL makes everything SQLite has written so far durable. The store
// runs SQLite with synchronous=NORMAL, where the write-ahead log is fsynced
// only at checkpoints: commits stay in order through a power cut, but the
// last ones may be lost. fsync of the WAL file flushes all its pages,
// whichever connection wrote them, so one call at Atomically's commit
// point makes the acknowledged change (and its journal) durable.
func (s *Store) syncWAL() error {
	f, err := os.OpenFile(filepath.Join(s.dbDir, s.DB.Name()+".sqlite-wal"), os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // checkpointed into the database file, which SQLite synced
	}
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Recovery says what Open found in the journal.
type Recovery struct {
	Undone    int // changes that never committed, rolled back
	Finished  int // committed changes whose entries were still there
	Documents int // documents put back to their before-image
}

// recoverJournal undoes every change of the journal that has no commit
// marker and drops the entries of those that have one. Callers hold the
// write lock, or run before the store serves.
func (s *Store) recoverJournal(ctx context.Context) (Recovery, error) {
	var rep Recovery
	ctx = context.WithValue(ctx, viaJournal{}, true)
	s.epoch.Add(1) // documents change outside Collection (preread.go)
	defer s.epoch.Add(1)
	cur, err := s.journal.Find(ctx, bson.M{})
	if err != nil {
		return rep, err
	}
	var all []journalEntry
	if err := cur.All(ctx, &all); err != nil {
		return rep, err
	}
	byTx := map[string][]journalEntry{}
	var order []string
	for _, e := range all {
		if _, ok := byTx[e.Tx]; !ok {
			order = append(order, e.Tx)
		}
		byTx[e.Tx] = append(byTx[e.Tx], e)
	}
	sort.Strings(order) // ObjectID hex: the order the changes began
	for _, id := range order {
		entries := byTx[id]
		sort.Slice(entries, func(i, j int) bool { return entries[i].N < entries[j].N })
		committed := false
		for _, e := range entries {
			committed = committed || e.Commit
		}
		if committed {
			rep.Finished++
		} else {
			for i := len(entries) - 1; i >= 0; i-- {
				if err := s.restore(ctx, entries[i]); err != nil {
					return rep, err
				}
				rep.Documents++
			}
			rep.Undone++
		}
		if _, err := s.journal.DeleteMany(ctx, bson.M{"tx": id}); err != nil {
			return rep, err
		}
	}
	if len(order) > 0 {
		return rep, s.syncWAL()
	}
	return rep, nil
}

// noticeStrayWrite is the command monitor of the embedded store's client:
// a write command sent inside Atomically that did not come through
// Collection (so was not journaled) makes that Atomically fail and roll
// back, so a missed write cannot go unnoticed.
func (s *Store) noticeStrayWrite(ctx context.Context, e *event.CommandStartedEvent) {
	s.commands.Add(1)
	switch e.CommandName {
	case "insert", "update", "delete", "findAndModify":
	default:
		return
	}
	if ctx == nil || ctx.Value(viaJournal{}) != nil {
		return
	}
	t, _ := ctx.Value(txKey{}).(*tx)
	if t == nil {
		return
	}
	coll, _ := e.Command.Lookup(e.CommandName).StringValueOK()
	err := fmt.Errorf("mongodb: a %s on %q inside Atomically bypassed the journal; write through (*mongodb.Store).Collection", e.CommandName, coll)
	t.stray.CompareAndSwap(nil, &err)
}
