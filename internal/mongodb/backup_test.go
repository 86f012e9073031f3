package mongodb_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
)

func reader(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

// fill writes documents of several shapes into a few collections.
func fill(t testing.TB, s *mongodb.Store, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		doc := bson.D{{Key: "_id", Value: fmt.Sprintf("lot-%05d", i)}, {Key: "n", Value: int64(i)}, {Key: "small", Value: int32(i)},
			{Key: "at", Value: time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)},
			{Key: "events", Value: bson.A{bson.D{{Key: "seq", Value: 1}, {Key: "hash", Value: strings.Repeat("ab", 32)}}}},
			{Key: "price", Value: 12.5}, {Key: "name", Value: "Safran de Taliouine — زعفران"}}
		if _, err := s.Collection("lots").InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if _, err := s.Collection("movements").InsertOne(ctx, bson.M{"_id": fmt.Sprintf("mov-%05d", i), "units": -i}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.DB.CreateCollection(ctx, "empty"); err != nil {
		t.Fatal(err)
	}
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	src := mongotest.New(t)
	fill(t, src, 500)
	before := dump(t, src)
	var buf bytes.Buffer
	var calls int
	m, err := src.Backup(context.Background(), &buf, "terroir test", func(mongodb.BackupProgress) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if m.Documents() != 500+167 || calls == 0 {
		t.Fatalf("manifest %+v, %d progress calls", m, calls)
	}
	if last := src.LastBackup(); last.Bytes != int64(buf.Len()) || last.Documents != m.Documents() || last.Failed {
		t.Fatalf("last backup %+v, archive of %d bytes", last, buf.Len())
	}
	dst := mongotest.New(t)
	got, err := dst.Restore(context.Background(), reader(buf.Bytes()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Documents() != m.Documents() {
		t.Fatalf("restored %d documents, backed up %d", got.Documents(), m.Documents())
	}
	if after := dump(t, dst); after != before {
		t.Fatalf("restored store differs:\n%s\nvs\n%s", after[:min(400, len(after))], before[:min(400, len(before))])
	}
	// A second restore into the now full store is refused.
	if _, err := dst.Restore(context.Background(), reader(buf.Bytes()), nil); !errors.Is(err, mongodb.ErrTargetNotEmpty) {
		t.Fatalf("restore into a full store: %v", err)
	}
}

// dump is every document of every collection but the store's own, in
// order, as bytes: a restore must give them back identical.
func dump(t testing.TB, s *mongodb.Store) string {
	t.Helper()
	ctx := context.Background()
	var out strings.Builder
	for _, c := range []string{"empty", "lots", "movements"} {
		cur, err := s.Collection(c).Find(ctx, bson.M{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for cur.Next(ctx) {
			out.WriteString(fmt.Sprintf("%x\n", []byte(cur.Current)))
			n++
		}
		out.WriteString(fmt.Sprintf("%s: %d\n", c, n))
	}
	return out.String()
}

func TestRestoreRefusesBadArchives(t *testing.T) {
	src := mongotest.New(t)
	fill(t, src, 50)
	var buf bytes.Buffer
	if _, err := src.Backup(context.Background(), &buf, "terroir test", nil); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	raw := gunzip(t, good)
	flip := bytes.Clone(raw)
	flip[len(flip)/2] ^= 0x20 // one bit inside a document
	// Corrupting a document's content keeps its length: the CRC and the
	// manifest's checksum see it.
	foreign := func() []byte {
		// The same archive with the manifest's namespace renamed: what a
		// mongodump archive without a manifest looks like to restore.
		return gzipped(t, bytes.ReplaceAll(raw, []byte(mongodb.ManifestCollection), []byte("terroir_other_collectio")))
	}()
	cases := map[string][]byte{
		"truncated":          good[:len(good)*2/3],
		"truncated at a end": gzipped(t, raw[:len(raw)-40]),
		"corrupted":          gzipped(t, flip),
		"gzip damaged":       append(bytes.Clone(good[:len(good)-8]), 1, 2, 3, 4, 5, 6, 7, 8),
		"not an archive":     gzipped(t, []byte("name,parcel\nsaffron,1\n")),
		"not gzip":           raw,
		"foreign":            foreign,
		"empty":              {},
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			dst := mongotest.New(t)
			_, err := dst.Restore(context.Background(), reader(b), nil)
			if !errors.Is(err, mongodb.ErrBadArchive) {
				t.Fatalf("restore of a %s archive: %v", name, err)
			}
			names, _ := dst.DB.ListCollectionNames(context.Background(), bson.M{})
			for _, n := range names {
				if c, _ := dst.DB.Collection(n).CountDocuments(context.Background(), bson.M{}); c > 0 {
					t.Fatalf("a refused restore left %d documents in %s", c, n)
				}
			}
		})
	}
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// TestBackupWhileWriting takes a backup while changes run: the archive is
// one consistent moment (every change in it whole: two documents that are
// always written together agree), and writes went on during the streaming.
func TestBackupWhileWriting(t *testing.T) {
	s := mongotest.New(t)
	fill(t, s, 2000)
	ctx := context.Background()
	pair := func(ctx context.Context, i int) error {
		return s.Atomically(ctx, func(ctx context.Context) error {
			if _, err := s.Collection("left").InsertOne(ctx, bson.M{"_id": i}); err != nil {
				return err
			}
			_, err := s.Collection("right").InsertOne(ctx, bson.M{"_id": i})
			return err
		})
	}
	var stop atomic.Bool
	var wrote atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			if err := pair(ctx, i); err != nil {
				t.Error(err)
				return
			}
			wrote.Add(1)
		}
	}()
	// Wait for writes to be going on.
	for deadline := time.Now().Add(10 * time.Second); wrote.Load() < 5 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	var during int64
	var buf bytes.Buffer
	m, err := s.Backup(ctx, &buf, "test", func(p mongodb.BackupProgress) {
		during = wrote.Load()
	})
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, c := range m.Collections {
		counts[c.Name] = c.Count
	}
	if counts["left"] == 0 || counts["left"] != counts["right"] {
		t.Fatalf("a backup cut a change in two: left %d, right %d", counts["left"], counts["right"])
	}
	if s.Embedded() && m.HeldWrites <= 0 {
		t.Fatalf("held writes %v", m.HeldWrites)
	}
	t.Logf("writes held %v; %d pairs written by the last progress call, %d in the archive", m.HeldWrites, during, counts["left"])
	dst := mongotest.New(t)
	if _, err := dst.Restore(ctx, reader(buf.Bytes()), nil); err != nil {
		t.Fatal(err)
	}
}

func TestRestoreIntoEmbeddedFromFile(t *testing.T) {
	src := mongotest.New(t)
	fill(t, src, 20)
	path := filepath.Join(t.TempDir(), "b.archive.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Backup(context.Background(), f, "test", nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if m, err := mongodb.CheckArchive(r); err != nil || m.Documents() != 27 {
		t.Fatalf("check: %+v %v", m, err)
	}
}
