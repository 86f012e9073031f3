package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
)

// Authenticity of a scanned code.
const (
	stateAuthentic   = "authentic"   // the signature verifies
	stateUnverified  = "unverified"  // no signature (typed by hand)
	stateCounterfeit = "counterfeit" // a signature that does not verify
)

// traceRoutes registers the public trace page (/t/{lot}, GS1 Digital Link
// /01/{gtin}/10/{lot}[/21/{serial}]) and its JSON twin. They sit outside
// the session middleware: a scan reads no cookie and touches no session.
func (s *Server) traceRoutes(r *gin.Engine, api *gin.RouterGroup) {
	r.GET("/t/:lot", s.tracePage)
	r.GET("/01/:gtin/10/:lot", s.tracePage)
	r.GET("/01/:gtin/10/:lot/21/:serial", s.tracePage)
	api.GET("/trace/:code", s.traceJSON)
	api.GET("/cooperatives/:coop/scan-alerts", s.scanAlerts)
}

// scanned is a resolved scan: the lot's record, the unit and authenticity.
type scanned struct {
	entry  *traceEntry
	ref    traceability.TraceRef
	serial string
	state  string
	scans  int64
}

// resolve finds the lot behind a trace reference, checks the signature and
// counts the scan. Unknown lots, a GTIN that is not the lot's and serials
// the lot never had are ErrLotNotFound: for a consumer they are the same
// thing, a code Terroir did not issue.
func (s *Server) resolve(ctx context.Context, ref traceability.TraceRef, sig string) (scanned, error) {
	code := traceability.NormalizeLotCode(ref.Lot)
	if !traceability.ValidLotCode(code) {
		return scanned{}, traceability.ErrLotNotFound // a typo or a forgery: no lookup needed
	}
	e, err := s.traceEntry(ctx, code)
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
	case s.deps.Codes.Authentic(canon, sig):
		sc.state = stateAuthentic
	default:
		sc.state = stateCounterfeit
	}
	if sc.state == stateAuthentic {
		// Only genuine scans count: forged codes must not push a real
		// label over the cloned-label threshold.
		n, err := s.scans.Add(ctx, l, ref.Serial)
		if err != nil {
			return scanned{}, err
		}
		sc.scans = n
	}
	return sc, nil
}

// cloned reports whether the scan count suggests a copied label.
func (sc scanned) cloned() bool {
	l := sc.entry.rec.Lot
	if sc.serial != "" {
		return sc.scans > 10
	}
	return l.Source == traceability.SourcePacking && sc.scans > l.Quantity*3+20
}

func (s *Server) tracePage(c *gin.Context) {
	ref, err := traceability.ParseTracePath(c.Request.URL.EscapedPath())
	if err != nil {
		s.traceProblem(c, http.StatusBadRequest, "malformed")
		return
	}
	wantsJSON := strings.Contains(c.GetHeader("Accept"), "application/json")
	sc, err := s.resolve(c.Request.Context(), ref, c.Query("s"))
	switch {
	case errors.Is(err, traceability.ErrLotNotFound):
		if wantsJSON {
			fail(c, problem.New(problem.NotFound, "unknown code: this product was not registered by a Terroir cooperative"))
			return
		}
		s.traceProblem(c, http.StatusNotFound, "unknown")
		return
	case err != nil:
		s.renderFailure(c, err)
		return
	}
	if c.Query("linkType") == "all" && ref.GTIN != "" {
		s.linkset(c, sc.entry.rec.Lot, sc.ref)
		return
	}
	if wantsJSON {
		s.writeTraceJSON(c, sc)
		return
	}
	lang := s.traceLanguage(c)
	key := lang + "|" + sc.state + "|" + sc.serial
	if sc.cloned() {
		s.renderTrace(c, sc, lang, "") // the warning names the live count: never cached
		return
	}
	if b := sc.entry.page(key); b != nil {
		writeTraceHTML(c, http.StatusOK, b)
		return
	}
	s.renderTrace(c, sc, lang, key)
}

