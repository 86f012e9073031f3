package mongodb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// ErrLocked is returned by Open when another process owns the data directory.
var ErrLocked = errors.New("the data directory is in use by another Terroir process")

// Config says which store to open.
type Config struct {
	// URI of a MongoDB replica set; empty selects the embedded store.
	URI string
	// DataDir holds the embedded store's files (ignored with a URI).
	DataDir string
	// Database name; "terroir" when empty.
	Database string
	// Logger for the embedded FerretDB; quiet when nil.
	Logger *slog.Logger
	// Log receives the store's own start-up progress (a keyed list built
	// from a big collection); quiet when nil.
	Log *slog.Logger
}

// Store is an open database. It is safe for concurrent use.
type Store struct {
	Client   *mongo.Client
	DB       *mongo.Database
	embedded bool
	dbDir    string // embedded: the SQLite files' directory
	unclean  bool   // embedded: the last process on the directory did not close it

	// writeMu serialises Atomically, and every write outside it, on the
	// embedded store.
	writeMu sync.Mutex
	// pending: the journal holds entries to recover (an undo or cleanup
	// that failed); guarded by writeMu.
	pending   bool
	journal   *mongo.Collection
	recovered Recovery

	dataDir  string      // embedded: the data directory
	diskFull atomic.Bool // embedded: a write met a full or read-only disk

	backups backups // what the last backup was

	// commands counts the commands the client has sent (Commands); writes
	// the writes made through Collection on the embedded store, which the
	// checkpointer watches (checkpoint.go).
	commands atomic.Int64
	writes   atomic.Int64
	ckpt     checkpointer

	fault   atomic.Pointer[faultPlan]
	crashed atomic.Bool // a test's simulated crash: the store is dead

	// gens and epoch are the write generations that tell a document read
	// ahead of the write lock from a changed one (preread.go).
	gens  [genSlots]atomic.Uint64
	epoch atomic.Uint64

	closeFns []func()

	log *slog.Logger // Config.Log
}

// Embedded reports whether the store is the in-process FerretDB. Domain
// code never asks: the differences live in this package.
func (s *Store) Embedded() bool { return s.embedded }

// Unclean reports whether the embedded store was left open by a process
// that died. Open has already rolled back its unfinished changes (see
// Recovered); this is for the log.
func (s *Store) Unclean() bool { return s.unclean }

// Recovered says what Open undid or finished from the journal.
func (s *Store) Recovered() Recovery { return s.recovered }

// Open connects to the store described by cfg.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Database == "" {
		cfg.Database = "terroir"
	}
	if cfg.URI != "" {
		return openReplicaSet(ctx, cfg)
	}
	return openEmbedded(ctx, cfg)
}

func openReplicaSet(ctx context.Context, cfg Config) (*Store, error) {
	opts := options.Client().ApplyURI(cfg.URI).
		SetWriteConcern(writeconcern.Majority()).
		SetReadConcern(readconcern.Majority())
	s := &Store{}
	client, err := mongo.Connect(opts.SetMonitor(&event.CommandMonitor{Started: func(context.Context, *event.CommandStartedEvent) { s.commands.Add(1) }}))
	if err != nil {
		return nil, fmt.Errorf("mongodb: connect: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var hello struct {
		SetName string `bson:"setName"`
		Msg     string `bson:"msg"`
	}
	if err := client.Database("admin").RunCommand(pingCtx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("mongodb: %s does not answer: %w", redactURI(cfg.URI), err)
	}
	if hello.SetName == "" && hello.Msg != "isdbgrid" {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("mongodb: %s is not a replica set; Terroir needs transactions, so run MongoDB as a replica set (a single-node one is fine: mongod --replSet rs0, then rs.initiate())", redactURI(cfg.URI))
	}
	s.Client, s.DB, s.log = client, client.Database(cfg.Database), cfg.Log
	s.closeFns = append(s.closeFns, func() { _ = client.Disconnect(context.Background()) })
	return s, nil
}

func redactURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "the MongoDB URI"
	}
	u.User = nil
	return u.Redacted()
}

