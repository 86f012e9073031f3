package mongodb

import (
	"context"
	"time"
)

// StopCheckpointsForTest stops the store's checkpointer, so a test drives
// its ticks itself.
func (s *Store) StopCheckpointsForTest() {
	if s.ckpt.stop != nil {
		s.ckpt.stop()
		<-s.ckpt.done
	}
}

// CheckpointTickForTest is one look of the checkpointer at now.
func (s *Store) CheckpointTickForTest(now time.Time) (CheckpointStats, bool) {
	return s.checkpointTick(context.Background(), now)
}

// DBDirForTest is the directory of the SQLite files.
func (s *Store) DBDirForTest() string { return s.dbDir }
