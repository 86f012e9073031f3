package trace

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/page"
)

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

// Description answers /.well-known/gs1resolver: the description file a
// GS1-Conformant resolver publishes (schema:
// https://ref.gs1.org/standards/resolver/1.2.0/description-file-schema),
// so scanners and GS1's tools can tell what our trace URLs support.
//
// Primary keys are given as numeric AIs, as the 1.2 schema requires: "01"
// (GTIN). Lots without a GTIN use /t/{lot}, which is ours and not a GS1
// key. linkTypeDefaultCanBeLinkset is false: the default link is the trace
// page, and the linkset is served only on ?linkType=all.
func (h *Handlers) Description(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=86400")
	c.JSON(http.StatusOK, gin.H{
		"name":                        page.Locale(c).T("resolver.name"),
		"resolverRoot":                strings.TrimRight(h.d.Codes.PublicURL, "/"),
		"supportedPrimaryKeys":        []string{"01"},
		"supportedLinkType":           []gin.H{{"namespace": gs1Voc, "prefix": "gs1:"}},
		"linkTypeDefaultCanBeLinkset": false,
		"supportedLinkTypes":          []string{"gs1:pip", "gs1:defaultLink", "gs1:traceability", "gs1:certificationInfo"},
	})
}

// linkset answers a GS1 Digital Link request with ?linkType=all: the links
// available for the item, as an RFC 9264 linkset in JSON
// (application/linkset+json), the shape GS1-Conformant resolvers return,
// titled in the request's language. The trace page link is the signed URL
// when the request's ?s= verifies, so following it keeps the "authentic"
// verdict; otherwise it is the plain canonical URL, which shows the page
// without vouching for the label.
func (h *Handlers) linkset(c *gin.Context, l traceability.Lot, ref traceability.TraceRef) {
	loc := page.Locale(c)
	base := strings.TrimRight(h.d.Codes.PublicURL, "/")
	anchor := base + ref.CanonicalPath()
	target := anchor
	if h.d.Codes.Authentic(ref, c.Query("s")) {
		target = h.d.Codes.URL(ref)
	}
	var langs []string
	for _, other := range h.bundle.Languages() {
		langs = append(langs, other.Code())
	}
	pageLink := []link{{Href: target, Title: loc.T("linkset.trace_page", l.Code), Type: "text/html", Hreflang: langs}}
	set := map[string]any{
		"anchor":    anchor,
		linkPIP:     pageLink,
		linkDefault: pageLink,
		linkTraceability: []link{{Href: base + "/api/v1/lots/" + url.PathEscape(l.Code) + "/epcis",
			Title: loc.T("linkset.epcis"), Type: "application/ld+json"}},
		linkCertificationInfo: []link{{Href: target + "#certifications", Title: loc.T("linkset.certifications"),
			Type: "text/html", Hreflang: langs}},
	}
	if p := h.entryProduct(l, loc.Code()); p != "" {
		set["description"] = p
	}
	b, err := json.Marshal(map[string]any{"linkset": []any{set}})
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.Header("Link", `<`+linksetContext+`>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`)
	c.Data(http.StatusOK, "application/linkset+json", b)
}

// entryProduct is the name of a packed lot's product in a language, from
// the cached record (no catalogue read).
func (h *Handlers) entryProduct(l traceability.Lot, lang string) string {
	if l.SKU == "" {
		return ""
	}
	if e := h.cache.get(l.Code); e != nil {
		return e.products[lang].Name
	}
	return ""
}
