package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/page"
)

type originLotRequest struct {
	ProductKind string   `json:"product_kind"`
	Harvests    []string `json:"harvests"`
}

// CreateLot answers POST /api/v1/cooperatives/{coop}/lots: a lot from
// harvests.
func (h *Handlers) CreateLot(c *gin.Context) {
	var req originLotRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	l, err := h.d.Records.CreateOriginLot(c.Request.Context(), page.Actor(c), c.Param("coop"),
		traceability.NewOriginLot{ProductKind: req.ProductKind, Harvests: req.Harvests})
	if err != nil {
		page.Fail(c, err)
		return
	}
	h.respondLot(c, http.StatusCreated, l)
}

type transformationRequest struct {
	Process string `json:"process"`
	Inputs  []struct {
		Lot      string                `json:"lot"`
		Quantity traceability.Quantity `json:"quantity"`
	} `json:"inputs"`
	Outputs []struct {
		ProductKind string                `json:"product_kind"`
		Quantity    traceability.Quantity `json:"quantity"`
	} `json:"outputs"`
	Note string `json:"note"`
}

// CreateTransformation answers POST /api/v1/cooperatives/{coop}/transformations.
func (h *Handlers) CreateTransformation(c *gin.Context) {
	var req transformationRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	t := traceability.NewTransformation{Process: req.Process, Note: req.Note}
	for _, in := range req.Inputs {
		t.Inputs = append(t.Inputs, traceability.LotInput{Lot: in.Lot, Quantity: in.Quantity})
	}
	for _, out := range req.Outputs {
		t.Outputs = append(t.Outputs, traceability.LotOutput{ProductKind: out.ProductKind, Quantity: out.Quantity})
	}
	lots, err := h.d.Records.Transform(c.Request.Context(), page.Actor(c), c.Param("coop"), t)
	if err != nil {
		page.Fail(c, err)
		return
	}
	views := make([]lotView, 0, len(lots))
	for _, l := range lots {
		v, err := h.lotView(c, l)
		if err != nil {
			page.Fail(c, err)
			return
		}
		views = append(views, v)
	}
	c.JSON(http.StatusCreated, gin.H{"outputs": views})
}

type packingRequest struct {
	Lot        string `json:"lot"`
	SKU        string `json:"sku"`
	Units      int64  `json:"units"`
	BestBefore string `json:"best_before"`
	Serials    bool   `json:"serials"`
}

// CreatePacking answers POST /api/v1/cooperatives/{coop}/packings: a lot
// packed into units of a catalogue product.
func (h *Handlers) CreatePacking(c *gin.Context) {
	var req packingRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	// Access first: who may not pack for this cooperative is refused as
	// such, and learns nothing of the catalogue.
	if err := page.Actor(c).ManageCoop(id.NormalizeCode(c.Param("coop"))); err != nil {
		page.Fail(c, err)
		return
	}
	if req.SKU == "" {
		page.Fail(c, problem.Field("sku", "is required"))
		return
	}
	p, err := h.d.Catalog.Product(c.Request.Context(), req.SKU)
	if err != nil {
		if problem.CodeOf(err) == problem.NotFound {
			err = problem.Field("sku", "no product %s in the catalogue", req.SKU)
		}
		page.Fail(c, err)
		return
	}
	l, err := h.d.Records.Pack(c.Request.Context(), page.Actor(c), c.Param("coop"), traceability.NewPacking{
		Lot: req.Lot, Units: req.Units, BestBefore: req.BestBefore, Product: p.Packed(), Serials: req.Serials,
	})
	if err != nil {
		page.Fail(c, err)
		return
	}
	h.respondLot(c, http.StatusCreated, l)
}

