package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/web/page"
)

type saleLineRequest struct {
	SKU   string `json:"sku"`
	Units int64  `json:"units"`
}

type saleRequest struct {
	Lines   []saleLineRequest `json:"lines"`
	Payment string            `json:"payment"`
}

// saleView is a sale as the API answers it: total as Money.
type saleView struct {
	shops.Sale
	Total catalog.Money `json:"total"`
}

// Sell answers POST /api/v1/shops/{shop}/sales: a till sale by the shop's
// own manager. What a unit costs is the catalogue's price in the channel,
// set by the stock service; a client's prices are never read.
func (h *Handlers) Sell(c *gin.Context) {
	var req saleRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	lines := make([]shops.Line, len(req.Lines))
	for i, l := range req.Lines {
		lines[i] = shops.Line{SKU: l.SKU, Units: l.Units}
	}
	sale, err := h.d.Stock.Sell(c.Request.Context(), page.Actor(c), c.Param("shop"), shops.SaleRequest{Lines: lines, Payment: req.Payment})
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, saleView{sale, catalog.Money{Amount: sale.Total, Currency: sale.Currency}})
}

// GetSale answers GET /api/v1/shops/{shop}/sales/{id}.
func (h *Handlers) GetSale(c *gin.Context) {
	sale, err := h.d.Stock.Sale(c.Request.Context(), page.Actor(c), c.Param("shop"), c.Param("id"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, saleView{sale, catalog.Money{Amount: sale.Total, Currency: sale.Currency}})
}
