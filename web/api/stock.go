package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/web/page"
)

type lotUnitsRequest struct {
	Lot   string `json:"lot"`
	Units int64  `json:"units"`
}

func lotUnits(in []lotUnitsRequest) []shops.LotUnits {
	out := make([]shops.LotUnits, len(in))
	for i, l := range in {
		out[i] = shops.LotUnits{Lot: l.Lot, Units: l.Units}
	}
	return out
}

// Receive answers POST /api/v1/shops/{shop}/receipts: units of a packed lot
// from its cooperative; more than the lot has → 409 insufficient_stock.
func (h *Handlers) Receive(c *gin.Context) {
	var req receiptRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	b, err := h.d.Stock.Receive(c.Request.Context(), page.Actor(c), c.Param("shop"),
		shops.ReceiptRequest{Lot: req.Lot, Units: req.Units, Consignment: req.Consignment})
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, b)
}

// receiptRequest is a receipt: units of a lot, and the export consignment
// they came in, if any (issue 18: the consignment counts what arrived).
type receiptRequest struct {
	Lot         string `json:"lot"`
	Units       int64  `json:"units"`
	Consignment string `json:"consignment"`
}

// Stock answers GET /api/v1/shops/{shop}/stock.
func (h *Handlers) Stock(c *gin.Context) {
	lines, err := h.d.Stock.StockOf(c.Request.Context(), page.Actor(c), c.Param("shop"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, lines)
}

// Shelves answers GET /api/v1/shops/{shop}/shelves.
func (h *Handlers) Shelves(c *gin.Context) {
	sh, err := h.d.Stock.ShopShelves(c.Request.Context(), page.Actor(c), c.Param("shop"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(sh))
}

type thresholdRequest struct {
	Threshold int64 `json:"threshold"`
}

// SetThreshold answers PUT /api/v1/shops/{shop}/thresholds/{sku}.
func (h *Handlers) SetThreshold(c *gin.Context) {
	var req thresholdRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	sku := strings.ToUpper(c.Param("sku"))
	if err := h.d.Stock.SetThreshold(c.Request.Context(), page.Actor(c), c.Param("shop"), sku, req.Threshold); err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"sku": sku, "threshold": req.Threshold})
}

type returnRequest struct {
	Sale  string `json:"sale"`
	Lot   string `json:"lot"`
	Units int64  `json:"units"`
}

// Return answers POST /api/v1/shops/{shop}/returns: units a customer
// brought back.
func (h *Handlers) Return(c *gin.Context) {
	var req returnRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	b, err := h.d.Stock.Return(c.Request.Context(), page.Actor(c), c.Param("shop"), shops.ReturnRequest{Sale: req.Sale, Lot: req.Lot, Units: req.Units})
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, b)
}

type adjustmentRequest struct {
	Lot    string `json:"lot"`
	Units  int64  `json:"units"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// Adjust answers POST /api/v1/shops/{shop}/adjustments: a loss or a signed
// correction.
func (h *Handlers) Adjust(c *gin.Context) {
	var req adjustmentRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	b, err := h.d.Stock.Adjust(c.Request.Context(), page.Actor(c), c.Param("shop"), shops.AdjustmentRequest{Lot: req.Lot, Units: req.Units, Kind: req.Kind, Reason: req.Reason})
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, b)
}

type countRequest struct {
	Lines []struct {
		Lot     string `json:"lot"`
		Counted int64  `json:"counted"`
	} `json:"lines"`
	Reason string `json:"reason"`
}

// Count answers POST /api/v1/shops/{shop}/counts: a stock count, booked as
// the adjustments it makes.
func (h *Handlers) Count(c *gin.Context) {
	var req countRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	lines := make([]shops.CountLine, len(req.Lines))
	for i, l := range req.Lines {
		lines[i] = shops.CountLine{Lot: l.Lot, Counted: l.Counted}
	}
	ms, err := h.d.Stock.ApplyCount(c.Request.Context(), page.Actor(c), c.Param("shop"), lines, req.Reason)
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"adjustments": list(ms)})
}

// Movements answers GET /api/v1/shops/{shop}/movements.
func (h *Handlers) Movements(c *gin.Context) {
	ms, err := h.d.Stock.Movements(c.Request.Context(), page.Actor(c), c.Param("shop"),
		shops.MovementFilter{Lot: c.Query("lot"), SKU: c.Query("sku"), Kind: c.Query("kind")}, pageOf(c))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(ms))
}

// Holdings answers GET /api/v1/cooperatives/{coop}/holdings: where a
// cooperative's lots are.
func (h *Handlers) Holdings(c *gin.Context) {
	bs, err := h.d.Stock.Holdings(c.Request.Context(), page.Actor(c), c.Param("coop"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(bs))
}
