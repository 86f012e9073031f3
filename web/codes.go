package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/traceability"
)

// codeRoutes registers what prints and exports trace codes: QR images,
// label sheets, EPCIS documents and the GS1 resolver description.
func (s *Server) codeRoutes(r *gin.Engine, api *gin.RouterGroup) {
	api.GET("/lots/:code/qr.png", s.lotQR)
	api.GET("/lots/:code/labels.pdf", s.lotLabels)
	api.GET("/lots/:code/epcis", s.lotEPCIS)
	// GS1-Conformant Resolver 1.2 names the file /.well-known/gs1resolver;
	// the .json name is what earlier drafts and some scanners ask for.
	r.GET("/.well-known/gs1resolver", s.resolverDescription)
	r.GET("/.well-known/gs1resolver.json", s.resolverDescription)
}

// GS1 link types (https://gs1.org/voc/) the resolver serves.
const (
	gs1Voc                = "https://gs1.org/voc/"
	linkPIP               = gs1Voc + "pip"
	linkDefault           = gs1Voc + "defaultLink"
	linkTraceability      = gs1Voc + "traceability"
	linkCertificationInfo = gs1Voc + "certificationInfo"
	// linksetContext turns our linkset JSON into JSON-LD (GS1-Conformant
	// Resolver artefacts).
	linksetContext = "https://ref.gs1.org/standards/resolver/linkset-context"
)

// link is one target of an RFC 9264 linkset.
type link struct {
	Href     string   `json:"href"`
	Title    string   `json:"title"`
	Type     string   `json:"type,omitempty"`
	Hreflang []string `json:"hreflang,omitempty"`
}

// traceLanguages are the languages of the trace page.
var traceLanguages = []string{"fr", "en", "ar"}

// linkset answers a GS1 Digital Link request with ?linkType=all: the links
// available for the item, as an RFC 9264 linkset in JSON
// (application/linkset+json), the shape GS1-Conformant resolvers return.
// The trace page link is the signed URL when the request's ?s= verifies, so
// following it keeps the "authentic" verdict; otherwise it is the plain
// canonical URL, which shows the page without vouching for the label.
func (s *Server) linkset(c *gin.Context, l traceability.Lot, ref traceability.TraceRef) {
	base := strings.TrimRight(s.deps.Codes.PublicURL, "/")
	anchor := base + ref.CanonicalPath()
	page := anchor
	if s.deps.Codes.Authentic(ref, c.Query("s")) {
		page = s.deps.Codes.URL(ref)
	}
	title := "Traçabilité du lot " + l.Code
	pageLink := []link{{Href: page, Title: title, Type: "text/html", Hreflang: traceLanguages}}
	set := map[string]any{
		"anchor":    anchor,
		linkPIP:     pageLink,
		linkDefault: pageLink,
		linkTraceability: []link{{Href: base + "/api/v1/lots/" + url.PathEscape(l.Code) + "/epcis",
			Title: "Historique EPCIS 2.0 du lot (coopérative, auditeurs)", Type: "application/ld+json"}},
		linkCertificationInfo: []link{{Href: page + "#certifications", Title: "Certifications et organismes de contrôle",
			Type: "text/html", Hreflang: traceLanguages}},
	}
	if l.SKU != "" {
		if p, err := s.deps.Catalog.Product(c.Request.Context(), l.SKU); err == nil && p.Names.FR != "" {
			set["description"] = p.Names.FR
		}
	}
	b, err := json.Marshal(map[string]any{"linkset": []any{set}})
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Link", `<`+linksetContext+`>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`)
	c.Data(http.StatusOK, "application/linkset+json", b)
}
