package mongodb

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc64"
	"io"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// The backup format is MongoDB's own: a mongodump archive, gzipped, as
// `mongodump --archive --gzip` writes it and `mongorestore --archive --gzip`
// reads it (the format is documented in mongo-tools, common/archive/spec.md;
// the tools' Go packages are not on the module proxy, so it is written
// here). In order:
//
//	magic number 0x8199e26d (little-endian)
//	header        {concurrent_collections, version "0.1", server_version, tool_version}
//	per collection {db, collection, metadata (canonical extended JSON: options, indexes), size, type}
//	terminator    0xffffffff
//	per collection: {db, collection, EOF: false, CRC: 0}, its documents, terminator
//	                {db, collection, EOF: true,  CRC: CRC-64-ECMA of its documents}, terminator
//
// The last collection is the manifest, ManifestCollection: one document per
// collection with its count and the SHA-256 of its documents' bytes in
// order, and one describing the archive (format, source, time, how long
// writes were held). mongorestore restores it as a small extra collection;
// `terroir restore` checks it first and does not restore it.

// ManifestCollection is the name of the manifest inside an archive.
const ManifestCollection = "terroir_backup_manifest"

// ManifestFormat names this version of the backup format.
const ManifestFormat = "terroir-backup/1"

const (
	archiveMagic      uint32 = 0x8199e26d
	archiveTerminator uint32 = 0xffffffff
	maxBSONSize              = 16*1024*1024 + 16*1024 // the server's limit plus its command overhead
)

var crcTable = crc64.MakeTable(crc64.ECMA)

// Manifest describes a backup: what `terroir restore` checks before it
// writes anything.
type Manifest struct {
	Format      string               `json:"format"`
	Database    string               `json:"database"`
	Source      string               `json:"source"` // "embedded" or "replica set"
	CreatedAt   time.Time            `json:"created_at"`
	HeldWrites  time.Duration        `json:"held_writes_ns"` // how long writes waited for the snapshot
	Collections []CollectionManifest `json:"collections"`
}

// CollectionManifest is one collection of a backup.
type CollectionManifest struct {
	Name   string `json:"name"`
	Count  int64  `json:"count"`
	SHA256 string `json:"sha256"` // of the documents' BSON, in _id order
}

// Documents is the number of documents of the backup.
func (m Manifest) Documents() int64 {
	var n int64
	for _, c := range m.Collections {
		n += c.Count
	}
	return n
}

// ErrBadArchive is the cause of every refusal of an archive: not one, cut
// short, altered, or not a Terroir backup.
var ErrBadArchive = errors.New("not a usable Terroir backup")

func badArchive(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadArchive, fmt.Sprintf(format, args...))
}

// archiveWriter writes one archive.
type archiveWriter struct {
	w  *bufio.Writer
	gz *gzip.Writer
	db string
}

func newArchiveWriter(w io.Writer, db string) *archiveWriter {
	gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	return &archiveWriter{w: bufio.NewWriterSize(gz, 256<<10), gz: gz, db: db}
}

func (a *archiveWriter) u32(v uint32) error {
	return binary.Write(a.w, binary.LittleEndian, v)
}

func (a *archiveWriter) doc(d any) error {
	b, err := bson.Marshal(d)
	if err != nil {
		return err
	}
	_, err = a.w.Write(b)
	return err
}

// prelude writes the magic number, the header and each collection's
// metadata (metadata[i] is the canonical extended JSON of collection i).
func (a *archiveWriter) prelude(serverVersion, toolVersion string, names, metadata []string) error {
	if err := a.u32(archiveMagic); err != nil {
		return err
	}
	if err := a.doc(bson.D{{Key: "concurrent_collections", Value: int32(1)}, {Key: "version", Value: "0.1"},
		{Key: "server_version", Value: serverVersion}, {Key: "tool_version", Value: toolVersion}}); err != nil {
		return err
	}
	for i, n := range names {
		if err := a.doc(bson.D{{Key: "db", Value: a.db}, {Key: "collection", Value: n}, {Key: "metadata", Value: metadata[i]},
			{Key: "size", Value: int32(0)}, {Key: "type", Value: ""}}); err != nil {
			return err
		}
	}
	return a.u32(archiveTerminator)
}

// collection writes one namespace: its documents from next, then its EOF.
func (a *archiveWriter) collection(name string, next func() (bson.Raw, error)) (CollectionManifest, error) {
	cm := CollectionManifest{Name: name}
	sum := sha256.New()
	crc := crc64.New(crcTable)
	open := false
	for {
		d, err := next()
		if err != nil {
			return cm, err
		}
		if d == nil {
			break
		}
		if !open {
			if err := a.doc(bson.D{{Key: "db", Value: a.db}, {Key: "collection", Value: name}, {Key: "EOF", Value: false}, {Key: "CRC", Value: int64(0)}}); err != nil {
				return cm, err
			}
			open = true
		}
		if _, err := a.w.Write(d); err != nil {
			return cm, err
		}
		sum.Write(d)
		crc.Write(d)
		cm.Count++
	}
	if open {
		if err := a.u32(archiveTerminator); err != nil {
			return cm, err
		}
	}
	if err := a.doc(bson.D{{Key: "db", Value: a.db}, {Key: "collection", Value: name}, {Key: "EOF", Value: true},
		{Key: "CRC", Value: int64(crc.Sum64())}}); err != nil {
		return cm, err
	}
	cm.SHA256 = hex.EncodeToString(sum.Sum(nil))
	return cm, a.u32(archiveTerminator)
}

