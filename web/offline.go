package web

import (
	"io"
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// harvestServiceWorker answers GET /harvest-sw.js, the offline harvest
// page's service worker. It is served from the root so that it may control
// the cooperatives' pages (it registers with the scope /coop/ and only
// answers the offline page and its files), and is never cached by HTTP:
// browsers check it for updates.
func (s *Server) harvestServiceWorker(c *gin.Context) {
	b, err := fs.ReadFile(assets, "static/harvest-sw.js")
	if err != nil {
		c.AbortWithStatus(http.StatusNotFound)
		return
	}
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "text/javascript; charset=utf-8", b)
}

// formAsBody puts a form post's fields back as its body, once the CSRF
// check has read them, so the Idempotency-Key replay compares what was
// sent: a key sent again with other values is refused, not replayed.
func formAsBody(c *gin.Context) {
	_ = c.Request.ParseForm()
	c.Request.Body = io.NopCloser(strings.NewReader(c.Request.PostForm.Encode()))
	c.Next()
}
