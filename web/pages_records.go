package web

import "github.com/gin-gonic/gin"

// recordPages registers the cooperative's record-keeping pages: parcels,
// harvests, lots, transformations, packing, and the auditors' views.
func (s *Server) recordPages(pages *gin.RouterGroup) {}
