package page

import (
	"bytes"
	"compress/gzip"
	"io"
	"sync"

	"github.com/gin-gonic/gin"
)

// Page caches keep their pages gzipped (web/trace, web/catalogcache): a
// third of the memory, and a warm answer costs no compression. The rare
// client that does not accept gzip gets the page inflated.

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

// Gzip compresses b (BestSpeed: a page is compressed once, at render).
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b)/3 + 64)
	w := gzipWriters.Get().(*gzip.Writer)
	w.Reset(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	w.Reset(io.Discard)
	gzipWriters.Put(w)
	return buf.Bytes()
}

// Gunzip inflates what Gzip made.
func Gunzip(z []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// WriteGzipped answers with a page kept gzipped: as it is to a client that
// accepts gzip (web's compress middleware leaves an encoded answer alone),
// inflated to one that does not. The caller sets the caching headers.
func WriteGzipped(c *gin.Context, status int, contentType string, z []byte) {
	if AcceptsGzip(c.GetHeader("Accept-Encoding")) {
		c.Header("Content-Encoding", "gzip")
		c.Writer.Header().Add("Vary", "Accept-Encoding")
		c.Data(status, contentType, z)
		return
	}
	b, err := Gunzip(z)
	if err != nil {
		Fail(c, err)
		return
	}
	c.Data(status, contentType, b)
}
