package mongodb

import (
	"context"
	"errors"
	"hash/maphash"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Reading ahead of the write lock, on the embedded store.
//
// Atomically holds the process-wide write lock for the whole change, and
// on the embedded store a change's reads (each a round trip into FerretDB)
// cost about a quarter of a till sale's time under it. A change that knows
// what it will read can read it first, without the lock (Preread), and
// hand what it read to Atomically (WithPreread): once the lock is held,
// each document read ahead that no write has touched since is the stored
// document, so the change starts with it in its view and as its
// before-image, and reads it no more.
//
// "No write has touched it" is decided by write generations kept in
// memory: every write through Collection inside Atomically bumps the
// generation of each document it changes (by a hash of collection and
// _id) before and after writing it, and every other write — outside
// Atomically, or a rollback or recovery putting before-images back —
// bumps one store-wide epoch around it. A document read ahead notes both
// before it is read and is used only if neither moved until the lock was
// taken: every write is closed (bumped after) before the lock is released,
// so a write that overlapped the read, or came after it, shows. Every data
// write of the embedded store goes through this
// package, and this process is its only writer (the data directory's
// lock), so a document that passes is the one stored. A hash collision
// only makes a document read again.
const genSlots = 1 << 12

var genSeed = maphash.MakeSeed()

func genSlot(coll string, id bson.RawValue) uint64 {
	var h maphash.Hash
	h.SetSeed(genSeed)
	_, _ = h.WriteString(coll)
	_ = h.WriteByte(0)
	_ = h.WriteByte(byte(id.Type))
	_, _ = h.Write(id.Value)
	return h.Sum64() & (genSlots - 1)
}

// Preread is what a change read ahead of the write lock.
type Preread struct {
	s    *Store
	docs []prereadDoc
}

type prereadDoc struct {
	coll  string
	id    bson.RawValue
	raw   bson.Raw // nil: absent
	slot  uint64
	gen   uint64
	epoch uint64
}

// Preread starts reading ahead for a change (see above). On a replica
// set, where the transaction reads what it needs, it returns nil, and a
// nil Preread reads through to the store and keeps nothing.
func (s *Store) Preread() *Preread {
	if !s.embedded {
		return nil
	}
	return &Preread{s: s}
}

// FindOne reads the document coll/id now, without the write lock, and
// keeps it for WithPreread. ErrNoDocuments when there is none (kept as
// absent).
func (p *Preread) FindOne(ctx context.Context, coll string, id any) (bson.Raw, error) {
	if p == nil {
		return nil, errors.New("mongodb: Preread.FindOne on a nil Preread; read inside Atomically")
	}
	rv, err := rawOf(id)
	if err != nil {
		return nil, err
	}
	slot := genSlot(coll, rv)
	epoch, gen := p.s.epoch.Load(), p.s.gens[slot].Load()
	raw, err := p.s.DB.Collection(coll).FindOne(ctx, bson.D{{Key: "_id", Value: rv}}).Raw()
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, p.s.classify(err)
	}
	if err != nil {
		raw = nil // kept as absent
	}
	p.docs = append(p.docs, prereadDoc{coll: coll, id: rv, raw: raw, slot: slot, gen: gen, epoch: epoch})
	if raw == nil {
		return nil, mongo.ErrNoDocuments
	}
	return raw, nil
}

type prereadKey struct{}

// WithPreread passes what p read to the Atomically that runs with the
// returned context; any other use of the context is unaffected.
func WithPreread(ctx context.Context, p *Preread) context.Context {
	if p == nil || len(p.docs) == 0 {
		return ctx
	}
	return context.WithValue(ctx, prereadKey{}, p)
}

// seed gives a change that has just taken the write lock the documents
// read ahead that are still the stored ones: in its view, and as its
// before-images. It reports how many it kept.
func (t *tx) seed(ctx context.Context) int {
	p, _ := ctx.Value(prereadKey{}).(*Preread)
	if p == nil || p.s != t.s {
		return 0
	}
	epoch := t.s.epoch.Load()
	kept := 0
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, d := range p.docs {
		if d.epoch != epoch || t.s.gens[d.slot].Load() != d.gen {
			continue
		}
		key := docKey(d.coll, d.id)
		t.setView(key, d.raw)
		if t.seen == nil {
			t.seen = map[string]bson.Raw{}
		}
		t.seen[key] = d.raw
		kept++
	}
	return kept
}

// bumpDocs moves the generation of each document a write of this change
// is about to make, and again once it is made (bumpAfter).
func (t *tx) bumpDocs(coll string, ids []bson.RawValue) {
	for _, id := range ids {
		slot := genSlot(coll, id)
		t.s.gens[slot].Add(1)
		t.inflight = append(t.inflight, slot)
	}
}

// bumpAfter closes the generations bumpDocs opened: the write is done (or
// failed, which may have changed the document too).
func (t *tx) bumpAfter() {
	t.mu.Lock()
	slots := t.inflight
	t.inflight = nil
	t.mu.Unlock()
	for _, slot := range slots {
		t.s.gens[slot].Add(1)
	}
}