// manifestDocs are the manifest collection's documents.
func manifestDocs(m Manifest) []bson.Raw {
	docs := []any{bson.D{{Key: "_id", Value: "archive"}, {Key: "format", Value: m.Format}, {Key: "database", Value: m.Database},
		{Key: "source", Value: m.Source}, {Key: "created_at", Value: m.CreatedAt}, {Key: "held_writes_ms", Value: m.HeldWrites.Milliseconds()},
		{Key: "collections", Value: int64(len(m.Collections))}}}
	for _, c := range m.Collections {
		docs = append(docs, bson.D{{Key: "_id", Value: "collection:" + c.Name}, {Key: "collection", Value: c.Name},
			{Key: "count", Value: c.Count}, {Key: "sha256", Value: c.SHA256}})
	}
	out := make([]bson.Raw, len(docs))
	for i, d := range docs {
		out[i], _ = bson.Marshal(d)
	}
	return out
}

func (a *archiveWriter) close() error {
	if err := a.w.Flush(); err != nil {
		return err
	}
	return a.gz.Close()
}

// archiveReader reads an archive, checking it as it goes.
type archiveReader struct {
	r *bufio.Reader
}

func (a *archiveReader) u32() (uint32, error) {
	var b [4]byte
	if _, err := io.ReadFull(a.r, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

// next reads a BSON document or a terminator (nil, nil).
func (a *archiveReader) next() (bson.Raw, error) {
	size, err := a.u32()
	if err != nil {
		return nil, err
	}
	if size == archiveTerminator {
		return nil, nil
	}
	if size < 5 || size > maxBSONSize {
		return nil, badArchive("a document of %d bytes: the archive is corrupted", size)
	}
	d := make([]byte, size)
	binary.LittleEndian.PutUint32(d, size)
	if _, err := io.ReadFull(a.r, d[4:]); err != nil {
		return nil, err
	}
	if err := bson.Raw(d).Validate(); err != nil {
		return nil, badArchive("a damaged document: %v", err)
	}
	return d, nil
}

// ArchiveCollection is a collection found in an archive's prelude.
type ArchiveCollection struct {
	Name     string
	Metadata string // canonical extended JSON: options and indexes
}

// readArchive reads a whole gzipped archive from r, calling doc for every
// document of every collection but the manifest (doc may be nil), and
// checks it: the magic number, every namespace complete with a matching
// CRC, the gzip stream's own checksum, and the manifest against what was
// read. Any failure is ErrBadArchive with the reason.
func readArchive(r io.Reader, doc func(coll string, d bson.Raw) error) (Manifest, []ArchiveCollection, error) {
	var m Manifest
	gz, err := gzip.NewReader(r)
	if err != nil {
		return m, nil, badArchive("not a gzipped archive (%v)", err)
	}
	a := &archiveReader{r: bufio.NewReaderSize(gz, 256<<10)}
	wrap := func(err error) error {
		switch {
		case errors.Is(err, ErrBadArchive):
			return err
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return badArchive("the archive is truncated")
		case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader):
			return badArchive("the archive is corrupted (%v)", err)
		}
		return badArchive("%v", err)
	}
	magic, err := a.u32()
	if err != nil {
		return m, nil, wrap(err)
	}
	if magic != archiveMagic {
		return m, nil, badArchive("not a mongodump archive (magic number %#x)", magic)
	}
	if _, err := a.next(); err != nil { // header
		return m, nil, wrap(err)
	}
	var colls []ArchiveCollection
	known := map[string]bool{}
	for {
		d, err := a.next()
		if err != nil {
			return m, nil, wrap(err)
		}
		if d == nil {
			break
		}
		var md struct {
			DB         string `bson:"db"`
			Collection string `bson:"collection"`
			Metadata   string `bson:"metadata"`
		}
		if err := bson.Unmarshal(d, &md); err != nil {
			return m, nil, wrap(err)
		}
		if m.Database == "" {
			m.Database = md.DB
		}
		colls = append(colls, ArchiveCollection{Name: md.Collection, Metadata: md.Metadata})
		known[md.Collection] = true
	}
	type state struct {
		sum   hash.Hash
		crc   hash.Hash64
		count int64
		eof   bool
	}
	states := map[string]*state{}
	for _, c := range colls {
		states[c.Name] = &state{sum: sha256.New(), crc: crc64.New(crcTable)}
	}
	var manifest []bson.Raw
	for {
		h, err := a.next()
		if errors.Is(err, io.EOF) {
			break // the end, at a boundary
		}
		if err != nil {
			return m, nil, wrap(err)
		}
		if h == nil {
			return m, nil, badArchive("a terminator where a namespace header belongs: the archive is corrupted")
		}
		var nh struct {
			Collection string `bson:"collection"`
			EOF        bool   `bson:"EOF"`
		}
		if err := bson.Unmarshal(h, &nh); err != nil {
			return m, nil, wrap(err)
		}
		st := states[nh.Collection]
		if st == nil || st.eof {
			return m, nil, badArchive("documents of collection %q, which the archive does not list or has ended", nh.Collection)
		}
		if nh.EOF {
			crc, _ := h.Lookup("CRC").Int64OK()
			if uint64(crc) != st.crc.Sum64() {
				return m, nil, badArchive("collection %s does not match its checksum: the archive is corrupted", nh.Collection)
			}
			st.eof = true
			if t, err := a.next(); err != nil || t != nil {
				return m, nil, wrap(errors.Join(err, errors.New("no terminator after an end of collection")))
			}
			continue
		}
		for {
			d, err := a.next()
			if err != nil {
				return m, nil, wrap(err)
			}
			if d == nil {
				break
			}
			st.sum.Write(d)
			st.crc.Write(d)
			st.count++
			if nh.Collection == ManifestCollection {
				manifest = append(manifest, d)
				continue
			}
			if doc != nil {
				if err := doc(nh.Collection, d); err != nil {
					return m, nil, err
				}
			}
		}
	}
	for _, c := range colls {
		if !states[c.Name].eof {
			return m, nil, badArchive("collection %s is cut short: the archive is truncated", c.Name)
		}
	}
	if !known[ManifestCollection] {
		return m, nil, badArchive("it has no manifest (a mongodump archive not made by Terroir: restore it with mongorestore)")
	}
	// What the manifest says must be what was read.
	seen := map[string]bool{}
	for _, d := range manifest {
		id, _ := d.Lookup("_id").StringValueOK()
		if id == "archive" {
			var head struct {
				Format    string    `bson:"format"`
				Database  string    `bson:"database"`
				Source    string    `bson:"source"`
				CreatedAt time.Time `bson:"created_at"`
				HeldMS    int64     `bson:"held_writes_ms"`
				Count     int64     `bson:"collections"`
			}
			if err := bson.Unmarshal(d, &head); err != nil {
				return m, nil, wrap(err)
			}
			if head.Format != ManifestFormat {
				return m, nil, badArchive("its format is %q; this Terroir reads %s", head.Format, ManifestFormat)
			}
			m.Format, m.Database, m.Source, m.CreatedAt = head.Format, head.Database, head.Source, head.CreatedAt
			m.HeldWrites = time.Duration(head.HeldMS) * time.Millisecond
			if head.Count != int64(len(colls)-1) {
				return m, nil, badArchive("the manifest lists %d collections, the archive has %d", head.Count, len(colls)-1)
			}
			continue
		}
		var cm struct {
			Collection string `bson:"collection"`
			Count      int64  `bson:"count"`
			SHA256     string `bson:"sha256"`
		}
		if err := bson.Unmarshal(d, &cm); err != nil {
			return m, nil, wrap(err)
		}
		st := states[cm.Collection]
		if st == nil || cm.Collection == ManifestCollection {
			return m, nil, badArchive("the manifest names collection %q, which the archive does not hold", cm.Collection)
		}
		if st.count != cm.Count || hex.EncodeToString(st.sum.Sum(nil)) != cm.SHA256 {
			return m, nil, badArchive("collection %s has %d documents that do not match the manifest (%d, sha256 %s…)",
				cm.Collection, st.count, cm.Count, cm.SHA256[:min(12, len(cm.SHA256))])
		}
		seen[cm.Collection] = true
		m.Collections = append(m.Collections, CollectionManifest{Name: cm.Collection, Count: cm.Count, SHA256: cm.SHA256})
	}
	if m.Format == "" {
		return m, nil, badArchive("the manifest does not describe the archive")
	}
	for _, c := range colls {
		if c.Name != ManifestCollection && !seen[c.Name] {
			return m, nil, badArchive("collection %s is not in the manifest", c.Name)
		}
	}
	// Drain to the end so gzip checks its own CRC and length.
	if n, err := io.Copy(io.Discard, a.r); err != nil {
		return m, nil, wrap(err)
	} else if n > 0 {
		return m, nil, badArchive("%d bytes after the end of the archive", n)
	}
	out := colls[:0]
	for _, c := range colls {
		if c.Name != ManifestCollection {
			out = append(out, c)
		}
	}
	return m, out, nil
}
