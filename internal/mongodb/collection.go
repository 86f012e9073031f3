package mongodb

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Collection is a collection of the store, with the methods of the driver's
// *mongo.Collection that domain stores use and the same signatures, so a
// store reads like plain driver code. Every write goes through here because
// on the embedded store a write inside Atomically is journaled first (its
// before-image, journal.go) and a write outside Atomically waits for the
// write lock, so it never interleaves with a journaled change. On a replica
// set every method is the driver's own.
type Collection struct {
	s *Store
	c *mongo.Collection
}

// Collection returns the named collection of the store's database.
func (s *Store) Collection(name string) *Collection {
	return &Collection{s: s, c: s.DB.Collection(name)}
}

// Name is the collection's name.
func (c *Collection) Name() string { return c.c.Name() }

// Indexes is the driver's index view of the collection.
func (c *Collection) Indexes() mongo.IndexView { return c.c.Indexes() }

// FindOne is the driver's FindOne. Inside Atomically on the embedded
// store, a whole document read by _id is kept as the before-image of a
// write that follows, which then needs no second read (documents change
// only through Collection while the lock is held); and a document the
// change has already read or written whole is answered from its view,
// without a round trip.
func (c *Collection) FindOne(ctx context.Context, filter any, opts ...options.Lister[options.FindOneOptions]) *mongo.SingleResult {
	t, _ := ctx.Value(txKey{}).(*tx)
	if t == nil || !c.s.embedded || len(opts) > 0 {
		return c.c.FindOne(ctx, filter, opts...)
	}
	id, ok := idOnly(filter)
	if !ok {
		return c.c.FindOne(ctx, filter)
	}
	if raw, ok := t.known(c.Name(), id); ok {
		if raw == nil {
			return mongo.NewSingleResultFromDocument(bson.D{}, mongo.ErrNoDocuments, nil)
		}
		return mongo.NewSingleResultFromDocument(raw, nil, nil)
	}
	raw, err := c.c.FindOne(ctx, filter).Raw()
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return mongo.NewSingleResultFromDocument(bson.D{}, err, nil)
	}
	t.remember(c.Name(), id, raw)
	if err != nil {
		return mongo.NewSingleResultFromDocument(bson.D{}, err, nil)
	}
	return mongo.NewSingleResultFromDocument(raw, nil, nil)
}

// Find is the driver's Find.
func (c *Collection) Find(ctx context.Context, filter any, opts ...options.Lister[options.FindOptions]) (*mongo.Cursor, error) {
	return c.c.Find(ctx, filter, opts...)
}

// CountDocuments is the driver's CountDocuments.
func (c *Collection) CountDocuments(ctx context.Context, filter any, opts ...options.Lister[options.CountOptions]) (int64, error) {
	return c.c.CountDocuments(ctx, filter, opts...)
}

// EstimatedDocumentCount is the driver's EstimatedDocumentCount.
func (c *Collection) EstimatedDocumentCount(ctx context.Context, opts ...options.Lister[options.EstimatedDocumentCountOptions]) (int64, error) {
	return c.c.EstimatedDocumentCount(ctx, opts...)
}

// Aggregate is the driver's Aggregate; pipelines that write ($out, $merge)
// are not journaled and must not be used.
func (c *Collection) Aggregate(ctx context.Context, pipeline any, opts ...options.Lister[options.AggregateOptions]) (*mongo.Cursor, error) {
	return c.c.Aggregate(ctx, pipeline, opts...)
}

// Distinct is the driver's Distinct.
func (c *Collection) Distinct(ctx context.Context, field string, filter any, opts ...options.Lister[options.DistinctOptions]) *mongo.DistinctResult {
	return c.c.Distinct(ctx, field, filter, opts...)
}

// current reads the document with this _id as it is now inside
// Atomically: from what this change read or wrote of it when it can.
func (c *Collection) current(ctx context.Context, id any) (bson.Raw, error) {
	if t, _ := ctx.Value(txKey{}).(*tx); t != nil {
		if rv, err := rawOf(id); err == nil {
			if raw, ok := t.known(c.Name(), rv); ok {
				if raw == nil {
					return nil, mongo.ErrNoDocuments
				}
				return raw, nil
			}
		}
	}
	return c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
}

// InsertOne inserts a document. Inside Atomically on the embedded store
// the document must carry an _id or gets a new ObjectID, so the journal
// knows what to undo.
func (c *Collection) InsertOne(ctx context.Context, doc any, opts ...options.Lister[options.InsertOneOptions]) (*mongo.InsertOneResult, error) {
	var res *mongo.InsertOneResult
	err := c.s.write(ctx, func(ctx context.Context, t *tx) error {
		if t != nil {
			raw, id, err := withID(doc)
			if err != nil {
				return err
			}
			if err := t.capture(ctx, c, []bson.RawValue{id}); err != nil {
				return err
			}
			if res, err = c.c.InsertOne(ctx, raw, opts...); err == nil {
				t.wrote(c.Name(), id, raw)
			}
			return t.inserted(ctx, c, []bson.RawValue{id}, err)
		}
		var err error
		res, err = c.c.InsertOne(ctx, doc, opts...)
		return err
	})
	return res, err
}