func writeTraceHTML(c *gin.Context, status int, b []byte) {
	// Private and short: the page shows a live authenticity verdict.
	c.Header("Cache-Control", "private, max-age=60")
	c.Header("Vary", "Accept-Language, Cookie")
	c.Data(status, "text/html; charset=utf-8", b)
}

// traceLanguage is the page language for a scan: ?lang= (remembered),
// the cookie, then Accept-Language. It is the language middleware without
// the session lookup that the other pages do.
func (s *Server) traceLanguage(c *gin.Context) string {
	if q := c.Query("lang"); isLanguage(q) {
		s.setCookie(c, langCookie, q, 365*24*3600)
		return q
	}
	if v, err := c.Cookie(langCookie); err == nil && isLanguage(v) {
		return v
	}
	return fromAcceptLanguage(c.GetHeader("Accept-Language"))
}

func (s *Server) traceJSON(c *gin.Context) {
	code := traceability.NormalizeLotCode(c.Param("code"))
	if code == "" || len(code) > 20 {
		fail(c, problem.Field("code", "is not a lot code (GS1 AI 10: at most 20 characters)"))
		return
	}
	if !traceability.ValidLotCode(code) {
		fail(c, problem.New(problem.NotFound, "unknown code: this product was not registered by a Terroir cooperative"))
		return
	}
	l, err := s.lotForTrace(c.Request.Context(), code)
	if err != nil {
		fail(c, err)
		return
	}
	serial := c.Query("serial")
	ref := traceability.RefOf(l, serial)
	if serial != "" && ref.GTIN == "" {
		fail(c, problem.Field("serial", "this lot has no unit serials"))
		return
	}
	sc, err := s.resolve(c.Request.Context(), ref, c.Query("s"))
	if err != nil {
		if errors.Is(err, traceability.ErrLotNotFound) {
			err = problem.New(problem.NotFound, "unknown code: this product was not registered by a Terroir cooperative")
		}
		fail(c, err)
		return
	}
	s.writeTraceJSON(c, sc)
}

// lotForTrace reads the lot (from the cache when it is there).
func (s *Server) lotForTrace(ctx context.Context, code string) (traceability.Lot, error) {
	e, err := s.traceEntry(ctx, code)
	if err != nil {
		return traceability.Lot{}, err
	}
	return e.rec.Lot, nil
}

// traceEntry returns the cached trace record of a lot, building it (and the
// product as each language shows it) on a miss.
func (s *Server) traceEntry(ctx context.Context, code string) (*traceEntry, error) {
	if e := s.traces.get(code); e != nil {
		return e, nil
	}
	rec, err := s.deps.Traceability.Trace(ctx, code)
	if err != nil {
		return nil, err
	}
	return s.traces.put(code, rec, s.productsOf(ctx, rec.Lot)), nil
}

// traceAnswer is the public JSON of API.md.
type traceAnswer struct {
	Code        string                     `json:"code"`
	Serial      string                     `json:"serial,omitempty"`
	Authentic   bool                       `json:"authentic"`
	State       string                     `json:"state"`
	Warning     string                     `json:"warning,omitempty"`
	Product     traceProduct               `json:"product"`
	Cooperative traceCooperative           `json:"cooperative"`
	Origin      []traceability.TraceOrigin `json:"origin"`
	Producers   int                        `json:"producers"`
	Women       int                        `json:"women"`
	Process     []traceability.TraceStep   `json:"process"`
	Claims      []traceability.ClaimStatus `json:"claims"`
	Custody     []traceability.CustodyStep `json:"custody"`
	Scans       int64                      `json:"scans"`
	URL         string                     `json:"url"`
}

type traceProduct struct {
	SKU         string `json:"sku,omitempty"`
	GTIN        string `json:"gtin,omitempty"`
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	NetQuantity string `json:"net_quantity,omitempty"`
	BestBefore  string `json:"best_before,omitempty"`
	Quantity    string `json:"quantity"`
}

type traceCooperative struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Commune  string `json:"commune"`
	Province string `json:"province"`
}

