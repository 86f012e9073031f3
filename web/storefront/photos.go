package storefront

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/web/page"
)

var errNoPhoto = problem.New(problem.NotFound, "photo not found")

// Photo answers GET /photos/{id}.jpg (?size=thumb for the listing's
// thumbnail). A photo ID is random and immutable (a new upload gets a new
// ID), so the image is cached for a year and its ETag is its ID; files are
// looked up by ID in the store, so no path from a request ever reaches a
// file system.
func (h *Handlers) Photo(c *gin.Context) {
	id, ok := strings.CutSuffix(c.Param("file"), ".jpg")
	if !ok || !catalog.ValidPhotoID(id) {
		page.Fail(c, errNoPhoto)
		return
	}
	thumb := c.Query("size") == "thumb"
	etag := `"` + id + `"`
	if thumb {
		etag = `"` + id + `-thumb"`
	}
	if match := c.GetHeader("If-None-Match"); match != "" && strings.Contains(match, etag) {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
		c.Header("ETag", etag)
		c.Status(http.StatusNotModified)
		return
	}
	ph, err := h.d.Products.Photo(c.Request.Context(), id)
	if err != nil {
		page.Fail(c, err)
		return
	}
	body := ph.JPEG
	if thumb {
		body = ph.Thumb
	}
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	c.Header("ETag", etag)
	c.Data(http.StatusOK, "image/jpeg", body)
}