// InsertMany inserts documents (docs must be a slice).
func (c *Collection) InsertMany(ctx context.Context, docs any, opts ...options.Lister[options.InsertManyOptions]) (*mongo.InsertManyResult, error) {
	var res *mongo.InsertManyResult
	err := c.s.write(ctx, func(ctx context.Context, t *tx) error {
		if t != nil {
			list, err := asSlice(docs)
			if err != nil {
				return err
			}
			raws := make([]any, len(list))
			ids := make([]bson.RawValue, len(list))
			for i, d := range list {
				raw, id, err := withID(d)
				if err != nil {
					return err
				}
				raws[i], ids[i] = raw, id
			}
			if err := t.capture(ctx, c, ids); err != nil {
				return err
			}
			if res, err = c.c.InsertMany(ctx, raws, opts...); err == nil {
				for i, id := range ids {
					t.wrote(c.Name(), id, raws[i].(bson.Raw))
				}
			}
			return t.inserted(ctx, c, ids, err)
		}
		var err error
		res, err = c.c.InsertMany(ctx, docs, opts...)
		return err
	})
	return res, err
}

// UpdateOne updates the first document matching filter. Inside Atomically
// on the embedded store an upsert must filter on _id alone.
func (c *Collection) UpdateOne(ctx context.Context, filter, update any, opts ...options.Lister[options.UpdateOneOptions]) (*mongo.UpdateResult, error) {
	var res *mongo.UpdateResult
	err := c.s.write(ctx, func(ctx context.Context, t *tx) error {
		if t != nil {
			f, found, err := t.captureOne(ctx, c, filter, isTrue(resolve(opts).Upsert))
			if err != nil || !found {
				res = &mongo.UpdateResult{}
				return err
			}
			filter = f
		}
		var err error
		res, err = c.c.UpdateOne(ctx, filter, update, opts...)
		return err
	})
	return res, err
}

// UpdateMany updates every document matching filter.
func (c *Collection) UpdateMany(ctx context.Context, filter, update any, opts ...options.Lister[options.UpdateManyOptions]) (*mongo.UpdateResult, error) {
	var res *mongo.UpdateResult
	err := c.s.write(ctx, func(ctx context.Context, t *tx) error {
		if t != nil {
			if isTrue(resolve(opts).Upsert) {
				return errors.New("mongodb: UpdateMany with upsert is not journaled; upsert one document by _id")
			}
			if err := t.captureMany(ctx, c, filter); err != nil {
				return err
			}
		}
		var err error
		res, err = c.c.UpdateMany(ctx, filter, update, opts...)
		return err
	})
	return res, err
}

// ReplaceOne replaces the first document matching filter. Inside
// Atomically on the embedded store an upsert must filter on _id alone.
func (c *Collection) ReplaceOne(ctx context.Context, filter, replacement any, opts ...options.Lister[options.ReplaceOptions]) (*mongo.UpdateResult, error) {
	var res *mongo.UpdateResult
	err := c.s.write(ctx, func(ctx context.Context, t *tx) error {
		if t != nil {
			f, found, err := t.captureOne(ctx, c, filter, isTrue(resolve(opts).Upsert))
			if err != nil || !found {
				res = &mongo.UpdateResult{}
				return err
			}
			filter = f
			raw, err := bson.Marshal(replacement)
			if err != nil {
				return err
			}
			if res, err = c.c.ReplaceOne(ctx, filter, bson.Raw(raw), opts...); err == nil && res.MatchedCount+res.UpsertedCount == 1 {
				if id, ok := idOnly(filter); ok {
					t.wrote(c.Name(), id, raw)
				}
			}
			return err
		}
		var err error
		res, err = c.c.ReplaceOne(ctx, filter, replacement, opts...)
		return err
	})
	return res, err
}

