package mongodb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Checkpoints of the embedded store's write-ahead log.
//
// SQLite appends every commit to the -wal file and copies it back into the
// database at a checkpoint: automatically, after a commit once the log
// holds 1000 pages, but only up to the oldest snapshot a reader still
// uses, and the log restarts from its beginning only when a checkpoint
// has copied everything and no reader is inside it. Under a steady stream
// of reads overlapping writes (a scan burst: the trace pages read while
// the scan counters and sales write) the automatic checkpoints never
// catch up, the log only grows (measured: 1.1 GB beside a 191 MB
// database), and the file keeps its size afterwards.
//
// Two bounds, then:
//   - journal_size_limit (walSizeLimit) on FerretDB's connections: each
//     time the log restarts, SQLite truncates the file to that size.
//   - the checkpointer (run): every checkpointEvery, when there were
//     writes and the log is above walSizeLimit, or once when the store has
//     gone quiet (no write since the last look) and the log is not empty,
//     a wal_checkpoint(TRUNCATE) through a connection of its own, holding
//     the write lock: no write of this process lands meanwhile, so readers
//     soon all read the newest snapshot, the checkpoint copies the whole
//     log and the file is cut to zero bytes. Readers are never blocked;
//     a reader that holds its snapshot longer than checkpointBusy makes
//     the checkpoint give up (SQLITE_BUSY) and the next try waits longer.
//
// A quiet store costs one look at a counter per checkpointEvery and no
// call to SQLite.
const (
	walSizeLimit     = 64 << 20
	checkpointEvery  = 10 * time.Second
	checkpointBusy   = 250 * time.Millisecond
	checkpointMaxGap = 5 * time.Minute // the longest wait after failed tries
)

// checkpointer is the state of the store's checkpoints.
type checkpointer struct {
	mu   sync.Mutex // one checkpoint at a time
	stop func()
	done chan struct{}

	// what run saw at its last look (run's goroutine only)
	seenWrites int64
	clean      bool // a checkpoint emptied the log since the last write
	wait       time.Duration
	nextTry    time.Time
}

// CheckpointStats is what one checkpoint did.
type CheckpointStats struct {
	WALBefore, WALAfter int64 // bytes of the -wal file
	Busy                bool  // a reader or writer kept it from finishing
}

// walPath is the embedded store's write-ahead log.
func (s *Store) walPath() string { return filepath.Join(s.dbDir, s.DB.Name()+".sqlite-wal") }

// WALSize is the size of the embedded store's write-ahead log in bytes (0
// on a replica set, or when there is none).
func (s *Store) WALSize() int64 {
	if !s.embedded {
		return 0
	}
	fi, err := os.Stat(s.walPath())
	if err != nil {
		return 0
	}
	return fi.Size()
}

// CheckpointWAL copies the whole write-ahead log into the database and
// empties it (wal_checkpoint(TRUNCATE)), holding the write lock. It does
// nothing on a replica set. Busy reports a reader that kept its snapshot
// longer than checkpointBusy: the log was copied as far as it could be.
func (s *Store) CheckpointWAL(ctx context.Context) (CheckpointStats, error) {
	var st CheckpointStats
	if !s.embedded {
		return st, nil
	}
	s.ckpt.mu.Lock()
	defer s.ckpt.mu.Unlock()
	st.WALBefore = s.WALSize()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(s.dbDir, s.DB.Name()+".sqlite")+
		fmt.Sprintf("?_pragma=busy_timeout(%d)", checkpointBusy.Milliseconds()))
	if err != nil {
		return st, fmt.Errorf("mongodb: open SQLite file: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx) // opened before the lock: no write waits for it
	if err != nil {
		return st, fmt.Errorf("mongodb: open SQLite file: %w", err)
	}
	defer conn.Close()
	if err := s.lockWrites(ctx); err != nil {
		return st, err
	}
	var busy, logPages, copied int
	err = conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logPages, &copied)
	s.writeMu.Unlock()
	if err != nil {
		return st, fmt.Errorf("mongodb: checkpoint the write-ahead log: %w", err)
	}
	st.Busy = busy != 0
	st.WALAfter = s.WALSize()
	return st, nil
}

// startCheckpoints runs the checkpointer until the store closes.
func (s *Store) startCheckpoints() {
	ctx, stop := context.WithCancel(context.Background())
	s.ckpt.stop, s.ckpt.done = stop, make(chan struct{})
	go func() {
		defer close(s.ckpt.done)
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				s.checkpointTick(ctx, now)
			}
		}
	}()
	s.closeFns = append(s.closeFns, func() { stop(); <-s.ckpt.done })
}

// checkpointTick is one look of the checkpointer: it decides from the
// write counter alone, so a quiet store whose log is already empty costs
// nothing more.
func (s *Store) checkpointTick(ctx context.Context, now time.Time) (CheckpointStats, bool) {
	c := &s.ckpt
	writes := s.writes.Load()
	quiet := writes == c.seenWrites
	c.seenWrites = writes
	if !quiet {
		c.clean = false
	}
	if (quiet && c.clean) || now.Before(c.nextTry) || s.crashed.Load() {
		return CheckpointStats{}, false
	}
	size := s.WALSize()
	if size == 0 {
		c.clean = quiet
		return CheckpointStats{}, false
	}
	if !quiet && size <= walSizeLimit {
		return CheckpointStats{}, false
	}
	st, err := s.CheckpointWAL(ctx)
	switch {
	case err != nil && errors.Is(err, ctx.Err()):
	case err != nil || st.Busy:
		c.wait = min(max(2*c.wait, checkpointEvery), checkpointMaxGap)
		c.nextTry = now.Add(c.wait)
	default:
		c.wait, c.nextTry = 0, time.Time{}
		c.clean = quiet && s.writes.Load() == writes
	}
	return st, true
}
