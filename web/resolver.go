package web

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// resolverDescription answers /.well-known/gs1resolver: the description
// file a GS1-Conformant resolver publishes (schema:
// https://ref.gs1.org/standards/resolver/1.2.0/description-file-schema),
// so scanners and GS1's tools can tell what our trace URLs support.
//
// Primary keys are given as numeric AIs, as the 1.2 schema requires: "01"
// (GTIN). Lots without a GTIN use /t/{lot}, which is ours and not a GS1
// key. linkTypeDefaultCanBeLinkset is false: the default link is the trace
// page, and the linkset is served only on ?linkType=all.
func (s *Server) resolverDescription(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=86400")
	c.JSON(http.StatusOK, gin.H{
		"name":                        "Terroir — traçabilité des coopératives du Souss-Massa-Drâa",
		"resolverRoot":                strings.TrimRight(s.deps.Codes.PublicURL, "/"),
		"supportedPrimaryKeys":        []string{"01"},
		"supportedLinkType":           []gin.H{{"namespace": gs1Voc, "prefix": "gs1:"}},
		"linkTypeDefaultCanBeLinkset": false,
		"supportedLinkTypes":          []string{"gs1:pip", "gs1:defaultLink", "gs1:traceability", "gs1:certificationInfo"},
	})
}
