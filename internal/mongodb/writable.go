package mongodb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/terroir-coop/terroir/internal/problem"
)

// Disk full and read-only disk on the embedded store.
//
// FerretDB answers a write SQLite cannot make with an InternalError whose
// message carries SQLite's: "database or disk is full (13)", "attempt to
// write a readonly database (8)", "disk I/O error (10)". classify turns
// those into ErrUnavailable (503 with a clear message). A change that meets
// one is undone by the journal — which needs a little space itself, so the
// data directory keeps a reserve file (reserveName) that is given back to
// the file system to make the undo possible. While the reserve is missing,
// writes are refused before they start, and Writable says so; once the
// disk has room again the reserve is taken back and writes resume. Reads
// never stop.

// ErrUnavailable is the answer to a write the store cannot make now (disk
// full, read-only disk): 503, and nothing of the change stays written.
var ErrUnavailable = problem.New(problem.Unavailable, "the register cannot record changes right now (the disk is full or read-only); nothing was changed — try again later")

const (
	reserveName = "terroir.reserve"
	// reserveSize is what an undo may need: a few pages per document of
	// a change, lots with long histories included.
	reserveSize = 4 << 20
)

// isDiskError reports whether err is the store being unable to write.
func isDiskError(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EIO) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"database or disk is full", "readonly database", "read-only file system",
		"disk I/O error", "no space left on device"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// classify turns the store's "cannot write" errors into ErrUnavailable,
// keeping the cause for the log.
func (s *Store) classify(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) || !isDiskError(err) {
		return err
	}
	s.diskFull.Store(true)
	return fmt.Errorf("%w: %v", ErrUnavailable, err)
}

// giveBackReserve frees the reserve file so an undo has room.
func (s *Store) giveBackReserve() {
	if s.dataDir != "" {
		_ = os.Remove(filepath.Join(s.dataDir, reserveName))
	}
}

// takeReserve makes sure the reserve file exists, allocated; it fails while
// the disk has no room for it.
func (s *Store) takeReserve() error {
	if s.dataDir == "" {
		return nil
	}
	path := filepath.Join(s.dataDir, reserveName)
	if fi, err := os.Stat(path); err == nil && fi.Size() >= reserveSize {
		return nil
	}
	f, err := os.OpenFile(path+".new", os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	err = syscall.Fallocate(int(f.Fd()), 0, 0, reserveSize)
	if errors.Is(err, syscall.EOPNOTSUPP) {
		_, err = f.Write(make([]byte, reserveSize)) // a file system without fallocate
	}
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if err != nil {
		_ = os.Remove(path + ".new")
		return err
	}
	return os.Rename(path+".new", path)
}

// writesAllowed refuses a write before it starts while the disk is known
// to be full or read-only, unless room came back (callers hold writeMu).
func (s *Store) writesAllowed() error {
	if !s.embedded || !s.diskFull.Load() {
		return nil
	}
	if err := s.takeReserve(); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	s.diskFull.Store(false)
	return nil
}

// Writable reports whether the store can record changes now: nil, or
// ErrUnavailable with the reason. /readyz reports not ready while it fails
// (reads keep working). It writes one small document to find out.
func (s *Store) Writable(ctx context.Context) error {
	if s.embedded {
		var st syscall.Statfs_t
		if err := syscall.Statfs(s.dbDir, &st); err == nil {
			if st.Flags&1 != 0 { // ST_RDONLY
				return fmt.Errorf("%w: the data directory is on a read-only file system", ErrUnavailable)
			}
		}
	}
	_, err := s.Collection("store_health").ReplaceOne(ctx, bson.M{"_id": "writable"},
		bson.M{"_id": "writable", "probe": bson.NewObjectID()}, options.Replace().SetUpsert(true))
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}
