package traceability

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig of JPEG reports
	_ "image/png"  // and of PNG ones
	"io"
	"time"

	"github.com/terroir-coop/terroir/internal/problem"
)

// Blobs are files kept in the store: laboratory reports and generated
// evidence files. A blob is a metadata document (collection "blobs") and its
// bytes in chunks of blobChunkSize (collection "blob_chunks", _id
// "{blob}#{n}"), so that no document nears MongoDB's 16 MB limit and every
// read is an _id lookup, the only filter the embedded store pushes down. The
// metadata is written last: a blob whose metadata exists is complete. A
// report is content-addressed ("sha256:{hex}"), so the same file uploaded
// twice is stored once; an evidence file gets a random ID.
//
// Uploaded reports are kept as uploaded (the laboratory's signed PDF must
// stay byte for byte what it signed; its SHA-256 is in the result's event)
// but their type is decided here, by content, never by the name or the
// type the browser claimed: a PDF starts with %PDF- and ends with %%EOF, a
// PNG or a JPEG must decode its header. Anything else is refused (415). A
// report is served with the type found here, as an attachment, with
// nosniff and a sandbox policy (Report.Headers), so an HTML page disguised
// as a report never runs in the site's origin.

// MaxReportBytes bounds an uploaded laboratory report (a scanned
// multi-page PDF is a few MB); the handler reads at most one byte more to
// tell a larger upload.
const MaxReportBytes = 10 << 20

const blobChunkSize = 255 << 10

// Content types of reports.
const (
	TypePDF  = "application/pdf"
	TypePNG  = "image/png"
	TypeJPEG = "image/jpeg"
	TypeZIP  = "application/zip"
)

// ErrBlobNotFound is returned for a blob that is not stored (or not whole).
var ErrBlobNotFound = problem.New(problem.NotFound, "file not found")

// BlobInfo describes a stored blob.
type BlobInfo struct {
	ID          string    `bson:"_id"`
	SHA256      string    `bson:"sha256"` // lower-case hex
	Size        int64     `bson:"size"`
	ContentType string    `bson:"content_type"`
	Chunks      int       `bson:"chunks"`
	CreatedAt   time.Time `bson:"created_at"`
}

// Upload is a file sent by a user: its name as the browser gave it (kept
// for the record only, never used in a header or a path) and its bytes.
type Upload struct {
	Name string
	Data []byte
}

// SniffReport returns the content type of a laboratory report from its
// content: a PDF, a PNG or a JPEG. Errors name the field: TooLarge (413)
// beyond MaxReportBytes, UnsupportedType (415) for anything else, Invalid
// for an empty or truncated file.
func SniffReport(field string, data []byte) (string, error) {
	switch {
	case len(data) == 0:
		return "", problem.Field(field, "is empty")
	case len(data) > MaxReportBytes:
		return "", refusal(problem.TooLarge, field, "is %d bytes; a report may be at most %d bytes (10 MB)", len(data), MaxReportBytes)
	case bytes.HasPrefix(data, []byte("%PDF-")):
		tail := data[max(0, len(data)-1024):]
		if !bytes.Contains(tail, []byte("%%EOF")) {
			return "", problem.Field(field, "is a truncated PDF (it does not end with %%%%EOF): upload the whole file")
		}
		return TypePDF, nil
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")), bytes.HasPrefix(data, []byte{0xff, 0xd8, 0xff}):
		cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil || cfg.Width < 1 || cfg.Height < 1 {
			return "", problem.Field(field, "looks like an image but cannot be read: upload the report again")
		}
		if format == "png" {
			return TypePNG, nil
		}
		return TypeJPEG, nil
	}
	return "", refusal(problem.UnsupportedType, field, "must be a PDF, PNG or JPEG file")
}

// extensionOf is the file name extension of a content type.
func extensionOf(contentType string) string {
	switch contentType {
	case TypePDF:
		return ".pdf"
	case TypePNG:
		return ".png"
	case TypeJPEG:
		return ".jpg"
	case TypeZIP:
		return ".zip"
	}
	return ".bin"
}

