package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/labels"
	"github.com/terroir-coop/terroir/web/page"
)

// intQuery reads an optional integer query parameter within [min, max].
func intQuery(c *gin.Context, name string, def, min, max int) (int, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, problem.Field(name, "must be a whole number from %d to %d", min, max)
	}
	return n, nil
}

// LotQR answers GET /api/v1/lots/{code}/qr.png: the signed trace URL of the
// lot, or of one of its units with ?serial=, as a PNG.
func (h *Handlers) LotQR(c *gin.Context) {
	l, err := h.d.Records.Lot(c.Request.Context(), page.Actor(c), c.Param("code"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	size, err := intQuery(c, "size", 256, 64, 2048)
	if err != nil {
		page.Fail(c, err)
		return
	}
	level, err := labels.ParseLevel(c.Query("level"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	serial := c.Query("serial")
	if serial != "" && !l.HasSerial(serial) {
		if !l.Serials {
			page.Fail(c, problem.Field("serial", "lot %s was packed without per-unit serials", l.Code))
		} else {
			page.Fail(c, problem.Field("serial", "lot %s has serials %s to %s", l.Code, l.SerialOf(1), l.SerialOf(l.Quantity)))
		}
		return
	}
	img, err := labels.PNG(h.d.Codes.URL(traceability.RefOf(l, serial)), size, level)
	if err != nil {
		page.Fail(c, err)
		return
	}
	// The image depends on the lot and the signing key only; a browser may
	// keep it, a shared cache must not (it is behind authentication).
	c.Header("Cache-Control", "private, max-age=3600")
	c.Data(http.StatusOK, "image/png", img)
}

// netLabel is the net-quantity mention of a packed unit.
func netLabel(l *i18n.Locale, amount int64, unit traceability.Unit) string {
	q := l.Quantity(amount, unit)
	switch unit {
	case traceability.Milligram:
		return l.T("label.net_mass", q)
	case traceability.Millilitre:
		return l.T("label.net_volume", q)
	}
	return l.T("label.net_count", q)
}

// maxLabels bounds one request: 1000 labels are 42 sheets of 3x8.
const maxLabels = 1000

// LotLabels answers GET /api/v1/lots/{code}/labels.pdf: an A4 sheet (or
// several) of labels for the lot, one per unit of a packed lot (?count=
// to print fewer or, for lots of more than 1000 units, in batches with
// ?from= the first serial), one for a bulk lot unless ?count= says more.
// Printing labels is an act of the cooperative: its manager and admins,
// not auditors.
func (h *Handlers) LotLabels(c *gin.Context) {
	ctx := c.Request.Context()
	actor := page.Actor(c)
	l, err := h.d.Records.Lot(ctx, actor, c.Param("code"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	if err := actor.ManageCoop(l.Cooperative); err != nil {
		page.Fail(c, err)
		return
	}
	grid, err := labels.GridOf(c.Query("grid"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	first := 1
	if l.Serials {
		if first, err = intQuery(c, "from", 1, 1, int(min(l.Quantity, math.MaxInt32))); err != nil {
			page.Fail(c, err)
			return
		}
	}
	def := 1
	if l.Source == traceability.SourcePacking {
		def = int(min(l.Quantity-int64(first)+1, maxLabels))
	}
	count, err := intQuery(c, "count", def, 1, maxLabels)
	if err != nil {
		page.Fail(c, err)
		return
	}
	if l.Serials && int64(first+count-1) > l.Quantity {
		page.Fail(c, problem.Field("count", "lot %s has serials up to %s; from %d, at most %d labels", l.Code, l.SerialOf(l.Quantity), first, l.Quantity-int64(first)+1))
		return
	}

	// Labels are printed in French (labels.WriteSheet says why).
	fr := h.d.Bundle.Locale("fr")
	base := labels.Label{Lot: l.Code, BestBefore: l.BestBefore, Product: fr.Kind(l.ProductKind),
		NetQuantity: fr.T("label.lot_quantity", fr.Quantity(l.Quantity, l.Unit))}
	if l.Source == traceability.SourcePacking {
		base.NetQuantity = netLabel(fr, l.UnitSize, l.UnitSizeOf)
		if p, err := h.d.Catalog.Product(ctx, l.SKU); err == nil && p.Names.FR != "" {
			base.Product = p.Names.FR
		} else if err != nil && problem.CodeOf(err) != problem.NotFound {
			page.Fail(c, err)
			return
		}
	}
	coop, err := h.d.Network.CooperativeName(ctx, l.Cooperative)
	if err != nil {
		page.Fail(c, err)
		return
	}
	base.Cooperative = coop.Name
	claims, err := h.d.Records.ClaimStatuses(ctx, l)
	if err != nil {
		page.Fail(c, err)
		return
	}
	for _, cl := range claims {
		// Only a certificate valid today may be printed: a suspended or
		// withdrawn one must not reach new jars.
		if cl.Status == traceability.StatusValid {
			name := cl.Scheme
			if fr.Has("scheme_badge." + cl.Scheme) {
				name = fr.T("scheme_badge." + cl.Scheme)
			}
			base.Marks = append(base.Marks, labels.Mark{Name: name, BodyCode: cl.BodyCode})
		}
	}
	// The ISO 3632 category only when the lot shows one; asking for a
	// category the lot cannot back (?category=I) is refused (409).
	if err := traceability.CheckCategoryClaim(l.Code, l.Quality, c.Query("category")); err != nil {
		page.Fail(c, err)
		return
	}
	if mention, ok := traceability.CategoryMention(l.Quality); ok {
		base.Category = mention
	}
	sheet := make([]labels.Label, count)
	for i := range sheet {
		sheet[i] = base
		serial := ""
		if l.Serials {
			serial = l.SerialOf(int64(first + i))
			sheet[i].Serial = serial
		}
		sheet[i].URL = h.d.Codes.URL(traceability.RefOf(l, serial))
	}
	var buf bytes.Buffer
	if err := labels.WriteSheet(&buf, grid, sheet, labels.SheetOptions{Title: fr.T("label.sheet_title", l.Code), Created: h.d.Now(), Compress: true, Text: fr}); err != nil {
		page.Fail(c, err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="labels-%s.pdf"`, strings.Map(safeFileRune, l.Code)))
	c.Data(http.StatusOK, "application/pdf", buf.Bytes())
}

func safeFileRune(r rune) rune {
	if r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '-' || r == '_' {
		return r
	}
	return '_'
}

// SeasonEPCIS answers GET /api/v1/cooperatives/{coop}/epcis?season=YYYY:
// the EPCIS 2.0 JSON-LD document of every event of the cooperative's lots
// made in the season (the auditor's file), in the lot exports' content
// type; the season defaults to the current one.
func (h *Handlers) SeasonEPCIS(c *gin.Context) {
	season, err := h.seasonOf(c)
	if err != nil {
		page.Fail(c, err)
		return
	}
	doc, err := h.d.Records.SeasonEPCIS(c.Request.Context(), page.Actor(c), c.Param("coop"), season, h.d.Codes)
	if err != nil {
		page.Fail(c, err)
		return
	}
	b, err := json.Marshal(doc)
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="epcis-%s-%d.jsonld"`, strings.Map(safeFileRune, c.Param("coop")), season))
	c.Data(http.StatusOK, "application/ld+json", b)
}

// LotEPCIS answers GET /api/v1/lots/{code}/epcis: the EPCIS 2.0 JSON-LD
// document of the lot's history (traceability/epcis.go has the mapping),
// for the cooperative, auditors in scope and admins.
func (h *Handlers) LotEPCIS(c *gin.Context) {
	doc, err := h.d.Records.EPCIS(c.Request.Context(), page.Actor(c), c.Param("code"), h.d.Codes)
	if err != nil {
		page.Fail(c, err)
		return
	}
	b, err := json.Marshal(doc)
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="epcis-%s.jsonld"`, strings.Map(safeFileRune, c.Param("code"))))
	c.Data(http.StatusOK, "application/ld+json", b)
}
