package api

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/page"
)

// Statement answers GET /api/v1/cooperatives/{coop}/statements/{month}:
// JSON, or CSV with ?format=csv (one row a line, then the totals per
// currency), amounts in minor units.
func (h *Handlers) Statement(c *gin.Context) {
	st, err := h.d.Orders.Statement(c.Request.Context(), page.Actor(c), c.Param("coop"), c.Param("month"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	if c.Query("format") != "csv" {
		c.JSON(http.StatusOK, st)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="statement-%s-%s.csv"`, st.Cooperative, st.Month))
	page.WriteStatementCSV(c.Writer, h.d.Bundle.Locale(i18n.Source), st)
}

// CloseStatement answers POST /api/v1/cooperatives/{coop}/statements/{month}/close.
func (h *Handlers) CloseStatement(c *gin.Context) {
	st, err := h.d.Orders.CloseStatement(c.Request.Context(), page.Actor(c), c.Param("coop"), c.Param("month"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

type advanceRequest struct {
	Amount           catalog.Money `json:"amount"`
	RepaymentPercent int64         `json:"repayment_percent"`
	Note             string        `json:"note"`
}

// GrantAdvance answers POST /api/v1/cooperatives/{coop}/advances: a
// revolving-fund advance, repaid by deduction from the monthly shares.
func (h *Handlers) GrantAdvance(c *gin.Context) {
	var req advanceRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	a, err := h.d.Orders.GrantAdvance(c.Request.Context(), page.Actor(c), c.Param("coop"), req.Amount, req.RepaymentPercent, req.Note)
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, a)
}

type payoutRequest struct {
	Month     string        `json:"month"`
	Amount    catalog.Money `json:"amount"`
	Reference string        `json:"reference"`
}

// RecordPayout answers POST /api/v1/cooperatives/{coop}/payouts.
func (h *Handlers) RecordPayout(c *gin.Context) {
	var req payoutRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	p, err := h.d.Orders.RecordPayout(c.Request.Context(), page.Actor(c), c.Param("coop"), req.Month, req.Amount, req.Reference)
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, p)
}
