package trace

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
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
	// linksetType is RFC 9264's media type for a linkset in JSON.
	linksetType = "application/linkset+json"
)

// link is one target of an RFC 9264 linkset: "title" in the request's
// language and "title*" (RFC 9264 §4.2.4.2, internationalised target
// attribute) with the title in every language the site speaks.
type link struct {
	Href     string      `json:"href"`
	Title    string      `json:"title"`
	TitleI18 []i18nTitle `json:"title*,omitempty"`
	Type     string      `json:"type,omitempty"`
	Hreflang []string    `json:"hreflang,omitempty"`
}

type i18nTitle struct {
	Value    string `json:"value"`
	Language string `json:"language"`
}

// CORS: a GS1-Conformant resolver answers GET and HEAD from any origin
// (GS1-Conformant Resolver 1.2, "SHALL support CORS"), so a web app on
// another site can resolve our codes and read the Link header.
func allowCORS(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Accept, Accept-Language")
	h.Set("Access-Control-Expose-Headers", "Link, Location, Content-Type, Content-Language")
}

// Options answers OPTIONS on the Digital Link paths and the description
// file: the methods they allow and the CORS preflight answer.
func (h *Handlers) Options(c *gin.Context) {
	allowCORS(c)
	c.Header("Allow", "GET, HEAD, OPTIONS")
	c.Header("Access-Control-Max-Age", "86400")
	c.Status(http.StatusNoContent)
}

// Description answers /.well-known/gs1resolver: the description file a
// GS1-Conformant resolver publishes (schema:
// https://ref.gs1.org/standards/resolver/1.2.0/description-file-schema),
// so scanners and GS1's tools can tell what our trace URLs support.
//
// Only members of the 1.2 schema are given. Primary keys are numeric AIs,
// as the schema requires: "01" (GTIN). Lots without a GTIN use /t/{lot},
// which is ours and not a GS1 key. linkTypeDefaultCanBeLinkset is false:
// the default link is the trace page; the linkset is served on
// ?linkType=linkset (or the older all) and on Accept: application/linkset+json.
func (h *Handlers) Description(c *gin.Context) {
	allowCORS(c)
	c.Header("Cache-Control", "public, max-age=86400")
	c.Header("Vary", "Accept-Language")
	c.JSON(http.StatusOK, gin.H{
		"name":                        page.Locale(c).T("resolver.name"),
		"resolverRoot":                strings.TrimRight(h.d.Codes.PublicURL, "/"),
		"supportedPrimaryKeys":        []string{"01"},
		"supportedLinkType":           []gin.H{{"namespace": gs1Voc, "prefix": "gs1:"}},
		"linkTypeDefaultCanBeLinkset": false,
		"jsonLdContextLocation":       linksetContext,
		"contact":                     gin.H{"fn": page.Locale(c).T("resolver.contact")},
	})
}

// linkTypeOf names a ?linkType value as a full GS1 vocabulary URI: the
// CURIE gs1:pip, and the URIs under https://gs1.org/voc/ (with or without
// www. or ref.) and http:// all name the same link type. Anything else is
// returned as given.
func linkTypeOf(v string) string {
	if rest, ok := strings.CutPrefix(v, "gs1:"); ok {
		return gs1Voc + rest
	}
	for _, ns := range []string{"https://gs1.org/voc/", "https://www.gs1.org/voc/", "https://ref.gs1.org/voc/",
		"http://gs1.org/voc/", "http://www.gs1.org/voc/", "http://ref.gs1.org/voc/"} {
		if rest, ok := strings.CutPrefix(v, ns); ok {
			return gs1Voc + rest
		}
	}
	return v
}

// wantsLinkset reports whether the Accept header prefers the linkset
// (application/linkset+json) to everything else it names.
func wantsLinkset(accept string) bool {
	best, bestQ := "", -1.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		if q > bestQ {
			best, bestQ = mt, q
		}
	}
	return best == linksetType && bestQ > 0
}

// digitalLinkHeaders are the headers of every answer to a Digital Link:
// CORS, the Link to the item's linkset (the resolver standard's SHOULD,
// even when redirecting), and Vary, as the answer depends on the Accept
// header (page, JSON or linkset), the language and the language cookie.
func (h *Handlers) digitalLinkHeaders(c *gin.Context, ref traceability.TraceRef) {
	allowCORS(c)
	c.Header("Vary", "Accept, Accept-Language, Cookie")
	ls := strings.TrimRight(h.d.Codes.PublicURL, "/") + ref.CanonicalPath() + "?linkType=linkset"
	addLink(c, `<`+ls+`>; rel="linkset"; type="`+linksetType+`"`)
}

