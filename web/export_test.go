package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/traceability"
)

// ServeLinksetForTest answers r as the public trace route does for
// ?linkType=all, which lives on another branch: it parses the Digital Link
// path, reads the lot and calls linkset.
func (s *Server) ServeLinksetForTest(w http.ResponseWriter, r *http.Request) {
	c, _ := gin.CreateTestContext(w)
	c.Request = r
	ref, err := traceability.ParseTracePath(r.URL.EscapedPath())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	l, err := s.deps.Traceability.PublicLot(r.Context(), ref.Lot)
	if err != nil {
		fail(c, err)
		return
	}
	s.linkset(c, l, ref)
}