// productsOf is the lot's product as each language shows it, from one
// read of the catalogue.
func (s *Server) productsOf(ctx context.Context, l traceability.Lot) map[string]traceProduct {
	var names *catalog.Names
	if l.SKU != "" && s.deps.Catalog != nil {
		if prod, err := s.deps.Catalog.Product(ctx, l.SKU); err == nil {
			names = &prod.Names
		}
	}
	out := make(map[string]traceProduct, len(languages))
	for _, lang := range languages {
		p := traceProduct{SKU: l.SKU, GTIN: l.GTIN, Kind: l.ProductKind, Name: kindName(l.ProductKind, lang),
			BestBefore: l.BestBefore, Quantity: traceability.FormatQuantity(l.Quantity, l.Unit)}
		if l.UnitSize > 0 {
			p.NetQuantity = traceability.FormatQuantity(l.UnitSize, l.UnitSizeOf)
		}
		if names != nil {
			p.Name = names.In(lang)
		}
		out[lang] = p
	}
	return out
}

func (s *Server) writeTraceJSON(c *gin.Context, sc scanned) {
	rec := sc.entry.rec
	l := rec.Lot
	a := traceAnswer{Code: l.Code, Serial: sc.serial, Authentic: sc.state == stateAuthentic, State: sc.state,
		Product:     sc.entry.products["fr"],
		Cooperative: traceCooperative{rec.Cooperative.Code, rec.Cooperative.Name, rec.Cooperative.Commune, rec.Cooperative.Province},
		Origin:      nonNilSlice(rec.Origin), Producers: rec.Producers, Women: rec.Women,
		Process: nonNilSlice(rec.Steps), Claims: nonNilSlice(rec.Claims), Custody: nonNilSlice(rec.Custody),
		Scans: sc.scans, URL: s.deps.Codes.PublicURL + sc.ref.CanonicalPath()}
	switch {
	case sc.state == stateCounterfeit:
		a.Warning = messages["en"]["tr_counterfeit"]
	case sc.state == stateUnverified:
		a.Warning = messages["en"]["tr_unverified"]
	case sc.cloned():
		a.Warning = fmt.Sprintf(messages["en"]["tr_cloned"], sc.scans)
	}
	c.Header("Cache-Control", "private, max-age=60")
	c.JSON(http.StatusOK, a)
}

