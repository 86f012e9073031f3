package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/web/page"
)

type transferRequest struct {
	To    string            `json:"to"`
	Lines []lotUnitsRequest `json:"lines"`
}

// SendTransfer answers POST /api/v1/shops/{shop}/transfers (its own
// manager).
func (h *Handlers) SendTransfer(c *gin.Context) {
	var req transferRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	t, err := h.d.Stock.Send(c.Request.Context(), page.Actor(c), c.Param("shop"), req.To, lotUnits(req.Lines))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, t)
}

type arrivalRequest struct {
	Lines []lotUnitsRequest `json:"lines"`
}

// ReceiveTransfer answers POST /api/v1/shops/{shop}/transfers/{id}/receive:
// what arrived of a transfer (all of it without a body).
func (h *Handlers) ReceiveTransfer(c *gin.Context) {
	var req arrivalRequest
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			page.Fail(c, err)
			return
		}
	}
	t, err := h.d.Stock.ReceiveTransfer(c.Request.Context(), page.Actor(c), c.Param("shop"), c.Param("id"), lotUnits(req.Lines))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, t)
}

// ListTransfers answers GET /api/v1/shops/{shop}/transfers.
func (h *Handlers) ListTransfers(c *gin.Context) {
	ts, err := h.d.Stock.Transfers(c.Request.Context(), page.Actor(c), c.Param("shop"), c.Query("status"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(ts))
}
