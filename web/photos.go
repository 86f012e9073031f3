package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/problem"
)

// Product photos. An upload is read from the multipart field "photo", its
// type taken from its content (never from its name or the client's
// Content-Type), then decoded and re-encoded by catalog.ReencodePhoto: what
// /photos/{id}.jpg serves was written by the server. A photo ID is random
// and immutable (a new upload gets a new ID), so the image is cached for a
// year and its ETag is its ID; files are looked up by ID in the store, so
// no path from a request ever reaches a file system.

const photoUploadRoute = "/api/v1/products/:sku/photo"

// photoBodyLimit leaves room for the multipart envelope around a photo of
// catalog.PhotoMaxBytes; the photo itself is measured exactly.
const photoBodyLimit = catalog.PhotoMaxBytes + 64<<10

// bodyLimit is the request body cap of a route: photo uploads get theirs.
func (s *Server) bodyLimit(c *gin.Context) int64 {
	if c.FullPath() == photoUploadRoute {
		return max(s.cfg.BodyLimit, photoBodyLimit)
	}
	return s.cfg.BodyLimit
}

var errPhotoTooLarge = &problem.Error{Code: problem.TooLarge, Field: "photo", Message: "must be at most 2 MiB"}

// uploadPhoto is POST /api/v1/products/{sku}/photo (admin, or the manager of
// the product's cooperative), multipart field "photo".
func (s *Server) uploadPhoto(c *gin.Context) {
	ctx, actor := c.Request.Context(), actorOf(c)
	// Who may upload is decided before a byte of the upload is read.
	if _, err := s.deps.Catalog.CheckPhotoEditor(ctx, actor, c.Param("sku")); err != nil {
		fail(c, err)
		return
	}
	data, err := readPhotoField(c.Request)
	if err != nil {
		fail(c, err)
		return
	}
	if ct := http.DetectContentType(data); ct != "image/jpeg" && ct != "image/png" {
		fail(c, problem.Field("photo", "must be a JPEG or PNG image (this file looks like %s)", strings.SplitN(ct, ";", 2)[0]))
		return
	}
	p, err := s.deps.Catalog.SetPhoto(ctx, actor, c.Param("sku"), data)
	if err != nil {
		fail(c, err)
		return
	}
	s.catalog.dropAll()
	w, h := catalog.PhotoSize(p.Photo)
	c.JSON(http.StatusCreated, gin.H{"sku": p.SKU, "photo": p.Photo, "url": "/photos/" + p.Photo + ".jpg", "width": w, "height": h})
}

// readPhotoField returns the bytes of the multipart field "photo": more
// than catalog.PhotoMaxBytes → 413, no such field → 400.
func readPhotoField(r *http.Request) ([]byte, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return nil, problem.Field("photo", "send the image as multipart/form-data in the field \"photo\"")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, problem.Field("photo", "send the image as multipart/form-data in the field \"photo\"")
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			return nil, uploadError(err, "no field \"photo\" in the form")
		}
		if part.FormName() != "photo" {
			if _, err := io.Copy(io.Discard, part); err != nil {
				return nil, uploadError(err, "the form could not be read")
			}
			continue
		}
		data, err := io.ReadAll(io.LimitReader(part, catalog.PhotoMaxBytes+1))
		if err != nil {
			return nil, uploadError(err, "the photo could not be read")
		}
		if len(data) > catalog.PhotoMaxBytes {
			return nil, errPhotoTooLarge
		}
		if len(data) == 0 {
			return nil, problem.Field("photo", "is empty")
		}
		return data, nil
	}
}

func uploadError(err error, msg string) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return errPhotoTooLarge
	}
	return problem.Field("photo", "%s", msg)
}

// photo is GET /photos/{id}.jpg (?size=thumb for the listing's thumbnail).
func (s *Server) photo(c *gin.Context) {
	id, ok := strings.CutSuffix(c.Param("file"), ".jpg")
	if !ok || !catalog.ValidPhotoID(id) {
		c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("not found"))
		return
	}
	thumb := c.Query("size") == "thumb"
	etag := `"` + id + `"`
	if thumb {
		etag = `"` + id + `-thumb"`
	}
	h := c.Writer.Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", etag)
	if match := c.GetHeader("If-None-Match"); match != "" && strings.Contains(match, etag) {
		c.Status(http.StatusNotModified)
		return
	}
	ph, err := s.deps.Catalog.Photo(c.Request.Context(), id)
	if err != nil {
		h.Del("Cache-Control")
		h.Del("ETag")
		if problem.CodeOf(err) == problem.NotFound {
			c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("not found"))
			return
		}
		s.renderFailure(c, err)
		return
	}
	body := ph.JPEG
	if thumb {
		body = ph.Thumb
	}
	c.Data(http.StatusOK, "image/jpeg", body)
}
