// Package mongodb is the one shared piece of infrastructure: it opens the
// MongoDB store (a real replica set when a URI is given, an embedded FerretDB
// otherwise), runs multi-document changes all-or-nothing, guards updates,
// bootstraps indexes, and takes and restores backups. Domain code never asks
// which backend it runs on; every difference between the two lives here.
//
// Two backends, one driver:
//   - MONGODB_URI set: a real MongoDB that must be a replica set, because
//     Atomically runs a multi-document transaction.
//   - unset: FerretDB v1 (SQLite handler) runs inside the process, listening
//     only on a Unix socket in the data directory, reached through the same
//     go.mongodb.org/mongo-driver/v2 client. A lock file makes one process the
//     owner of a data directory.
//
// What each backend guarantees to a caller of Atomically(ctx, fn):
//
//	                           replica set                 embedded store
//	isolation                  transaction (snapshot)      process-wide write lock; every write
//	                                                       outside Atomically waits for it too
//	fn fails                   transaction aborted         every write fn made is undone (journal)
//	process dies mid-change    transaction never commits   the next Open undoes it before serving
//	acknowledged (nil)         committed, majority         committed: the journal's commit marker
//	                           write concern               is in SQLite's WAL, fsynced once
//	                                                       (synchronous=NORMAL keeps WAL order)
//	retried                    on transient errors, so     never
//	                           fn must be safe to rerun
//	disk full / read-only      server's error              ErrUnavailable (503); the change undone
//
// On both, a caller writes the body of fn as if it were a transaction:
// checks may come after writes, an error aborts everything. Writes inside
// fn use fn's ctx and go through Store.Collection (which journals them on
// the embedded store); a write that goes straight to the driver makes
// Atomically fail, so a missed write cannot pass unnoticed. Single inserts
// guarded by a unique index are safe outside Atomically on both backends;
// a guarded update of one document is Collection.UpdateByIDIf (the guard in
// the filter on a replica set, checked in Go under the lock on the embedded
// store, where FerretDB would scan the collection and lose updates).
//
// Reads outside Atomically on the embedded store are not isolated: they
// may see a change while it is being made (or undone). Pages and exports
// read that way; anything that reads in order to write runs in Atomically.
//
// Writes that may be lost and redone (a fold of counters whose batch is
// kept until the fold is done) skip the fsync with Unsynced, and many
// single-document updates go as few commands with UpdateEach (bulk.go),
// outside Atomically. The embedded store's write-ahead log is kept short by
// a checkpointer that costs nothing while the store is quiet
// (checkpoint.go).
//
// Backups (backup.go, archive.go) are consistent snapshots in the
// mongodump archive format with a manifest; Restore checks an archive
// whole before it writes. On the embedded store writes wait only while
// SQLite copies the database; on a replica set a snapshot session reads
// every collection at one cluster time (MongoDB 5.0 or later).
package mongodb
