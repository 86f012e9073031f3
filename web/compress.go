package web

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/terroir-coop/terroir/web/page"
)

// Text answers are gzipped for clients that accept it: pages, CSS, JS,
// JSON, CSV and SVG shrink to a quarter or less, which is what a phone on a
// rural link waits for. Images, PDFs and archives are compressed already
// and pass through; so do answers under compressMin bytes, where the gzip
// header and the CPU cost more than they save. Compression is at
// BestSpeed: the server's CPU is shared with every scan.

// compressMin is the smallest answer worth compressing.
const compressMin = 1024

var compressible = map[string]bool{
	"text/html": true, "text/css": true, "text/javascript": true, "application/javascript": true,
	"application/json": true, "application/ld+json": true, "application/linkset+json": true,
	"application/problem+json": true, "text/csv": true, "text/plain": true, "image/svg+xml": true,
	"application/xml": true, "text/xml": true, "application/manifest+json": true,
}

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

// compress is the middleware.
func compress(c *gin.Context) {
	if c.Request.Method == http.MethodHead || !page.AcceptsGzip(c.Request.Header.Get("Accept-Encoding")) {
		c.Next()
		return
	}
	w := &gzipWriter{ResponseWriter: c.Writer}
	c.Writer = w
	defer w.finish()
	c.Next()
}

// gzipWriter decides at the first write whether the answer is compressed:
// a compressible type, no encoding of its own, a status with a body, and
// either no declared length or one of at least compressMin. Until then it
// buffers up to compressMin bytes, so small answers go out as they are.
type gzipWriter struct {
	gin.ResponseWriter
	decided bool
	gz      *gzip.Writer
	buf     []byte
	status  int
}

func (w *gzipWriter) WriteHeader(code int) {
	if w.decided {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.status = code
}

func (w *gzipWriter) WriteHeaderNow() {
	if !w.decided {
		w.decide(false)
	}
	w.ResponseWriter.WriteHeaderNow()
}

func (w *gzipWriter) Write(p []byte) (int, error) {
	if !w.decided {
		if !w.candidate() {
			w.decide(false)
		} else if len(w.buf)+len(p) < compressMin {
			w.buf = append(w.buf, p...)
			return len(p), nil
		} else {
			w.decide(true)
		}
	}
	if w.gz != nil {
		return w.gz.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

func (w *gzipWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

// Written reports whether anything was sent or is waiting to be.
func (w *gzipWriter) Written() bool { return w.decided || w.status != 0 || w.ResponseWriter.Written() }

// Status is the status to be sent, before it is.
func (w *gzipWriter) Status() int {
	if !w.decided && w.status != 0 {
		return w.status
	}
	return w.ResponseWriter.Status()
}

// Size counts what the handler wrote, compressed or not (for the logs).
func (w *gzipWriter) Size() int {
	if !w.decided {
		return len(w.buf)
	}
	return w.ResponseWriter.Size()
}

// Flush sends what is buffered (streamed answers decide at once).
func (w *gzipWriter) Flush() {
	if !w.decided {
		w.decide(w.candidate() && len(w.buf) > 0)
	}
	if w.gz != nil {
		_ = w.gz.Flush()
	}
	w.ResponseWriter.Flush()
}

func (w *gzipWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.ResponseWriter.Hijack()
}

// candidate reports whether the answer, as declared so far, may be
// compressed.
func (w *gzipWriter) candidate() bool {
	h := w.ResponseWriter.Header()
	if h.Get("Content-Encoding") != "" || h.Get("Content-Range") != "" {
		return false
	}
	switch w.status {
	case http.StatusNoContent, http.StatusNotModified, http.StatusPartialContent:
		return false
	}
	if w.status != 0 && w.status < 200 {
		return false
	}
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return compressible[mt]
}

func (w *gzipWriter) decide(gz bool) {
	w.decided = true
	h := w.ResponseWriter.Header()
	if w.candidate() || gz {
		h.Add("Vary", "Accept-Encoding")
	}
	if gz {
		h.Del("Content-Length")
		h.Set("Content-Encoding", "gzip")
		if etag := h.Get("ETag"); etag != "" && !strings.HasPrefix(etag, "W/") {
			h.Set("ETag", "W/"+etag) // the same resource, other bytes
		}
		w.gz = gzipWriters.Get().(*gzip.Writer)
		w.gz.Reset(w.ResponseWriter)
	}
	if w.status != 0 {
		w.ResponseWriter.WriteHeader(w.status)
	}
	if len(w.buf) > 0 {
		buf := w.buf
		w.buf = nil
		if w.gz != nil {
			_, _ = w.gz.Write(buf)
		} else {
			_, _ = w.ResponseWriter.Write(buf)
		}
	}
}

// finish sends a buffered small answer as it is, or closes the gzip stream.
func (w *gzipWriter) finish() {
	if !w.decided {
		if w.status == 0 && len(w.buf) == 0 {
			return // nothing written: gin writes the headers itself
		}
		w.decide(false)
	}
	if w.gz != nil {
		_ = w.gz.Close()
		w.gz.Reset(io.Discard)
		gzipWriters.Put(w.gz)
		w.gz = nil
	}
}

// assetVersion names the embedded static files' content: the ?v= of their
// URLs, so that a phone may keep them a year and still never run an old
// script against a new page.
func assetVersion(files fs.FS) string {
	h := sha256.New()
	var names []string
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	sort.Strings(names)
	for _, n := range names {
		b, _ := fs.ReadFile(files, n)
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
