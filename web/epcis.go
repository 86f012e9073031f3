package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// lotEPCIS answers GET /api/v1/lots/{code}/epcis: the EPCIS 2.0 JSON-LD
// document of the lot's history (traceability/epcis.go has the mapping),
// for the cooperative, auditors in scope and admins.
func (s *Server) lotEPCIS(c *gin.Context) {
	doc, err := s.deps.Traceability.EPCIS(c.Request.Context(), actorOf(c), c.Param("code"), s.deps.Codes)
	if err != nil {
		fail(c, err)
		return
	}
	b, err := json.Marshal(doc)
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="epcis-%s.jsonld"`, strings.Map(safeFileRune, c.Param("code"))))
	c.Data(http.StatusOK, "application/ld+json", b)
}
