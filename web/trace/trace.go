package trace

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/lru"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/catalogcache"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/page"
)

// Templates are the trace pages.
//
//go:embed templates
var Templates embed.FS

// Records builds a lot's public trace record.
type Records interface {
	Trace(ctx context.Context, code string) (traceability.TraceRecord, error)
}

// Products names a packed lot's product in each language.
type Products interface {
	Product(ctx context.Context, sku string) (catalog.Product, error)
}

// Scans counts genuine scans in memory (traceability.ScanBuffer).
type Scans interface {
	Add(ctx context.Context, l traceability.Lot, serial string, who traceability.Scanner) (int64, error)
}

// scannerOf is who scans, as traceability.ScanBuffer tells scanners apart:
// the client's address (from the connection, or a trusted proxy's
// X-Forwarded-For) with its browser, hashed — never stored, kept in memory
// only for the day's window. No cookie is set: a scan reads no session and
// leaves none.
func scannerOf(c *gin.Context) traceability.Scanner {
	h := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:12])
	}
	addr := c.ClientIP()
	return traceability.Scanner{ID: h(addr + "|" + c.Request.UserAgent()), Address: h(addr)}
}

// Channels are the sales channels' catalogues in memory (web/catalogcache),
// which say whether a channel has a product in stock without a database
// read.
//
// Ready never waits for a build: a scan must not wait for every channel's
// catalogue to be built after a start (one build reads every shelf of the
// shop; a page with five channels waited seconds). A page rendered before
// all its channels were built is served without the missing links and not
// kept, so the next scan renders it whole.
type Channels interface {
	Ready(ctx context.Context, channel string) (*catalogcache.Channel, bool)
}

// Places names an organisation by its code ("" when unknown).
type Places interface {
	PlaceName(ctx context.Context, code string) string
}

// Deps are what the trace pages need.
type Deps struct {
	Records  Records
	Products Products
	Scans    Scans
	Codes    traceability.Codes // public URL and signer of trace codes
	Pages    *page.Renderer
	Now      func() time.Time
	CacheTTL time.Duration // how long another instance's change may stay unseen
	// CacheBytes bounds the cached records and pages (DefaultCacheBytes
	// when 0).
	CacheBytes int64
	// Places names shops and cooperatives for the custody list; nil: codes.
	Places Places
	// Channels say which shops have the product in stock, for the page's
	// links to buy it again; nil: no links.
	Channels Channels
	// MapTiles is an operator's tile server URL template ({z}/{x}/{y}),
	// drawn under the origin map; empty (the default): no tile, and the
	// page asks nothing of another host.
	MapTiles string
}

// Handlers answer the trace routes. They are safe for concurrent use.
type Handlers struct {
	d      Deps
	bundle *i18n.Bundle
	cache  *cache
	names  *names
	// renders counts the trace pages rendered (terroir_trace_renders_total):
	// a warm scan renders nothing.
	renders atomic.Int64
}

// New returns the trace handlers with an empty cache.
func New(d Deps) *Handlers {
	if d.CacheBytes <= 0 {
		d.CacheBytes = DefaultCacheBytes
	}
	h := &Handlers{d: d, bundle: d.Pages.Bundle(), names: newNames(d.Now, d.CacheTTL)}
	h.cache = newCache(d.Now, d.CacheTTL, d.CacheBytes, h.fill)
	return h
}

// Renders is how many trace pages were rendered so far.
func (h *Handlers) Renders() int64 { return h.renders.Load() }

// CacheStats says how full the trace cache is.
func (h *Handlers) CacheStats() lru.Stats { return h.cache.lots.Stats() }

// ReadAllProducts reads the whole catalogue through src and remembers
// every product for the trace pages, so that the first scans after a
// catalogue read name their product without reading it. The catalogue
// cache reads through it (web.Server): its read at start and at each
// refresh serves the trace pages too.
func (h *Handlers) ReadAllProducts(ctx context.Context, src AllProducts) ([]catalog.Product, error) {
	return h.names.readAll(ctx, src)
}

// ProductChanged drops the remembered product and the cached lots packed
// into it, whose pages name it (subscribed to catalog.Service.OnChange).
func (h *Handlers) ProductChanged(sku string) {
	h.names.forgetProduct(sku)
	h.cache.forgetIf(func(e *entry) bool { return e.rec.Lot.SKU == sku })
}

