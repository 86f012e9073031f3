package mongodb

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// OneUpdate is one statement of UpdateEach: the first document matching
// Filter gets Update, or is created from the filter's equalities and
// Update when none matches and Upsert is set.
type OneUpdate struct {
	Filter, Update any
	Upsert         bool
}

// UpdateEachLimit is the most statements UpdateEach sends in one command.
// FerretDB v1 keeps the read of every statement that matched a document
// open until its update command ends, each holding one of the 100 pooled
// SQLite connections: an update of 100 matching statements waits forever
// for a connection to write with (measured: a 256-statement command hung).
// Commands of 32 leave the pool to the readers.
const UpdateEachLimit = 32

// UpdateEach sends many single-document updates as update commands of
// UpdateEachLimit statements, in order: one round trip per command and,
// on the embedded store, one turn of the write lock and one fsync (none
// with Unsynced) each, instead of one per document (FerretDB runs the
// statements one after another, each its own SQLite transaction). It stops
// at the first statement that fails: the ones before it stay applied, so
// each statement must be safe to send again (an idempotent filter, such as
// a marker the update sets). It counts the documents matched and created.
//
// It is not journaled: inside Atomically on the embedded store it refuses
// (use UpdateOne there). On a replica set inside Atomically it is part of
// the transaction.
func (c *Collection) UpdateEach(ctx context.Context, list []OneUpdate) (matched, upserted int64, err error) {
	for len(list) > 0 {
		n := min(len(list), UpdateEachLimit)
		m, u, err := c.updateEach(ctx, list[:n])
		matched, upserted = matched+m, upserted+u
		if err != nil {
			return matched, upserted, err
		}
		list = list[n:]
	}
	return matched, upserted, nil
}

func (c *Collection) updateEach(ctx context.Context, list []OneUpdate) (matched, upserted int64, err error) {
	models := make([]mongo.WriteModel, len(list))
	for i, u := range list {
		models[i] = mongo.NewUpdateOneModel().SetFilter(u.Filter).SetUpdate(u.Update).SetUpsert(u.Upsert)
	}
	err = c.s.write(ctx, func(ctx context.Context, t *tx) error {
		if t != nil {
			return errors.New("mongodb: UpdateEach inside Atomically on the embedded store is not journaled; use UpdateOne")
		}
		res, err := c.c.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(true))
		if res != nil {
			matched, upserted = res.MatchedCount, res.UpsertedCount
		}
		return err
	})
	return matched, upserted, err
}
