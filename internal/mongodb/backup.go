package mongodb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Online backup: a consistent snapshot of the whole register, streamed
// while the server serves, in the archive format of archive.go.
//
// Embedded store: the write lock is held only while SQLite copies the
// database into a private file (VACUUM INTO reads one consistent snapshot;
// with no change in flight, that snapshot has no half change), then a
// second, private FerretDB serves the copy and the archive is streamed from
// it while writes go on. Replica set: one snapshot session (read concern
// "snapshot") reads every collection at the same cluster time; nothing is
// held. MongoDB keeps a snapshot for minSnapshotHistoryWindowInSeconds
// (300 s by default): a longer backup fails and must be retried (or the
// window raised).

// BackupProgress is told as a backup goes.
type BackupProgress struct {
	Collection  string
	Collections int   // collections done
	Total       int   // collections in all
	Documents   int64 // documents written so far
	Bytes       int64 // compressed bytes written so far
}

// BackupStatus is what the store remembers of its last backup.
type BackupStatus struct {
	At        time.Time     `json:"at,omitzero"`   // when the last successful backup ended
	Bytes     int64         `json:"bytes"`         // its size, compressed
	Documents int64         `json:"documents"`     // its documents
	Took      time.Duration `json:"took"`          // how long it took
	File      string        `json:"file,omitzero"` // where a scheduled backup went
	Failed    bool          `json:"failed"`        // the last attempt failed
	Error     string        `json:"error,omitzero"`
	FailedAt  time.Time     `json:"failed_at,omitzero"`
	Total     int64         `json:"total"`    // successful backups since start
	Failures  int64         `json:"failures"` // failed attempts since start
}

// backups is the store's record of its backups.
type backups struct {
	mu   sync.Mutex
	last BackupStatus
}

// LastBackup says when the last backup of this process ended, how big it
// was, and whether the last attempt failed (the admin page, the metrics).
func (s *Store) LastBackup() BackupStatus {
	s.backups.mu.Lock()
	defer s.backups.mu.Unlock()
	return s.backups.last
}

// RecordBackupFile notes where the last successful backup was written.
func (s *Store) RecordBackupFile(path string) {
	s.backups.mu.Lock()
	s.backups.last.File = path
	s.backups.mu.Unlock()
}

// RecordBackupFailure notes a backup that failed after Backup returned
// (writing its file, for instance).
func (s *Store) RecordBackupFailure(err error) {
	s.backups.mu.Lock()
	defer s.backups.mu.Unlock()
	s.backups.last.Failed, s.backups.last.Error, s.backups.last.FailedAt = true, err.Error(), time.Now().UTC()
	s.backups.last.Failures++
}

func (s *Store) recordBackup(m Manifest, bytes int64, took time.Duration, err error) {
	if err != nil {
		s.RecordBackupFailure(err)
		return
	}
	s.backups.mu.Lock()
	defer s.backups.mu.Unlock()
	l := &s.backups.last
	l.At, l.Bytes, l.Documents, l.Took, l.File = time.Now().UTC(), bytes, m.Documents(), took, ""
	l.Failed, l.Error, l.FailedAt = false, "", time.Time{}
	l.Total++
}

// Backup writes a consistent snapshot of the whole register to w as a
// gzipped mongodump archive with its manifest, while the store goes on
// serving. progress, when not nil, is told as collections and documents go
// by. toolVersion names the program in the archive's header.
func (s *Store) Backup(ctx context.Context, w io.Writer, toolVersion string, progress func(BackupProgress)) (Manifest, error) {
	start := time.Now()
	cw := &countingWriter{w: w}
	var m Manifest
	var err error
	if s.embedded {
		m, err = s.backupEmbedded(ctx, cw, toolVersion, progress)
	} else {
		sess, serr := s.Client.StartSession(options.Session().SetSnapshot(true))
		if serr != nil {
			err = fmt.Errorf("mongodb: snapshot session: %w", serr)
		} else {
			// Documents are read in the snapshot; the catalogue (collections,
			// indexes, version) with a plain read, as listCollections and
			// listIndexes take no snapshot read concern.
			m, err = writeArchive(ctx, mongo.NewSessionContext(ctx, sess), s.DB, cw, "replica set", 0, toolVersion, progress)
			sess.EndSession(context.WithoutCancel(ctx))
		}
	}
	s.recordBackup(m, cw.n, time.Since(start), err)
	return m, err
}