// Forget drops a lot's cached record and pages, and those of the lots
// made from it, whose pages show its steps (subscribed to
// traceability.Service.OnLotChange).
func (h *Handlers) Forget(code string) {
	h.cache.forget(code)
	h.cache.forgetMadeFrom(code)
}

// ForgetAll drops every cached lot: a certificate's status changed, and
// every lot claiming it shows the new status (subscribed to
// traceability.Service.OnCertificationChange); or a parcel's outline
// changed, and the lots from it draw the new one (OnParcelChange).
func (h *Handlers) ForgetAll(string) { h.cache.clear() }

// Authenticity of a scanned code.
const (
	stateAuthentic   = "authentic"   // the signature verifies
	stateUnverified  = "unverified"  // no signature (typed by hand)
	stateCounterfeit = "counterfeit" // a signature that does not verify
)

// errUnknownCode is what a consumer is told of a code Terroir did not issue.
var errUnknownCode = problem.New(problem.NotFound, "unknown code: this product was not registered by a Terroir cooperative")

// scanned is a resolved scan: the lot's record, the unit and authenticity.
type scanned struct {
	entry  *entry
	ref    traceability.TraceRef
	serial string
	state  string
	scans  int64
}

// resolve finds the lot behind a trace reference, checks the signature and,
// when count is set, counts the scan. Unknown lots, a GTIN that is not the lot's and serials
// the lot never had are ErrLotNotFound: for a consumer they are the same
// thing, a code Terroir did not issue.
func (h *Handlers) resolve(ctx context.Context, ref traceability.TraceRef, sig string, who *traceability.Scanner) (scanned, error) {
	code := traceability.NormalizeLotCode(ref.Lot)
	if !traceability.ValidLotCode(code) {
		return scanned{}, traceability.ErrLotNotFound // a typo or a forgery: no lookup needed
	}
	e, err := h.entryOf(ctx, code)
	if err != nil {
		return scanned{}, err
	}
	l := e.rec.Lot
	if ref.GTIN != "" && ref.GTIN != l.GTIN {
		return scanned{}, traceability.ErrLotNotFound
	}
	if ref.Serial != "" && !l.HasSerial(ref.Serial) {
		return scanned{}, traceability.ErrLotNotFound
	}
	// Verify against the lot's own canonical reference: a label printed as
	// a Digital Link is signed over that path, whatever form was typed.
	canon := traceability.RefOf(l, ref.Serial)
	sc := scanned{entry: e, ref: canon, serial: ref.Serial, state: stateUnverified}
	switch {
	case sig == "":
	case h.d.Codes.Authentic(canon, sig):
		sc.state = stateAuthentic
	default:
		sc.state = stateCounterfeit
	}
	if sc.state == stateAuthentic && who != nil {
		// Only genuine scans count: forged codes must not push a real
		// label over the cloned-label threshold.
		n, err := h.d.Scans.Add(ctx, l, ref.Serial, *who)
		if err != nil {
			return scanned{}, err
		}
		sc.scans = n
	}
	return sc, nil
}

// cloned reports whether the count of scanners suggests a copied label
// (the thresholds are traceability's).
func (sc scanned) cloned() bool {
	return traceability.Suspicious(sc.entry.rec.Lot, sc.serial, sc.scans)
}

// Page answers GET and HEAD on /t/{lot} and the Digital Link paths: the
// trace page, its JSON (Accept: application/json), and on a Digital Link
// what GS1-Conformant Resolver 1.2 asks of a resolver: the linkset
// (?linkType=linkset or all, or Accept: application/linkset+json), a 307
// to the link of a requested ?linkType, 404 for a link type the item does
// not have, CORS and the Link header to the linkset.
//
// A scan counts only when the page or its JSON is shown to a GET: a
// linkset, a redirect (the target page counts it) and a HEAD do not.
func (h *Handlers) Page(c *gin.Context) {
	path := c.Request.URL.EscapedPath()
	if strings.HasPrefix(path, "/01/") {
		path = strings.TrimSuffix(path, "/") // tolerated on a Digital Link
	}
	ref, err := traceability.ParseTracePath(path)
	h.page(c, ref, err)
}

