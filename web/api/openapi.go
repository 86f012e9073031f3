package api

import (
	_ "embed"

	"github.com/gin-gonic/gin"
)

// openAPIDoc describes the JSON API: generated from openapi.src.json and the
// Go types (openapi_gen_test.go; the package comment says how it is kept
// true).
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI answers GET /api/v1/openapi.json.
func (h *Handlers) OpenAPI(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(200, "application/json", openAPIDoc)
}

// OpenAPIDocument returns the document GET /api/v1/openapi.json serves
// (for the tests that validate the API's answers against it).
func OpenAPIDocument() []byte { return openAPIDoc }
