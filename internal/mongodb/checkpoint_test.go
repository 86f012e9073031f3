package mongodb_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
)

// TestWALStaysBoundedAfterAStarvedBurst: a reader that keeps its snapshot
// through thousands of writes starves SQLite's own checkpoints and the
// write-ahead log grows past the database; once the store is quiet the
// checkpointer empties it, and gives up without blocking while the reader
// still holds on.
func TestWALStaysBoundedAfterAStarvedBurst(t *testing.T) {
	s := mongotest.New(t)
	if !s.Embedded() {
		t.Skip("the write-ahead log is the embedded store's")
	}
	s.StopCheckpointsForTest() // the test drives the ticks
	ctx := context.Background()
	c := s.Collection("burst")
	if _, err := c.InsertOne(ctx, bson.M{"_id": "first"}); err != nil {
		t.Fatal(err)
	}

	// A reader that holds a snapshot (as a long query would).
	db, err := sql.Open("sqlite", "file:"+filepath.Join(s.DBDirForTest(), s.DB.Name()+".sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reader, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := reader.QueryRow(`SELECT count(*) FROM _ferretdb_collections`).Scan(&n); err != nil {
		t.Fatal(err)
	}

	// Four thousand documents of 2 KB, unsynced, in 200 commits.
	pad := strings.Repeat("x", 2000)
	uctx := mongodb.Unsynced(ctx)
	for i := range 200 {
		docs := make([]any, 20)
		for j := range docs {
			docs[j] = bson.M{"_id": i*20 + j, "pad": pad}
		}
		if _, err := c.InsertMany(uctx, docs); err != nil {
			t.Fatal(err)
		}
	}
	grown := s.WALSize()
	if grown < 6<<20 {
		t.Fatalf("the log is %d bytes after 8 MB of writes behind a reader: the test does not starve the checkpoints", grown)
	}

	now := time.Now()
	if _, ran := s.CheckpointTickForTest(now); ran {
		t.Fatal("a checkpoint ran while writes were still coming, below the size limit")
	}
	now = now.Add(10 * time.Second)
	st, ran := s.CheckpointTickForTest(now) // quiet now
	if !ran || !st.Busy || s.WALSize() < grown {
		t.Fatalf("with the reader still in: ran %v, %+v, log %d", ran, st, s.WALSize())
	}
	if _, ran := s.CheckpointTickForTest(now.Add(time.Second)); ran {
		t.Fatal("a busy checkpoint was tried again at once")
	}
	if err := reader.Rollback(); err != nil {
		t.Fatal(err)
	}
	st, ran = s.CheckpointTickForTest(now.Add(time.Hour))
	if !ran || st.Busy || st.WALBefore < grown || st.WALAfter != 0 || s.WALSize() != 0 {
		t.Fatalf("after the reader left: ran %v, %+v, log %d", ran, st, s.WALSize())
	}
	// Quiet and empty: the next looks do nothing, and the data is all there.
	if _, ran := s.CheckpointTickForTest(now.Add(2 * time.Hour)); ran {
		t.Fatal("a checkpoint ran on an empty log")
	}
	if got, err := c.CountDocuments(ctx, bson.M{}); err != nil || got != 4001 {
		t.Fatalf("%d documents after the checkpoint (%v)", got, err)
	}
}

// TestUpdateEachRefusesInsideAtomically: the journal cannot undo it.
func TestUpdateEachRefusesInsideAtomically(t *testing.T) {
	s := mongotest.New(t)
	if !s.Embedded() {
		t.Skip("a replica set runs it inside the transaction")
	}
	ctx := context.Background()
	c := s.Collection("bulk")
	err := s.Atomically(ctx, func(ctx context.Context) error {
		_, _, err := c.UpdateEach(ctx, []mongodb.OneUpdate{{Filter: bson.M{"_id": 1}, Update: bson.M{"$set": bson.M{"a": 1}}, Upsert: true}})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "not journaled") {
		t.Fatalf("UpdateEach inside Atomically: %v", err)
	}
	// Outside, in commands of UpdateEachLimit, in order.
	list := make([]mongodb.OneUpdate, 70)
	for i := range list {
		list[i] = mongodb.OneUpdate{Filter: bson.M{"_id": i % 35}, Update: bson.M{"$inc": bson.M{"n": 1}}, Upsert: true}
	}
	before := s.Commands()
	matched, upserted, err := c.UpdateEach(ctx, list)
	if err != nil || matched != 35 || upserted != 35 {
		t.Fatalf("matched %d, upserted %d, %v", matched, upserted, err)
	}
	if sent := s.Commands() - before; sent != 3 {
		t.Fatalf("%d commands for 70 statements, want 3", sent)
	}
	var doc struct{ N int }
	if err := c.FindOne(ctx, bson.M{"_id": 34}).Decode(&doc); err != nil || doc.N != 2 {
		t.Fatalf("%+v %v", doc, err)
	}
}