// Unrouted answers a path under /01/ that no Digital Link route has: a
// GTIN alone (a Digital Link, but Terroir resolves lots and units, not
// products) is 404; anything else does not parse as a Digital Link and is
// 400, both with CORS.
func (h *Handlers) Unrouted(c *gin.Context) {
	if c.Request.Method == http.MethodOptions {
		h.Options(c)
		return
	}
	segs := strings.Split(strings.Trim(c.Request.URL.EscapedPath(), "/"), "/")
	if len(segs) == 2 {
		if _, err := traceability.NormalizeGTIN(segs[1]); err == nil {
			allowCORS(c)
			h.problemPage(c, http.StatusNotFound, "unknown")
			return
		}
	}
	h.Page(c)
}

func (h *Handlers) page(c *gin.Context, ref traceability.TraceRef, err error) {
	digitalLink := err == nil && ref.GTIN != ""
	if digitalLink || strings.HasPrefix(c.Request.URL.Path, "/01/") {
		allowCORS(c)
	}
	if err != nil {
		h.problemPage(c, http.StatusBadRequest, "malformed")
		return
	}
	wantsJSON := strings.Contains(c.GetHeader("Accept"), "application/json")
	linkType := c.Query("linkType")
	asLinkset := digitalLink && (linkType == "linkset" || linkType == "all" || (linkType == "" && wantsLinkset(c.GetHeader("Accept"))))
	count := c.Request.Method == http.MethodGet && !asLinkset && (linkType == "" || !digitalLink)
	var who *traceability.Scanner
	if count {
		w := scannerOf(c)
		who = &w
	}
	sc, err := h.resolve(c.Request.Context(), ref, c.Query("s"), who)
	if digitalLink {
		h.digitalLinkHeaders(c, ref)
	}
	switch {
	case errors.Is(err, traceability.ErrLotNotFound) && (wantsJSON || asLinkset):
		page.Fail(c, errUnknownCode)
		return
	case errors.Is(err, traceability.ErrLotNotFound):
		h.problemPage(c, http.StatusNotFound, "unknown")
		return
	case err != nil:
		page.Fail(c, err)
		return
	}
	if asLinkset {
		h.linkset(c, sc.entry.rec.Lot, sc.ref)
		return
	}
	if digitalLink && linkType != "" {
		if !h.redirect(c, sc.entry.rec.Lot, sc.ref, linkType) {
			h.problemPage(c, http.StatusNotFound, "nolink")
		}
		return
	}
	if wantsJSON {
		h.writeJSON(c, sc)
		return
	}
	l := page.Locale(c)
	key := l.Code() + "|" + sc.state + "|" + sc.serial
	if sc.cloned() {
		// The warning names the live count: the page is kept in two
		// halves around it, and put together per count.
		plain, z := h.cache.clonedPage(sc.entry, key, sc.scans, template.HTMLEscapeString(l.T("tr_cloned", sc.scans)))
		switch {
		case z != nil && (plain == nil || page.AcceptsGzip(c.GetHeader("Accept-Encoding"))):
			writeGzippedHTML(c, z)
		case plain != nil:
			writeHTML(c, http.StatusOK, plain)
		default:
			h.render(c, sc, key)
		}
		return
	}
	if z := sc.entry.page(key); z != nil {
		writeGzippedHTML(c, z)
		return
	}
	h.render(c, sc, key)
}

// writeGzippedHTML answers with a page the cache kept gzipped.
func writeGzippedHTML(c *gin.Context, z []byte) {
	c.Header("Cache-Control", "private, max-age=60")
	c.Header("Vary", "Accept, Accept-Language, Cookie")
	page.WriteGzipped(c, http.StatusOK, "text/html; charset=utf-8", z)
}

func writeHTML(c *gin.Context, status int, b []byte) {
	// Private and short: the page shows a live authenticity verdict.
	c.Header("Cache-Control", "private, max-age=60")
	c.Header("Vary", "Accept, Accept-Language, Cookie")
	if c.Writer.Header().Get("Content-Encoding") != "" {
		c.Writer.Header().Add("Vary", "Accept-Encoding")
	}
	c.Data(status, "text/html; charset=utf-8", b)
}