// addLink adds a link to the answer's one Link header, comma-separated
// (RFC 8288): clients that read only the first field value see them all.
func addLink(c *gin.Context, l string) {
	if prev := c.Writer.Header().Get("Link"); prev != "" {
		l = prev + ", " + l
	}
	c.Header("Link", l)
}

// links are the item's links by link type, titled in every language. The
// trace page link is the signed URL when the request's ?s= verifies, so
// following it keeps the "authentic" verdict; otherwise it is the plain
// canonical URL, which shows the page without vouching for the label.
func (h *Handlers) links(c *gin.Context, l traceability.Lot, ref traceability.TraceRef) map[string][]link {
	loc := page.Locale(c)
	base := strings.TrimRight(h.d.Codes.PublicURL, "/")
	target := base + ref.CanonicalPath()
	if h.d.Codes.Authentic(ref, c.Query("s")) {
		target = h.d.Codes.URL(ref)
	}
	var langs []string
	for _, other := range h.bundle.Languages() {
		langs = append(langs, other.Code())
	}
	titled := func(href, typ string, hreflang []string, key string, args ...any) link {
		lk := link{Href: href, Title: loc.T(key, args...), Type: typ, Hreflang: hreflang}
		for _, other := range h.bundle.Languages() {
			lk.TitleI18 = append(lk.TitleI18, i18nTitle{Value: other.T(key, args...), Language: other.Code()})
		}
		return lk
	}
	pageLink := titled(target, "text/html", langs, "linkset.trace_page", l.Code)
	return map[string][]link{
		linkPIP: {pageLink},
		// The default link carries a title and nothing else (GS1-Conformant
		// Resolver: "SHALL include a title, but SHALL NOT include other
		// attributes").
		linkDefault: {{Href: pageLink.Href, Title: pageLink.Title}},
		linkTraceability: {titled(base+"/api/v1/lots/"+url.PathEscape(l.Code)+"/epcis", "application/ld+json", nil,
			"linkset.epcis")},
		linkCertificationInfo: {titled(target+"#certifications", "text/html", langs, "linkset.certifications")},
	}
}

// linkset answers a GS1 Digital Link request for the linkset
// (?linkType=linkset or all, or Accept: application/linkset+json): the
// links available for the item, as an RFC 9264 linkset in JSON
// (application/linkset+json), the shape GS1-Conformant resolvers return.
// A link context object holds the anchor and link relation types only:
// the product's name is in the titles, not in a plain string member,
// which RFC 9264 does not define.
func (h *Handlers) linkset(c *gin.Context, l traceability.Lot, ref traceability.TraceRef) {
	set := map[string]any{"anchor": strings.TrimRight(h.d.Codes.PublicURL, "/") + ref.CanonicalPath()}
	for rel, targets := range h.links(c, l, ref) {
		set[rel] = targets
	}
	b, err := json.Marshal(map[string]any{"linkset": []any{set}})
	if err != nil {
		page.Fail(c, err)
		return
	}
	addLink(c, `<`+linksetContext+`>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`)
	c.Header("Cache-Control", "private, max-age=60")
	c.Header("Content-Language", page.Locale(c).Code())
	c.Data(http.StatusOK, linksetType, b)
}

// redirect answers ?linkType={type} with a 307 to the link of that type,
// passing on the request's other query parameters (the standard's
// default), or false when the item has no link of that type.
func (h *Handlers) redirect(c *gin.Context, l traceability.Lot, ref traceability.TraceRef, linkType string) bool {
	targets := h.links(c, l, ref)[linkTypeOf(linkType)]
	if len(targets) == 0 {
		return false
	}
	to, err := url.Parse(targets[0].Href)
	if err != nil {
		page.Fail(c, err)
		return true
	}
	q := to.Query()
	for k, vs := range c.Request.URL.Query() {
		if k == "linkType" || q.Has(k) {
			continue
		}
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	to.RawQuery = q.Encode()
	c.Header("Cache-Control", "private, max-age=60")
	c.Redirect(http.StatusTemporaryRedirect, to.String())
	return true
}