func (s *Store) backupEmbedded(ctx context.Context, w io.Writer, toolVersion string, progress func(BackupProgress)) (Manifest, error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	tmp := filepath.Join(s.dataDir, "backup-"+hex.EncodeToString(b))
	if err := os.MkdirAll(filepath.Join(tmp, "db"), 0o700); err != nil {
		return Manifest{}, fmt.Errorf("mongodb: backup: %w", err)
	}
	defer os.RemoveAll(tmp)
	copyPath := filepath.Join(tmp, "db", s.DB.Name()+".sqlite")
	held, err := s.snapshotInto(ctx, copyPath)
	if err != nil {
		return Manifest{}, err
	}
	snap, err := Open(ctx, Config{DataDir: tmp, Database: s.DB.Name()})
	if err != nil {
		return Manifest{}, fmt.Errorf("mongodb: open the snapshot: %w", err)
	}
	defer snap.Close()
	return writeArchive(ctx, ctx, snap.DB, w, "embedded", held, toolVersion, progress)
}

// snapshotInto copies the SQLite database to path under the write lock,
// and says how long writes waited.
func (s *Store) snapshotInto(ctx context.Context, path string) (time.Duration, error) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(s.dbDir, s.DB.Name()+".sqlite")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, fmt.Errorf("mongodb: open SQLite file: %w", err)
	}
	defer db.Close()
	if err := s.lockWrites(ctx); err != nil {
		return 0, err
	}
	start := time.Now()
	_, err = db.ExecContext(ctx, `VACUUM INTO ?`, path)
	held := time.Since(start)
	s.writeMu.Unlock()
	if err != nil {
		return held, s.classify(fmt.Errorf("mongodb: snapshot (VACUUM INTO): %w", err))
	}
	return held, nil
}

// internalCollections are this package's own, never backed up.
var internalCollections = []string{journalName, "store_health", ManifestCollection}

// writeArchive streams every collection of db and the manifest: the
// documents read with docCtx (which may carry a snapshot session), the
// list of collections and their indexes with ctx.
func writeArchive(ctx, docCtx context.Context, db *mongo.Database, w io.Writer, source string, held time.Duration, toolVersion string, progress func(BackupProgress)) (Manifest, error) {
	m := Manifest{Format: ManifestFormat, Database: db.Name(), Source: source, CreatedAt: time.Now().UTC().Truncate(time.Millisecond), HeldWrites: held}
	names, err := db.ListCollectionNames(ctx, bson.M{})
	if err != nil {
		return m, fmt.Errorf("mongodb: list collections: %w", err)
	}
	names = slices.DeleteFunc(names, func(n string) bool { return slices.Contains(internalCollections, n) })
	slices.Sort(names)
	var version struct {
		Version string `bson:"version"`
	}
	if err := db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&version); err != nil || version.Version == "" {
		version.Version = "7.0.0"
	}
	metadata := make([]string, 0, len(names)+1)
	for _, n := range append(slices.Clone(names), ManifestCollection) {
		md, err := collectionMetadata(ctx, db, n)
		if err != nil {
			return m, err
		}
		metadata = append(metadata, md)
	}
	aw := newArchiveWriter(w, db.Name())
	cw, _ := w.(*countingWriter)
	if err := aw.prelude(version.Version, toolVersion, append(slices.Clone(names), ManifestCollection), metadata); err != nil {
		return m, err
	}
	var docs int64
	for i, n := range names {
		cur, err := db.Collection(n).Find(docCtx, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return m, fmt.Errorf("mongodb: read %s: %w", n, err)
		}
		cm, err := aw.collection(n, func() (bson.Raw, error) {
			if !cur.Next(docCtx) {
				return nil, cur.Err()
			}
			docs++
			if progress != nil && docs%1000 == 0 {
				progress(BackupProgress{Collection: n, Collections: i, Total: len(names), Documents: docs, Bytes: cw.written()})
			}
			return slices.Clone(cur.Current), nil
		})
		_ = cur.Close(docCtx)
		if err != nil {
			return m, fmt.Errorf("mongodb: back up %s: %w", n, err)
		}
		m.Collections = append(m.Collections, cm)
		if progress != nil {
			progress(BackupProgress{Collection: n, Collections: i + 1, Total: len(names), Documents: docs, Bytes: cw.written()})
		}
	}
	mdocs := manifestDocs(m)
	k := 0
	if _, err := aw.collection(ManifestCollection, func() (bson.Raw, error) {
		if k == len(mdocs) {
			return nil, nil
		}
		k++
		return mdocs[k-1], nil
	}); err != nil {
		return m, err
	}
	return m, aw.close()
}