// lotView is a lot as the API shows it: quantities in the API's shape and
// claims with their certificate's status today.
type lotView struct {
	traceability.Lot
	Quantity  quantity                   `json:"quantity"` // as made plus its corrections (CurrentQuantity)
	Available quantity                   `json:"available"`
	UnitSize  *quantity                  `json:"unit_size,omitempty"`
	Claims    []traceability.ClaimStatus `json:"claims"`
	OpenFlags int                        `json:"open_flags"`
	// Corrections is the signed net of the lot's corrected events; Corrected
	// says whether there was any.
	Corrections quantity `json:"corrections"`
	Corrected   bool     `json:"corrected"`
}

func (h *Handlers) lotView(c *gin.Context, l traceability.Lot) (lotView, error) {
	claims, err := h.d.Records.ClaimStatuses(c.Request.Context(), l)
	if err != nil {
		return lotView{}, err
	}
	v := lotView{Lot: l, Quantity: quantity{l.CurrentQuantity(), l.Unit}, Available: quantity{l.Available, l.Unit},
		Claims: claims, OpenFlags: l.OpenFlags(), Corrections: quantity{l.Corrections, l.Unit}, Corrected: l.Corrected()}
	if l.UnitSize > 0 {
		v.UnitSize = &quantity{l.UnitSize, l.UnitSizeOf}
	}
	if v.Origin == nil {
		v.Origin = []traceability.OriginLine{}
	}
	return v, nil
}

func (h *Handlers) respondLot(c *gin.Context, status int, l traceability.Lot) {
	v, err := h.lotView(c, l)
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(status, v)
}