// JSON answers GET /api/v1/trace/{code}?s=[&serial=]: the public JSON of
// API.md.
func (h *Handlers) JSON(c *gin.Context) {
	code := traceability.NormalizeLotCode(c.Param("code"))
	if code == "" || len(code) > 20 {
		page.Fail(c, problem.Field("code", "is not a lot code (GS1 AI 10: at most 20 characters)"))
		return
	}
	if !traceability.ValidLotCode(code) {
		page.Fail(c, errUnknownCode)
		return
	}
	e, err := h.entryOf(c.Request.Context(), code)
	if errors.Is(err, traceability.ErrLotNotFound) {
		err = errUnknownCode
	}
	if err != nil {
		page.Fail(c, err)
		return
	}
	serial := c.Query("serial")
	ref := traceability.RefOf(e.rec.Lot, serial)
	if serial != "" && ref.GTIN == "" {
		page.Fail(c, problem.Field("serial", "this lot has no unit serials"))
		return
	}
	who := scannerOf(c)
	sc, err := h.resolve(c.Request.Context(), ref, c.Query("s"), &who)
	if errors.Is(err, traceability.ErrLotNotFound) {
		err = errUnknownCode
	}
	if err != nil {
		page.Fail(c, err)
		return
	}
	h.writeJSON(c, sc)
}

// entryOf returns the cached trace record of a lot, building it (and the
// product as each language shows it) on a miss.
func (h *Handlers) entryOf(ctx context.Context, code string) (*entry, error) {
	return h.cache.get(ctx, code)
}

// fill reads a lot's record and names what its page shows (the cache
// calls it, one fill per lot at a time).
func (h *Handlers) fill(ctx context.Context, code string) (*entry, error) {
	rec, err := h.d.Records.Trace(ctx, code)
	if err != nil {
		return nil, err
	}
	return newEntry(rec, h.d.Now(), h.productsOf(ctx, rec.Lot), h.placesOf(ctx, rec)), nil
}

// placesOf names the places of a record's custody ("SIROUA-SAFRAN →
// TAROUDANNT" is two codes): a consumer reads names, not codes.
func (h *Handlers) placesOf(ctx context.Context, rec traceability.TraceRecord) map[string]string {
	if h.d.Places == nil {
		return nil
	}
	out := map[string]string{}
	for _, cu := range rec.Custody {
		for _, code := range strings.Split(cu.Place, custodyArrow) {
			if _, done := out[code]; !done {
				out[code] = h.names.place(ctx, h.d.Places, code)
			}
		}
	}
	return out
}

// custodyArrow joins the places of a shipment (traceability's events).
const custodyArrow = " → "

// custodyLines are the custody steps as the page shows them: places by
// name, and a lot's sales summed per shop into one line (the last sale's
// date) — a consumer reads where the jars went, and a lot of 250 jars does
// not list 250 sales.
func custodyLines(l *i18n.Locale, e *entry) []labelled[traceability.CustodyStep] {
	names := func(place string) []string {
		parts := strings.Split(place, custodyArrow)
		for i, p := range parts {
			if n := e.places[p]; n != "" {
				parts[i] = n
			}
		}
		return parts
	}
	var out []labelled[traceability.CustodyStep]
	sold := map[string]int{} // place → index in out
	for _, cu := range e.rec.Custody {
		if cu.Event == traceability.EventSold {
			if i, ok := sold[cu.Place]; ok {
				out[i].Line.Quantity += cu.Quantity
				out[i].Line.Date = cu.Date
				continue
			}
			sold[cu.Place] = len(out)
		}
		step := cu
		places := names(cu.Place)
		step.Place = strings.Join(places, custodyArrow)
		out = append(out, labelled[traceability.CustodyStep]{Line: step, Label: l.Term("event", cu.Event), Places: places})
	}
	for i := range out {
		out[i].Amount = l.Quantity(out[i].Line.Quantity, e.rec.Lot.Unit)
	}
	return out
}

// Answer is the public JSON of GET /api/v1/trace/{code}, named so that
// web/api's OpenAPI document is generated from it.
type Answer = answer