// reportBlobID is the content address of a report.
func reportBlobID(sum string) string { return "sha256:" + sum }

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// blobReader streams a blob chunk by chunk and checks its SHA-256 at the
// end: a chunk changed in the store is an error, never silently served.
type blobReader struct {
	ctx  context.Context
	st   *Store
	info BlobInfo
	next int
	buf  []byte
	h    interface {
		io.Writer
		Sum([]byte) []byte
	}
	read int64
}

func (s *Store) openBlob(ctx context.Context, id string) (*blobReader, error) {
	info, err := s.blobInfo(ctx, id)
	if err != nil {
		return nil, err
	}
	return &blobReader{ctx: ctx, st: s, info: info, h: sha256.New()}, nil
}

func (r *blobReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.next == r.info.Chunks {
			if r.read != r.info.Size || hex.EncodeToString(r.h.Sum(nil)) != r.info.SHA256 {
				return 0, fmt.Errorf("blob %s: stored chunks do not match its SHA-256", r.info.ID)
			}
			return 0, io.EOF
		}
		b, err := r.st.blobChunk(r.ctx, r.info.ID, r.next)
		if err != nil {
			return 0, err
		}
		r.next++
		r.read += int64(len(b))
		_, _ = r.h.Write(b)
		r.buf = b
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// readBlob returns a whole blob.
func (s *Store) readBlob(ctx context.Context, id string) (BlobInfo, []byte, error) {
	r, err := s.openBlob(ctx, id)
	if err != nil {
		return BlobInfo{}, nil, err
	}
	b, err := io.ReadAll(r)
	return r.info, b, err
}

// blobWriter stores what is written to it as a blob, chunk by chunk, and
// its metadata on Close; until then the blob does not exist.
type blobWriter struct {
	ctx         context.Context
	st          *Store
	id          string
	contentType string
	buf         []byte
	chunks      int
	size        int64
	h           interface {
		io.Writer
		Sum([]byte) []byte
	}
	now time.Time
	err error
}

func (s *Store) newBlobWriter(ctx context.Context, id, contentType string, now time.Time) *blobWriter {
	return &blobWriter{ctx: ctx, st: s, id: id, contentType: contentType, h: sha256.New(), now: now}
}

func (w *blobWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := len(p)
	w.size += int64(n)
	_, _ = w.h.Write(p)
	for len(p) > 0 {
		take := min(blobChunkSize-len(w.buf), len(p))
		w.buf = append(w.buf, p[:take]...)
		p = p[take:]
		if len(w.buf) == blobChunkSize {
			if w.err = w.flush(); w.err != nil {
				return 0, w.err
			}
		}
	}
	return n, nil
}

func (w *blobWriter) flush() error {
	if err := w.st.putBlobChunk(w.ctx, w.id, w.chunks, w.buf); err != nil {
		return err
	}
	w.chunks++
	w.buf = w.buf[:0]
	return nil
}

// Abort removes what was written: the blob never existed.
func (w *blobWriter) Abort() {
	w.st.deleteBlobChunks(context.WithoutCancel(w.ctx), w.id, w.chunks)
}

// Close writes the last chunk and the metadata, and returns it.
func (w *blobWriter) Close() (BlobInfo, error) {
	if w.err != nil {
		return BlobInfo{}, w.err
	}
	if len(w.buf) > 0 || w.chunks == 0 {
		if err := w.flush(); err != nil {
			return BlobInfo{}, err
		}
	}
	info := BlobInfo{ID: w.id, SHA256: hex.EncodeToString(w.h.Sum(nil)), Size: w.size, ContentType: w.contentType,
		Chunks: w.chunks, CreatedAt: w.now.UTC()}
	err := w.st.putBlobInfo(w.ctx, info)
	if errors.Is(err, errBlobExists) {
		err = nil // the same content, stored before
	}
	return info, err
}

// storeReport keeps an uploaded report under its content address; storing
// the same file again changes nothing.
func (s *Store) storeReport(ctx context.Context, data []byte, contentType string, now time.Time) (BlobInfo, error) {
	id := reportBlobID(sha256Hex(data))
	if info, err := s.blobInfo(ctx, id); err == nil {
		return info, nil
	}
	w := s.newBlobWriter(ctx, id, contentType, now)
	if _, err := w.Write(data); err != nil {
		return BlobInfo{}, err
	}
	return w.Close()
}