// GetLot answers GET /api/v1/lots/{code}.
func (h *Handlers) GetLot(c *gin.Context) {
	l, err := h.d.Records.Lot(c.Request.Context(), page.Actor(c), c.Param("code"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	h.respondLot(c, http.StatusOK, l)
}

// lotSummary is a lot in a list: no events or origin lines.
type lotSummary struct {
	Code        string    `json:"code"`
	ProductKind string    `json:"product_kind"`
	Source      string    `json:"source"`
	Quantity    quantity  `json:"quantity"`
	Available   quantity  `json:"available"`
	SKU         string    `json:"sku,omitempty"`
	BestBefore  string    `json:"best_before,omitempty"`
	OpenFlags   int       `json:"open_flags"`
	CreatedAt   time.Time `json:"created_at"`
}

// ListLots answers GET /api/v1/cooperatives/{coop}/lots.
func (h *Handlers) ListLots(c *gin.Context) {
	lots, err := h.d.Records.Lots(c.Request.Context(), page.Actor(c), c.Param("coop"), pageOf(c))
	if err != nil {
		page.Fail(c, err)
		return
	}
	out := make([]lotSummary, 0, len(lots))
	for _, l := range lots {
		out = append(out, lotSummary{Code: l.Code, ProductKind: l.ProductKind, Source: l.Source, Quantity: quantity{l.CurrentQuantity(), l.Unit},
			Available: quantity{l.Available, l.Unit}, SKU: l.SKU, BestBefore: l.BestBefore, OpenFlags: l.OpenFlags(), CreatedAt: l.CreatedAt})
	}
	c.JSON(http.StatusOK, out)
}

// correctionRequest is the body of a lot's or a harvest's correction: the
// true quantity and why the record was wrong.
type correctionRequest struct {
	Quantity traceability.Quantity `json:"quantity"`
	Reason   string                `json:"reason"`
}

// lotCorrection is the answer to a lot correction: the corrected event
// (its quantity the signed difference) and the lot after it.
type lotCorrection struct {
	Correction correctionEvent `json:"correction"`
	Lot        lotView         `json:"lot"`
}

// correctionEvent is a corrected event in the API's quantity shape.
type correctionEvent struct {
	Lot    string    `json:"lot"`
	Seq    int64     `json:"seq"`
	Delta  quantity  `json:"delta"`
	From   quantity  `json:"from"`
	To     quantity  `json:"to"`
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Hash   string    `json:"hash"`
}

// CorrectLot answers POST /api/v1/lots/{code}/corrections: a corrected
// event with its reason, never an edit (201); 400 naming quantity or
// reason; 409 with the lots and shops that depend on the lot in details.
func (h *Handlers) CorrectLot(c *gin.Context) {
	var req correctionRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	l, err := h.d.Records.CorrectLot(c.Request.Context(), page.Actor(c), c.Param("code"), req.Quantity, req.Reason)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v, err := h.lotView(c, l)
	if err != nil {
		page.Fail(c, err)
		return
	}
	e := l.Events[len(l.Events)-1]
	to := l.CurrentQuantity()
	c.JSON(http.StatusCreated, lotCorrection{Lot: v, Correction: correctionEvent{Lot: l.Code, Seq: e.Seq, Delta: quantity{e.Quantity, l.Unit},
		From: quantity{to - e.Quantity, l.Unit}, To: quantity{to, l.Unit}, Reason: e.Note, By: e.Actor, At: e.At, Hash: e.Hash}})
}

type justificationRequest struct {
	Justification string `json:"justification"`
}

// JustifyFlag answers POST /api/v1/lots/{code}/flags/{flag}/justification.
func (h *Handlers) JustifyFlag(c *gin.Context) {
	var req justificationRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	l, err := h.d.Records.JustifyFlag(c.Request.Context(), page.Actor(c), c.Param("code"), c.Param("flag"), req.Justification)
	if err != nil {
		page.Fail(c, err)
		return
	}
	h.respondLot(c, http.StatusOK, l)
}

// ListFlags answers GET /api/v1/cooperatives/{coop}/flags.
func (h *Handlers) ListFlags(c *gin.Context) {
	fl, err := h.d.Records.Flags(c.Request.Context(), page.Actor(c), c.Param("coop"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, fl)
}

func (h *Handlers) seasonOf(c *gin.Context) (int, error) {
	if v := c.Query("season"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil || y < 2000 || y > 2100 {
			return 0, problem.Field("season", "must be a year such as 2026 (the season from 1 September)")
		}
		return y, nil
	}
	return h.d.Records.CurrentSeason(), nil
}

// MassBalance answers GET /api/v1/cooperatives/{coop}/mass-balance: JSON,
// or CSV with ?format=csv (for auditors' spreadsheets).
func (h *Handlers) MassBalance(c *gin.Context) {
	season, err := h.seasonOf(c)
	if err != nil {
		page.Fail(c, err)
		return
	}
	rows, err := h.d.Records.MassBalance(c.Request.Context(), page.Actor(c), c.Param("coop"), season)
	if err != nil {
		page.Fail(c, err)
		return
	}
	coop := id.NormalizeCode(c.Param("coop"))
	if c.Query("format") != "csv" {
		c.JSON(http.StatusOK, gin.H{"cooperative": coop, "season": season, "rows": rows})
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="mass-balance-%s-%d.csv"`, coop, season))
	page.WriteBalanceCSV(c.Writer, h.d.Bundle.Locale(i18n.Source), rows)
}

// Plausibility answers GET /api/v1/plausibility: the ranges that flag
// harvests and yields.
func (h *Handlers) Plausibility(c *gin.Context) {
	c.JSON(http.StatusOK, traceability.PlausibilityTable())
}

// PlausibilityGraph answers GET /api/v1/plausibility/graph: the process
// graph — every kind with its base unit and crops, and every edge (process,
// input kind, output kind) with its range, hard limit and source — public,
// as /plausibility shows it.
func (h *Handlers) PlausibilityGraph(c *gin.Context) {
	c.JSON(http.StatusOK, traceability.Graph())
}

// ScanAlerts answers GET /api/v1/cooperatives/{coop}/scan-alerts: labels
// scanned far more often than a unit should be.
func (h *Handlers) ScanAlerts(c *gin.Context) {
	alerts, err := h.d.Records.ScanAlerts(c.Request.Context(), page.Actor(c), c.Param("coop"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(alerts))
}