func nonNilSlice[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// traceProblem shows the malformed (400) and unknown (404) pages, both with
// the counterfeit advice.
func (s *Server) traceProblem(c *gin.Context, status int, kind string) {
	lang := s.traceLanguage(c)
	v := s.traceView(c, lang)
	v.Problem = kind
	var buf bytes.Buffer
	if err := s.pages["trace"].ExecuteTemplate(&buf, "trace", v); err != nil {
		s.renderFailure(c, err)
		return
	}
	writeTraceHTML(c, status, buf.Bytes())
}

// traceView is what the trace template shows.
type traceView struct {
	T         map[string]string
	Lang, Dir string
	Languages []langLink
	Version   string
	Problem   string // malformed or unknown; empty for a found lot
	State     string
	Cloned    string
	Serial    string
	Product   traceProduct
	Rec       traceability.TraceRecord
	Steps     []stepView
	Claims    []claimView
	Custody   []custodyView
	Map       *mapView
	Report    string
}

type stepView struct {
	traceability.TraceStep
	Label string
}

type claimView struct {
	traceability.ClaimStatus
	Label string
}

type custodyView struct {
	traceability.CustodyStep
	Label string
}

func (s *Server) traceView(c *gin.Context, lang string) *traceView {
	t := messages[lang]
	var links []langLink
	for _, l := range languages {
		q := c.Request.URL.Query()
		q.Set("lang", l)
		links = append(links, langLink{Code: l, Name: messages[l]["lang_name"], URL: c.Request.URL.EscapedPath() + "?" + q.Encode(), Current: l == lang})
	}
	return &traceView{T: t, Lang: lang, Dir: t["dir"], Languages: links, Version: s.cfg.Version, Report: "mailto:signalement@terroir.ma"}
}

func (s *Server) renderTrace(c *gin.Context, sc scanned, lang, cacheKey string) {
	v := s.traceView(c, lang)
	rec := sc.entry.rec
	v.State, v.Serial, v.Rec = sc.state, sc.serial, rec
	v.Product = sc.entry.products[lang]
	for _, st := range rec.Steps {
		label := v.T["tr_step_"+st.Step]
		if label == "" {
			label = st.Step
		}
		v.Steps = append(v.Steps, stepView{st, label})
	}
	for _, cl := range rec.Claims {
		v.Claims = append(v.Claims, claimView{cl, v.T["tr_status_"+cl.Status]})
	}
	for _, cu := range rec.Custody {
		label := v.T["tr_event_"+cu.Event]
		if label == "" {
			label = cu.Event
		}
		v.Custody = append(v.Custody, custodyView{cu, label})
	}
	if sc.cloned() {
		v.Cloned = fmt.Sprintf(v.T["tr_cloned"], sc.scans)
	}
	v.Map = parcelMap(rec.Origin)
	var buf bytes.Buffer
	if err := s.pages["trace"].ExecuteTemplate(&buf, "trace", v); err != nil {
		s.renderFailure(c, err)
		return
	}
	if cacheKey != "" {
		sc.entry.setPage(cacheKey, buf.Bytes())
	}
	writeTraceHTML(c, http.StatusOK, buf.Bytes())
}

// kindName names a product kind for people; unknown kinds show as they are.
func kindName(kind, lang string) string {
	if n := messages[lang]["kind_"+kind]; n != "" {
		return n
	}
	return kind
}

// mapView is a small map of the origin parcels: one OpenStreetMap tile and
// a marker per parcel, drawn as SVG (no script; the tile is the only
// external request and the page works without it).
type mapView struct {
	TileURL string
	Markers []marker
	OSMLink string
}

type marker struct{ X, Y float64 }

// parcelMap picks the highest zoom (up to 14) at which every parcel falls in
// one 256-pixel tile.
func parcelMap(origin []traceability.TraceOrigin) *mapView {
	var pts [][2]float64
	for _, o := range origin {
		if o.Lon != 0 || o.Lat != 0 {
			pts = append(pts, [2]float64{o.Lon, o.Lat})
		}
	}
	if len(pts) == 0 {
		return nil
	}
	for z := 14; z >= 4; z-- {
		tx, ty := -1, -1
		fits := true
		var ms []marker
		for _, p := range pts {
			x, y := mercator(p[0], p[1], z)
			ix, iy := int(math.Floor(x)), int(math.Floor(y))
			if tx == -1 {
				tx, ty = ix, iy
			}
			if ix != tx || iy != ty {
				fits = false
				break
			}
			ms = append(ms, marker{X: math.Round((x-float64(ix))*2560) / 10, Y: math.Round((y-float64(iy))*2560) / 10})
		}
		if fits || z == 4 {
			lon, lat := pts[0][0], pts[0][1]
			return &mapView{
				TileURL: fmt.Sprintf("https://tile.openstreetmap.org/%d/%d/%d.png", z, tx, ty),
				Markers: ms,
				OSMLink: fmt.Sprintf("https://www.openstreetmap.org/?mlat=%.5f&mlon=%.5f#map=%d/%.5f/%.5f", lat, lon, z, lat, lon),
			}
		}
	}
	return nil
}

// mercator returns tile coordinates (fractional) of a point at zoom z.
func mercator(lon, lat float64, z int) (x, y float64) {
	n := math.Exp2(float64(z))
	x = (lon + 180) / 360 * n
	r := lat * math.Pi / 180
	y = (1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n
	return x, y
}

func (s *Server) scanAlerts(c *gin.Context) {
	alerts, err := s.deps.Traceability.ScanAlerts(c.Request.Context(), actorOf(c), c.Param("coop"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(alerts))
}