// ReplaceEach replaces each document by its _id, creating those that do
// not exist, in one command of at most UpdateEachLimit documents: one
// round trip where a change rewrites several documents of a collection (a
// list's heads under several keys). Inside Atomically on the embedded store
// the before-images are journaled in one insert first (none read again when
// the change read them or Prepared them), so it is all-or-nothing with the
// rest of the change; outside, it is one turn of the write lock and one
// fsync.
func (c *Collection) ReplaceEach(ctx context.Context, docs []any) error {
	if len(docs) == 0 {
		return nil
	}
	if len(docs) > UpdateEachLimit {
		return fmt.Errorf("mongodb: ReplaceEach of %d documents: at most %d", len(docs), UpdateEachLimit)
	}
	models := make([]mongo.WriteModel, len(docs))
	ids := make([]bson.RawValue, len(docs))
	raws := make([]bson.Raw, len(docs))
	for i, d := range docs {
		raw, id, err := withID(d)
		if err != nil {
			return err
		}
		ids[i], raws[i] = id, raw
		models[i] = mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: id}}).SetReplacement(raw).SetUpsert(true)
	}
	return c.s.write(ctx, func(ctx context.Context, t *tx) error {
		if t != nil {
			if err := t.capture(ctx, c, ids); err != nil {
				return err
			}
		}
		_, err := c.c.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(true))
		if err == nil && t != nil {
			for i, id := range ids {
				t.wrote(c.Name(), id, raws[i])
			}
		}
		return err
	})
}

// DeleteOne deletes the first document matching filter.
func (c *Collection) DeleteOne(ctx context.Context, filter any, opts ...options.Lister[options.DeleteOneOptions]) (*mongo.DeleteResult, error) {
	var res *mongo.DeleteResult
	err := c.s.write(ctx, func(ctx context.Context, t *tx) error {
		if t != nil {
			f, found, err := t.captureOne(ctx, c, filter, false)
			if err != nil || !found {
				res = &mongo.DeleteResult{}
				return err
			}
			filter = f
		}
		var err error
		res, err = c.c.DeleteOne(ctx, filter, opts...)
		return err
	})
	return res, err
}

// DeleteMany deletes every document matching filter.
func (c *Collection) DeleteMany(ctx context.Context, filter any, opts ...options.Lister[options.DeleteManyOptions]) (*mongo.DeleteResult, error) {
	var res *mongo.DeleteResult
	err := c.s.write(ctx, func(ctx context.Context, t *tx) error {
		if t != nil {
			if err := t.captureMany(ctx, c, filter); err != nil {
				return err
			}
		}
		var err error
		res, err = c.c.DeleteMany(ctx, filter, opts...)
		return err
	})
	return res, err
}

// withID marshals doc and returns it with its _id, adding a new ObjectID
// first when it has none (what the driver would do, done here so the
// journal knows the _id before the insert).
func withID(doc any) (bson.Raw, bson.RawValue, error) {
	raw, err := bson.Marshal(doc)
	if err != nil {
		return nil, bson.RawValue{}, err
	}
	if id, err := bson.Raw(raw).LookupErr("_id"); err == nil {
		return raw, id, nil
	}
	var d bson.D
	if err := bson.Unmarshal(raw, &d); err != nil {
		return nil, bson.RawValue{}, err
	}
	d = append(bson.D{{Key: "_id", Value: bson.NewObjectID()}}, d...)
	if raw, err = bson.Marshal(d); err != nil {
		return nil, bson.RawValue{}, err
	}
	return raw, bson.Raw(raw).Lookup("_id"), nil
}

// idOnly returns X when filter is {_id: X} with X a plain value (not an
// operator document such as {$in: …}).
func idOnly(filter any) (bson.RawValue, bool) {
	raw, err := bson.Marshal(filter)
	if err != nil {
		return bson.RawValue{}, false
	}
	elems, err := bson.Raw(raw).Elements()
	if err != nil || len(elems) != 1 || elems[0].Key() != "_id" {
		return bson.RawValue{}, false
	}
	v := elems[0].Value()
	if v.Type == bson.TypeEmbeddedDocument {
		if inner, err := v.Document().Elements(); err == nil && len(inner) > 0 && len(inner[0].Key()) > 0 && inner[0].Key()[0] == '$' {
			return bson.RawValue{}, false
		}
	}
	return v, true
}

func asSlice(docs any) ([]any, error) {
	switch d := docs.(type) {
	case []any:
		return d, nil
	case []bson.M:
		out := make([]any, len(d))
		for i := range d {
			out[i] = d[i]
		}
		return out, nil
	case []bson.D:
		out := make([]any, len(d))
		for i := range d {
			out[i] = d[i]
		}
		return out, nil
	}
	return reflectSlice(docs)
}

// resolve applies option listers, to read what the caller asked for.
func resolve[T any](opts []options.Lister[T]) *T {
	var o T
	for _, l := range opts {
		if l == nil {
			continue
		}
		for _, set := range l.List() {
			_ = set(&o)
		}
	}
	return &o
}

func isTrue(b *bool) bool { return b != nil && *b }

func reflectSlice(docs any) ([]any, error) {
	v := reflect.ValueOf(docs)
	if v.Kind() != reflect.Slice {
		return nil, errNotSlice
	}
	out := make([]any, v.Len())
	for i := range out {
		out[i] = v.Index(i).Interface()
	}
	return out, nil
}

var errNotSlice = fmt.Errorf("mongodb: InsertMany takes a slice of documents")