// collectionMetadata is what mongodump writes in a .metadata.json file:
// the collection's options and indexes, as canonical extended JSON.
func collectionMetadata(ctx context.Context, db *mongo.Database, name string) (string, error) {
	indexes := bson.A{bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}}}
	if name != ManifestCollection {
		cur, err := db.Collection(name).Indexes().List(ctx)
		if err != nil {
			return "", fmt.Errorf("mongodb: indexes of %s: %w", name, err)
		}
		var specs []bson.D
		if err := cur.All(ctx, &specs); err != nil {
			return "", err
		}
		indexes = bson.A{}
		for _, sp := range specs {
			clean := bson.D{}
			for _, e := range sp {
				if e.Key == "ns" {
					continue
				}
				clean = append(clean, e)
			}
			indexes = append(indexes, clean)
		}
	}
	b, err := bson.MarshalExtJSON(bson.D{{Key: "indexes", Value: indexes}, {Key: "uuid", Value: ""},
		{Key: "collectionName", Value: name}, {Key: "type", Value: "collection"}, {Key: "options", Value: bson.D{}}}, true, false)
	return string(b), err
}

type countingWriter struct {
	w  io.Writer
	mu sync.Mutex
	n  int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.mu.Lock()
	c.n += int64(n)
	c.mu.Unlock()
	return n, err
}

func (c *countingWriter) written() int64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// ErrTargetNotEmpty refuses a restore into a store that holds data.
var ErrTargetNotEmpty = errors.New("the target store is not empty: restore into an empty data directory or database")

// CheckArchive reads a whole archive and checks it (see readArchive)
// without writing anything.
func CheckArchive(r io.Reader) (Manifest, error) {
	m, _, err := readArchive(r, nil)
	return m, err
}

// Restore loads an archive into s, which must be empty: open is called
// twice, once to check the whole archive (a truncated, altered or foreign
// one is refused before anything is written), once to load it. If loading
// fails, what was loaded is dropped, so the target is left empty. Indexes
// are the caller's to ensure afterwards (EnsureIndexes).
func (s *Store) Restore(ctx context.Context, open func() (io.ReadCloser, error), progress func(BackupProgress)) (Manifest, error) {
	r, err := open()
	if err != nil {
		return Manifest{}, err
	}
	m, colls, err := readArchive(r, nil)
	r.Close()
	if err != nil {
		return m, err
	}
	if err := s.checkEmpty(ctx); err != nil {
		return m, err
	}
	if err := s.load(ctx, open, colls, m, progress); err != nil {
		for _, c := range colls {
			_ = s.DB.Collection(c.Name).Drop(context.WithoutCancel(ctx))
		}
		return m, err
	}
	return m, nil
}

func (s *Store) checkEmpty(ctx context.Context) error {
	names, err := s.DB.ListCollectionNames(ctx, bson.M{})
	if err != nil {
		return err
	}
	for _, n := range names {
		if slices.Contains(internalCollections, n) {
			continue
		}
		if c, err := s.DB.Collection(n).EstimatedDocumentCount(ctx); err != nil {
			return err
		} else if c > 0 {
			return fmt.Errorf("%w (%s holds %d documents)", ErrTargetNotEmpty, n, c)
		}
	}
	return nil
}

func (s *Store) load(ctx context.Context, open func() (io.ReadCloser, error), colls []ArchiveCollection, m Manifest, progress func(BackupProgress)) error {
	for _, c := range colls {
		if err := s.DB.CreateCollection(ctx, c.Name); err != nil && !isNamespaceExists(err) {
			return fmt.Errorf("mongodb: create %s: %w", c.Name, err)
		}
	}
	r, err := open()
	if err != nil {
		return err
	}
	defer r.Close()
	var batch []any
	var batchColl string
	var bytes, docs int64
	done := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := s.DB.Collection(batchColl).InsertMany(ctx, batch); err != nil {
			return s.classify(fmt.Errorf("mongodb: restore %s: %w", batchColl, err))
		}
		batch, bytes = batch[:0], 0
		return nil
	}
	_, _, err = readArchive(r, func(coll string, d bson.Raw) error {
		if coll != batchColl || len(batch) >= 1000 || bytes > 8<<20 {
			if err := flush(); err != nil {
				return err
			}
			if coll != batchColl && batchColl != "" {
				done++
			}
			batchColl = coll
		}
		batch = append(batch, d)
		bytes += int64(len(d))
		docs++
		if progress != nil && docs%1000 == 0 {
			progress(BackupProgress{Collection: coll, Collections: done, Total: len(colls), Documents: docs})
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	if progress != nil {
		progress(BackupProgress{Collections: len(colls), Total: len(colls), Documents: docs})
	}
	return s.syncIfEmbedded()
}

func (s *Store) syncIfEmbedded() error {
	if !s.embedded {
		return nil
	}
	return s.syncWAL()
}