// answer is the public JSON of API.md.
type answer struct {
	Code        string                     `json:"code"`
	Serial      string                     `json:"serial,omitempty"`
	Authentic   bool                       `json:"authentic"`
	State       string                     `json:"state"`
	Warning     string                     `json:"warning,omitempty"`
	Product     product                    `json:"product"`
	Cooperative cooperative                `json:"cooperative"`
	Origin      []traceability.TraceOrigin `json:"origin"`
	Producers   int                        `json:"producers"`
	Women       int                        `json:"women"`
	Process     []traceability.TraceStep   `json:"process"`
	Claims      []traceability.ClaimStatus `json:"claims"`
	Quality     *traceability.Quality      `json:"quality"` // ISO 3632 (issue 18), null without a result
	Custody     []traceability.CustodyStep `json:"custody"`
	// Corrected marks a record corrected (the lot or one it was made from);
	// Corrections say which lot, when, and from what to what (issue 10).
	Corrected   bool                           `json:"corrected"`
	Corrections []traceability.TraceCorrection `json:"corrections"`
	Scans       int64                          `json:"scans"`
	URL         string                         `json:"url"`
}

type product struct {
	SKU         string `json:"sku,omitempty"`
	GTIN        string `json:"gtin,omitempty"`
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	NetQuantity string `json:"net_quantity,omitempty"`
	BestBefore  string `json:"best_before,omitempty"`
	Quantity    string `json:"quantity"`
	// Photo is the catalogue's picture of the product (its thumbnail).
	Photo *photo `json:"photo,omitempty"`
	// channels price the product: where it may be bought again, when in stock.
	channels []string
}

// photo is the product's thumbnail as the page shows it: small (the
// thumbnail the catalogue listing serves, drawn at half its width) and
// lazy, with its size written so nothing moves when it arrives.
type photo struct {
	URL  string `json:"url"`
	W, H int    `json:"-"`
}

// photoWidth is the width the trace page draws the product's picture at,
// in CSS pixels: beside the name on a 360 px phone.
const photoWidth = 96

type cooperative struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Commune  string `json:"commune"`
	Province string `json:"province"`
}

// productsOf is the lot's product as each language shows it, from one
// read of the catalogue.
func (h *Handlers) productsOf(ctx context.Context, l traceability.Lot) map[string]product {
	var names *catalog.Names
	var pic *photo
	var channels []string
	if l.SKU != "" && h.d.Products != nil {
		if prod, ok := h.names.product(ctx, h.d.Products, l.SKU); ok {
			names = &prod.Names
			if id := prod.Photo; catalog.ValidPhotoID(id) {
				w, ht := catalog.ThumbSize(catalog.PhotoSize(id))
				pic = &photo{URL: "/photos/" + id + ".jpg?size=thumb", W: photoWidth, H: max(1, ht*photoWidth/max(w, 1))}
			}
			for ch := range prod.Prices {
				channels = append(channels, ch)
			}
			slices.Sort(channels)
		}
	}
	out := map[string]product{}
	// Every language a trace page may be shown in, the partial catalogues'
	// too: a product named in none of them (Tamazight) is named by its
	// kind, in the language, rather than in French.
	for _, loc := range append(h.bundle.Languages(), h.bundle.Partial()...) {
		p := product{SKU: l.SKU, GTIN: l.GTIN, Kind: l.ProductKind, Name: loc.Kind(l.ProductKind),
			BestBefore: l.BestBefore, Quantity: loc.Quantity(l.Quantity, l.Unit), Photo: pic, channels: channels}
		if l.UnitSize > 0 {
			p.NetQuantity = loc.Quantity(l.UnitSize, l.UnitSizeOf)
		}
		if names != nil && (names.Has(loc.Code()) || !loc.Partial()) {
			p.Name = names.In(loc.Code())
		}
		out[loc.Code()] = p
	}
	return out
}

