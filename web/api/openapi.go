package api

import (
	_ "embed"

	"github.com/gin-gonic/gin"
)

// openAPIDoc describes the JSON API. A test checks that every /api/v1 route
// of the router is in it, so the document cannot silently fall behind.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI answers GET /api/v1/openapi.json.
func (h *Handlers) OpenAPI(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(200, "application/json", openAPIDoc)
}