func openEmbedded(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = "data"
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		return nil, fmt.Errorf("mongodb: data directory: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{embedded: true, dbDir: filepath.Join(dir, "db"), dataDir: dir, log: cfg.Log}
	s.closeFns = append(s.closeFns, unlock)
	// A marker lives while a process has the directory open; finding it
	// means the last one died (SIGKILL, power cut) in the middle of its work.
	running := filepath.Join(dir, "terroir.running")
	if _, err := os.Stat(running); err == nil {
		s.unclean = true
	}
	if err := os.WriteFile(running, []byte(fmt.Sprintln(os.Getpid())), 0o600); err != nil {
		s.Close()
		return nil, fmt.Errorf("mongodb: data directory: %w", err)
	}
	// A simulated crash leaves the marker, as a killed process would.
	s.closeFns = append(s.closeFns, func() {
		if !s.crashed.Load() {
			_ = os.Remove(running)
		}
	})

	socket, cleanSocket, err := socketPath(dir)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.closeFns = append(s.closeFns, cleanSocket)

	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{Unix: socket},
		Handler:  "sqlite",
		// synchronous=NORMAL: SQLite's WAL keeps commits in order without
		// an fsync each (a crash loses only a suffix, never a journal entry
		// before its data write); Atomically fsyncs the WAL once, at its
		// commit point (syncWAL), so what it acknowledges survives a power
		// cut. Measured on a 2-core VM: a till sale 40-54 ms with FULL
		// (an fsync per write), 31-32 ms with NORMAL.
		// journal_size_limit: the write-ahead log is cut back to
		// walSizeLimit each time it restarts (checkpoint.go).
		SQLiteURL: "file:" + filepath.Join(dir, "db") + fmt.Sprintf("/?_pragma=synchronous(normal)&_pragma=journal_size_limit(%d)", walSizeLimit),
		Logger:    logger,
	})
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("mongodb: start embedded FerretDB: %w", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(runCtx)
	}()
	// Closed in reverse order: the client disconnects before FerretDB stops.
	s.closeFns = append(s.closeFns, func() { stop(); <-done })

	client, err := mongo.Connect(options.Client().
		ApplyURI("mongodb://" + url.PathEscape(socket) + "/").
		SetRetryWrites(false).
		SetMonitor(&event.CommandMonitor{Started: s.noticeStrayWrite}))
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("mongodb: connect to embedded FerretDB: %w", err)
	}
	s.closeFns = append(s.closeFns, func() { _ = client.Disconnect(context.Background()) })
	s.Client = client
	s.DB = client.Database(cfg.Database)

	// The listener starts in the goroutine above; wait until it answers.
	deadline := time.Now().Add(15 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err = s.Ping(pctx)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.Close()
			return nil, fmt.Errorf("mongodb: embedded FerretDB did not answer: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Roll back what a dead process left unfinished before anyone reads.
	s.journal = s.DB.Collection(journalName)
	if err := s.DB.CreateCollection(ctx, journalName); err != nil && !isNamespaceExists(err) {
		s.Close()
		return nil, fmt.Errorf("mongodb: journal: %w", err)
	}
	if s.recovered, err = s.recoverJournal(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("mongodb: recover the journal: %w", err)
	}
	if err := s.takeReserve(); err != nil {
		s.diskFull.Store(true) // serve reads; writes wait for room (writable.go)
	}
	s.startCheckpoints()
	return s, nil
}

// lockDir takes an exclusive, non-blocking flock on DIR/terroir.lock. The
// kernel releases it when the process dies, so a SIGKILL leaves no stale lock.
func lockDir(dir string) (func(), error) {
	path := filepath.Join(dir, "terroir.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("mongodb: lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s): stop the other server or choose another TERROIR_DATA", ErrLocked, dir)
		}
		return nil, fmt.Errorf("mongodb: lock %s: %w", path, err)
	}
	_ = f.Truncate(0)
	_, _ = fmt.Fprintf(f, "%d\n", os.Getpid())
	return func() { f.Close() }, nil
}

// socketPath picks the Unix socket for FerretDB: in the data directory when
// the path fits the kernel's 108-byte limit, else in a short private
// temporary directory (deep test directories exceed the limit).
func socketPath(dir string) (string, func(), error) {
	p := filepath.Join(dir, "mongodb.sock")
	if len(p) < 100 {
		_ = os.Remove(p) // left behind by a killed process; we hold the lock
		return p, func() { _ = os.Remove(p) }, nil
	}
	tmp, err := os.MkdirTemp("", "terroir-")
	if err != nil {
		return "", nil, err
	}
	return filepath.Join(tmp, "mongodb.sock"), func() { _ = os.RemoveAll(tmp) }, nil
}

// Commands is how many commands the store's client has sent since Open:
// the measure of a task that should not touch the store when it has
// nothing to do.
func (s *Store) Commands() int64 { return s.commands.Load() }

// Ping checks that the store answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.DB.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
}

// Close disconnects, stops the embedded server and releases the lock.
func (s *Store) Close() {
	for i := len(s.closeFns) - 1; i >= 0; i-- {
		s.closeFns[i]()
	}
	s.closeFns = nil
}

// Atomically runs fn so that its reads and writes are isolated from other
// Atomically calls and all-or-nothing: a transaction on a replica set
// (retried on transient errors, so fn must be safe to run again); on the
// embedded store, the process-wide write lock and the journal (journal.go):
// when fn fails, or the process dies before Atomically returns, every write
// fn made through Collection is undone — at once, or by the next Open.
// Writes inside fn must use fn's ctx and go through Collection; one that
// does not makes Atomically fail. Nested calls run inside the outer one.
func (s *Store) Atomically(ctx context.Context, fn func(ctx context.Context) error) error {
	if t, ok := ctx.Value(txKey{}).(*tx); ok {
		if t != nil && t.finished() {
			return errors.New("mongodb: Atomically with the context of an Atomically call that has returned")
		}
		return fn(ctx)
	}
	if s.embedded {
		return s.atomicallyEmbedded(ctx, fn)
	}
	sess, err := s.Client.StartSession()
	if err != nil {
		return fmt.Errorf("mongodb: start session: %w", err)
	}
	defer sess.EndSession(context.WithoutCancel(ctx))
	_, err = sess.WithTransaction(ctx, func(tctx context.Context) (any, error) {
		return nil, fn(context.WithValue(tctx, txKey{}, (*tx)(nil)))
	})
	return err
}

// IsDuplicateKey reports whether err is a unique-index violation.
func IsDuplicateKey(err error) bool { return mongo.IsDuplicateKeyError(err) }

// IsNotFound reports whether err says that no document matched.
func IsNotFound(err error) bool { return errors.Is(err, mongo.ErrNoDocuments) }