func (h *Handlers) writeJSON(c *gin.Context, sc scanned) {
	rec := sc.entry.rec
	l := rec.Lot
	a := answer{Code: l.Code, Serial: sc.serial, Authentic: sc.state == stateAuthentic, State: sc.state,
		Product:     sc.entry.products[i18n.Default],
		Cooperative: cooperative{rec.Cooperative.Code, rec.Cooperative.Name, rec.Cooperative.Commune, rec.Cooperative.Province},
		Origin:      nonNil(rec.Origin), Producers: rec.Producers, Women: rec.Women,
		Process: nonNil(rec.Steps), Claims: nonNil(rec.Claims), Quality: rec.Quality, Custody: nonNil(rec.Custody),
		Corrected: rec.Corrected, Corrections: nonNil(rec.Corrections),
		Scans: sc.scans, URL: h.d.Codes.PublicURL + sc.ref.CanonicalPath()}
	// The API speaks English: quantities in the API's symbols.
	a.Product.Quantity = traceability.FormatQuantity(l.Quantity, l.Unit)
	if l.UnitSize > 0 {
		a.Product.NetQuantity = traceability.FormatQuantity(l.UnitSize, l.UnitSizeOf)
	}
	en := h.bundle.Locale(i18n.Source)
	switch {
	case sc.state == stateCounterfeit:
		a.Warning = en.T("tr_counterfeit")
	case sc.state == stateUnverified:
		a.Warning = en.T("tr_unverified")
	case sc.cloned():
		a.Warning = en.T("tr_cloned", sc.scans)
	}
	c.Header("Cache-Control", "private, max-age=60")
	c.JSON(http.StatusOK, a)
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// view is what the trace template shows.
type view struct {
	page.Page
	Problem  string // malformed or unknown; empty for a found lot
	State    string
	Cloned   string
	Serial   string
	Product  product
	Rec      traceability.TraceRecord
	Who      who
	Buy      []buyLink
	Steps    []labelled[traceability.TraceStep]
	Claims   []labelled[traceability.ClaimStatus]
	Custody  []labelled[traceability.CustodyStep]
	Map      *mapView
	Report   string
	Category string // "Catégorie I (ISO 3632)" in the page's language, when the lot shows one
	// CorrectedLots are the lots of the record with a corrected event: their
	// steps are marked, and Corrections lists them.
	CorrectedLots map[string]bool
	Corrections   []labelled[traceability.TraceCorrection]
}

// labelled is a record's line with its vocabulary named in the language,
// and its quantity written in the language ("250 pièces", "300 غ").
type labelled[T any] struct {
	Line   T
	Label  string
	Amount string
	// Places are a custody step's places by name, in the order the units
	// went (a shipment has two): the page isolates each one and points the
	// arrow the page's way, so an Arabic page reads "from ← to".
	Places []string
}

// who is the "who made it" card: the cooperative, its place, the villages
// of the producers behind the lot, and how many women and men they are.
type who struct {
	Place     string // "Taliouine, Taroudannt"
	Villages  string // the producers' villages, in the language's list
	Producers string // "3 : 2 femmes et 1 homme"
}

// buyLink is a shop that has the product in stock, with its product page.
type buyLink struct {
	Name, City, URL, Price string
}

const reportAddress = "mailto:signalement@terroir.ma"

// problemPage shows the malformed (400) and unknown (404) pages, both with
// the counterfeit advice: the page a code Terroir did not issue answers.
func (h *Handlers) problemPage(c *gin.Context, status int, kind string) {
	l := page.Locale(c)
	v := &view{Page: h.d.Pages.PublicPage(c, l.T("tr_title_problem")), Problem: kind, Report: reportAddress}
	v.Styles = []string{"trace.css"}
	b, err := h.d.Pages.Bytes("trace/trace", v)
	if err != nil {
		page.Fail(c, err)
		return
	}
	writeHTML(c, status, b)
}

func (h *Handlers) render(c *gin.Context, sc scanned, cacheKey string) {
	l := page.Locale(c)
	rec := sc.entry.rec
	v := &view{State: sc.state, Serial: sc.serial, Rec: rec, Product: sc.entry.products[l.Code()], Report: reportAddress}
	v.Page = h.d.Pages.PublicPage(c, v.Product.Name+" · "+rec.Cooperative.Name)
	v.Styles = []string{"trace.css"}
	v.Who = whoMadeIt(l, rec)
	complete := true // every channel's links known: the page may be kept
	if sc.state != stateCounterfeit {
		// A copied label sells nothing: no link to buy, no claim to trust.
		v.Buy, complete = h.buyLinks(c.Request.Context(), l, v.Product)
		for _, cl := range rec.Claims {
			v.Claims = append(v.Claims, labelled[traceability.ClaimStatus]{Line: cl, Label: l.Term("status", cl.Status)})
		}
	}
	for _, st := range rec.Steps {
		v.Steps = append(v.Steps, labelled[traceability.TraceStep]{Line: st, Label: l.Term("step", st.Step), Amount: l.Quantity(st.Amount.Amount, st.Amount.Unit)})
	}
	v.Custody = custodyLines(l, sc.entry)
	for _, co := range rec.Corrections {
		if v.CorrectedLots == nil {
			v.CorrectedLots = map[string]bool{}
		}
		v.CorrectedLots[co.Lot] = true
		v.Corrections = append(v.Corrections, labelled[traceability.TraceCorrection]{Line: co, Label: l.Kind(co.ProductKind),
			Amount: l.Quantity(co.FromAmount.Amount, co.FromAmount.Unit) + " → " + l.Quantity(co.ToAmount.Amount, co.ToAmount.Unit)})
	}
	cloned := sc.cloned()
	if cloned {
		v.Cloned = clonedMark // put in place below, and at each serve of the kept halves
	}
	v.Map = parcelMap(rec.Origin, l, h.d.MapTiles)
	if _, ok := traceability.CategoryMention(rec.Quality); ok {
		v.Category = l.T("iso3632_category", rec.Quality.Category)
	}
	h.renders.Add(1)
	b, err := h.d.Pages.Bytes("trace/trace", v)
	if err != nil {
		page.Fail(c, err)
		return
	}
	switch {
	case !complete: // a shop's links missing: rendered again at the next scan
	case cloned:
		h.cache.setCloned(sc.entry, cacheKey, b) // kept with the mark, filled in at each serve
	default:
		// The bytes the cache keeps are the answer: gzipped once, not
		// again by the compression middleware.
		z := h.cache.setPage(sc.entry, cacheKey, b)
		if page.AcceptsGzip(c.GetHeader("Accept-Encoding")) {
			writeGzippedHTML(c, z)
			return
		}
	}
	if cloned {
		b = bytes.Replace(b, []byte(clonedMark), []byte(template.HTMLEscapeString(l.T("tr_cloned", sc.scans))), 1)
	}
	writeHTML(c, http.StatusOK, b)
}

// whoMadeIt says who is behind the lot: its cooperative's place, the
// villages of its producers and how many women and men they are, with the
// language's plurals ("2 femmes et 1 homme", "امرأتان ورجل واحد").
func whoMadeIt(l *i18n.Locale, rec traceability.TraceRecord) who {
	w := who{Place: rec.Cooperative.Commune}
	if p := rec.Cooperative.Province; p != "" && p != w.Place {
		w.Place = strings.TrimPrefix(w.Place+", "+p, ", ")
	}
	var villages []string
	for _, o := range rec.Origin {
		if o.Village != "" && !slices.Contains(villages, o.Village) {
			villages = append(villages, o.Village)
		}
	}
	w.Villages = strings.Join(villages, l.T("list_separator"))
	if rec.Producers > 0 {
		women, men := rec.Women, rec.Producers-rec.Women
		var split string
		switch {
		case men == 0:
			split = l.T("women_count", women)
		case women == 0:
			split = l.T("men_count", men)
		default:
			split = l.T("tr_women_and_men", l.T("women_count", women), l.T("men_count", men))
		}
		w.Producers = l.T("tr_producers_split", rec.Producers, split)
	}
	return w
}

// buyLinks are the shops that have the product in stock now, each with its
// product page in that shop's catalogue, from the channels' catalogues in
// memory (no database read). A cached page keeps them for the cache's TTL:
// a shop that has just sold its last jar may show a little longer, and its
// product page then says it is out of stock. complete is false when a
// channel's catalogue was not built yet (its build is started): its shop is
// missing from the links, and the page must not be kept.
func (h *Handlers) buyLinks(ctx context.Context, l *i18n.Locale, p product) (links []buyLink, complete bool) {
	if h.d.Channels == nil || p.SKU == "" {
		return nil, true
	}
	var out []buyLink
	complete = true
	for _, code := range p.channels {
		ch, ok := h.d.Channels.Ready(ctx, code)
		if !ok {
			complete = false
			continue
		}
		if ch == nil {
			continue // no such channel
		}
		it, ok := ch.Item(p.SKU)
		if !ok || it.AvailableUnits <= 0 {
			continue
		}
		sh := ch.Shop()
		out = append(out, buyLink{Name: sh.Name, City: sh.City, Price: l.Money(it.Price.Amount, it.Price.Currency),
			URL: "/shop/" + url.PathEscape(sh.Code) + "/" + url.PathEscape(p.SKU)})
	}
	return out, complete
}
